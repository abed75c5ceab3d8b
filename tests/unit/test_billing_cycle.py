"""The monthly billing cycle on every adapter: bill, calls and the members' SEPA files, once."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

import attrs
import pytest

from mutuelle_adapters.files.sepa import NAMESPACE, schema
from mutuelle_core.affiliation import management as mg
from mutuelle_core.affiliation.journey import HouseholdForm
from mutuelle_core.cotisations.account_records import PayerKey
from mutuelle_core.cotisations.accounts import payer_statement
from mutuelle_core.cotisations.billing import BillingProgress, set_tariff
from mutuelle_core.cotisations.calls import CALL_KIND
from mutuelle_core.cotisations.cycle import collection_dates, run_billing_cycle
from mutuelle_core.cotisations.payments import DueStatus
from mutuelle_core.cotisations.records import ContractTariff
from mutuelle_core.cotisations.rules import CotisationRules, Payer
from mutuelle_core.cotisations.tariff import TariffGrid
from mutuelle_core.errors import DomainError
from mutuelle_core.values.bank import BankAccount
from mutuelle_core.values.dates import Month
from mutuelle_core.values.money import Money
from tests.affiliation_fixtures import BANK, CONTACT, PERSONAL, set_up_psc
from tests.conftest import Backend, InjectedFailure
from tests.unit.cotisations.seed002 import psc_lines
from tests.unit.test_billing import affiliated, clone
from tests.unit.test_payments_collection_dunning import files, transactions

D = dt.date
MAY, JUNE = Month(2026, 5), Month(2026, 6)
OTHER_IBAN = "FR7630004000031234567890143"


def with_mandates(backend: Backend, aff_id: str, count: int) -> list[str]:
    """``count`` copies of an affiliation, each with its own mandate (own RUM, another account)."""
    ids = clone(backend, aff_id, count)
    with backend.uow() as uow:
        original = uow.mandates.active_for([aff_id])[aff_id]
        for i, new_id in enumerate(ids):
            mandate = attrs.evolve(original.mandate, rum=f"RUM-CLONE-{i:03d}", account=OTHER_IBAN)
            uow.mandates.add(attrs.evolve(original, mandate=mandate, affiliation_id=new_id, version=0))
        uow.commit()
    return ids


def second_contract(backend: Backend, debit_day: int) -> str:
    """Another PSC contract whose members are debited on ``debit_day``, one agent alone on option 1."""
    svc = backend.services()
    actor = set_up_psc(svc, number="MENJ2027", employer_id="emp-2027")
    set_tariff(
        svc, ContractTariff(TariffGrid("MENJ2027", psc_lines()), CotisationRules.psc(debit_day=debit_day))
    )
    form = mg.CompleteAffiliationForm(
        regime="general",
        household=HouseholdForm(),
        level=1,
        personal=PERSONAL,
        beneficiaries=(),
        contact=CONTACT,
        bank=BANK,
    )
    aff = mg.complete_affiliation(svc, actor, "MENJ2027", "A1", form)
    mg.accept_affiliation(svc, aff.affiliation_id)
    return aff.affiliation_id


def member_due(backend: Backend, aff_id: str, month: Month) -> tuple[str, int]:
    """The member payer id and the amount (cents) of an affiliation's member schedule line."""
    with backend.uow() as uow:
        [row] = [r for r in uow.cotisations.schedule_for(aff_id, str(month)) if r["payer"] == "member"]
    return str(row["payer_id"]), int(row["amount_cents"])


def requested_date(content: bytes) -> set[str]:
    root = ET.fromstring(content)
    return {e.text or "" for e in root.iter(f"{{{NAMESPACE}}}ReqdColltnDt")}


def stored_state(backend: Backend, aff_ids: list[str], tmp_path: Path) -> tuple[object, ...]:
    """Everything a cycle writes: lines, schedule lines, calls, SEPA records, ledgers, files."""
    with backend.uow() as uow:
        lines = [tuple(sorted(r.items())) for a in aff_ids for r in uow.cotisations.lines_for(a)]
        schedule = [tuple(sorted(r.items())) for a in aff_ids for r in uow.cotisations.schedule_for(a)]
        calls = [d.filename for d in uow.documents.list_for_owner("MENJ2026") if d.kind == CALL_KIND]
        records = list(uow.accounts.collections())
        sepa_docs = [d.filename for r in records for d in uow.documents.list_for_owner(r.collection_id)]
        ledgers = [
            uow.accounts.ledger(PayerKey(Payer.MEMBER, member_due(backend, a, MAY)[0])).ledger
            for a in aff_ids
        ]
    written = sorted(p.name for p in (tmp_path / "sepa").glob("*.xml"))
    return lines, schedule, calls, records, sepa_docs, ledgers, written


def test_the_cycle_writes_a_pain008_file_that_reads_back_as_the_member_schedule(
    backend: Backend, tmp_path: Path
) -> None:
    _, aff_id = affiliated(backend, 2)
    ids = [aff_id, *with_mandates(backend, aff_id, 2)]
    report = run_billing_cycle(backend.services(), JUNE, files(tmp_path))  # billed 4 May, due 5 June
    assert (report.billing.billed, report.billing.unbilled) == (3, 0)
    assert [c.contract_number for c in report.calls] == ["MENJ2026"]
    [collection] = report.collections
    assert collection.collection_date == D(2026, 6, 5) and collection.skipped == {}
    [published] = report.published
    content = Path(published).read_bytes()
    assert schema().is_valid(content.decode()) and requested_date(content) == {"2026-06-05"}
    expected = []
    with backend.uow() as uow:
        mandates = uow.mandates.active_for(ids)
    for a in ids:
        _, cents = member_due(backend, a, JUNE)
        mandate = mandates[a].mandate
        expected.append((f"{cents / 100:.2f}", mandate.account.iban, str(mandate.rum)))
    read_back = sorted((tx["amount"], tx["iban"], tx["rum"]) for tx in transactions(content))
    assert read_back == sorted(expected)
    assert {iban for _, iban, _ in read_back} == {BankAccount.parse(BANK.iban).iban, OTHER_IBAN}
    total = sum(member_due(backend, a, JUNE)[1] for a in ids)
    assert (report.debits, report.amount) == (3, Money.cents(total))
    for a in ids:
        statement = payer_statement(
            backend.services(), PayerKey(Payer.MEMBER, member_due(backend, a, JUNE)[0])
        )
        assert [d.status for d in statement.dues] == [DueStatus.PAID]


def test_a_due_billed_less_than_14_days_before_it_falls_is_collected_14_days_after_billing(
    backend: Backend, tmp_path: Path
) -> None:
    _, aff_id = affiliated(backend, 2)
    svc = backend.services()
    report = run_billing_cycle(svc, MAY, files(tmp_path))  # billed 4 May, due 5 May: 18 May at the earliest
    assert [c.collection_date for c in report.collections] == [D(2026, 5, 18)]
    [published] = report.published
    assert requested_date(Path(published).read_bytes()) == {"2026-05-18"}
    payer, cents = member_due(backend, aff_id, MAY)
    assert (report.debits, report.amount) == (1, Money.cents(cents))
    with backend.uow() as uow:
        [payment] = uow.accounts.ledger(PayerKey(Payer.MEMBER, payer)).ledger.payments
    assert payment.received_on == D(2026, 5, 18)


def test_each_member_due_date_gets_its_collection_in_date_order(backend: Backend, tmp_path: Path) -> None:
    _, first = affiliated(backend, 2)  # debit day 5
    second = second_contract(backend, debit_day=20)
    svc = backend.services()
    assert collection_dates(svc, MAY) == []  # not billed yet
    report = run_billing_cycle(svc, MAY, files(tmp_path))
    assert collection_dates(svc, MAY) == [D(2026, 5, 18), D(2026, 5, 20)]
    assert [c.collection_date for c in report.collections] == [D(2026, 5, 18), D(2026, 5, 20)]
    assert sorted(c.contract_number for c in report.calls) == ["MENJ2026", "MENJ2027"]
    for collection, aff_id in zip(report.collections, [first, second], strict=True):
        [published] = collection.published
        [tx] = transactions(Path(published).read_bytes())
        assert tx["amount"] == f"{member_due(backend, aff_id, MAY)[1] / 100:.2f}"
    assert [tx["amount"] for tx in transactions(Path(report.published[1]).read_bytes())] == ["12.00"]


def test_running_the_cycle_twice_adds_nothing(backend: Backend, tmp_path: Path) -> None:
    _, aff_id = affiliated(backend, 2)
    ids = [aff_id, *with_mandates(backend, aff_id, 1)]
    svc = backend.services()
    first = run_billing_cycle(svc, MAY, files(tmp_path))
    assert (first.billing.billed, len(first.calls), first.debits) == (2, 1, 2)
    before = stored_state(backend, ids, tmp_path)
    again = run_billing_cycle(svc, MAY, files(tmp_path))
    assert (again.billing.billed, again.billing.already_billed, again.billing.lines) == (0, 2, 0)
    assert (again.calls, again.published, again.debits) == ((), (), 0)
    assert stored_state(backend, ids, tmp_path) == before
    backend.clock.advance(days=20)  # a later run moves the collection date: still nothing to collect
    later = run_billing_cycle(svc, MAY, files(tmp_path))
    assert [c.collection_date for c in later.collections] == [D(2026, 6, 7)]
    assert (later.calls, later.published, later.debits) == ((), (), 0)
    assert stored_state(backend, ids, tmp_path) == before


def test_an_interrupted_cycle_resumes_its_bill_then_issues_the_calls_and_files(
    backend: Backend, tmp_path: Path
) -> None:
    _, aff_id = affiliated(backend, 2)
    ids = [aff_id, *with_mandates(backend, aff_id, 3)]
    svc = backend.services()

    def crash(progress: BillingProgress) -> None:
        if progress.affiliations == 2:
            raise InjectedFailure("the process dies after its second batch")

    with pytest.raises(InjectedFailure):
        run_billing_cycle(svc, MAY, files(tmp_path), batch_size=1, progress=crash)
    with backend.uow() as uow:
        assert [a for a in ids if uow.cotisations.lines_for(a, str(MAY))] == ids[:2]
        assert not [d for d in uow.documents.list_for_owner("MENJ2026") if d.kind == CALL_KIND]
        assert list(uow.accounts.collections()) == []
    report = run_billing_cycle(svc, MAY, files(tmp_path), batch_size=1)
    assert report.billing.resumed and (report.billing.affiliations, report.billing.billed) == (4, 4)
    assert [c.contract_number for c in report.calls] == ["MENJ2026"]
    assert report.debits == 4 and len(report.published) == 1
    assert report.amount == Money.cents(sum(member_due(backend, a, MAY)[1] for a in ids))


def test_without_files_the_cycle_bills_and_calls_and_a_later_cycle_collects(
    backend: Backend, tmp_path: Path
) -> None:
    affiliated(backend, 2)
    svc = backend.services()
    billed = run_billing_cycle(svc, JUNE, None)
    assert (billed.collected, billed.collections, len(billed.calls)) == (False, (), 1)
    with backend.uow() as uow:
        assert list(uow.accounts.collections()) == []
    collected = run_billing_cycle(svc, JUNE, files(tmp_path))
    assert collected.collected and collected.calls == () and collected.debits == 1


def test_a_bad_batch_size_does_nothing(backend: Backend, tmp_path: Path) -> None:
    affiliated(backend, 2)
    with pytest.raises(DomainError, match=r"billing\.batch_invalid"):
        run_billing_cycle(backend.services(), MAY, files(tmp_path), batch_size=0)
    with backend.uow() as uow:
        assert uow.cotisations.latest_run(str(MAY)) is None
