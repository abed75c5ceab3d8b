"""Adding and radiating beneficiaries, from the member space and from the employer space.

The same rules serve both spaces ("J'inscris / Je radie des bénéficiaires" in the member space, "Ajouter
bénéficiaire" on the employer's employee sheet); the employer's entry points check the correspondent's
scope first. Every change is a dated entry in the file's history. On a provident affiliation with a
beneficiary designation in force, adding a spouse or a child, or radiating for death or divorce, also
queues the « pensez à mettre à jour votre désignation » reminder (:mod:`mutuelle_core.designation.use_cases`).

**A dependant debited from the member's account needs a SEPA mandate.** Seed 002: the dependants of a
PSC agent are paid by the agent, by direct debit. When the new beneficiary adds to what the member is
debited (decided by the pricing engine, :mod:`mutuelle_core.cotisations.mandate_need`: a free third
child adds nothing, nor does anyone on a contract collecting members by cheque or transfer) and the
affiliation has no active mandate, the command must carry the bank account
(:attr:`NewBeneficiary.account`): the SEPA mandate is then generated, signed and stored in the same
transaction as the beneficiary (a new RUM; the history entry names it). Without it the command is
refused with ``beneficiary.mandate_required`` (field ``account``) and changes nothing. An account given
when the affiliation already has an active mandate amends that mandate (same RUM) if the IBAN differs.
"""

from __future__ import annotations

import datetime as dt

import attrs

from mutuelle_core.affiliation.affiliation import Affiliation
from mutuelle_core.affiliation.journey import BeneficiaryForm
from mutuelle_core.contracts.access import EmployerScope, denied
from mutuelle_core.contracts.contract import CollectiveContract
from mutuelle_core.cotisations.account_records import StoredMandate
from mutuelle_core.cotisations.mandate_need import listed_price, member_pricing, new_debit
from mutuelle_core.cotisations.mandate_use_cases import sign_mandate
from mutuelle_core.cotisations.records import BillableAffiliation
from mutuelle_core.cotisations.tariff import PersonCategory
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
from mutuelle_core.values.bank import BankAccount
from mutuelle_core.values.dates import DateRange, Month
from mutuelle_core.values.money import Money

__all__ = ["MANDATE_REQUIRED", "NewBeneficiary", "add_beneficiary", "radiate_beneficiary"]

UNKNOWN_MOTIVE = error_code("beneficiary.unknown_motive", "Motif de radiation inconnu : {motive}.")
MANDATE_REQUIRED = error_code(
    "beneficiary.mandate_required",
    "La cotisation de ce bénéficiaire ({category}, {amount} € par mois) est prélevée sur le compte de "
    "l'adhérent, qui n'a pas de mandat de prélèvement SEPA actif : indiquez l'IBAN et le titulaire du compte "
    "pour signer le mandat avec cette demande.",
)


@attrs.frozen(kw_only=True)
class NewBeneficiary:
    """A beneficiary to add: the details form, the first day of cover, and the eligibility facts.

    Attributes:
        account: the member's bank account and its holder (``BankAccount.parse(iban, holder=...)``),
            to sign the SEPA mandate with the request: giving it is signing the mandate. Required when
            the new beneficiary is debited from the member's account and the affiliation has no
            active mandate; otherwise it amends the active mandate when the IBAN differs.
    """

    form: BeneficiaryForm
    start: dt.date
    student_or_apprentice: bool = False
    disabled: bool = False
    state_civil_servant: bool = False
    medecin_traitant_declared: bool = False
    account: BankAccount | None = None


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


def _debit_without_mandate(
    uow: UnitOfWork,
    contract: CollectiveContract,
    before: Affiliation,
    after: Affiliation,
    beneficiary: CoveredBeneficiary,
) -> Money:
    """What the new beneficiary adds to the member's direct debits a month (zero: nothing), as the
    contract prices it (:mod:`mutuelle_core.cotisations.mandate_need`)."""
    pricing = member_pricing(contract, uow.tariffs.find(contract.number))
    if pricing is None:
        return Money(0)
    first = Month.of(beneficiary.period.start)
    member = BillableAffiliation.of(after)
    added = new_debit(pricing, BillableAffiliation.of(before), member, beneficiary.beneficiary_id, first)
    if added is None:  # the engine cannot price this household: the grid's list price decides
        added = listed_price(pricing, member, PersonCategory(beneficiary.details.kind.value), first)
    return added


def _usable_mandate(uow: UnitOfWork, aff: Affiliation, today: dt.date) -> StoredMandate | None:
    """The affiliation's active mandate if it can still be collected on (not lapsed: a mandate unused
    for 36 months can no longer be used, a new one must be signed)."""
    active = uow.mandates.active_for([aff.affiliation_id]).get(aff.affiliation_id)
    if active is None or active.mandate.is_lapsed(today):
        return None
    return active


def _sign_or_amend(
    svc: Services, uow: UnitOfWork, aff: Affiliation, account: BankAccount, signer: str
) -> str | None:
    """The member's account with the request: a new signed mandate (its RUM returned), or the usable
    mandate amended when the IBAN differs (``None``: no new mandate)."""
    active = _usable_mandate(uow, aff, svc.clock.today())
    if active is None:
        stored = sign_mandate(
            svc,
            uow,
            affiliation_id=aff.affiliation_id,
            contract_number=aff.contract_number,
            account=account,
            debtor=aff.name.display,
            signer=signer,
        )
        return str(stored.mandate.rum)
    if active.mandate.account.iban != account.iban:
        amended = active.mandate.amend_account(account, svc.clock.today())
        if account.holder:
            amended = attrs.evolve(amended, debtor_name=account.holder)
        uow.mandates.update(attrs.evolve(active, mandate=amended))
    return None


def add_beneficiary(
    svc: Services, affiliation_id: str, new: NewBeneficiary, *, actor_id: str | None = None
) -> CoveredBeneficiary:
    """Cover one more person from ``new.start`` (member space, or employer space with ``actor_id``).

    With ``new.account`` the SEPA mandate is signed in the same transaction (by the member, or by the
    correspondent for the employer space, as in a complete affiliation).

    Raises:
        DomainError: the form's and eligibility errors; ``beneficiary.mandate_required`` (field
            ``account``) when the beneficiary is debited from the member's account, the affiliation
            has no mandate that can be collected on (none active, or lapsed after 36 months unused)
            and ``new.account`` is missing: nothing is changed.
    """
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
        actor = actor_id or "employee"
        added = aff.add_beneficiary(beneficiary, svc.clock.now(), actor)
        if new.account is None and _usable_mandate(uow, aff, svc.clock.today()) is None:
            debit = _debit_without_mandate(uow, contract, aff, added, beneficiary)
            if debit.is_positive:
                category = PersonCategory(details.kind.value)
                raise MANDATE_REQUIRED("account", category=category.label, amount=str(debit))
        if new.account is not None:
            rum = _sign_or_amend(svc, uow, aff, new.account, signer=actor_id or aff.affiliation_id)
            if rum is not None:
                added = aff.add_beneficiary(beneficiary, svc.clock.now(), actor, mandate_rum=rum)
        updated = uow.affiliations.update(added)
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
