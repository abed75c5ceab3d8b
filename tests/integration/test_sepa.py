"""SEPA direct debit files: pain.008.001.02 valid against the XSD, read back exactly as billed."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mutuelle_adapters.files.sepa import (
    NAMESPACE,
    DirectDebitFile,
    build_direct_debit_file,
    next_target2_business_day,
    schema,
    write_direct_debit_file,
)
from mutuelle_core.cotisations.mandates import (
    DirectDebitInstruction,
    Mandate,
    SequenceType,
)
from mutuelle_core.errors import DomainError
from mutuelle_core.services import InsurerProfile
from mutuelle_core.values.bank import BankAccount, MandateReference, rib_key
from mutuelle_core.values.money import Money

D = dt.date
NS = {"p": NAMESPACE}
CREDITOR = InsurerProfile(name="Mutuelle Générale de l'Éducation & Santé")
CREDITOR_ACCOUNT = BankAccount.parse("FR7630004000010001234567830")
CREATED = dt.datetime(2026, 1, 20, 9, 30, 15, 123456)
COLLECTION = D(2026, 2, 5)
NOTIFIED = D(2026, 1, 15)


def french_iban(bank: str, branch: str, account: str) -> str:
    """A valid French IBAN from a bank code, a branch code and an 11-character account number."""
    bban = bank + branch + account + rib_key(bank, branch, account)
    digits = "".join(str(int(c, 36)) for c in bban + "FR00")
    return f"FR{98 - int(digits) % 97:02d}{bban}"


SIGNED = D(2025, 6, 1)


def mandate(rum: str, name: str, iban: str, signed_on: dt.date = SIGNED) -> Mandate:
    return Mandate(rum=rum, debtor_name=name, account=iban, signed_on=signed_on)


def debit(m: Mandate, e2e: str, amount: str, collection: dt.date = COLLECTION) -> DirectDebitInstruction:
    return m.instruction(
        end_to_end_id=e2e,
        amount=Money(amount),
        collection_date=collection,
        notified_on=NOTIFIED,
        remittance_info=f"Cotisation février 2026 {m.debtor_name}",
    )


def build(
    instructions: list[DirectDebitInstruction], message_id: str = "MUT-DD-20260120-01"
) -> DirectDebitFile:
    return build_direct_debit_file(
        instructions,
        creditor=CREDITOR,
        creditor_account=CREDITOR_ACCOUNT,
        message_id=message_id,
        created_at=CREATED,
    )


def text(element: ET.Element, path: str) -> str:
    found = element.find(path, NS)
    assert found is not None, path
    return found.text or ""


def read_back(content: bytes) -> dict[str, object]:
    """What a bank would read in the file: header totals, blocks and transactions."""
    root = ET.fromstring(content)
    initiation = root.find("p:CstmrDrctDbtInitn", NS)
    assert initiation is not None
    blocks = []
    for info in initiation.findall("p:PmtInf", NS):
        transactions = []
        for tx in info.findall("p:DrctDbtTxInf", NS):
            amount = tx.find("p:InstdAmt", NS)
            assert amount is not None and amount.get("Ccy") == "EUR"
            original = tx.find("p:DrctDbtTx/p:MndtRltdInf/p:AmdmntInfDtls/p:OrgnlDbtrAcct/p:Id", NS)
            transactions.append(
                {
                    "e2e": text(tx, "p:PmtId/p:EndToEndId"),
                    "amount": amount.text,
                    "rum": text(tx, "p:DrctDbtTx/p:MndtRltdInf/p:MndtId"),
                    "signed": text(tx, "p:DrctDbtTx/p:MndtRltdInf/p:DtOfSgntr"),
                    "amended": text(tx, "p:DrctDbtTx/p:MndtRltdInf/p:AmdmntInd"),
                    "original": None if original is None else "".join(original.itertext()).strip(),
                    "iban": text(tx, "p:DbtrAcct/p:Id/p:IBAN"),
                    "name": text(tx, "p:Dbtr/p:Nm"),
                    "bic": "".join(tx.find("p:DbtrAgt/p:FinInstnId", NS).itertext()).strip(),  # type: ignore[union-attr]
                    "info": text(tx, "p:RmtInf/p:Ustrd"),
                }
            )
        blocks.append(
            {
                "id": text(info, "p:PmtInfId"),
                "seq": text(info, "p:PmtTpInf/p:SeqTp"),
                "count": text(info, "p:NbOfTxs"),
                "sum": text(info, "p:CtrlSum"),
                "date": text(info, "p:ReqdColltnDt"),
                "ics": text(info, "p:CdtrSchmeId/p:Id/p:PrvtId/p:Othr/p:Id"),
                "creditor": text(info, "p:Cdtr/p:Nm"),
                "creditor_iban": text(info, "p:CdtrAcct/p:Id/p:IBAN"),
                "transactions": transactions,
            }
        )
    return {
        "msg_id": text(initiation, "p:GrpHdr/p:MsgId"),
        "created": text(initiation, "p:GrpHdr/p:CreDtTm"),
        "count": text(initiation, "p:GrpHdr/p:NbOfTxs"),
        "sum": text(initiation, "p:GrpHdr/p:CtrlSum"),
        "blocks": blocks,
    }


@pytest.fixture
def billed() -> tuple[list[DirectDebitInstruction], dict[str, Mandate]]:
    """Several debtors: new mandates (FRST), running ones (RCUR), two amended mandates."""
    new = mandate(
        "MUT-2026-000001", "Anaïs Lefèvre", french_iban("30006", "00001", "12345678901"), D(2026, 1, 10)
    )
    new_2 = mandate(
        "MUT-2026-000002",
        "Jérôme Œhlenschläger",
        french_iban("10278", "06076", "00011111111"),
        D(2026, 1, 12),
    )
    running = mandate("MUT-2025-000100", "François Dupré", french_iban("20041", "01005", "0500013M026"))
    running = running.record_collection(D(2026, 1, 5))
    german = mandate("MUT-2025-000101", "Zoë Müller", "DE89370400440532013000").record_collection(
        D(2026, 1, 5)
    )
    # same bank, new account: RCUR with the original account
    same_bank = mandate("MUT-2025-000102", "Gaëlle N'Diaye", french_iban("30004", "00001", "00012345678"))
    same_bank = same_bank.record_collection(D(2026, 1, 5)).amend_account(
        french_iban("30004", "00001", "00087654321"), D(2026, 1, 12)
    )
    # another bank: FRST again, SMNDA
    other_bank = mandate("MUT-2025-000103", "Hélène Çelik", french_iban("30006", "00001", "55555555555"))
    other_bank = other_bank.record_collection(D(2026, 1, 5)).amend_account(
        french_iban("10278", "06076", "00022222222"), D(2026, 1, 13)
    )
    mandates = {str(m.rum): m for m in (new, new_2, running, german, same_bank, other_bank)}
    instructions = [
        debit(new, "E2E-2026-02-0001", "36.00"),
        debit(running, "E2E-2026-02-0002", "52.33"),
        debit(new_2, "E2E-2026-02-0003", "0.01"),
        debit(german, "E2E-2026-02-0004", "1234.56"),
        debit(same_bank, "E2E-2026-02-0005", "10.10"),
        debit(other_bank, "E2E-2026-02-0006", "99.99"),
    ]
    return instructions, mandates


def test_a_file_for_several_debtors_validates_and_reads_back_as_billed(
    billed: tuple[list[DirectDebitInstruction], dict[str, Mandate]], tmp_path: Path
) -> None:
    instructions, mandates = billed
    target = tmp_path / "out" / "prelevements.xml"
    sepa_file = write_direct_debit_file(
        target,
        instructions,
        creditor=CREDITOR,
        creditor_account=CREDITOR_ACCOUNT,
        message_id="MUT-DD-20260120-01",
        created_at=CREATED,
    )
    content = target.read_bytes()
    assert content == sepa_file.content
    assert list(tmp_path.joinpath("out").iterdir()) == [target]  # no temporary file left behind
    schema().validate(content.decode())  # independently of the writer's own check

    data = read_back(content)
    assert data["msg_id"] == "MUT-DD-20260120-01"
    assert data["created"] == "2026-01-20T09:30:15"
    assert data["count"] == "6"
    assert data["sum"] == "1432.99"  # 36.00 + 52.33 + 0.01 + 1234.56 + 10.10 + 99.99
    blocks = data["blocks"]
    assert isinstance(blocks, list)
    assert [b["seq"] for b in blocks] == ["FRST", "RCUR"]
    frst, rcur = blocks
    assert [t["e2e"] for t in frst["transactions"]] == [
        "E2E-2026-02-0001",
        "E2E-2026-02-0003",
        "E2E-2026-02-0006",
    ]
    assert [t["e2e"] for t in rcur["transactions"]] == [
        "E2E-2026-02-0002",
        "E2E-2026-02-0004",
        "E2E-2026-02-0005",
    ]
    assert (frst["count"], frst["sum"], rcur["count"], rcur["sum"]) == ("3", "136.00", "3", "1296.99")
    for block in blocks:
        assert block["date"] == "2026-02-05"
        assert block["ics"] == "FR72ZZZ123456"
        assert block["creditor"] == "Mutuelle Generale de l'Education + Sante"
        assert block["creditor_iban"] == CREDITOR_ACCOUNT.iban
        assert Decimal(block["sum"]) == sum(Decimal(t["amount"]) for t in block["transactions"])
        assert block["count"] == str(len(block["transactions"]))

    read = {t["e2e"]: t for b in blocks for t in b["transactions"]}
    for instruction in instructions:
        tx = read[instruction.end_to_end_id]
        m = mandates[tx["rum"]]
        assert tx["rum"] == str(instruction.rum)
        assert tx["amount"] == str(instruction.amount.amount)
        assert tx["iban"] == m.account.iban == instruction.account.iban
        assert tx["signed"] == m.signed_on.isoformat()
        assert tx["name"].isascii() and tx["info"].isascii()
    assert read["E2E-2026-02-0001"]["name"] == "Anais Lefevre"
    assert read["E2E-2026-02-0003"]["name"] == "Jerome OEhlenschlager"
    assert read["E2E-2026-02-0003"]["amount"] == "0.01"
    assert read["E2E-2026-02-0004"]["bic"] == "COBADEFFXXX"
    # amendments: same bank carries the original IBAN, another bank SMNDA (and FRST)
    assert read["E2E-2026-02-0005"]["amended"] == "true"
    assert read["E2E-2026-02-0005"]["original"] == french_iban("30004", "00001", "00012345678")
    assert read["E2E-2026-02-0006"]["amended"] == "true"
    assert read["E2E-2026-02-0006"]["original"] == "SMNDA"
    assert read["E2E-2026-02-0002"]["amended"] == "false"
    assert read["E2E-2026-02-0002"]["original"] is None

    assert sepa_file.number_of_transactions == 6
    assert sepa_file.control_sum == Money("1432.99")
    assert [(b.sequence_type, b.number_of_transactions, b.control_sum) for b in sepa_file.batches] == [
        (SequenceType.FRST, 3, Money("136.00")),
        (SequenceType.RCUR, 3, Money("1296.99")),
    ]


def test_collection_on_a_target2_closing_day_moves_to_the_next_business_day() -> None:
    m = mandate("MUT-1", "Paul Durand", french_iban("30006", "00001", "12345678901"))
    easter_weekend = D(2026, 4, 3)  # Good Friday; Easter Monday is 6 April
    instruction = m.instruction(
        end_to_end_id="E2E-1",
        amount=Money("10.00"),
        collection_date=easter_weekend,
        notified_on=D(2026, 3, 1),
        remittance_info="x",
    )
    sepa_file = build([instruction])
    assert sepa_file.collection_date == easter_weekend
    assert sepa_file.requested_collection_date == D(2026, 4, 7)
    assert next_target2_business_day(D(2026, 12, 25)) == D(2026, 12, 28)
    assert next_target2_business_day(D(2027, 1, 1)) == D(2027, 1, 4)


def test_an_account_without_known_bic_is_sent_iban_only() -> None:
    # Banque de France (30001) is not in schwifty's registry under this branch: NOTPROVIDED
    account = BankAccount.parse(french_iban("30001", "00064", "00000012345"))
    m = mandate("MUT-2", "Paul Durand", account.iban)
    content = build([debit(m, "E2E-2", "5.00")]).content
    tx = read_back(content)["blocks"][0]["transactions"][0]  # type: ignore[index]
    assert tx["bic"] == (account.bic or "NOTPROVIDED")


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda i: i(amount=Money("0.00")), "direct_debit.amount_not_positive"),
        (lambda i: i(rum="MUT-" + "9" * 32), "rum.too_long"),
        (lambda i: i(account="BR1800360305000010009795493C1"), "iban.not_sepa"),
        (lambda i: i(notified_on=COLLECTION - dt.timedelta(days=13)), "direct_debit.collection_too_early"),
    ],
    ids=["zero-amount", "rum-too-long", "iban-outside-sepa", "collection-too-early"],
)
def test_invalid_instructions_are_refused_with_their_code(make: object, code: str) -> None:
    def instruction(**overrides: object) -> DirectDebitInstruction:
        values: dict[str, object] = {
            "end_to_end_id": "E2E-1",
            "rum": MandateReference("MUT-1"),
            "mandate_signed_on": D(2025, 6, 1),
            "sequence_type": SequenceType.RCUR,
            "amount": Money("10.00"),
            "debtor_name": "Paul Durand",
            "account": french_iban("30006", "00001", "12345678901"),
            "collection_date": COLLECTION,
            "notified_on": NOTIFIED,
            "remittance_info": "Cotisation",
        }
        values.update(overrides)
        return DirectDebitInstruction(**values)  # type: ignore[arg-type]

    assert callable(make)
    with pytest.raises(DomainError) as exc:
        make(instruction)
    assert exc.value.code == code
    assert exc.value.message()


def test_file_level_refusals_write_nothing(
    billed: tuple[list[DirectDebitInstruction], dict[str, Mandate]], tmp_path: Path
) -> None:
    instructions, mandates = billed
    target = tmp_path / "f.xml"
    other_day = debit(mandates["MUT-2025-000100"], "E2E-OTHER", "1.00", D(2026, 2, 6))
    cases = [
        ([], "sepa_file.empty"),
        ([*instructions, other_day], "sepa_file.mixed_collection_dates"),
        ([*instructions, instructions[0]], "sepa_file.duplicate_end_to_end_id"),
    ]
    for items, code in cases:
        with pytest.raises(DomainError) as exc:
            write_direct_debit_file(
                target,
                items,
                creditor=CREDITOR,
                creditor_account=CREDITOR_ACCOUNT,
                message_id="M1",
                created_at=CREATED,
            )
        assert exc.value.code == code
    with pytest.raises(DomainError, match=r"sepa_file\.invalid_message_id"):
        build(instructions, message_id="MUT_1")
    frst_and_rcur = [
        instructions[1],
        attrs.evolve(instructions[1], end_to_end_id="E2E-X", sequence_type=SequenceType.FRST),
    ]
    with pytest.raises(DomainError, match=r"sepa_file\.mandate_sequence_conflict"):
        build(frst_and_rcur)
    assert not target.exists()


# --------------------------------------------------------------------------------------------------
# property: whatever the instructions, the totals are exact and the file validates

_NAMES = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzABCÉÈÊËÀÂÄÎÏÔÖÙÛÜÇŒÆéèêëàâäîïôöùûüçœæß'’- &_«»°€"),
    min_size=1,
    max_size=90,
).filter(lambda s: any(c.isalpha() for c in s))
_ACCOUNT_NUMBERS = st.text(alphabet="0123456789", min_size=11, max_size=11)


@st.composite
def instructions(draw: st.DrawFn) -> list[DirectDebitInstruction]:
    count = draw(st.integers(min_value=1, max_value=12))
    result = []
    for index in range(count):
        name = draw(_NAMES)
        if len(" ".join(name.split())) > 70:
            name = name[:60]
        if not any(c.isalpha() for c in name):
            name = "X"
        result.append(
            DirectDebitInstruction(
                end_to_end_id=f"E2E-{index:05d}",
                rum=f"MUT-{index:05d}",
                mandate_signed_on=D(2025, 1, 1),
                sequence_type=draw(st.sampled_from(list(SequenceType))),
                amount=Money.cents(draw(st.integers(min_value=1, max_value=99_999_999_999))),
                debtor_name=name,
                account=french_iban("30006", "00001", draw(_ACCOUNT_NUMBERS)),
                collection_date=COLLECTION,
                notified_on=NOTIFIED,
                remittance_info=draw(_NAMES),
            )
        )
    return result


@settings(max_examples=40, deadline=None)
@given(instructions())
def test_control_sums_are_exact_and_the_file_always_validates(items: list[DirectDebitInstruction]) -> None:
    sepa_file = build(items)
    assert schema().is_valid(sepa_file.content.decode())
    exact = sum(i.amount.amount for i in items)
    data = read_back(sepa_file.content)
    assert Decimal(str(data["sum"])) == exact
    assert data["count"] == str(len(items))
    assert sepa_file.control_sum.amount == exact
    blocks = data["blocks"]
    assert isinstance(blocks, list)
    assert sum(int(b["count"]) for b in blocks) == len(items)
    for block in blocks:
        assert Decimal(block["sum"]) == sum(Decimal(t["amount"]) for t in block["transactions"])
        for tx in block["transactions"]:
            assert tx["amount"].count(".") == 1 and len(tx["amount"].split(".")[1]) == 2
            assert tx["name"].isascii() and tx["info"].isascii()
    billed = {i.end_to_end_id: (str(i.amount.amount), i.account.iban, str(i.rum)) for i in items}
    read = {t["e2e"]: (t["amount"], t["iban"], t["rum"]) for b in blocks for t in b["transactions"]}
    assert read == billed


def test_a_document_outside_the_schema_is_refused_without_the_value_at_fault() -> None:
    from mutuelle_adapters.files.sepa import _validate

    m = mandate("RUM-1", "Anaïs Lefèvre", "FR7630006000011234567890189")
    good = build([debit(m, "E2E-1", "36.00")]).content
    bad = good.replace(b"<IBAN>FR7630006000011234567890189</IBAN>", b"<IBAN>FR76 3000 6000 0112 3456</IBAN>")
    assert bad != good
    with pytest.raises(DomainError) as refused:
        _validate(bad)
    assert refused.value.code == "sepa_file.schema_invalid"
    assert "FR76" not in refused.value.message() and "3000" not in refused.value.message()
    assert schema().is_valid(good.decode()) and not schema().is_valid(bad.decode())  # xmlschema agrees
