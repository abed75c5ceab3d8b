"""Payments, SEPA collection, rejects and the dunning job, end to end on every adapter."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

import attrs
import pytest

from mutuelle_adapters.files.sepa import NAMESPACE, SepaDirectDebitFiles
from mutuelle_core.cotisations.account_records import PayerKey, StoredMandate
from mutuelle_core.cotisations.accounts import (
    PaymentLine,
    employer_payer_situation,
    import_payments,
    payer_statement,
    receive_payment,
    reject_payment,
)
from mutuelle_core.cotisations.billing import bill
from mutuelle_core.cotisations.collection import collect_direct_debits
from mutuelle_core.cotisations.dunning import CoverSituation, DunningStatus
from mutuelle_core.cotisations.dunning_run import run_dunning
from mutuelle_core.cotisations.mandate_use_cases import change_bank_account
from mutuelle_core.cotisations.mandates import MandateStatus
from mutuelle_core.cotisations.payments import DueStatus
from mutuelle_core.cotisations.rules import CollectionChannel, Payer
from mutuelle_core.errors import DomainError
from mutuelle_core.services import InsurerProfile
from mutuelle_core.values.bank import BankAccount
from mutuelle_core.values.dates import Month
from mutuelle_core.values.money import Money
from tests.affiliation_fixtures import BANK
from tests.conftest import Backend
from tests.unit.test_billing import affiliated, clone

D = dt.date
NS = {"p": NAMESPACE}
CREDITOR_ACCOUNT = BankAccount.parse("FR7630004000010001234567830")
EMPLOYER = PayerKey(Payer.EMPLOYER, "MENJ2026")


def files(tmp_path: Path) -> SepaDirectDebitFiles:
    return SepaDirectDebitFiles(
        tmp_path / "sepa", creditor=InsurerProfile(), creditor_account=CREDITOR_ACCOUNT
    )


def member_key(backend: Backend, aff_id: str) -> tuple[PayerKey, int, int]:
    """The member payer and its May and June schedule amounts (cents)."""
    with backend.uow() as uow:
        rows = [r for r in uow.cotisations.schedule_for(aff_id) if r["payer"] == "member"]
    by_month = {r["month"]: r["amount_cents"] for r in rows}
    return PayerKey(Payer.MEMBER, rows[0]["payer_id"]), by_month["2026-05"], by_month.get("2026-06", 0)


def transactions(content: bytes) -> list[dict[str, str]]:
    root = ET.fromstring(content)
    out = []
    for info in root.iter(f"{{{NAMESPACE}}}PmtInf"):
        sequence = info.findtext("p:PmtTpInf/p:SeqTp", namespaces=NS)
        for tx in info.iter(f"{{{NAMESPACE}}}DrctDbtTxInf"):
            out.append(
                {
                    "sequence": sequence or "",
                    "amount": tx.findtext("p:InstdAmt", namespaces=NS) or "",
                    "iban": tx.findtext("p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) or "",
                    "rum": tx.findtext("p:DrctDbtTx/p:MndtRltdInf/p:MndtId", namespaces=NS) or "",
                    "e2e": tx.findtext("p:PmtId/p:EndToEndId", namespaces=NS) or "",
                    "amended": tx.findtext("p:DrctDbtTx/p:MndtRltdInf/p:AmdmntInd", namespaces=NS) or "",
                }
            )
    return out


def billed(backend: Backend) -> tuple[str, PayerKey, int, int]:
    _, aff_id = affiliated(backend, 2)
    svc = backend.services()
    bill(svc, Month(2026, 5))
    bill(svc, Month(2026, 6))
    key, may, june = member_key(backend, aff_id)
    return aff_id, key, may, june


def test_sepa_file_reads_back_what_was_billed_and_is_not_collected_twice(
    backend: Backend, tmp_path: Path
) -> None:
    aff_id, key, may, june = billed(backend)
    svc = backend.services()
    report = collect_direct_debits(svc, D(2026, 6, 5), files(tmp_path))
    assert report.debits == 1 and report.amount == Money.cents(may + june)
    [record], [published] = report.records, report.published
    content = Path(published).read_bytes()
    [tx] = transactions(content)
    with backend.uow() as uow:
        mandate = uow.mandates.active_for([aff_id])[aff_id].mandate
        stored_doc = uow.documents.list_for_owner(record.collection_id)
    assert tx["amount"] == f"{(may + june) / 100:.2f}"
    assert tx["iban"] == BankAccount.parse(BANK.iban).iban
    assert tx["rum"] == str(mandate.rum)
    assert tx["sequence"] == "FRST"
    assert [d.content for d in stored_doc] == [content]
    statement = payer_statement(svc, key)
    assert [d.status for d in statement.dues] == [DueStatus.PAID, DueStatus.PAID]
    assert statement.balance == Money(0)
    again = collect_direct_debits(svc, D(2026, 6, 5), files(tmp_path))
    assert (again.debits, again.records, again.published) == (0, (), ())
    with backend.uow() as uow:
        assert len(uow.accounts.collections()) == 1


def test_prenotification_holds_back_a_due_billed_less_than_14_days_before(
    backend: Backend, tmp_path: Path
) -> None:
    _, _aff_id = affiliated(backend, 2)
    svc = backend.services()
    bill(svc, Month(2026, 5))  # billed on 4 May for the 5th: due 18 May, 14 days after
    report = collect_direct_debits(svc, D(2026, 5, 5), files(tmp_path))
    assert report.debits == 0 and report.skipped == {}  # nothing falls due before the 18th
    assert collect_direct_debits(svc, D(2026, 5, 17), files(tmp_path)).debits == 0
    later = collect_direct_debits(svc, D(2026, 5, 18), files(tmp_path))
    assert later.debits == 1


def test_a_rejected_debit_is_presented_again_and_a_closed_account_revokes_the_mandate(
    backend: Backend, tmp_path: Path
) -> None:
    aff_id, _key, _may, _june = billed(backend)
    svc = backend.services()
    first = collect_direct_debits(svc, D(2026, 6, 5), files(tmp_path))
    [tx] = transactions(Path(first.published[0]).read_bytes())
    statement = reject_payment(svc, tx["e2e"], "AM04", D(2026, 6, 8))
    assert [d.status for d in statement.dues] == [DueStatus.UNPAID, DueStatus.UNPAID]
    second = collect_direct_debits(svc, D(2026, 7, 6), files(tmp_path))
    [tx2] = transactions(Path(second.published[0]).read_bytes())
    assert tx2["amount"] == tx["amount"] and tx2["sequence"] == "RCUR" and tx2["e2e"] != tx["e2e"]
    reject_payment(svc, tx2["e2e"], "AC04", D(2026, 7, 9))
    with backend.uow() as uow:
        assert uow.mandates.active_for([aff_id]) == {}
        assert uow.mandates.find(tx2["rum"]).mandate.status is MandateStatus.REVOKED  # type: ignore[union-attr]
    third = collect_direct_debits(svc, D(2026, 8, 5), files(tmp_path))
    assert third.debits == 0 and third.skipped == {"no_mandate": 2}


def test_a_new_iban_in_another_bank_is_collected_first_again_with_the_amendment(
    backend: Backend, tmp_path: Path
) -> None:
    aff_id, _, _, _ = billed(backend)
    svc = backend.services()
    collect_direct_debits(svc, D(2026, 6, 5), files(tmp_path))
    bill(svc, Month(2026, 7))
    change_bank_account(svc, aff_id, "FR7630004000031234567890143", "Benoît Dupond")
    report = collect_direct_debits(svc, D(2026, 7, 6), files(tmp_path))
    [tx] = transactions(Path(report.published[0]).read_bytes())
    assert tx["iban"] == "FR7630004000031234567890143"
    assert (tx["sequence"], tx["amended"]) == ("FRST", "true")


def test_dunning_runs_on_the_laws_dates_and_payment_resumes_cover(backend: Backend) -> None:
    _, aff_id = affiliated(backend, 2)
    svc = backend.services()
    bill(svc, Month(2026, 5))  # on 4 May: due 18 May, employer by transfer, member by direct debit (never
    # collected)
    nothing = run_dunning(svc, D(2026, 5, 27))
    assert (nothing.opened, nothing.notices) == (0, 0)
    first = run_dunning(svc, D(2026, 5, 28))
    assert (first.payers, first.opened, first.notices) == (2, 2, 2)
    with backend.uow() as uow:
        messages = [m for m in uow.outbox.all() if m.template == "dunning_notice"]
        letters = uow.documents.list_for_owner(str(EMPLOYER))
    assert sorted(m.recipient for m in messages) == ["benoit.dupond@example.fr", "rh@menj.example"]
    assert [d.kind for d in letters] == ["mise_en_demeure"]
    assert "58,51\u00a0€" in letters[0].content.decode()
    again = run_dunning(svc, D(2026, 5, 28))
    assert (again.opened, again.notices, again.suspended) == (0, 0, 0)
    with backend.uow() as uow:
        assert len([m for m in uow.outbox.all() if m.template == "dunning_notice"]) == 2
    run_dunning(svc, D(2026, 6, 26))
    assert payer_statement(svc, EMPLOYER, D(2026, 6, 26)).dunning_status is DunningStatus.NOTICE_SENT
    suspended = run_dunning(svc, D(2026, 6, 27))
    assert suspended.suspended == 1  # the employer (L221-8 I); the member's regime (II) excludes instead
    statement = payer_statement(svc, EMPLOYER, D(2026, 6, 27))
    assert (statement.dunning_status, statement.dunning_since) == (DunningStatus.SUSPENDED, D(2026, 6, 27))
    assert statement.cover is CoverSituation.SUSPENDED
    paid = receive_payment(
        svc,
        EMPLOYER,
        payment_id="VIR-0001",
        received_on=D(2026, 7, 3),
        amount=Money("58.51"),
        channel=CollectionChannel.TRANSFER,
    )
    assert paid.dunning_status is None and paid.balance == Money(0)
    assert payer_statement(svc, EMPLOYER, D(2026, 7, 3)).cover is CoverSituation.SUSPENDED
    assert payer_statement(svc, EMPLOYER, D(2026, 7, 4)).cover is CoverSituation.IN_FORCE
    later = run_dunning(svc, D(2026, 7, 7))
    assert later.terminable == 0
    member = payer_statement(svc, member_key(backend, aff_id)[0], D(2026, 7, 7))
    assert member.dunning_status is DunningStatus.EXCLUDABLE


def test_a_payment_file_is_all_or_nothing_with_every_bad_line_reported(backend: Backend) -> None:
    _, _aff_id = affiliated(backend, 2)
    svc = backend.services()
    bill(svc, Month(2026, 5))
    good = PaymentLine(
        line=2,
        kind="payment",
        payment_id="VIR-1",
        on=D(2026, 5, 6),
        payer=Payer.EMPLOYER,
        payer_id="MENJ2026",
        amount=Money("60.00"),
        channel=CollectionChannel.TRANSFER,
    )
    bad = [
        good,
        PaymentLine(
            line=3,
            kind="payment",
            payment_id="VIR-2",
            on=D(2026, 5, 6),
            payer=Payer.EMPLOYER,
            payer_id="NOPE",
            amount=Money("1.00"),
            channel=CollectionChannel.TRANSFER,
        ),
        PaymentLine(line=4, kind="reject", payment_id="UNKNOWN", on=D(2026, 5, 9), reason="AM04"),
        PaymentLine(
            line=5,
            kind="payment",
            payment_id="VIR-1",
            on=D(2026, 5, 6),
            payer=Payer.EMPLOYER,
            payer_id="MENJ2026",
            amount=Money("1.00"),
            channel=CollectionChannel.TRANSFER,
        ),
    ]
    report = import_payments(svc, bad)
    assert not report.ok
    assert [(line, e.code) for line, e in report.errors] == [
        (3, "payment.payer_unknown"),
        (4, "payment.not_found"),
        (5, "payment.duplicate"),
    ]
    assert payer_statement(svc, EMPLOYER).balance == Money("58.51")  # employer share + payroll part
    ok = import_payments(svc, [good])
    assert ok.ok and (ok.payments, ok.amount) == (1, Money("60.00"))
    statement = payer_statement(svc, EMPLOYER)
    assert (statement.credit, statement.balance) == (Money("1.49"), Money("-1.49"))
    assert statement.dues[0].status is DueStatus.PAID


def test_the_employer_space_shows_the_payer_situation_to_its_correspondents_only(backend: Backend) -> None:
    actor, _ = affiliated(backend, 1)
    svc = backend.services()
    bill(svc, Month(2026, 5))  # on 4 May: due 18 May
    run_dunning(svc, D(2026, 5, 28))
    view = employer_payer_situation(svc, actor, "MENJ2026", D(2026, 5, 28))
    assert (view.dunning_status, view.dunning_since) == (DunningStatus.NOTICE_SENT, D(2026, 5, 28))
    with pytest.raises(DomainError) as denied:
        employer_payer_situation(svc, "someone-else", "MENJ2026")
    assert denied.value.code in {"access.denied", "not_found"}


def test_members_are_collected_page_by_page_one_file_each_and_a_rerun_collects_nothing(
    backend: Backend, tmp_path: Path
) -> None:
    _, aff_id = affiliated(backend, 2)
    ids = [aff_id, *clone(backend, aff_id, 4)]
    with backend.uow() as uow:  # each clone signed its own mandate (same account)
        original = uow.mandates.active_for([aff_id])[aff_id]
        for n, other in enumerate(ids[1:], start=2):
            uow.mandates.add(
                StoredMandate(attrs.evolve(original.mandate, rum=f"RUM-MENJ2026-{n:07d}"), other, version=0)
            )
        uow.commit()
    svc = backend.services()
    bill(svc, Month(2026, 6))
    report = collect_direct_debits(svc, D(2026, 6, 5), files(tmp_path), members_per_file=2)
    assert (len(report.records), report.debits) == (3, 5)
    per_file = [len(transactions(Path(p).read_bytes())) for p in report.published]
    assert per_file == [2, 2, 1]
    assert sum(r.amount_cents for r in report.records) == report.amount.to_cents()
    e2e = [tx["e2e"] for p in report.published for tx in transactions(Path(p).read_bytes())]
    assert len(set(e2e)) == 5
    again = collect_direct_debits(svc, D(2026, 6, 5), files(tmp_path), members_per_file=2)
    assert (again.debits, again.records) == (0, ())


@pytest.mark.parametrize("per_transaction", [1, 2, 100])
def test_dunning_gives_the_same_result_whatever_the_payers_per_transaction(
    backend: Backend, per_transaction: int
) -> None:
    _, aff_id = affiliated(backend, 2)
    clone(backend, aff_id, 3)  # four members and their employer, all unpaid
    svc = backend.services()
    bill(svc, Month(2026, 5))  # on 4 May: due 18 May
    first = run_dunning(svc, D(2026, 5, 28), payers_per_transaction=per_transaction)
    assert (first.payers, first.opened, first.notices) == (5, 5, 5)
    with backend.uow() as uow:
        assert len([m for m in uow.outbox.all() if m.template == "dunning_notice"]) == 5
    again = run_dunning(svc, D(2026, 5, 28), payers_per_transaction=per_transaction)
    assert (again.payers, again.opened, again.notices) == (5, 0, 0)
    with pytest.raises(DomainError) as refused:
        run_dunning(svc, D(2026, 5, 29), payers_per_transaction=0)
    assert (refused.value.code, refused.value.field) == ("dunning.batch_invalid", "payers_per_transaction")
