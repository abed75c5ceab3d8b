"""Departure use cases: radiation by the employer, portability, Evin and maintien requests, their jobs.

* :func:`radiate_employee` (employer space, "Radier salarié"): the date rights stop, the DSN motive, the
  employment start. Portability is decided from the motive (L911-8): the file moves to the contract's P
  group with its beneficiaries, an attestation of portability is produced, and the employee is told the
  exact dates by e-mail; otherwise the radiation notice says the cover ends. A death (066) offers
  maintien to the people covered; a pension or a replacement income opens the Evin offer.
* :func:`end_portability`, :func:`record_portability_proof` (member space).
* :func:`request_evin`, :func:`request_maintien`, :func:`end_continuation`.
* :func:`run_departure_jobs` (time-driven, idempotent): end portability at its term, remind missing
  proofs, send Evin offers that are due.
"""

from __future__ import annotations

import datetime as dt

import attrs

from mutuelle_core.affiliation.affiliation import Affiliation
from mutuelle_core.affiliation.documents import make_document
from mutuelle_core.affiliation.notifications import recipient_of
from mutuelle_core.affiliation.transitions import AffiliationStatus
from mutuelle_core.contracts.access import EmployerScope, denied
from mutuelle_core.contracts.contract import CollectiveContract, GroupCategory
from mutuelle_core.cotisations.mandate_need import member_pricing, monthly_debit
from mutuelle_core.cotisations.mandate_use_cases import sign_mandate
from mutuelle_core.cotisations.records import BillableAffiliation
from mutuelle_core.departures.departure import Departure, EvinIncome, PortabilityEndReason
from mutuelle_core.departures.evin import evin_request_deadline
from mutuelle_core.departures.maintien import maintien_request_deadline
from mutuelle_core.departures.motives import DepartureMotive
from mutuelle_core.departures.portability import portability_months
from mutuelle_core.errors import NOT_FOUND, error_code
from mutuelle_core.ports import OutgoingMessage, UnitOfWork
from mutuelle_core.services import Services
from mutuelle_core.values.bank import BankAccount
from mutuelle_core.values.dates import Month, add_months
from mutuelle_core.values.money import Money

__all__ = [
    "MAINTIEN_PAYER_REQUIRED",
    "DepartureJobReport",
    "MaintienPayer",
    "end_continuation",
    "end_portability",
    "radiate_employee",
    "record_portability_proof",
    "request_evin",
    "request_maintien",
    "run_departure_jobs",
]

NO_GROUP = error_code(
    "departure.no_group", "Le contrat {contract} n'a pas de groupe d'assurés de catégorie {category}."
)
MAINTIEN_PAYER_REQUIRED = error_code(
    "maintien.payer_required",
    "Le maintien de la couverture est prélevé ({amount} € par mois au plus) et le compte de l'assuré décédé "
    "ne peut plus l'être : indiquez la personne qui le paie, l'IBAN et le titulaire de son compte, pour "
    "signer le mandat de prélèvement SEPA avec cette demande.",
)
LAST_DAY_BEFORE_START = error_code(
    "departure.last_day_before_cover",
    "La date de fin des droits précède le début de la couverture ({start}).",
)


def _group(contract: CollectiveContract, category: GroupCategory, like: str) -> str:
    """The contract's group of ``category`` (the one sharing the active group's population first)."""
    groups = contract.groups_of(category)
    if not groups:
        raise NO_GROUP("group_code", contract=contract.number, category=category.value)
    population = contract.group(like).population
    same = [g for g in groups if g.population == population]
    return (same or list(groups))[0].code


def radiate_employee(
    svc: Services,
    actor_id: str,
    affiliation_id: str,
    *,
    last_day: dt.date,
    motive: str,
    employment_start: dt.date,
    evin_income: EvinIncome | None = None,
) -> Affiliation:
    """Radiate an employee (employer space): portability where the motive opens it, notice by e-mail."""
    departure_motive = DepartureMotive.parse(motive)
    now = svc.clock.now()
    with svc.uow() as uow:
        scope = EmployerScope.load(uow, actor_id)
        aff = uow.affiliations.find(affiliation_id)
        if aff is None:
            raise denied(f"dossier {affiliation_id}")
        contract, _ = scope.group(uow, aff.contract_number, aff.group_code)
        if aff.effective_date is not None and last_day < aff.effective_date - dt.timedelta(days=1):
            raise LAST_DAY_BEFORE_START("last_day", start=aff.effective_date)
        departure = Departure.of(
            last_day=last_day,
            motive=departure_motive,
            employment_start=employment_start,
            evin_income=evin_income,
        )
        p_group = (
            _group(contract, GroupCategory.PORTABILITY, aff.group_code) if departure.portability else None
        )
        radiated = aff.radiate(departure, now, actor_id, portability_group=p_group)
        if not departure.is_death and departure.portability is None and departure.evin_income is not None:
            radiated = radiated.mark_evin_offered(svc.clock.today())
        stored = uow.affiliations.update(radiated)
        employer = uow.employers.get(contract.employer_id)
        _notify_radiation(svc, uow, stored, contract, employer.name)
        uow.commit()
    return stored


def _notify_radiation(
    svc: Services, uow: UnitOfWork, aff: Affiliation, contract: CollectiveContract, employer: str
) -> None:
    departure = aff.departure
    assert departure is not None
    to = recipient_of(aff)
    portability = departure.portability
    if portability is not None:
        assert portability.end is not None
        uow.documents.put(
            make_document(
                document_id=svc.ids.new_id(),
                kind="portability_attestation",
                owner=aff.affiliation_id,
                filename="attestation-portabilite.txt",
                text=(
                    "ATTESTATION DE PORTABILITÉ DES GARANTIES (article L911-8 du Code de la sécurité sociale)\n"
                    f"Contrat collectif {contract.number} - {employer}\n"
                    f"Bénéficiaire : {aff.name.display} - adhésion {aff.adhesion_number or '-'}\n"
                    f"Fin du contrat de travail : {departure.last_day:%d/%m/%Y} (motif {departure.motive.value})\n"
                    f"Garanties maintenues gratuitement du {portability.start:%d/%m/%Y} au {portability.end:%d/%m/%Y} inclus.\n"
                    "Ayants droit maintenus : "
                    + (
                        ", ".join(b.details.name.display for b in aff.covered if b.radiation is None)
                        or "aucun"
                    )
                    + "\n"
                ),
                at=svc.clock.now(),
            )
        )
    if departure.is_death:
        _offer_maintien(uow, aff, contract)
        return
    if to is not None:
        uow.outbox.add(
            OutgoingMessage(
                template="radiation_notice",
                to=to,
                context={
                    "first_name": aff.name.first_names,
                    "employer": employer,
                    "contract": contract.number,
                    "motive": departure.motive.label,
                    "last_day": departure.last_day.isoformat(),
                    "portability_start": None if portability is None else portability.start.isoformat(),
                    "portability_end": None
                    if portability is None or portability.end is None
                    else portability.end.isoformat(),
                    "portability_months": None
                    if portability is None
                    else portability_months(departure.employment_start, departure.last_day),
                },
            )
        )
    if portability is None and departure.evin_income is not None:
        _offer_evin(uow, aff, contract)


def _offer_evin(uow: UnitOfWork, aff: Affiliation, contract: CollectiveContract) -> None:
    departure = aff.departure
    assert departure is not None
    to = recipient_of(aff)
    if to is None:
        return
    reference = departure.evin_reference_date
    uow.outbox.add(
        OutgoingMessage(
            template="evin_offer",
            to=to,
            context={
                "first_name": aff.name.first_names,
                "contract": contract.number,
                "reference_date": reference.isoformat(),
                "request_deadline": evin_request_deadline(reference).isoformat(),
                "start": (reference + dt.timedelta(days=1)).isoformat(),
            },
        )
    )


def _offer_maintien(uow: UnitOfWork, aff: Affiliation, contract: CollectiveContract) -> None:
    departure = aff.departure
    assert departure is not None
    to = recipient_of(aff)
    names = [
        b.details.name.display
        for b in aff.covered
        if b.radiation is None or b.radiation.last_day == departure.last_day
    ]
    if to is None or not names:
        return
    uow.outbox.add(
        OutgoingMessage(
            template="maintien_offer",
            to=to,
            context={
                "deceased": aff.name.display,
                "contract": contract.number,
                "death_date": departure.last_day.isoformat(),
                "request_deadline": maintien_request_deadline(departure.last_day).isoformat(),
                "beneficiaries": ", ".join(names),
            },
        )
    )


def _load(uow: UnitOfWork, affiliation_id: str) -> tuple[Affiliation, CollectiveContract]:
    aff = uow.affiliations.find(affiliation_id)
    if aff is None:
        raise NOT_FOUND(None, what=f"dossier {affiliation_id}")
    return aff, uow.contracts.get(aff.contract_number)


def record_portability_proof(
    svc: Services, affiliation_id: str, proof: bytes, filename: str = "justificatif.pdf"
) -> Affiliation:
    """The former employee sends a proof of unemployment benefits (stored as a document)."""
    with svc.uow() as uow:
        aff, _ = _load(uow, affiliation_id)
        uow.documents.put(
            make_document(
                document_id=svc.ids.new_id(),
                kind="portability_proof",
                owner=aff.affiliation_id,
                filename=filename,
                content=proof,
                media_type="application/octet-stream",
                at=svc.clock.now(),
            )
        )
        stored = uow.affiliations.update(aff.record_portability_proof(svc.clock.today(), svc.clock.now()))
        uow.commit()
    return stored


def end_portability(
    svc: Services, affiliation_id: str, *, on: dt.date, reason: PortabilityEndReason
) -> Affiliation:
    """Portability ends after ``on``: new job or end of unemployment benefits (reported by the member)."""
    with svc.uow() as uow:
        aff, contract = _load(uow, affiliation_id)
        ended = aff.end_portability(on, reason, svc.clock.now(), "employee")
        if reason is PortabilityEndReason.END_OF_BENEFITS and ended.departure and ended.departure.evin_income:
            ended = ended.mark_evin_offered(svc.clock.today())
            stored = uow.affiliations.update(ended)
            _offer_evin(uow, stored, contract)
        else:
            stored = uow.affiliations.update(ended)
        uow.commit()
    return stored


def request_evin(svc: Services, affiliation_id: str, *, requested_on: dt.date | None = None) -> Affiliation:
    """Individual continuation (loi Evin), accepted within 6 months of leaving or of the end of portability."""
    day = requested_on or svc.clock.today()
    with svc.uow() as uow:
        aff, contract = _load(uow, affiliation_id)
        e_group = _group(contract, GroupCategory.EVIN, _active_group(contract, aff))
        stored = uow.affiliations.update(aff.join_evin(day, e_group, svc.clock.now()))
        uow.commit()
    return stored


@attrs.frozen(kw_only=True)
class MaintienPayer:
    """Who pays a maintien debited by direct debit (the surviving spouse, a child's legal guardian...).

    Attributes:
        name: the payer's name: the debtor of the SEPA mandate, who signs it with the request.
        account: the account debited (its holder, when given, is the mandate's debtor name).
    """

    name: str
    account: BankAccount


def _maintien_debit(uow: UnitOfWork, contract: CollectiveContract, kept: Affiliation) -> Money | None:
    """The most a month of the maintien debits (over its first 12 months), as the contract prices it;
    ``None`` when it cannot be priced (no tariff nor price grid, or a price missing)."""
    pricing = member_pricing(contract, uow.tariffs.find(contract.number))
    continuation = kept.continuation
    if pricing is None or continuation is None:
        return None
    return monthly_debit(pricing, BillableAffiliation.of(kept), Month.of(continuation.period.start))


def request_maintien(
    svc: Services,
    affiliation_id: str,
    *,
    requested_on: dt.date | None = None,
    payer: MaintienPayer | None = None,
) -> Affiliation:
    """Continued cover of the deceased employee's beneficiaries, asked within 6 months of the death.

    The deceased's SEPA mandate is not used for it (a deceased debtor's account is not debited: the
    bank would reject with MD07): with ``payer``, a new mandate in the payer's name is signed with the
    request, and replaces it; without, the deceased's mandate is revoked, and the request is refused
    when the maintien is debited (``maintien.payer_required``, field ``payer``, the monthly amount in
    the message, nothing changed).

    Raises:
        DomainError: the eligibility errors of :meth:`~mutuelle_core.affiliation.affiliation.Affiliation.join_maintien`;
            ``maintien.payer_required``.
    """
    day = requested_on or svc.clock.today()
    with svc.uow() as uow:
        aff, contract = _load(uow, affiliation_id)
        m_group = _group(contract, GroupCategory.MAINTIEN, _active_group(contract, aff))
        kept = aff.join_maintien(day, m_group, svc.clock.now())
        if payer is not None:
            sign_mandate(  # revokes the deceased's mandate
                svc,
                uow,
                affiliation_id=affiliation_id,
                contract_number=contract.number,
                account=payer.account,
                debtor=payer.name,
                signer=payer.name,
            )
        else:
            debit = _maintien_debit(uow, contract, kept)
            if debit is not None and debit.is_positive:
                raise MAINTIEN_PAYER_REQUIRED("payer", amount=str(debit))
            deceased = uow.mandates.active_for([affiliation_id]).get(affiliation_id)
            if deceased is not None:
                uow.mandates.update(
                    attrs.evolve(deceased, mandate=deceased.mandate.revoke(svc.clock.today()))
                )
        stored = uow.affiliations.update(kept)
        uow.commit()
    return stored


def end_continuation(svc: Services, affiliation_id: str, *, last_day: dt.date) -> Affiliation:
    """End an Evin or maintien continuation after ``last_day``."""
    with svc.uow() as uow:
        aff, _ = _load(uow, affiliation_id)
        stored = uow.affiliations.update(aff.end_continuation(last_day, svc.clock.now(), "employee"))
        uow.commit()
    return stored


def _active_group(contract: CollectiveContract, aff: Affiliation) -> str:
    """The active (A) group the file came from, to keep the same population in P, E or M groups."""
    group = contract.group(aff.group_code)
    if group.category is GroupCategory.ACTIVE:
        return group.code
    same = [g for g in contract.groups_of(GroupCategory.ACTIVE) if g.population == group.population]
    return same[0].code if same else group.code


@attrs.frozen
class DepartureJobReport:
    """What the departure jobs did."""

    portabilities_ended: int = 0
    proof_reminders: int = 0
    evin_offers: int = 0
    children_over_age: int = 0


def run_departure_jobs(svc: Services, today: dt.date) -> DepartureJobReport:
    """End portability at its term, remind missing proofs, send due Evin offers, end children at age limits.

    Idempotent: an ended portability is no longer in portability, a reminder is not repeated before the
    next interval, an offer is sent once, a radiated child is not radiated again.
    """
    from mutuelle_core.families.beneficiaries import (
        BeneficiaryRadiationMotive,
        age_limit_for,
        child_cover_end,
    )

    ended = reminders = offers = children = 0
    now = svc.clock.now()
    with svc.uow() as uow:
        contracts: dict[str, CollectiveContract] = {}
        files = uow.affiliations.list_in_status(
            {
                AffiliationStatus.PORTABILITY,
                AffiliationStatus.AFFILIATED,
                AffiliationStatus.EVIN,
                AffiliationStatus.MAINTIEN,
            }
        )
        for aff in files:
            contract = contracts.get(aff.contract_number) or uow.contracts.get(aff.contract_number)
            contracts[contract.number] = contract
            current = aff
            for b in aff.covered:
                limit = age_limit_for(b, contract.settings)
                if limit is None or b.radiation is not None:
                    continue
                end = child_cover_end(b.details.birth_date, limit=limit)
                if end < today:
                    current = current.radiate_beneficiary(
                        b.beneficiary_id,
                        BeneficiaryRadiationMotive.AGE_LIMIT_OR_END_OF_STUDIES,
                        end,
                        now,
                        "system",
                    )
                    children += 1
            departure = current.departure
            if current.status is AffiliationStatus.PORTABILITY and departure and departure.portability:
                portability = departure.portability
                assert portability.end is not None
                if portability.end < today:
                    current = current.end_portability(
                        portability.end, PortabilityEndReason.TERM, now, "system"
                    )
                    ended += 1
                    if (
                        current.departure
                        and current.departure.evin_income
                        and not current.departure.evin_offered_on
                    ):
                        current = current.mark_evin_offered(today)
                        _offer_evin(uow, current, contract)
                        offers += 1
                else:
                    interval = contract.settings.portability_proof_interval_months
                    last = max(departure.proofs, default=portability.start)
                    if (
                        interval is not None
                        and add_months(last, interval) <= today
                        and not _reminded_since(current, last)
                    ):
                        to = recipient_of(current)
                        if to is not None:
                            uow.outbox.add(
                                OutgoingMessage(
                                    template="portability_proof_reminder",
                                    to=to,
                                    context={
                                        "first_name": current.name.first_names,
                                        "portability_end": portability.end.isoformat(),
                                        "last_proof": last.isoformat(),
                                    },
                                )
                            )
                        current = current.record_portability_proof_reminder(today)
                        reminders += 1
            if current is not aff:
                uow.affiliations.update(current)
        uow.commit()
    return DepartureJobReport(ended, reminders, offers, children)


def _reminded_since(aff: Affiliation, last_proof: dt.date) -> bool:
    departure = aff.departure
    return (
        departure is not None
        and departure.proof_reminded_on is not None
        and departure.proof_reminded_on >= last_proof
    )
