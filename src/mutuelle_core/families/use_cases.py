"""Adding and radiating beneficiaries, from the member space and from the employer space.

The same rules serve both spaces ("J'inscris / Je radie des bénéficiaires" in the member space, "Ajouter
bénéficiaire" on the employer's employee sheet); the employer's entry points check the correspondent's
scope first. Every change is a dated entry in the file's history. On a provident affiliation with a
beneficiary designation in force, adding a spouse or a child, or radiating for death or divorce, also
queues the « pensez à mettre à jour votre désignation » reminder (:mod:`mutuelle_core.designation.use_cases`).
"""

from __future__ import annotations

import datetime as dt

import attrs

from mutuelle_core.affiliation.affiliation import Affiliation
from mutuelle_core.affiliation.journey import BeneficiaryForm
from mutuelle_core.contracts.access import EmployerScope, denied
from mutuelle_core.designation.use_cases import (
    remind_after_beneficiary_added,
    remind_after_beneficiary_radiated,
)
from mutuelle_core.errors import NOT_FOUND, error_code
from mutuelle_core.families.beneficiaries import (
    BeneficiaryRadiationMotive,
    CoveredBeneficiary,
    check_new_beneficiary,
)
from mutuelle_core.ports import UnitOfWork
from mutuelle_core.services import Services
from mutuelle_core.values.dates import DateRange

__all__ = ["NewBeneficiary", "add_beneficiary", "radiate_beneficiary"]

UNKNOWN_MOTIVE = error_code("beneficiary.unknown_motive", "Motif de radiation inconnu : {motive}.")


@attrs.frozen(kw_only=True)
class NewBeneficiary:
    """A beneficiary to add: the details form, the first day of cover, and the eligibility facts."""

    form: BeneficiaryForm
    start: dt.date
    student_or_apprentice: bool = False
    disabled: bool = False
    state_civil_servant: bool = False
    medecin_traitant_declared: bool = False


def _load(uow: UnitOfWork, affiliation_id: str, actor_id: str | None) -> Affiliation:
    aff = uow.affiliations.find(affiliation_id)
    if actor_id is not None:
        scope = EmployerScope.load(uow, actor_id)
        if aff is None:
            raise denied(f"dossier {affiliation_id}")
        scope.group(uow, aff.contract_number, aff.group_code)
    if aff is None:
        raise NOT_FOUND(None, what=f"dossier {affiliation_id}")
    return aff


def add_beneficiary(
    svc: Services, affiliation_id: str, new: NewBeneficiary, *, actor_id: str | None = None
) -> CoveredBeneficiary:
    """Cover one more person from ``new.start`` (member space, or employer space with ``actor_id``)."""
    with svc.uow() as uow:
        aff = _load(uow, affiliation_id, actor_id)
        contract = uow.contracts.get(aff.contract_number)
        details = new.form.validate(contract.settings.default_organisme_code)
        check_new_beneficiary(
            details,
            settings=contract.settings,
            psc=contract.is_psc,
            start=new.start,
            state_civil_servant=new.state_civil_servant,
            student_or_apprentice=new.student_or_apprentice,
            disabled=new.disabled,
        )
        beneficiary = CoveredBeneficiary(
            beneficiary_id=svc.ids.new_id(),
            details=details,
            period=DateRange(new.start, None),
            student_or_apprentice=new.student_or_apprentice,
            disabled=new.disabled,
            medecin_traitant_declared=new.medecin_traitant_declared,
        )
        updated = uow.affiliations.update(
            aff.add_beneficiary(beneficiary, svc.clock.now(), actor_id or "employee")
        )
        remind_after_beneficiary_added(uow, updated, beneficiary, svc.clock.now())  # provident only
        uow.commit()
    return beneficiary


def radiate_beneficiary(
    svc: Services,
    affiliation_id: str,
    beneficiary_id: str,
    *,
    motive: str,
    last_day: dt.date,
    actor_id: str | None = None,
) -> CoveredBeneficiary:
    """End a beneficiary's cover after ``last_day`` with a motive (divorce, death, age, other cover...)."""
    try:
        chosen = BeneficiaryRadiationMotive(motive)
    except ValueError:
        raise UNKNOWN_MOTIVE("motive", motive=motive) from None
    with svc.uow() as uow:
        aff = _load(uow, affiliation_id, actor_id)
        updated = uow.affiliations.update(
            aff.radiate_beneficiary(beneficiary_id, chosen, last_day, svc.clock.now(), actor_id or "employee")
        )
        remind_after_beneficiary_radiated(uow, updated, beneficiary_id, chosen, svc.clock.now())
        uow.commit()
    return updated.beneficiary(beneficiary_id)
