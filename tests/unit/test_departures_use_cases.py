"""Families and departures on every adapter: radiation, portability, Evin, maintien, beneficiaries."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from mutuelle_core.affiliation import management as mg
from mutuelle_core.affiliation.journey import BeneficiaryForm
from mutuelle_core.affiliation.transitions import AffiliationStatus as S
from mutuelle_core.cotisations.billing import set_tariff
from mutuelle_core.cotisations.mandates import MandateStatus
from mutuelle_core.cotisations.records import ContractTariff
from mutuelle_core.cotisations.rules import CollectionChannel, CotisationRules
from mutuelle_core.cotisations.tariff import TariffGrid
from mutuelle_core.departures import use_cases as dep
from mutuelle_core.departures.departure import PortabilityEndReason
from mutuelle_core.errors import DomainError
from mutuelle_core.families import use_cases as fam
from mutuelle_core.values.bank import BankAccount
from mutuelle_core.values.dates import DateRange
from tests.affiliation_fixtures import (
    BANK,
    CONTACT,
    HOUSEHOLD_TWINS,
    PERSONAL,
    TWINS,
    set_up_psc,
    spouse_form,
)
from tests.conftest import Backend
from tests.unit.cotisations.seed002 import psc_lines
from tests.unit.test_billing import evin_lines

D = dt.date
OTHER_IBAN = "FR7630004000031234567890143"


def codes(err: DomainError) -> set[str]:
    return {e.code for e in err.leaves()}


def affiliated(backend: Backend) -> tuple[str, str]:
    """An agent with a spouse and twins, affiliated from 4 May 2026; returns (actor, affiliation id)."""
    svc = backend.services()
    actor = set_up_psc(svc)
    form = mg.CompleteAffiliationForm(
        regime="general",
        household=HOUSEHOLD_TWINS,
        level=1,
        personal=PERSONAL,
        beneficiaries=(spouse_form(), *TWINS),
        contact=CONTACT,
        bank=BANK,
    )
    aff = mg.complete_affiliation(svc, actor, "MENJ2026", "A1", form)
    mg.accept_affiliation(svc, aff.affiliation_id)
    return actor, aff.affiliation_id


def test_radiation_with_portability_moves_everyone_to_group_p_with_the_same_dates(backend: Backend) -> None:
    svc = backend.services()
    actor, aff_id = affiliated(backend)
    backend.clock.set(dt.datetime(2026, 9, 15, 8, tzinfo=dt.UTC))
    radiated = dep.radiate_employee(
        svc, actor, aff_id, last_day=D(2026, 9, 10), motive="043", employment_start=D(2026, 5, 4)
    )
    assert radiated.status is S.PORTABILITY
    assert radiated.group_code == "P1"
    assert radiated.departure is not None
    assert radiated.departure.portability == DateRange(
        D(2026, 9, 11), D(2027, 2, 10)
    )  # 4 months 7 days -> 5 months
    assert [b.period for b in radiated.covered] == [DateRange(D(2026, 5, 4), D(2027, 2, 10))] * 3
    with backend.uow() as uow:
        [notice] = [m for m in uow.outbox.pending(backend.clock.now()) if m.template == "radiation_notice"]
        assert "du 11/09/2026\nau 10/02/2027 inclus (5 mois)" in notice.body_text
        [attestation] = [
            d for d in uow.documents.list_for_owner(aff_id) if d.kind == "portability_attestation"
        ]
        assert "du 11/09/2026 au 10/02/2027" in attestation.content.decode()


def test_radiation_without_portability_ends_every_cover_the_same_day(backend: Backend) -> None:
    svc = backend.services()
    actor, aff_id = affiliated(backend)
    radiated = dep.radiate_employee(
        svc, actor, aff_id, last_day=D(2026, 6, 30), motive="059", employment_start=D(2026, 5, 4)
    )
    assert radiated.status is S.RADIATED
    assert {b.period.end for b in radiated.covered} == {D(2026, 6, 30)}
    with backend.uow() as uow:
        [notice] = [m for m in uow.outbox.pending(backend.clock.now()) if m.template == "radiation_notice"]
        assert "n'ouvre pas droit au maintien" in notice.body_text
    with pytest.raises(DomainError) as exc:
        dep.request_evin(svc, aff_id)
    assert codes(exc.value) == {"evin.not_eligible"}


def test_portability_early_end_then_evin_within_six_months(backend: Backend) -> None:
    svc = backend.services()
    actor, aff_id = affiliated(backend)
    dep.radiate_employee(
        svc, actor, aff_id, last_day=D(2026, 9, 10), motive="031", employment_start=D(2026, 5, 4)
    )
    ended = dep.end_portability(svc, aff_id, on=D(2026, 11, 30), reason=PortabilityEndReason.END_OF_BENEFITS)
    assert ended.status is S.RADIATED
    assert {b.period.end for b in ended.covered} == {D(2026, 11, 30)}
    with backend.uow() as uow:
        assert [m.template for m in uow.outbox.pending(backend.clock.now())].count("evin_offer") == 1
    with pytest.raises(DomainError) as exc:
        dep.request_evin(svc, aff_id, requested_on=D(2027, 6, 1))
    assert codes(exc.value) == {"evin.request_too_late"}
    evin = dep.request_evin(svc, aff_id, requested_on=D(2027, 5, 30))
    assert evin.status is S.EVIN
    assert evin.group_code == "E1"
    assert evin.continuation is not None
    assert evin.continuation.period.start == D(2026, 12, 1)


def test_portability_ends_at_term_by_the_job_once(backend: Backend) -> None:
    svc = backend.services()
    actor, aff_id = affiliated(backend)
    dep.radiate_employee(
        svc, actor, aff_id, last_day=D(2026, 9, 10), motive="031", employment_start=D(2026, 5, 4)
    )
    assert dep.run_departure_jobs(svc, D(2027, 2, 10)).portabilities_ended == 0
    report = dep.run_departure_jobs(svc, D(2027, 2, 11))
    assert (report.portabilities_ended, report.evin_offers) == (1, 1)
    assert dep.run_departure_jobs(svc, D(2027, 2, 11)) == dep.DepartureJobReport()
    with backend.uow() as uow:
        assert uow.affiliations.get(aff_id).status is S.RADIATED


def test_death_offers_maintien_to_the_beneficiaries_for_twelve_months(backend: Backend) -> None:
    svc = backend.services()
    actor, aff_id = affiliated(backend)
    radiated = dep.radiate_employee(
        svc, actor, aff_id, last_day=D(2026, 8, 20), motive="066", employment_start=D(2026, 5, 4)
    )
    assert radiated.status is S.RADIATED
    with backend.uow() as uow:
        [offer] = [m for m in uow.outbox.pending(backend.clock.now()) if m.template == "maintien_offer"]
        assert "20/02/2027" in offer.body_text
    with pytest.raises(DomainError) as exc:
        dep.request_maintien(svc, aff_id, requested_on=D(2027, 2, 21))
    assert codes(exc.value) == {"maintien.request_too_late"}
    with backend.uow() as uow:
        deceased = uow.mandates.active_for([aff_id])[aff_id].mandate
    with pytest.raises(DomainError) as exc:  # debited: not from the deceased's account
        dep.request_maintien(svc, aff_id, requested_on=D(2026, 9, 1))
    assert codes(exc.value) == {"maintien.payer_required"} and exc.value.field == "payer"
    with backend.uow() as uow:
        assert uow.affiliations.get(aff_id).status is S.RADIATED  # nothing changed
        assert uow.mandates.active_for([aff_id])[aff_id].mandate == deceased
    payer = dep.MaintienPayer(
        name="Claudia Dupond", account=BankAccount.parse(OTHER_IBAN, holder="Claudia Dupond")
    )
    maintien = dep.request_maintien(svc, aff_id, requested_on=D(2026, 9, 1), payer=payer)
    with backend.uow() as uow:
        mandate = uow.mandates.active_for([aff_id])[aff_id].mandate
        revoked = uow.mandates.find(str(deceased.rum))
    assert mandate.rum != deceased.rum and mandate.debtor_name == "Claudia Dupond"
    assert mandate.account.iban == BankAccount.parse(OTHER_IBAN).iban
    assert revoked is not None and revoked.mandate.status is MandateStatus.REVOKED
    assert maintien.status is S.MAINTIEN
    assert maintien.group_code == "M1"
    assert maintien.continuation is not None
    assert maintien.continuation.period == DateRange(D(2026, 8, 21), D(2027, 8, 20))
    assert {b.period.end for b in maintien.covered} == {D(2027, 8, 20)}


def test_twins_accepted_third_child_same_birth_date_without_rank_refused(backend: Backend) -> None:
    svc = backend.services()
    _actor, aff_id = affiliated(backend)
    third = BeneficiaryForm(
        kind="child", civility="M", birth_name="Dupond", first_names="Noé", birth_date="12/05/2013"
    )
    with pytest.raises(DomainError) as exc:
        fam.add_beneficiary(svc, aff_id, fam.NewBeneficiary(form=third, start=D(2026, 6, 1)))
    assert codes(exc.value) == {"beneficiary.birth_rank_required"}
    added = fam.add_beneficiary(
        svc, aff_id, fam.NewBeneficiary(form=attrs.evolve(third, birth_rank=3), start=D(2026, 6, 1))
    )
    assert added.details.birth_rank == 3


def test_beneficiary_radiation_by_employer_and_age_limit_job(backend: Backend) -> None:
    svc = backend.services()
    actor, aff_id = affiliated(backend)
    with backend.uow() as uow:
        spouse = next(b for b in uow.affiliations.get(aff_id).covered if b.details.kind.value == "spouse")
    ended = fam.radiate_beneficiary(
        svc,
        aff_id,
        spouse.beneficiary_id,
        motive="divorce_or_separation",
        last_day=D(2026, 7, 31),
        actor_id=actor,
    )
    assert ended.period.end == D(2026, 7, 31)
    stranger = set_up_psc(svc, number="MINARM2026", employer_id="emp-minarm")
    with pytest.raises(DomainError) as exc:
        fam.radiate_beneficiary(
            svc, aff_id, spouse.beneficiary_id, motive="other", last_day=D(2026, 7, 31), actor_id=stranger
        )
    assert codes(exc.value) == {"access.denied"}
    old_child = BeneficiaryForm(
        kind="child", civility="M", birth_name="Dupond", first_names="Hugo", birth_date="01/07/2005"
    )
    fam.add_beneficiary(svc, aff_id, fam.NewBeneficiary(form=old_child, start=D(2026, 6, 1)))
    assert dep.run_departure_jobs(svc, D(2026, 7, 1)).children_over_age == 1  # 21 on 1 July 2026
    assert dep.run_departure_jobs(svc, D(2026, 7, 1)).children_over_age == 0
    with backend.uow() as uow:
        hugo = next(b for b in uow.affiliations.get(aff_id).covered if b.details.name.first_names == "Hugo")
    assert hugo.period.end == D(2026, 6, 30)
    too_old = attrs.evolve(old_child, first_names="Léo", birth_date="01/01/2000")
    with pytest.raises(DomainError) as exc:
        fam.add_beneficiary(svc, aff_id, fam.NewBeneficiary(form=too_old, start=D(2026, 6, 1)))
    assert codes(exc.value) == {"beneficiary.child_over_age_limit"}


def test_a_maintien_that_costs_the_payer_nothing_needs_no_payer_and_ends_the_deceaseds_mandate(
    backend: Backend,
) -> None:
    svc = backend.services()
    actor, aff_id = affiliated(backend)
    rules = attrs.evolve(
        CotisationRules.psc(evin_reference_group="A1"), member_channel=CollectionChannel.CHEQUE
    )
    set_tariff(svc, ContractTariff(TariffGrid("MENJ2026", [*psc_lines(), *evin_lines()]), rules))
    dep.radiate_employee(
        svc, actor, aff_id, last_day=D(2026, 8, 20), motive="066", employment_start=D(2026, 5, 4)
    )
    maintien = dep.request_maintien(svc, aff_id, requested_on=D(2026, 9, 1))  # paid by cheque: no mandate
    assert maintien.status is S.MAINTIEN
    with backend.uow() as uow:
        assert uow.mandates.active_for([aff_id]) == {}  # the deceased's account is debited no more
