"""Management's decisions and the employer's complete affiliation.

* Control of a submitted file: accept (adhesion number, welcome e-mail), reject with reasons (the
  employee corrects and signs again), or refuse (final).
* Dispense requests: accept or refuse with a reason; both the employee and the employer's dispense
  address are told.
* Affiliation complète: the employer enters everything at once (same forms and checks as the journey,
  every error of every step reported together), signs, and the file goes to control.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from mutuelle_core.affiliation.affiliation import Affiliation, person_key
from mutuelle_core.affiliation.follow_up import effective_date_for
from mutuelle_core.affiliation.invitations import ALREADY_INVITED, CONTRACT_NOT_IN_FORCE
from mutuelle_core.affiliation.journey import (
    BankForm,
    BeneficiaryForm,
    ContactForm,
    FormulaChoice,
    HouseholdForm,
    Journey,
    PersonalForm,
    SocialRegime,
    check_beneficiaries,
)
from mutuelle_core.affiliation.member_journey import (
    FORMULA_UNAVAILABLE,
    quote_for,
    rules_for,
    sign_affiliation_documents,
)
from mutuelle_core.affiliation.notifications import (
    affiliated_message,
    dispense_decided_messages,
    rejected_message,
)
from mutuelle_core.contracts.access import EmployerScope
from mutuelle_core.contracts.contract import ProductLevel
from mutuelle_core.errors import NOT_FOUND, ErrorCollector
from mutuelle_core.services import Services

__all__ = [
    "CompleteAffiliationForm",
    "accept_affiliation",
    "complete_affiliation",
    "decide_dispense",
    "refuse_affiliation",
    "reject_affiliation",
]


def accept_affiliation(svc: Services, affiliation_id: str) -> Affiliation:
    """Control accepts: the employee is affiliated with a new adhesion number."""
    with svc.uow() as uow:
        aff = uow.affiliations.get(affiliation_id)
        contract = uow.contracts.get(aff.contract_number)
        number = uow.references.next_reference("adhesion", "M")
        updated = uow.affiliations.update(aff.accept(number, svc.clock.now()))
        level = updated.product_level or ProductLevel.BASE
        product = next(
            (p for p in contract.products if p.group_code == aff.group_code and p.level is level), None
        )
        message = affiliated_message(updated, product.label if product else level.label)
        if message is not None:
            uow.outbox.add(message)
        uow.commit()
    return updated


def reject_affiliation(svc: Services, affiliation_id: str, reasons: Sequence[str]) -> Affiliation:
    """Control rejects with reasons (en erreur): the employee is told what to correct."""
    with svc.uow() as uow:
        aff = uow.affiliations.get(affiliation_id)
        updated = uow.affiliations.update(aff.reject(tuple(r for r in reasons if r.strip()), svc.clock.now()))
        message = rejected_message(updated)
        if message is not None:
            uow.outbox.add(message)
        uow.commit()
    return updated


def refuse_affiliation(svc: Services, affiliation_id: str, reasons: Sequence[str]) -> Affiliation:
    """Control refuses the adhesion (refusée); the person may be invited again later."""
    with svc.uow() as uow:
        aff = uow.affiliations.get(affiliation_id)
        updated = uow.affiliations.update(aff.refuse(tuple(r for r in reasons if r.strip()), svc.clock.now()))
        uow.commit()
    return updated


def decide_dispense(svc: Services, affiliation_id: str, *, accept: bool, reason: str = "") -> Affiliation:
    """Accept or refuse a dispense request; the employee and the employer's dispense address are told."""
    with svc.uow() as uow:
        aff = uow.affiliations.get(affiliation_id)
        contract = uow.contracts.get(aff.contract_number)
        end_date = aff.dispense.end_date if aff.dispense else None
        now = svc.clock.now()
        updated = aff.accept_dispense(now) if accept else aff.refuse_dispense(reason, now)
        stored = uow.affiliations.update(updated)
        for message in dispense_decided_messages(
            stored, contract, accepted=accept, end_date=end_date, reason=reason
        ):
            uow.outbox.add(message)
        uow.commit()
    return stored


@attrs.frozen(kw_only=True)
class CompleteAffiliationForm:
    """Everything the employer enters for an affiliation complète (the journey's forms, all at once)."""

    regime: str
    household: HouseholdForm
    level: int
    personal: PersonalForm
    beneficiaries: tuple[BeneficiaryForm, ...]
    contact: ContactForm
    bank: BankForm


def complete_affiliation(
    svc: Services, actor_id: str, contract_number: str, group_code: str, form: CompleteAffiliationForm
) -> Affiliation:
    """The employer's complete affiliation: validated at once, signed by the correspondent, to control.

    An open invitation of the same person on the contract is completed instead of creating a new file.
    """
    today = svc.clock.today()
    now = svc.clock.now()
    with svc.uow() as uow:
        scope = EmployerScope.load(uow, actor_id)
        contract, _group = scope.group(uow, contract_number, group_code)
        if not contract.in_force(today):
            raise CONTRACT_NOT_IN_FORCE("contract", number=contract.number)
        errors = ErrorCollector()
        try:
            regime = SocialRegime(form.regime)
        except ValueError:
            regime = None
            errors.add(NOT_FOUND("regime", what=form.regime))
        effective = max(contract.effective_date, today)
        rules = rules_for(contract, effective)
        household = errors.capture("household", form.household.validate, rules)
        personal = errors.capture(
            "personal", form.personal.validate, contract.settings.default_organisme_code
        )
        details = []
        for i, b in enumerate(form.beneficiaries):
            d = errors.capture(f"beneficiaries[{i}]", b.validate, contract.settings.default_organisme_code)
            if d is not None:
                details.append(d)
        contact = errors.capture("contact", form.contact.validate)
        bank = errors.capture("bank", form.bank.validate)
        try:
            level = ProductLevel(form.level)
        except ValueError:
            level = None
        if (
            level is None
            or contract.base_product(group_code, effective) is None
            or not any(p.level is level for p in contract.products_in_force(group_code, effective))
        ):
            errors.add(FORMULA_UNAVAILABLE("level", level=form.level))
        if household is not None and not errors:
            errors.capture(None, check_beneficiaries, household, details, rules)
        errors.raise_if_any()
        assert personal is not None and contact is not None and bank is not None and level is not None
        journey = Journey(
            regime=regime,
            household=household,
            formula=FormulaChoice(level=level),
            personal=personal,
            beneficiaries=tuple(details),
            contact=contact,
            bank=bank,
        )
        key = person_key(personal.name, contact.email)
        letter_key = person_key(personal.name, None)  # an invitation sent by letter has no e-mail
        existing = next(
            (
                a
                for a in uow.affiliations.list_for_contract(contract.number)
                if a.status.is_open
                and (a.person_key == key or (a.email is None and a.person_key == letter_key))
            ),
            None,
        )
        if existing is None:
            if uow.affiliations.existing_keys(contract.number, [key, letter_key]):
                raise ALREADY_INVITED("personal.name")
            existing = uow.affiliations.add(
                Affiliation.invite(
                    affiliation_id=svc.ids.new_id(),
                    contract_number=contract.number,
                    group_code=group_code,
                    civility=personal.civility,
                    name=personal.name,
                    email=contact.email,
                    token=svc.tokens.new_token(),
                    validity_months=contract.settings.invitation_validity_months,
                    now=now,
                    actor=actor_id,
                )
            )
        start = effective_date_for(existing, contract, today)
        product = next(p for p in contract.products_in_force(group_code, start) if p.level is level)
        evidence = sign_affiliation_documents(
            svc,
            uow,
            existing,
            contract,
            journey,
            product,
            start,
            quote_for(contract, journey),
            signer=actor_id,
        )
        stored = uow.affiliations.update(existing.submit_complete(journey, evidence, start, now, actor_id))
        uow.commit()
    return stored
