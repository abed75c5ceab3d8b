"""The affiliation aggregate: one employee's way into a collective contract, through the state machine.

Every change goes through :meth:`Affiliation._apply`, which looks the (state, action) pair up in
:data:`~mutuelle_core.affiliation.transitions.TRANSITIONS`, refuses anything absent with
``state.transition_not_allowed`` (naming the state and the action), appends a dated entry to the
history and raises an :class:`AffiliationChanged` event.

Invariants, checked whenever an affiliation is built:

* an affiliation through the journey or the employer's complete form is affiliated only with a signed
  BIA and SEPA mandate, a NIR consistent with the person's civilité and birth date, and an IBAN;
* a forced or automatic enrolment covers the base only, with no option and no dependant;
* a dispensed file has a dispense request with its attestation.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import hmac
import unicodedata
from typing import Any

import attrs

from mutuelle_core.affiliation.dispense import DispenseRequest
from mutuelle_core.affiliation.journey import Journey, check_birth_ranks
from mutuelle_core.affiliation.transitions import (
    RESUME,
    TRANSITIONS,
    Action,
    AffiliationStatus,
)
from mutuelle_core.contracts.contract import ProductLevel
from mutuelle_core.contracts.correspondent import hash_token
from mutuelle_core.departures.departure import Continuation, ContinuationKind, Departure, PortabilityEndReason
from mutuelle_core.departures.evin import check_evin_request
from mutuelle_core.departures.maintien import maintien_period
from mutuelle_core.errors import TRANSITION_NOT_ALLOWED, error_code
from mutuelle_core.events import DomainEvent
from mutuelle_core.families.beneficiaries import (
    START_OUTSIDE_COVER,
    UNKNOWN_BENEFICIARY,
    BeneficiaryRadiationMotive,
    CoveredBeneficiary,
)
from mutuelle_core.i18n import message
from mutuelle_core.signature import SignatureEvidence
from mutuelle_core.values.dates import DateRange, add_months
from mutuelle_core.values.identity import Civility, Email, PersonName, strip_accents

__all__ = [
    "Affiliation",
    "AffiliationChanged",
    "AffiliationLink",
    "EnrolmentKind",
    "HistoryEntry",
    "person_key",
]

LINK_INVALID = error_code(
    "affiliation.link_invalid", "Ce lien d'affiliation n'est pas valide ou a déjà été utilisé."
)
LINK_EXPIRED = error_code(
    "affiliation.link_expired",
    "Ce lien d'affiliation a expiré : demandez à votre employeur de vous relancer.",
)
JOURNEY_INCOMPLETE = error_code(
    "affiliation.journey_incomplete", "Le parcours n'est pas terminé : il reste l'étape « {step} »."
)
REASONS_REQUIRED = error_code("affiliation.reasons_required", "Indiquez au moins un motif.")
NOT_DUE = error_code("affiliation.not_due", "L'action « {action} » n'est pas encore due pour ce dossier.")
PSC_ONLY = error_code(
    "dispense.renounce_psc_only", "Seul un agent d'un contrat PSC peut renoncer à sa dispense à tout moment."
)
EVIN_NOT_ELIGIBLE = error_code(
    "evin.not_eligible",
    "Le maintien Evin est ouvert aux anciens salariés titulaires d'une pension, d'une rente d'incapacité ou "
    "d'invalidité, ou d'un revenu de remplacement.",
)
MAINTIEN_NOT_ELIGIBLE = error_code(
    "maintien.not_eligible", "Le maintien après décès ne s'applique qu'au décès du salarié (motif 066)."
)
MAINTIEN_NOBODY = error_code(
    "maintien.nobody_covered",
    "Aucune personne n'était couverte par l'intermédiaire du salarié au jour du décès.",
)
INVARIANT = error_code("affiliation.invariant", "Règle de l'affiliation non respectée : {rule}.")


class EnrolmentKind(enum.Enum):
    """How the employee came to be affiliated."""

    JOURNEY = "journey"
    EMPLOYER_COMPLETE = "employer_complete"
    FORCED_BY_EMPLOYER = "forced_by_employer"
    AUTOMATIC = "automatic"

    @property
    def base_only(self) -> bool:
        """True for forced and automatic enrolments (base cover, no option, no dependant)."""
        return self in {EnrolmentKind.FORCED_BY_EMPLOYER, EnrolmentKind.AUTOMATIC}

    @property
    def label(self) -> str:
        """French label."""
        return _ENROLMENT_LABELS[self]


_ENROLMENT_LABELS = {
    EnrolmentKind.JOURNEY: message("Parcours du salarié"),
    EnrolmentKind.EMPLOYER_COMPLETE: message("Affiliation complète par l'employeur"),
    EnrolmentKind.FORCED_BY_EMPLOYER: message("Affiliation forcée à la base par l'employeur"),
    EnrolmentKind.AUTOMATIC: message("Affiliation automatique à la base"),
}


def person_key(name: PersonName, email: Email | None) -> str:
    """The duplicate-detection key: birth name, first names (no accents, upper case) and e-mail.

    >>> from mutuelle_core.values.identity import PersonName, Email
    >>> person_key(PersonName("Lefèvre", "anaïs"), Email("A.Lefevre@Example.fr"))
    'LEFEVRE|ANAIS|a.lefevre@example.fr'
    """
    parts = [strip_accents(name.birth_name).upper(), strip_accents(name.first_names).upper()]
    parts.append("" if email is None else str(email).lower())
    return unicodedata.normalize("NFC", "|".join(parts))


@attrs.frozen
class AffiliationLink:
    """The pending link sent to the employee: only the SHA-256 of its token is kept."""

    token_hash: str
    expires_at: dt.datetime


@attrs.frozen(kw_only=True)
class HistoryEntry:
    """A dated line of the file's history (the request history of the spaces)."""

    at: dt.datetime
    action: Action
    from_status: AffiliationStatus | None
    to_status: AffiliationStatus
    actor: str
    detail: str | None = None


@attrs.frozen(kw_only=True)
class AffiliationChanged(DomainEvent):
    """An affiliation changed state (or data, for ``save_step``)."""

    affiliation_id: str
    contract_number: str
    action: Action
    from_status: AffiliationStatus | None
    to_status: AffiliationStatus


@attrs.frozen(kw_only=True)
class Affiliation:
    """One employee's affiliation file on a contract and group (aggregate)."""

    affiliation_id: str
    contract_number: str
    group_code: str
    status: AffiliationStatus
    civility: Civility
    name: PersonName
    email: Email | None
    person_key: str
    invited_at: dt.datetime
    last_activity_at: dt.datetime
    employment_start: dt.date | None = None
    dispense_email: Email | None = None
    """Where the employer wants dispense requests for this employee (else the contract's setting)."""
    link: AffiliationLink | None = attrs.field(default=None, repr=False)
    reminders: int = 0
    journey: Journey = attrs.field(factory=Journey, repr=False)
    enrolment: EnrolmentKind | None = None
    effective_date: dt.date | None = None
    product_level: ProductLevel | None = None
    adhesion_number: str | None = None
    control_reasons: tuple[str, ...] = ()
    dispense: DispenseRequest | None = None
    signature: SignatureEvidence | None = attrs.field(default=None, repr=False)
    covered: tuple[CoveredBeneficiary, ...] = attrs.field(default=(), repr=False)
    """The beneficiaries covered through the employee, with their periods (from the acceptance on)."""
    departure: Departure | None = None
    continuation: Continuation | None = None
    history: tuple[HistoryEntry, ...] = attrs.field(default=(), repr=False)
    version: int = 0
    pending_events: tuple[DomainEvent, ...] = attrs.field(default=(), eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.status is AffiliationStatus.INVITED:
            return  # fast path: every rule of broken_invariants is about another status
        for rule in self.broken_invariants():
            raise INVARIANT(None, rule=rule)

    def broken_invariants(self) -> list[str]:
        """The invariants this state breaks (empty for every reachable state)."""
        broken = []
        if self.status is AffiliationStatus.AFFILIATED:
            if self.enrolment is None or self.product_level is None or self.effective_date is None:
                broken.append("affiliation sans mode, produit ou date d'effet")
            elif self.enrolment.base_only:
                if self.product_level is not ProductLevel.BASE:
                    broken.append("affiliation forcée avec option")
            else:
                j = self.journey
                if self.signature is None or not (
                    self.signature.covers("bia") and self.signature.covers("sepa_mandate")
                ):
                    broken.append("affiliation sans BIA ni mandat signés")
                if j.personal is None or not j.personal.nir.matches(
                    sex=j.personal.civility.sex, birth_date=j.personal.birth_date
                ):
                    broken.append("affiliation sans NIR cohérent")
                if j.bank is None:
                    broken.append("affiliation sans IBAN")
        if (
            self.status in {AffiliationStatus.DISPENSED, AffiliationStatus.DISPENSE_REQUESTED}
            and self.dispense is None
        ):
            broken.append("dispense sans demande")
        if self.status is AffiliationStatus.DISPENSED and self.adhesion_number is not None:
            broken.append("à la fois dispensé et affilié")
        return broken

    # --- creation ------------------------------------------------------------------------------

    @classmethod
    def invite(
        cls,
        *,
        affiliation_id: str,
        contract_number: str,
        group_code: str,
        civility: Civility,
        name: PersonName,
        email: Email | None,
        token: str,
        validity_months: int,
        now: dt.datetime,
        actor: str,
        employment_start: dt.date | None = None,
        dispense_email: Email | None = None,
        key: str | None = None,
    ) -> Affiliation:
        """A new invitation (affiliation simple) with its link (``key``: the precomputed :func:`person_key`)."""
        return cls(
            affiliation_id=affiliation_id,
            contract_number=contract_number,
            group_code=group_code,
            status=AffiliationStatus.INVITED,
            civility=civility,
            name=name,
            email=email,
            person_key=key or person_key(name, email),
            invited_at=now,
            last_activity_at=now,
            employment_start=employment_start,
            dispense_email=dispense_email,
            link=AffiliationLink(hash_token(token), add_months_dt(now, validity_months)),
            journey=_NO_JOURNEY,
            history=_invitation_history(now, actor),
            pending_events=(
                AffiliationChanged(
                    occurred_at=now,
                    affiliation_id=affiliation_id,
                    contract_number=contract_number,
                    action=Action.INVITE,
                    from_status=None,
                    to_status=AffiliationStatus.INVITED,
                ),
            ),
        )

    # --- the machine -----------------------------------------------------------------------------

    def _require(self, action: Action) -> None:
        """Refuse ``action`` when the table does not allow it in the current state (checked first)."""
        if (self.status, action) not in TRANSITIONS:
            raise TRANSITION_NOT_ALLOWED("status", state=self.status.label, action=action.label)

    def allows(self, action: Action) -> bool:
        """True when ``action`` is possible in the current state."""
        return action is Action.CONSULT or (self.status, action) in TRANSITIONS

    def _apply(
        self, action: Action, now: dt.datetime, actor: str, detail: str | None = None, **changes: Any
    ) -> Affiliation:
        transition = TRANSITIONS.get((self.status, action))
        if transition is None:
            raise TRANSITION_NOT_ALLOWED("status", state=self.status.label, action=action.label)
        journey = changes.get("journey", self.journey)
        assert isinstance(journey, Journey)
        if action in _KEEPS_STATE:
            target = self.status
        elif transition.target is RESUME:
            target = AffiliationStatus.IN_PROGRESS if journey.started else AffiliationStatus.INVITED
        else:
            assert isinstance(transition.target, AffiliationStatus)
            target = transition.target
        entry = HistoryEntry(
            at=now, action=action, from_status=self.status, to_status=target, actor=actor, detail=detail
        )
        event = AffiliationChanged(
            occurred_at=now,
            affiliation_id=self.affiliation_id,
            contract_number=self.contract_number,
            action=action,
            from_status=self.status,
            to_status=target,
        )
        return attrs.evolve(
            self,
            status=target,
            history=(*self.history, entry),
            pending_events=(*self.pending_events, event),
            **changes,
        )

    # --- employee ------------------------------------------------------------------------------

    def open_link(self, token: str, now: dt.datetime) -> Affiliation:
        """The employee opens the e-mailed link: single use, before it expires."""
        link = self.link
        if link is None or not hmac.compare_digest(link.token_hash, hash_token(token)):
            raise LINK_INVALID("token")
        if now >= link.expires_at:
            raise LINK_EXPIRED("token")
        return self._apply(Action.OPEN_LINK, now, "employee", link=None, last_activity_at=now)

    def save_step(self, journey: Journey, now: dt.datetime, actor: str = "employee") -> Affiliation:
        """Save the journey with one more (or a corrected) step."""
        return self._apply(
            Action.SAVE_STEP,
            now,
            actor,
            detail=journey.next_step.value,
            journey=journey,
            last_activity_at=now,
        )

    def sign(self, evidence: SignatureEvidence, effective_date: dt.date, now: dt.datetime) -> Affiliation:
        """The employee signs BIA, mandate and notice: the file goes to control."""
        if not self.journey.complete:
            raise JOURNEY_INCOMPLETE("journey", step=self.journey.next_step.label)
        return self._apply(
            Action.SIGN,
            now,
            "employee",
            signature=evidence,
            effective_date=effective_date,
            enrolment=EnrolmentKind.JOURNEY,
            last_activity_at=now,
            control_reasons=(),
        )

    def request_dispense(self, request: DispenseRequest, now: dt.datetime) -> Affiliation:
        """Ask for a dispense (checked by :func:`~mutuelle_core.affiliation.dispense.check_dispense`)."""
        return self._apply(
            Action.REQUEST_DISPENSE,
            now,
            "employee",
            detail=request.motive.value,
            dispense=request,
            last_activity_at=now,
        )

    def renounce_dispense(self, *, psc: bool, now: dt.datetime) -> Affiliation:
        """A PSC agent renounces the dispense and joins (at any time)."""
        if not psc:
            raise PSC_ONLY("status")
        return self._apply(Action.RENOUNCE_DISPENSE, now, "employee", dispense=None, last_activity_at=now)

    # --- employer ------------------------------------------------------------------------------

    def submit_complete(
        self,
        journey: Journey,
        evidence: SignatureEvidence,
        effective_date: dt.date,
        now: dt.datetime,
        actor: str,
    ) -> Affiliation:
        """The employer's complete affiliation: all data at once, signed, to control."""
        if not journey.complete:
            raise JOURNEY_INCOMPLETE("journey", step=journey.next_step.label)
        return self._apply(
            Action.SUBMIT_COMPLETE,
            now,
            actor,
            journey=journey,
            signature=evidence,
            effective_date=effective_date,
            enrolment=EnrolmentKind.EMPLOYER_COMPLETE,
            link=None,
            last_activity_at=now,
            control_reasons=(),
        )

    def remind(self, token: str, validity_months: int, now: dt.datetime, actor: str) -> Affiliation:
        """Send a new link (the previous one stops working)."""
        link = AffiliationLink(hash_token(token), add_months_dt(now, validity_months))
        return self._apply(
            Action.REMIND, now, actor, link=link, reminders=self.reminders + 1, last_activity_at=now
        )

    def force_base(
        self,
        *,
        adhesion_number: str,
        effective_date: dt.date,
        now: dt.datetime,
        actor: str,
        automatic: bool = False,
    ) -> Affiliation:
        """Enrol in the base cover only (employer's action, or the automatic one after the contract's delay)."""
        action = Action.AUTO_ENROL if automatic else Action.FORCE_BASE
        return self._apply(
            action,
            now,
            actor,
            enrolment=EnrolmentKind.AUTOMATIC if automatic else EnrolmentKind.FORCED_BY_EMPLOYER,
            product_level=ProductLevel.BASE,
            effective_date=effective_date,
            adhesion_number=adhesion_number,
            link=None,
        )

    def close(self, now: dt.datetime, actor: str) -> Affiliation:
        """Close the file (clôturer)."""
        return self._apply(Action.CLOSE, now, actor, link=None)

    def remove(self, now: dt.datetime, actor: str) -> Affiliation:
        """Remove from the follow-up (retirer du suivi)."""
        return self._apply(Action.REMOVE, now, actor, link=None)

    # --- management ----------------------------------------------------------------------------

    def accept(self, adhesion_number: str, now: dt.datetime, actor: str = "management") -> Affiliation:
        """Control accepts the file: affiliated with its formula from the effective date.

        The journey's beneficiaries become covered from the same date (ids ``<file>-b1``, ``-b2``...).
        """
        self._require(Action.ACCEPT)
        level = self.journey.formula.level if self.journey.formula else ProductLevel.BASE
        details = self.journey.beneficiaries or ()
        assert self.effective_date is not None
        household = self.journey.household
        children = list(household.children) if household else []
        covered = []
        for i, d in enumerate(details):
            intent = next((c for c in children if c.birth_date == d.birth_date), None)
            if intent is not None:
                children.remove(intent)
            covered.append(
                CoveredBeneficiary(
                    beneficiary_id=f"{self.affiliation_id}-b{i + 1}",
                    details=d,
                    period=DateRange(self.effective_date, None),
                    student_or_apprentice=intent.student_or_apprentice if intent else False,
                    disabled=intent.disabled if intent else False,
                )
            )
        return self._apply(
            Action.ACCEPT,
            now,
            actor,
            adhesion_number=adhesion_number,
            product_level=level,
            control_reasons=(),
            covered=tuple(covered),
        )

    def reject(self, reasons: tuple[str, ...], now: dt.datetime, actor: str = "management") -> Affiliation:
        """Control finds errors: the employee (or employer) corrects and signs again."""
        if not reasons:
            raise REASONS_REQUIRED("reasons")
        return self._apply(
            Action.REJECT, now, actor, detail="; ".join(reasons), control_reasons=reasons, signature=None
        )

    def refuse(self, reasons: tuple[str, ...], now: dt.datetime, actor: str = "management") -> Affiliation:
        """Control refuses the adhesion (final; the person may be invited again)."""
        if not reasons:
            raise REASONS_REQUIRED("reasons")
        return self._apply(
            Action.REFUSE, now, actor, detail="; ".join(reasons), control_reasons=reasons, link=None
        )

    def accept_dispense(self, now: dt.datetime, actor: str = "management") -> Affiliation:
        """Management accepts the dispense."""
        self._require(Action.ACCEPT_DISPENSE)
        assert self.dispense is not None
        return self._apply(
            Action.ACCEPT_DISPENSE,
            now,
            actor,
            dispense=attrs.evolve(self.dispense, decided_on=now.date()),
            link=None,
        )

    def refuse_dispense(self, reason: str, now: dt.datetime, actor: str = "management") -> Affiliation:
        """Management refuses the dispense: the employee must affiliate."""
        if not reason.strip():
            raise REASONS_REQUIRED("reason")
        return self._apply(
            Action.REFUSE_DISPENSE, now, actor, detail=reason, dispense=None, last_activity_at=now
        )

    # --- time ----------------------------------------------------------------------------------

    def flag_reminder(self, now: dt.datetime, after_days: int) -> Affiliation:
        """Mark *à relancer* when nothing happened for ``after_days`` days."""
        if now < self.last_activity_at + dt.timedelta(days=after_days):
            raise NOT_DUE("status", action=Action.FLAG_REMINDER.label)
        return self._apply(Action.FLAG_REMINDER, now, "system")

    def expire_link(self, now: dt.datetime) -> Affiliation:
        """Mark the link expired once its validity is over."""
        if self.link is None or now < self.link.expires_at:
            raise NOT_DUE("status", action=Action.EXPIRE_LINK.label)
        return self._apply(Action.EXPIRE_LINK, now, "system", link=None)

    def end_dispense(self, token: str, validity_months: int, now: dt.datetime) -> Affiliation:
        """The dispense reached its end date: the employee is invited again (new link)."""
        if self.dispense is None or self.dispense.end_date is None or now.date() <= self.dispense.end_date:
            raise NOT_DUE("status", action=Action.END_DISPENSE.label)
        link = AffiliationLink(hash_token(token), add_months_dt(now, validity_months))
        return self._apply(
            Action.END_DISPENSE,
            now,
            "system",
            dispense=None,
            link=link,
            last_activity_at=now,
            invited_at=now,  # a new invitation: the automatic-enrolment delay starts again
            journey=Journey(),
        )

    # --- families ------------------------------------------------------------------------------

    def beneficiary(self, beneficiary_id: str) -> CoveredBeneficiary:
        """A covered beneficiary (``beneficiary.unknown`` otherwise)."""
        for b in self.covered:
            if b.beneficiary_id == beneficiary_id:
                return b
        raise UNKNOWN_BENEFICIARY("beneficiary_id", beneficiary_id=beneficiary_id)

    def add_beneficiary(
        self, beneficiary: CoveredBeneficiary, now: dt.datetime, actor: str, *, mandate_rum: str | None = None
    ) -> Affiliation:
        """Cover one more person (eligibility is checked by the use case against the contract).

        ``mandate_rum`` names the SEPA mandate signed with the request, recorded in the history entry.
        """
        if self.effective_date is not None and beneficiary.period.start < self.effective_date:
            raise START_OUTSIDE_COVER("start", start=self.effective_date)
        active = [b.details for b in self.covered if b.radiation is None]
        check_birth_ranks([*active, beneficiary.details])
        detail = beneficiary.beneficiary_id
        if mandate_rum is not None:
            detail = f"{detail}: mandat SEPA {mandate_rum}"
        return self._apply(
            Action.ADD_BENEFICIARY,
            now,
            actor,
            detail=detail,
            covered=(*self.covered, beneficiary),
        )

    def radiate_beneficiary(
        self,
        beneficiary_id: str,
        motive: BeneficiaryRadiationMotive,
        last_day: dt.date,
        now: dt.datetime,
        actor: str,
    ) -> Affiliation:
        """End one beneficiary's cover after ``last_day``, with a motive."""
        ended = self.beneficiary(beneficiary_id).ended(last_day, motive)
        covered = tuple(ended if b.beneficiary_id == beneficiary_id else b for b in self.covered)
        return self._apply(
            Action.RADIATE_BENEFICIARY,
            now,
            actor,
            detail=f"{beneficiary_id}: {motive.value}",
            covered=covered,
        )

    def covered_on(self, day: dt.date) -> tuple[CoveredBeneficiary, ...]:
        """The beneficiaries covered on ``day``."""
        return tuple(b for b in self.covered if b.covered_on(day))

    # --- departures ------------------------------------------------------------------------------

    def radiate(
        self, departure: Departure, now: dt.datetime, actor: str, *, portability_group: str | None = None
    ) -> Affiliation:
        """Radiate the employee: rights stop after ``departure.last_day``, or continue in portability.

        With portability the file moves to the contract's P group and the beneficiaries covered on the
        last day keep their cover, without a gap, until the end of portability; otherwise their cover
        ends the same day.
        """
        portability = departure.portability
        if portability is not None:
            assert portability_group is not None
            covered = tuple(
                _through_portability(b, departure.last_day, portability.end) for b in self.covered
            )
            return self._apply(
                Action.RADIATE_WITH_PORTABILITY,
                now,
                actor,
                detail=departure.motive.value,
                departure=departure,
                group_code=portability_group,
                covered=covered,
            )
        covered = _end_all(self.covered, departure.last_day, BeneficiaryRadiationMotive.INSURED_DEPARTURE)
        return self._apply(
            Action.RADIATE, now, actor, detail=departure.motive.value, departure=departure, covered=covered
        )

    def record_portability_proof(
        self, day: dt.date, now: dt.datetime, actor: str = "employee"
    ) -> Affiliation:
        """Record a proof of unemployment benefits received on ``day``."""
        self._require(Action.RECORD_PORTABILITY_PROOF)
        assert self.departure is not None
        departure = attrs.evolve(self.departure, proofs=(*self.departure.proofs, day))
        return self._apply(Action.RECORD_PORTABILITY_PROOF, now, actor, departure=departure)

    def end_portability(
        self, on: dt.date, reason: PortabilityEndReason, now: dt.datetime, actor: str
    ) -> Affiliation:
        """End portability after ``on`` (new job, end of benefits, or its term)."""
        self._require(Action.END_PORTABILITY)
        departure = self.departure
        assert departure is not None and departure.portability is not None
        portability = departure.portability
        assert portability.end is not None
        last = min(max(on, departure.last_day), portability.end)
        ended = attrs.evolve(departure, portability_ended_on=last, portability_end_reason=reason)
        covered = _end_all(self.covered, last, BeneficiaryRadiationMotive.INSURED_DEPARTURE)
        return self._apply(
            Action.END_PORTABILITY, now, actor, detail=reason.value, departure=ended, covered=covered
        )

    def record_portability_proof_reminder(self, on: dt.date) -> Affiliation:
        """Remember that a missing proof was reminded (no state change)."""
        assert self.departure is not None
        return attrs.evolve(self, departure=attrs.evolve(self.departure, proof_reminded_on=on))

    def mark_evin_offered(self, on: dt.date) -> Affiliation:
        """Remember that the Evin offer was sent (no state change)."""
        assert self.departure is not None
        return attrs.evolve(self, departure=attrs.evolve(self.departure, evin_offered_on=on))

    def join_evin(self, requested_on: dt.date, evin_group: str, now: dt.datetime) -> Affiliation:
        """Individual continuation (loi Evin) asked within 6 months: group E, no waiting period."""
        departure = self.departure
        if departure is None or departure.evin_income is None or departure.is_death:
            raise EVIN_NOT_ELIGIBLE("departure")
        reference = departure.evin_reference_date
        check_evin_request(reference, requested_on)
        start = reference + dt.timedelta(days=1)
        covered = tuple(
            attrs.evolve(b, period=DateRange(b.period.start, None), radiation=None)
            for b in self.covered
            if b.covered_on(reference)
        )
        continuation = Continuation(
            kind=ContinuationKind.EVIN, period=DateRange(start, None), requested_on=requested_on
        )
        return self._apply(
            Action.JOIN_EVIN,
            now,
            "employee",
            group_code=evin_group,
            continuation=continuation,
            covered=covered,
        )

    def join_maintien(self, requested_on: dt.date, maintien_group: str, now: dt.datetime) -> Affiliation:
        """The people covered through a deceased employee keep cover for at least 12 months (group M)."""
        departure = self.departure
        if departure is None or not departure.is_death:
            raise MAINTIEN_NOT_ELIGIBLE("departure")
        period = maintien_period(departure.last_day, requested_on)
        covered = tuple(
            attrs.evolve(b, period=DateRange(b.period.start, period.end), radiation=None)
            for b in self.covered
            if b.covered_on(departure.last_day)
            or (b.radiation is not None and b.radiation.last_day == departure.last_day)
        )
        if not covered:
            raise MAINTIEN_NOBODY("covered")
        continuation = Continuation(kind=ContinuationKind.MAINTIEN, period=period, requested_on=requested_on)
        return self._apply(
            Action.JOIN_MAINTIEN,
            now,
            "employee",
            group_code=maintien_group,
            continuation=continuation,
            covered=covered,
        )

    def end_continuation(self, last_day: dt.date, now: dt.datetime, actor: str) -> Affiliation:
        """End an Evin or maintien continuation after ``last_day``."""
        self._require(Action.END_CONTINUATION)
        assert self.continuation is not None
        period = self.continuation.period
        continuation = attrs.evolve(
            self.continuation, period=DateRange(period.start, max(last_day, period.start))
        )
        covered = _end_all(self.covered, last_day, BeneficiaryRadiationMotive.INSURED_DEPARTURE)
        return self._apply(Action.END_CONTINUATION, now, actor, continuation=continuation, covered=covered)


def _through_portability(
    b: CoveredBeneficiary, last_day: dt.date, portability_end: dt.date | None
) -> CoveredBeneficiary:
    """A beneficiary covered on the last day keeps cover until the end of portability; one added after
    the departure date is cancelled (portability keeps the beneficiaries covered at that date only)."""
    if b.radiation is not None:
        return b
    if b.covered_on(last_day):
        return attrs.evolve(b, period=DateRange(b.period.start, portability_end))
    if b.period.start > last_day:
        return b.ended(last_day, BeneficiaryRadiationMotive.INSURED_DEPARTURE, cancel_if_not_started=True)
    return b


def _end_all(
    covered: tuple[CoveredBeneficiary, ...], last_day: dt.date, motive: BeneficiaryRadiationMotive
) -> tuple[CoveredBeneficiary, ...]:
    return tuple(
        b
        if b.radiation is not None or (b.period.end is not None and b.period.end <= last_day)
        else b.ended(last_day, motive, cancel_if_not_started=True)
        for b in covered
    )


_KEEPS_STATE = frozenset({Action.ADD_BENEFICIARY, Action.RADIATE_BENEFICIARY})


_NO_JOURNEY = Journey()
"""The journey of a new invitation (frozen, so one instance serves every invitation)."""


@functools.lru_cache(maxsize=16)
def _invitation_history(now: dt.datetime, actor: str) -> tuple[HistoryEntry, ...]:
    """The history of a new invitation (shared by the invitations of one file: entries are frozen)."""
    return (
        HistoryEntry(
            at=now, action=Action.INVITE, from_status=None, to_status=AffiliationStatus.INVITED, actor=actor
        ),
    )


@functools.lru_cache(maxsize=64)
def add_months_dt(moment: dt.datetime, months: int) -> dt.datetime:
    """``moment`` plus whole calendar months (same time of day, clamped to the month's end)."""
    day = add_months(moment.date(), months)
    return dt.datetime.combine(day, moment.timetz())
