"""Regularisation of months already billed, on every adapter: golden cases, idempotence, resume."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from mutuelle_core.affiliation.journey import BeneficiaryForm
from mutuelle_core.cotisations.account_records import PayerKey
from mutuelle_core.cotisations.billing import bill, priced_rows
from mutuelle_core.cotisations.engine import ContractPricing
from mutuelle_core.cotisations.records import BillableAffiliation, BillingRunStatus
from mutuelle_core.cotisations.regularisation import (
    RegularisationProgress,
    credit_note_id,
    regularise,
    totals_by_key,
)
from mutuelle_core.cotisations.rules import CollectionChannel, CotisationRules, Payer
from mutuelle_core.departures import use_cases as dep
from mutuelle_core.families import use_cases as fam
from mutuelle_core.values.dates import Month
from tests.conftest import Backend, InjectedFailure
from tests.unit.test_billing import affiliated, clone

D = dt.date
APRIL, MAY, JUNE = Month(2026, 4), Month(2026, 5), Month(2026, 6)
JUNE_1 = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)


def settled(backend: Backend, aff_id: str, months: list[Month]) -> None:
    """Per key, what was billed plus every regularisation equals the engine's pricing now."""
    with backend.uow() as uow:
        aff = uow.affiliations.get(aff_id)
        tariff = uow.tariffs.get(aff.contract_number)
        pricing = ContractPricing(tariff.grid, tariff.rules)
        for month in months:
            key = str(month)
            rows = [
                *uow.cotisations.lines_for(aff_id, key),
                *uow.cotisations.regularisation_lines_for(aff_id, key),
            ]
            stored = {k: c for k, (_cat, c) in totals_by_key(rows).items() if c}
            fresh = {
                k: c for k, (_cat, c) in priced_rows(BillableAffiliation.of(aff), pricing, month).items() if c
            }
            assert stored == fresh, month


def member_id_of(backend: Backend, aff_id: str) -> str:
    with backend.uow() as uow:
        return BillableAffiliation.of(uow.affiliations.get(aff_id)).member_id


def credit_notes(backend: Backend, key: PayerKey) -> list[int]:
    with backend.uow() as uow:
        ledger = uow.accounts.ledger(key).ledger
    return [p.amount.to_cents() for p in ledger.payments if p.channel is CollectionChannel.CREDIT_NOTE]


def test_nothing_billed_nothing_to_regularise(backend: Backend) -> None:
    report = regularise(backend.services(), JUNE)
    assert report.run_id is None and report.lines == 0


def test_a_radiation_dated_in_may_credits_june(backend: Backend) -> None:
    """(a) May and June billed, then a radiation dated 31 May: June is credited in full (portability
    is free), the member's part by a credit note on the member's ledger, the employer's on the
    contract's ledger."""
    actor, aff_id = affiliated(backend)
    svc = backend.services()
    bill(svc, MAY)
    backend.clock.set(JUNE_1)
    bill(svc, JUNE)
    backend.clock.advance(days=2)
    dep.radiate_employee(
        svc, actor, aff_id, last_day=D(2026, 5, 31), motive="043", employment_start=D(2026, 5, 4)
    )
    report = regularise(svc, JUNE)
    with backend.uow() as uow:
        june = uow.cotisations.lines_for(aff_id, "2026-06")
        regs = uow.cotisations.regularisation_lines_for(aff_id)
        member_due = uow.cotisations.schedule_for(aff_id, "2026-06")
    member_part = sum(
        r["amount_cents"] for r in june if r["payer"] == "member" and r["channel"] == "direct_debit"
    )
    employer_part = sum(r["amount_cents"] for r in june) - member_part
    assert member_part > 0 and employer_part > 0
    assert {(r["month"], r["billed_in"]) for r in regs} == {("2026-06", "2026-06")}
    assert sorted(
        (r["person_id"], r["product"], r["payer"], r["channel"], -r["amount_cents"]) for r in regs
    ) == sorted((r["person_id"], r["product"], r["payer"], r["channel"], r["amount_cents"]) for r in june)
    settled(backend, aff_id, [MAY, JUNE])
    member = member_id_of(backend, aff_id)
    assert credit_notes(backend, PayerKey(Payer.MEMBER, member)) == [member_part]
    assert credit_notes(backend, PayerKey(Payer.EMPLOYER, "MENJ2026")) == [employer_part]
    assert (report.lines, report.regularised, report.credit_notes) == (len(june), 1, 2)
    assert (report.amount_cents, report.added_cents, report.credited_cents) == (
        -(member_part + employer_part),
        0,
        member_part + employer_part,
    )
    assert [r["amount_cents"] for r in member_due] == [member_part]  # no due is lowered
    with backend.uow() as uow:
        ledger = uow.accounts.ledger(PayerKey(Payer.MEMBER, member)).ledger
        notes = [p for p in ledger.payments if p.channel is CollectionChannel.CREDIT_NOTE]
        assert [p.payment_id for p in notes] in (
            [credit_note_id(report.run_id or "", 1)],
            [credit_note_id(report.run_id or "", 2)],
        )
        assert ledger.outstanding(f"2026-05/{aff_id}").to_cents() == 0  # the oldest due is paid first
    again = regularise(svc, JUNE)
    assert (again.lines, again.credit_notes, again.amount_cents) == (0, 0, 0)
    assert credit_notes(backend, PayerKey(Payer.MEMBER, member)) == [member_part]


def test_a_month_whose_run_was_interrupted_is_regularised_for_what_it_billed(backend: Backend) -> None:
    """June's run stops after its first page (the radiated member in it); the radiation dated 31 May
    comes before the run is resumed: the regularisation gives back what June billed her, the resumed
    run bills the others and not her again."""
    actor, aff_id = affiliated(backend)
    others = clone(backend, aff_id, 3)
    svc = backend.services()
    bill(svc, MAY)
    backend.clock.set(JUNE_1)

    def stop(_progress: object) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        bill(svc, JUNE, batch_size=1, progress=stop)
    with backend.uow() as uow:
        billed_her = uow.cotisations.lines_for(aff_id, str(JUNE))
        assert billed_her  # billed by the interrupted run
        assert not uow.cotisations.lines_for(others[0], str(JUNE))
        interrupted = uow.cotisations.latest_run(str(JUNE))
        assert interrupted is not None and interrupted.status is BillingRunStatus.RUNNING
    backend.clock.advance(days=2)
    dep.radiate_employee(
        svc, actor, aff_id, last_day=D(2026, 5, 31), motive="043", employment_start=D(2026, 5, 4)
    )
    report = regularise(svc, JUNE)
    assert report.regularised == 1
    resumed = bill(svc, JUNE, batch_size=1)
    assert resumed.resumed and (resumed.affiliations, resumed.billed) == (4, 4)  # counts since the start
    with backend.uow() as uow:
        assert uow.cotisations.lines_for(aff_id, str(JUNE)) == billed_her  # not billed twice
    settled(backend, aff_id, [MAY, JUNE])
    for other in others:
        settled(backend, other, [MAY, JUNE])


def test_a_child_added_in_june_from_may_is_billed_in_junes_regularisation(backend: Backend) -> None:
    """(b) A child added in June with a start in May: May's child lines are billed in June's
    regularisation, and the member's part is added to the member's due of June."""
    _, aff_id = affiliated(backend)
    svc = backend.services()
    bill(svc, MAY)
    backend.clock.set(JUNE_1)
    bill(svc, JUNE)
    with backend.uow() as uow:
        start = uow.affiliations.get(aff_id).effective_date
        june_due = uow.cotisations.schedule_for(aff_id, "2026-06")[0]["amount_cents"]
    assert start is not None and start.month == 5
    child = BeneficiaryForm(
        kind="child", civility="M", birth_name="Dupond", first_names="Hugo", birth_date="02/03/2020"
    )
    fam.add_beneficiary(svc, aff_id, fam.NewBeneficiary(form=child, start=start))
    report = regularise(svc, JUNE)
    with backend.uow() as uow:
        regs = uow.cotisations.regularisation_lines_for(aff_id)
        due = uow.cotisations.schedule_for(aff_id, "2026-06")[0]["amount_cents"]
    assert {r["month"] for r in regs} == {"2026-05", "2026-06"}
    assert {r["category"] for r in regs} == {"child"}
    assert all(r["amount_cents"] > 0 and r["billed_in"] == "2026-06" for r in regs)
    settled(backend, aff_id, [MAY, JUNE])
    debited = sum(
        r["amount_cents"] for r in regs if r["payer"] == "member" and r["channel"] == "direct_debit"
    )
    assert due == june_due + debited == june_due + report.added_cents
    assert report.credit_notes == 0
    assert regularise(svc, JUNE).lines == 0


def test_a_late_affiliation_gets_april_and_may_in_junes_regularisation(backend: Backend) -> None:
    """(c) Effective 1 April, accepted in June after April and May were billed."""
    svc = backend.services()
    bill(svc, APRIL)
    bill(svc, MAY)
    backend.clock.set(JUNE_1)
    _, aff_id = affiliated(backend)
    with backend.uow() as uow:
        aff = uow.affiliations.get(aff_id)
        uow.affiliations.update(attrs.evolve(aff, effective_date=D(2026, 4, 1)))
        uow.commit()
    bill(svc, JUNE)
    report = regularise(svc, JUNE)
    with backend.uow() as uow:
        regs = uow.cotisations.regularisation_lines_for(aff_id)
        june = uow.cotisations.lines_for(aff_id, "2026-06")
    assert {r["month"] for r in regs} == {"2026-04", "2026-05"}
    assert june and report.regularised == 1
    settled(backend, aff_id, [APRIL, MAY, JUNE])
    assert report.added_cents == report.amount_cents > 0
    assert regularise(svc, JUNE).lines == 0
    again = bill(svc, APRIL)  # a later run of April does not bill it a second time
    assert (again.billed, again.already_billed) == (0, 1)
    settled(backend, aff_id, [APRIL])


def test_a_killed_run_resumes_after_its_cursor(backend: Backend) -> None:
    actor, aff_id = affiliated(backend)
    ids = [aff_id, *clone(backend, aff_id, 4)]
    svc = backend.services()
    bill(svc, MAY)
    backend.clock.set(JUNE_1)
    bill(svc, JUNE)
    backend.clock.advance(days=1)
    for i in ids:
        dep.radiate_employee(
            svc, actor, i, last_day=D(2026, 5, 31), motive="043", employment_start=D(2026, 5, 4)
        )
    seen: list[RegularisationProgress] = []

    def crash(p: RegularisationProgress) -> None:
        seen.append(p)
        raise InjectedFailure("killed")

    with pytest.raises(InjectedFailure):
        regularise(svc, JUNE, batch_size=2, progress=crash)
    with backend.uow() as uow:
        run = uow.cotisations.latest_regularisation_run("2026-06")
        assert run is not None and run.status is BillingRunStatus.RUNNING and run.cursor == sorted(ids)[1]
    report = regularise(svc, JUNE, batch_size=2)
    assert report.resumed and report.run_id == seen[0].run_id
    assert (report.affiliations, report.regularised) == (5, 5)
    for i in ids:
        settled(backend, i, [MAY, JUNE])
    assert regularise(svc, JUNE).lines == 0


def test_credit_note_is_never_a_tariff_channel() -> None:
    from mutuelle_core.errors import DomainError

    with pytest.raises(DomainError):
        CotisationRules.psc(member_channel=CollectionChannel.CREDIT_NOTE)
    assert CollectionChannel.CREDIT_NOTE.label == "Avoir (régularisation)"


def test_the_cycle_regularises_after_the_bill_and_the_call_shows_it(backend: Backend) -> None:
    from mutuelle_core.cotisations.calls import CALL_KIND
    from mutuelle_core.cotisations.cycle import run_billing_cycle

    _, aff_id = affiliated(backend)
    svc = backend.services()
    run_billing_cycle(svc, MAY, None)
    backend.clock.set(JUNE_1)
    run_billing_cycle(svc, JUNE, None)
    with backend.uow() as uow:
        start = uow.affiliations.get(aff_id).effective_date
    assert start is not None
    child = BeneficiaryForm(
        kind="child", civility="M", birth_name="Dupond", first_names="Hugo", birth_date="02/03/2020"
    )
    fam.add_beneficiary(svc, aff_id, fam.NewBeneficiary(form=child, start=start))
    backend.clock.set(dt.datetime(2026, 7, 1, 8, 0, tzinfo=dt.UTC))
    cycle = run_billing_cycle(svc, Month(2026, 7), None)
    assert cycle.regularisation.regularised == 1 and cycle.regularisation.lines > 0
    [call] = cycle.calls
    text = call.document.content.decode()
    assert "Régularisations des mois déjà facturés" in text
    assert "\n2026-05 ; " in text and "\n2026-06 ; " in text
    with backend.uow() as uow:
        docs = [d for d in uow.documents.list_for_owner("MENJ2026") if d.kind == CALL_KIND]
    assert len(docs) == 3
    again = run_billing_cycle(svc, Month(2026, 7), None)
    assert (again.regularisation.lines, again.calls) == (0, ())
