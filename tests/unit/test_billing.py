"""The monthly billing run on every adapter: lines per formula, idempotence, resume, portability, Evin."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import attrs
import pytest

from mutuelle_core.affiliation import management as mg
from mutuelle_core.affiliation.transitions import AffiliationStatus as S
from mutuelle_core.contracts.contract import ProductLevel
from mutuelle_core.cotisations.billing import BillingProgress, bill, set_tariff
from mutuelle_core.cotisations.records import BillingRunStatus, ContractTariff
from mutuelle_core.cotisations.rules import CotisationRules
from mutuelle_core.cotisations.tariff import Price, TariffGrid, TariffLine
from mutuelle_core.departures import use_cases as dep
from mutuelle_core.departures.departure import PortabilityEndReason
from mutuelle_core.errors import DomainError
from mutuelle_core.values.dates import Month
from tests.affiliation_fixtures import (
    BANK,
    CONTACT,
    HOUSEHOLD_TWINS,
    PERSONAL,
    TWINS,
    set_up_psc,
    spouse_form,
)
from tests.conftest import Backend, InjectedFailure
from tests.unit.cotisations.seed002 import AGENT_BASE, FORMULA_TOTALS, psc_lines

D = dt.date
MAY, JUNE = Month(2026, 5), Month(2026, 6)


def evin_lines() -> list[TariffLine]:
    """The E1 group priced at twice the active prices: the Evin caps bring them back down."""
    return [
        attrs.evolve(line, group_code="E1", price=Price.euros(line.price.value * 2)) for line in psc_lines()
    ]


def affiliated(backend: Backend, level: int = 1) -> tuple[str, str]:
    """An agent with a spouse and twins, affiliated to MENJ2026 (seed 002's tariff); (actor, id)."""
    svc = backend.services()
    actor = set_up_psc(svc)
    set_tariff(
        svc,
        ContractTariff(
            TariffGrid("MENJ2026", [*psc_lines(), *evin_lines()]),
            CotisationRules.psc(evin_reference_group="A1"),
        ),
    )
    form = mg.CompleteAffiliationForm(
        regime="general",
        household=HOUSEHOLD_TWINS,
        level=level,
        personal=PERSONAL,
        beneficiaries=(spouse_form(), *TWINS),
        contact=CONTACT,
        bank=BANK,
    )
    aff = mg.complete_affiliation(svc, actor, "MENJ2026", "A1", form)
    mg.accept_affiliation(svc, aff.affiliation_id)
    return actor, aff.affiliation_id


def clone(backend: Backend, aff_id: str, count: int) -> list[str]:
    """``count`` copies of an affiliation under new ids (other members, same household)."""
    ids = []
    with backend.uow() as uow:
        original = uow.affiliations.get(aff_id)
        copies = []
        for i in range(count):
            new_id = f"zz-{i:03d}"
            copies.append(
                attrs.evolve(
                    original,
                    affiliation_id=new_id,
                    adhesion_number=f"C{i:07d}",
                    person_key=f"{original.person_key}-{i}",
                    version=0,
                )
            )
            ids.append(new_id)
        uow.affiliations.add_many(copies)
        uow.commit()
    return ids


def cents(amount: str) -> int:
    return round(float(amount) * 100)


@pytest.mark.parametrize("level", [ProductLevel.BASE, ProductLevel.OPTION_1, ProductLevel.OPTION_2])
def test_seed_002_agent_with_spouse_and_children_per_formula(backend: Backend, level: ProductLevel) -> None:
    _, aff_id = affiliated(backend, level.value)
    report = bill(backend.services(), MAY)
    assert (report.affiliations, report.billed, report.unbilled) == (1, 1, 0)
    with backend.uow() as uow:
        lines = uow.cotisations.lines_for(aff_id, "2026-05")
        schedule = {r["payer"]: r for r in uow.cotisations.schedule_for(aff_id, "2026-05")}
        employer_dues = uow.cotisations.employer_dues(lines[0]["contract_number"], "2026-05")
    debited = sum(
        r["amount_cents"] for r in lines if r["payer"] == "member" and r["channel"] == "direct_debit"
    )
    supplement, spouse, child = FORMULA_TOTALS[level]
    assert debited == cents(supplement) + cents(spouse) + 2 * cents(child)
    base = [r for r in lines if r["category"] == "insured" and r["product"] == 0]
    assert sorted((r["payer"], r["channel"], r["amount_cents"]) for r in base) == [
        ("employer", "transfer", 2926),
        ("member", "payroll_deduction", 2925),
    ]
    assert sum(r["amount_cents"] for r in base) == cents(AGENT_BASE)
    assert schedule["member"]["amount_cents"] == debited
    # billed on 4 May for the 5th: due 14 days after the billing day
    assert schedule["member"]["due_date"] == D(2026, 5, 18)
    assert set(schedule) == {"member"}  # the employer's part goes to the contract's monthly due
    assert [(r["amount_cents"], r["due_date"]) for r in employer_dues] == [
        (cents(AGENT_BASE), D(2026, 5, 18))
    ]
    assert report.employer_amount_cents == cents(AGENT_BASE)
    assert report.amount_cents == debited + cents(AGENT_BASE)
    assert {r["category"] for r in lines} == {"insured", "spouse", "child"}


def test_billing_a_month_twice_adds_nothing(backend: Backend) -> None:
    _, aff_id = affiliated(backend)
    ids = [aff_id, *clone(backend, aff_id, 4)]
    svc = backend.services()
    first = bill(svc, MAY, batch_size=2)
    second = bill(svc, MAY, batch_size=2)
    assert (first.billed, first.affiliations) == (5, 5)
    assert (second.billed, second.already_billed, second.lines, second.resumed) == (0, 5, 0, False)
    assert second.run_id != first.run_id
    with backend.uow() as uow:
        per_member = {i: len(uow.cotisations.lines_for(i, "2026-05")) for i in ids}
        assert uow.cotisations.count_lines("2026-05") == first.lines
        assert len(set(per_member.values())) == 1
        assert sum(per_member.values()) == first.lines
        run = uow.cotisations.latest_run("2026-05")
    assert run is not None and run.status is BillingRunStatus.DONE


def test_a_run_killed_midway_resumes_after_its_cursor(backend: Backend) -> None:
    _, aff_id = affiliated(backend)
    ids = [aff_id, *clone(backend, aff_id, 6)]
    svc = backend.services()
    seen: list[BillingProgress] = []

    def crash_after_first_batch(p: BillingProgress) -> None:
        seen.append(p)
        raise InjectedFailure("killed")

    with pytest.raises(InjectedFailure):
        bill(svc, MAY, batch_size=3, progress=crash_after_first_batch)
    with backend.uow() as uow:
        run = uow.cotisations.latest_run("2026-05")
        assert run is not None and run.status is BillingRunStatus.RUNNING
        assert run.cursor == sorted(ids)[2] == seen[0].cursor
        assert run.affiliations == 3
        one_member = len(uow.cotisations.lines_for(aff_id, "2026-05"))
    report = bill(svc, MAY, batch_size=3)
    assert report.resumed and report.run_id == seen[0].run_id
    assert (report.affiliations, report.billed, report.already_billed) == (7, 7, 0)
    with backend.uow() as uow:
        assert Counter(len(uow.cotisations.lines_for(i, "2026-05")) for i in ids) == {one_member: 7}
        assert uow.cotisations.count_lines("2026-05") == 7 * one_member == report.lines


def test_a_failed_batch_writes_nothing_and_the_next_run_finishes(backend: Backend) -> None:
    if backend.name == "postgres":
        pytest.skip("PostgreSQL writes lines with COPY, which the failure injector does not see")
    _, aff_id = affiliated(backend)
    ids = [aff_id, *clone(backend, aff_id, 3)]
    svc = backend.services()
    backend.fail_on_write("schedule_lines")
    with pytest.raises(InjectedFailure):
        bill(svc, MAY, batch_size=2)
    with backend.uow() as uow:
        assert uow.cotisations.count_lines("2026-05") == 0
    report = bill(svc, MAY, batch_size=2)
    assert report.resumed and report.billed == 4
    with backend.uow() as uow:
        assert len({len(uow.cotisations.lines_for(i, "2026-05")) for i in ids}) == 1


def test_portability_is_free(backend: Backend) -> None:
    actor, aff_id = affiliated(backend)
    svc = backend.services()
    radiated = dep.radiate_employee(
        svc, actor, aff_id, last_day=D(2026, 5, 31), motive="043", employment_start=D(2026, 5, 4)
    )
    assert radiated.status is S.PORTABILITY
    june = bill(svc, JUNE)
    assert (june.affiliations, june.billed, june.lines) == (1, 0, 0)
    may = bill(svc, MAY)
    assert may.billed == 1  # the active days before the departure are billed
    with backend.uow() as uow:
        assert uow.cotisations.lines_for(aff_id, "2026-06") == []
        assert {r["channel"] for r in uow.cotisations.lines_for(aff_id, "2026-05")} >= {"payroll_deduction"}


def test_evin_is_capped_at_the_active_price_in_year_one(backend: Backend) -> None:
    actor, aff_id = affiliated(backend)
    svc = backend.services()
    dep.radiate_employee(
        svc, actor, aff_id, last_day=D(2026, 9, 10), motive="031", employment_start=D(2026, 5, 4)
    )
    dep.end_portability(svc, aff_id, on=D(2026, 11, 30), reason=PortabilityEndReason.END_OF_BENEFITS)
    evin = dep.request_evin(svc, aff_id, requested_on=D(2027, 5, 30))
    assert evin.status is S.EVIN
    report = bill(svc, Month(2026, 12))
    assert report.billed == 1
    with backend.uow() as uow:
        lines = uow.cotisations.lines_for(aff_id, "2026-12")
    by_person = Counter()
    for r in lines:
        assert r["payer"] == "member" and r["channel"] == "direct_debit"
        by_person[r["category"]] += r["amount_cents"]
    # E1 prices are twice A1's; year 1 of Evin is capped at 100 % of the active price
    assert by_person["insured"] == cents(AGENT_BASE) + 1200
    assert by_person["spouse"] == 1400
    assert by_person["child"] == 2 * 1000


def test_a_contract_without_tariff_is_reported_not_billed(backend: Backend) -> None:
    _, aff_id = affiliated(backend)
    with backend.uow() as uow:
        other = attrs.evolve(
            uow.affiliations.get(aff_id),
            affiliation_id="other",
            contract_number="NOPE",
            adhesion_number="N0000001",
            version=0,
        )
    if backend.name != "memory":  # the SQL schema wants an existing contract
        return
    with backend.uow() as uow:
        uow.affiliations.add(other)
        uow.commit()
    report = bill(backend.services(), MAY)
    assert (report.billed, report.unbilled, report.errors) == (1, 1, (("other", "billing.tariff_missing"),))


def test_batch_size_must_be_positive(backend: Backend) -> None:
    with pytest.raises(DomainError) as exc:
        bill(backend.services(), MAY, batch_size=0)
    assert exc.value.code == "billing.batch_invalid"
