"""The employee's side (member space, seed 002): open the link, walk the steps, sign, or ask a dispense.

The link is opened once (:func:`open_link`); from then on the member space identifies the employee by the
affiliation id (its own authentication is the portal's business). Each ``save_*`` validates one step,
reports all its errors at once, and saves it: the journey resumes at :attr:`JourneyView.next_step` after
logging out. :func:`sign_and_submit` generates the BIA, the SEPA mandate and the notice, has them signed
through the signature port, stores them with the evidence, and sends the confirmation e-mail.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import attrs

from mutuelle_core.affiliation.affiliation import Affiliation
from mutuelle_core.affiliation.dispense import DispenseMotive, DispenseRequest, check_dispense
from mutuelle_core.affiliation.documents import affiliation_documents, make_document
from mutuelle_core.affiliation.follow_up import effective_date_for
from mutuelle_core.affiliation.journey import (
    REGIME_NOT_ELIGIBLE,
    BankForm,
    BeneficiaryForm,
    ContactForm,
    FormulaChoice,
    HouseholdForm,
    Journey,
    JourneyRules,
    JourneyStep,
    PersonalForm,
    SocialRegime,
    check_beneficiaries,
)
from mutuelle_core.affiliation.notifications import (
    completed_employer_message,
    dispense_requested_messages,
    submitted_message,
)
from mutuelle_core.affiliation.transitions import AffiliationStatus
from mutuelle_core.contracts.contract import CollectiveContract, Product, ProductLevel
from mutuelle_core.contracts.correspondent import hash_token
from mutuelle_core.contracts.price_grid import monthly_quote
from mutuelle_core.cotisations.mandate_use_cases import next_rum, store_signed_mandate
from mutuelle_core.cotisations.mandates import Mandate
from mutuelle_core.errors import NOT_FOUND, ErrorCollector, error_code
from mutuelle_core.ports import UnitOfWork
from mutuelle_core.services import Services
from mutuelle_core.signature import SignatureEvidence
from mutuelle_core.values.money import Money

__all__ = [
    "JourneyView",
    "journey_view",
    "open_link",
    "renounce_dispense",
    "request_dispense",
    "save_bank",
    "save_beneficiaries",
    "save_contact",
    "save_formula",
    "save_household",
    "save_personal",
    "save_regime",
    "sign_affiliation_documents",
    "sign_and_submit",
]

FORMULA_UNAVAILABLE = error_code(
    "journey.formula_unavailable",
    "La formule « {level} » n'est pas proposée à votre groupe à la date d'effet.",
)
UNKNOWN_MOTIVE = error_code("dispense.unknown_motive", "Motif de dispense inconnu : {motive}.")
LINK_UNKNOWN = error_code(
    "affiliation.link_invalid", "Ce lien d'affiliation n'est pas valide ou a déjà été utilisé."
)


@attrs.frozen(kw_only=True)
class JourneyView:
    """What the member space shows: status, next step, saved data, effective date and monthly amount."""

    affiliation_id: str
    status: AffiliationStatus
    next_step: JourneyStep
    journey: Journey
    effective_date: dt.date
    monthly_amount: Money | None
    product_label: str | None


def rules_for(contract: CollectiveContract, effective: dt.date) -> JourneyRules:
    """The contract facts the steps check."""
    s = contract.settings
    return JourneyRules(
        psc=contract.is_psc,
        child_age_limit=s.child_age_limit,
        student_age_limit=s.student_age_limit,
        disabled_without_limit=s.disabled_child_without_limit,
        effective_date=effective,
    )


def _product(
    contract: CollectiveContract, aff: Affiliation, effective: dt.date, level: ProductLevel
) -> Product | None:
    return next((p for p in contract.products_in_force(aff.group_code, effective) if p.level is level), None)


def quote_for(
    contract: CollectiveContract, journey: Journey, level: ProductLevel | None = None
) -> Money | None:
    """The member's monthly amount for the household and formula chosen (from the contract's price grid)."""
    chosen = level if level is not None else (journey.formula.level if journey.formula else None)
    if chosen is None:
        return None
    household = journey.household
    return monthly_quote(
        contract.settings.price_grid,
        int(chosen),
        spouse=household is not None and household.spouse is not None,
        children=0 if household is None else len(household.children),
    )


def _view(aff: Affiliation, contract: CollectiveContract, today: dt.date) -> JourneyView:
    effective = aff.effective_date or effective_date_for(aff, contract, today)
    if aff.enrolment is not None and aff.enrolment.base_only:
        # forced or automatic enrolment: the base cover alone, whatever the journey had chosen
        level: ProductLevel | None = ProductLevel.BASE
        quote = monthly_quote(contract.settings.price_grid, int(ProductLevel.BASE), spouse=False, children=0)
    else:
        level = aff.product_level or (aff.journey.formula.level if aff.journey.formula else None)
        quote = quote_for(contract, aff.journey, level)
    product = _product(contract, aff, effective, level) if level is not None else None
    return JourneyView(
        affiliation_id=aff.affiliation_id,
        status=aff.status,
        next_step=JourneyStep.DONE if aff.status is AffiliationStatus.SUBMITTED else aff.journey.next_step,
        journey=aff.journey,
        effective_date=effective,
        monthly_amount=quote,
        product_label=None if product is None else product.label,
    )


def _load(uow: UnitOfWork, affiliation_id: str) -> tuple[Affiliation, CollectiveContract]:
    aff = uow.affiliations.find(affiliation_id)
    if aff is None:
        raise NOT_FOUND(None, what=f"dossier {affiliation_id}")
    return aff, uow.contracts.get(aff.contract_number)


def open_link(svc: Services, token: str) -> JourneyView:
    """Open the e-mailed link (single use, before it expires)."""
    with svc.uow() as uow:
        aff = uow.affiliations.find_by_link(hash_token(token))
        if aff is None:
            raise LINK_UNKNOWN("token")
        contract = uow.contracts.get(aff.contract_number)
        updated = uow.affiliations.update(aff.open_link(token, svc.clock.now()))
        uow.commit()
    return _view(updated, contract, svc.clock.today())


def journey_view(svc: Services, affiliation_id: str) -> JourneyView:
    """Where the employee stands (to resume after logging out)."""
    with svc.uow() as uow:
        aff, contract = _load(uow, affiliation_id)
        return _view(aff, contract, svc.clock.today())


def _save(
    svc: Services,
    affiliation_id: str,
    step: JourneyStep,
    change: Callable[[Affiliation, CollectiveContract, JourneyRules], Journey],
) -> JourneyView:
    with svc.uow() as uow:
        aff, contract = _load(uow, affiliation_id)
        aff.journey.require(step)
        effective = effective_date_for(aff, contract, svc.clock.today())
        journey = change(aff, contract, rules_for(contract, effective))
        updated = uow.affiliations.update(aff.save_step(journey, svc.clock.now()))
        uow.commit()
    return _view(updated, contract, svc.clock.today())


def save_regime(svc: Services, affiliation_id: str, regime: str) -> JourneyView:
    """Step 1: the social security regime (the Polynesian CPS is not eligible to a PSC contract)."""

    def change(aff: Affiliation, contract: CollectiveContract, rules: JourneyRules) -> Journey:
        errors = ErrorCollector()
        try:
            value = SocialRegime(regime)
        except ValueError:
            value = None
            errors.add(NOT_FOUND("regime", what=regime))
        if value is SocialRegime.POLYNESIA_CPS and contract.is_psc:
            errors.add(REGIME_NOT_ELIGIBLE("regime"))
        errors.raise_if_any()
        return attrs.evolve(aff.journey, regime=value)

    return _save(svc, affiliation_id, JourneyStep.REGIME, change)


def save_household(svc: Services, affiliation_id: str, form: HouseholdForm) -> JourneyView:
    """Step 2: spouse and children to cover (changing it clears the beneficiaries' details)."""

    def change(aff: Affiliation, contract: CollectiveContract, rules: JourneyRules) -> Journey:
        household = form.validate(rules)
        keep = aff.journey.beneficiaries if aff.journey.household == household else None
        return attrs.evolve(aff.journey, household=household, beneficiaries=keep)

    return _save(svc, affiliation_id, JourneyStep.HOUSEHOLD, change)


def save_formula(svc: Services, affiliation_id: str, level: int) -> JourneyView:
    """Step 3: base, option 1 or option 2 (a product of that level must be open to the group)."""

    def change(aff: Affiliation, contract: CollectiveContract, rules: JourneyRules) -> Journey:
        try:
            chosen = ProductLevel(level)
        except ValueError:
            raise FORMULA_UNAVAILABLE("level", level=level) from None
        if _product(contract, aff, rules.effective_date, chosen) is None:
            raise FORMULA_UNAVAILABLE("level", level=chosen.label)
        return attrs.evolve(aff.journey, formula=FormulaChoice(level=chosen))

    return _save(svc, affiliation_id, JourneyStep.FORMULA, change)


def save_personal(svc: Services, affiliation_id: str, form: PersonalForm) -> JourneyView:
    """Step 4: identity, NIR (checked against civilité and birth date), organisme code, télétransmission."""

    def change(aff: Affiliation, contract: CollectiveContract, rules: JourneyRules) -> Journey:
        return attrs.evolve(aff.journey, personal=form.validate(contract.settings.default_organisme_code))

    return _save(svc, affiliation_id, JourneyStep.PERSONAL, change)


def save_beneficiaries(svc: Services, affiliation_id: str, forms: Sequence[BeneficiaryForm]) -> JourneyView:
    """Step 5: each beneficiary's details, matching the household of step 2 (twins: rangs de naissance)."""

    def change(aff: Affiliation, contract: CollectiveContract, rules: JourneyRules) -> Journey:
        errors = ErrorCollector()
        details = []
        for i, f in enumerate(forms):
            d = errors.capture(f"beneficiaries[{i}]", f.validate, contract.settings.default_organisme_code)
            if d is not None:
                details.append(d)
        errors.raise_if_any()
        assert aff.journey.household is not None
        check_beneficiaries(aff.journey.household, details, rules)
        return attrs.evolve(aff.journey, beneficiaries=tuple(details))

    return _save(svc, affiliation_id, JourneyStep.BENEFICIARIES, change)


def save_contact(svc: Services, affiliation_id: str, form: ContactForm) -> JourneyView:
    """Step 6: address, e-mail, mobile, marketing consent."""

    def change(aff: Affiliation, contract: CollectiveContract, rules: JourneyRules) -> Journey:
        return attrs.evolve(aff.journey, contact=form.validate())

    return _save(svc, affiliation_id, JourneyStep.CONTACT, change)


def save_bank(svc: Services, affiliation_id: str, form: BankForm) -> JourneyView:
    """Step 7: IBAN and holder (mandatory: used for debits and reimbursements)."""

    def change(aff: Affiliation, contract: CollectiveContract, rules: JourneyRules) -> Journey:
        return attrs.evolve(aff.journey, bank=form.validate())

    return _save(svc, affiliation_id, JourneyStep.BANK, change)


def sign_and_submit(svc: Services, affiliation_id: str) -> JourneyView:
    """Sign electronically and send the file to control; the confirmation e-mail is queued."""
    with svc.uow() as uow:
        aff, contract = _load(uow, affiliation_id)
        aff.journey.require(JourneyStep.SIGNATURE)
        now = svc.clock.now()
        effective = effective_date_for(aff, contract, svc.clock.today())
        assert aff.journey.formula is not None
        product = _product(contract, aff, effective, aff.journey.formula.level)
        if product is None:
            raise FORMULA_UNAVAILABLE("level", level=aff.journey.formula.level.label)
        quote = quote_for(contract, aff.journey)
        evidence = sign_affiliation_documents(
            svc, uow, aff, contract, aff.journey, product, effective, quote, signer=aff.affiliation_id
        )
        updated = uow.affiliations.update(aff.sign(evidence, effective, now))
        message = submitted_message(updated, product.label, quote)
        if message is not None:
            uow.outbox.add(message)
        if contract.settings.notify_on_completion:
            employer_message = completed_employer_message(
                updated, uow.employers.get(contract.employer_id), now
            )
            if employer_message is not None:
                uow.outbox.add(employer_message)
        uow.commit()
    return _view(updated, contract, svc.clock.today())


def sign_affiliation_documents(
    svc: Services,
    uow: UnitOfWork,
    aff: Affiliation,
    contract: CollectiveContract,
    journey: Journey,
    product: Product,
    effective: dt.date,
    quote: Money | None,
    *,
    signer: str,
) -> SignatureEvidence:
    """Generate BIA, SEPA mandate and notice, store them, and have ``signer`` sign them."""
    now = svc.clock.now()
    rum = next_rum(uow, contract.number)
    documents = affiliation_documents(
        contract=contract,
        product=product,
        journey=journey,
        effective_date=effective,
        quote=quote,
        insurer=svc.insurer,
        rum=rum,
        owner=aff.affiliation_id,
        new_id=[svc.ids.new_id() for _ in range(3)],
        at=now,
    )
    for doc in documents:
        uow.documents.put(doc)
    evidence = svc.signature.sign(signer=signer, documents=documents, at=now)
    if journey.bank is not None:
        store_signed_mandate(
            uow,
            aff.affiliation_id,
            Mandate(
                rum=rum,
                debtor_name=journey.bank.account.holder or aff.name.display,
                account=journey.bank.account,
                signed_on=svc.clock.today(),
            ),
        )
    return evidence


def request_dispense(
    svc: Services,
    affiliation_id: str,
    *,
    motive: str,
    attestation: bytes,
    attestation_filename: str = "attestation-sur-l-honneur.pdf",
    end_date: dt.date | None = None,
) -> JourneyView:
    """Ask for a dispense with the attestation sur l'honneur; the employee and the employer are told."""
    today = svc.clock.today()
    with svc.uow() as uow:
        aff, contract = _load(uow, affiliation_id)
        try:
            chosen = DispenseMotive(motive)
        except ValueError:
            raise UNKNOWN_MOTIVE("motive", motive=motive) from None
        allowed = contract.settings.allowed_dispense_motives
        check_dispense(
            regime=contract.regime,
            contract_effective_date=contract.effective_date,
            motive=chosen,
            has_attestation=bool(attestation),
            end_date=end_date,
            requested_on=today,
            allowed=None if allowed is None else frozenset(DispenseMotive(m) for m in allowed),
        )
        document = make_document(
            document_id=svc.ids.new_id(),
            kind="dispense_attestation",
            owner=aff.affiliation_id,
            filename=attestation_filename,
            content=attestation,
            media_type="application/octet-stream",
            at=svc.clock.now(),
        )
        uow.documents.put(document)
        request = DispenseRequest(
            motive=chosen,
            attestation_document_id=document.document_id,
            requested_on=today,
            end_date=end_date if chosen.expires else None,
        )
        updated = uow.affiliations.update(aff.request_dispense(request, svc.clock.now()))
        for message in dispense_requested_messages(updated, contract, request):
            uow.outbox.add(message)
        uow.commit()
    return _view(updated, contract, today)


def renounce_dispense(svc: Services, affiliation_id: str) -> JourneyView:
    """A PSC agent renounces the dispense and joins: the journey resumes."""
    with svc.uow() as uow:
        aff, contract = _load(uow, affiliation_id)
        updated = uow.affiliations.update(aff.renounce_dispense(psc=contract.is_psc, now=svc.clock.now()))
        uow.commit()
    return _view(updated, contract, svc.clock.today())
