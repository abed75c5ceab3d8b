"""The beneficiary designation in the member space, the employer space and the back office (seed 004).

Member space (« Paramétrer ou modifier ma désignation de bénéficiaire »), the member being identified
by the affiliation id as everywhere in the member space (it is also the designation's ``member_id``
and the signer):

* :func:`designation_summary`: the clause summary, shown **without** a second authentication: standard
  or particular, since when, how many beneficiaries; never a name;
* :func:`request_strong_authentication` sends a one-time code (:class:`~mutuelle_core.ports.StrongAuthentication`);
  the proof it gives back opens :func:`view_designation` and :func:`designation_history`
  (purpose ``view_designation``) and :func:`sign_designation` (purpose ``sign_designation``), for
  5 minutes;
* :func:`choose_standard_clause` or :func:`enter_particular_designation` prepares a draft (a form of
  raw strings, every problem reported at once; the shares of each rank total 100 %);
* :func:`sign_designation` renders the clause document, stores it, has it signed through the signature
  port and brings the designation into force, superseding the previous one, in one unit of work.

Employer and back office: :func:`designation_status` tells only whether a designation exists and since
when, never its content. The back office records a beneficiary's acceptance (:func:`record_acceptance`,
L132-9), brings a designation signed elsewhere into force (:func:`put_designation_in_force`) and
allocates the capital at death (:func:`allocate_death_capital`).

A change in the family (a beneficiary added, or radiated for death or divorce) queues the reminder
« pensez à mettre à jour votre désignation » for a provident affiliation with a designation in force
(:func:`notify_family_change`, :func:`remind_after_family_change`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal

import attrs

from mutuelle_core.affiliation.affiliation import Affiliation
from mutuelle_core.affiliation.documents import make_document
from mutuelle_core.affiliation.journey import BeneficiaryKind
from mutuelle_core.affiliation.transitions import AffiliationStatus
from mutuelle_core.contracts.access import EmployerScope, denied
from mutuelle_core.contracts.contract import CollectiveContract, ContractKind
from mutuelle_core.designation.allocation import CapitalAllocation, allocate_capital
from mutuelle_core.designation.clauses import (
    DUPLICATE_BENEFICIARY,
    HUNDRED,
    NO_RANK,
    SHARES_NOT_100,
    Clause,
    LapseRule,
    NamedBeneficiary,
    ParticularClause,
    Rank,
    Relationship,
    StandardClause,
    parse_share,
)
from mutuelle_core.designation.designation import (
    REVIEW_REMINDER_TEXT,
    STALE_PREVIOUS,
    Designation,
    DesignationReviewReminder,
    DesignationStatus,
    FamilyChange,
    FamilySituationChanged,
    SignatureEvidence,
    render_clause_text,
    replace_designation,
)
from mutuelle_core.designation.family import FamilyAtDeath
from mutuelle_core.errors import NOT_FOUND, TRANSITION_NOT_ALLOWED, ErrorCollector, error_code
from mutuelle_core.families.beneficiaries import BeneficiaryRadiationMotive, CoveredBeneficiary
from mutuelle_core.i18n import message
from mutuelle_core.identity_check import parse_birth_date
from mutuelle_core.ports import OutgoingMessage, StrongAuthentication, UnitOfWork
from mutuelle_core.services import Services
from mutuelle_core.strong_auth import (
    NO_EMAIL,
    SIGN_DESIGNATION,
    VIEW_DESIGNATION,
    StrongAuthProof,
    require_fresh_proof,
)
from mutuelle_core.values.identity import Email, PersonName, PostalAddress
from mutuelle_core.values.money import Money

__all__ = [
    "CLAUSE_DOCUMENT_KIND",
    "MAX_RANKS",
    "REVIEW_REMINDER_TEMPLATE",
    "SIGNED_TEMPLATE",
    "BeneficiaryEntry",
    "DesignationDetail",
    "DesignationStatusView",
    "DesignationSummary",
    "ParticularDesignationForm",
    "allocate_death_capital",
    "choose_standard_clause",
    "designation_history",
    "designation_status",
    "designation_summary",
    "enter_particular_designation",
    "notify_family_change",
    "put_designation_in_force",
    "record_acceptance",
    "remind_after_beneficiary_added",
    "remind_after_beneficiary_radiated",
    "remind_after_family_change",
    "request_strong_authentication",
    "sign_designation",
    "view_designation",
]

CLAUSE_DOCUMENT_KIND = "designation_clause"
"""Kind of the signed clause document in the document store (its owner is the designation id, so that
no listing of an affiliation's documents shows it)."""
REVIEW_REMINDER_TEMPLATE = "designation_review_reminder"
"""E-mail template of the « pensez à mettre à jour votre désignation » reminder."""
SIGNED_TEMPLATE = "designation_signed"
"""E-mail template confirming a new designation (without its content)."""
MAX_RANKS = 5
"""Most ranks (« à défaut ») a particular designation entered online may have."""

_COVERED = frozenset(
    {
        AffiliationStatus.AFFILIATED,
        AffiliationStatus.PORTABILITY,
        AffiliationStatus.EVIN,
        AffiliationStatus.MAINTIEN,
    }
)

NOT_PROVIDENT = error_code(
    "designation.not_provident",
    "La désignation de bénéficiaires ne concerne que les contrats de prévoyance.",
)
NOT_COVERED = error_code(
    "designation.not_covered",
    "Votre adhésion n'est pas en cours : votre désignation de bénéficiaires ne peut pas être modifiée.",
)
NONE_IN_FORCE = error_code(
    "designation.none_in_force", "Aucune désignation de bénéficiaires n'est en vigueur pour cette adhésion."
)
RANK_INVALID = error_code("designation.rank_invalid", "Le rang doit être un nombre entier de 1 à {max_rank}.")
RANK_MISSING = error_code(
    "designation.rank_missing",
    "Aucun bénéficiaire n'est nommé au rang {rank} : numérotez les rangs à la suite à partir de 1.",
)
UNKNOWN_RELATIONSHIP = error_code(
    "designation.unknown_relationship", "Lien avec l'assuré inconnu : {relationship}."
)
UNKNOWN_LAPSE_RULE = error_code(
    "designation.unknown_lapse_rule",
    "Règle inconnue pour la part d'un bénéficiaire décédé ou renonçant : {rule}.",
)
UNKNOWN_FAMILY_CHANGE = error_code(
    "designation.unknown_family_change", "Changement de situation familiale inconnu : {change}."
)

_KIND_LABELS = {
    "standard": message("Désignation standard"),
    "particular": message("Désignation particulière"),
}
_SPOUSE_ADDED = message("un conjoint ou partenaire est désormais couvert")
_CHILD_ADDED = message("un enfant est désormais couvert")
_BENEFICIARY_DIED = message("décès d'un bénéficiaire couvert")
_SEPARATION = message("divorce ou séparation")


# -- views ----------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class DesignationSummary:
    """The clause summary the member sees without a second authentication: no name, no share.

    Attributes:
        affiliation_id: the provident affiliation.
        kind: ``"standard"`` or ``"particular"``.
        designated: ``True`` when a designation was signed and is in force; ``False`` when none was
            ever made: the contract's standard clause applies by default.
        in_force_at: since when the designation is in force.
        beneficiaries: how many persons the particular designation names (0 for the standard clause).
        ranks: how many ranks it has (0 for the standard clause).
    """

    affiliation_id: str
    kind: str
    designated: bool
    in_force_at: dt.datetime | None
    beneficiaries: int
    ranks: int

    @property
    def kind_label(self) -> str:
        """``Désignation standard`` or ``Désignation particulière``."""
        return _KIND_LABELS[self.kind]

    @property
    def reminder(self) -> str:
        """« En cas de changement de situation familiale ..., pensez à mettre à jour ... » (seed 004)."""
        return REVIEW_REMINDER_TEXT


@attrs.frozen(kw_only=True)
class DesignationDetail:
    """The full designation, shown after a second authentication.

    Attributes:
        affiliation_id: the provident affiliation.
        current: the designation in force (``None``: the standard clause applies by default).
        clause_text: the text the member signed (the stored document), when a designation is in force.
        draft: the latest draft prepared since, not signed yet, if any.
    """

    affiliation_id: str
    current: Designation | None
    clause_text: str | None
    draft: Designation | None


@attrs.frozen(kw_only=True)
class DesignationStatusView:
    """What the employer and the back office see: whether a designation exists, and since when.

    Attributes:
        affiliation_id: the provident affiliation.
        exists: a designation is in force.
        in_force_at: since when (``None`` when none).
    """

    affiliation_id: str
    exists: bool
    in_force_at: dt.datetime | None


# -- the form -------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class BeneficiaryEntry:
    """One named beneficiary as typed in the particular designation form (raw strings).

    Attributes:
        birth_name: the family name at birth.
        first_names: the first names.
        birth_date: ``JJ/MM/AAAA``.
        relationship: a :class:`~mutuelle_core.designation.clauses.Relationship` value (``child``...).
        share: the percentage of the capital in its rank (``"50"``, ``"33,33"``).
        rank: the rank, ``"1"`` for the first beneficiaries, ``"2"`` for those who receive failing all
            of rank 1...
        usage_name: the name in use, if any.
        address_lines, postal_code, city, country: the postal address, optional (all blank: none).
        person_id: the id of a person already known (a covered beneficiary, a beneficiary of the
            current designation); blank for a new person.
    """

    birth_name: str
    first_names: str
    birth_date: str
    relationship: str
    share: str
    rank: str = "1"
    usage_name: str = ""
    address_lines: tuple[str, ...] = ()
    postal_code: str = ""
    city: str = ""
    country: str = "FR"
    person_id: str = ""


@attrs.frozen(kw_only=True)
class ParticularDesignationForm:
    """The particular designation form: the beneficiaries and the rule for lapsed shares.

    Attributes:
        beneficiaries: the named beneficiaries, in the order typed.
        lapse_rule: ``pro_rata`` (shared among the others of the rank, the default) or
            ``standard_clause``.
    """

    beneficiaries: tuple[BeneficiaryEntry, ...]
    lapse_rule: str = LapseRule.PRO_RATA.value

    def validate(self, *, today: dt.date, new_id: Callable[[], str]) -> ParticularClause:
        """The clause; every problem reported at once, each with its field.

        Fields: ``beneficiaries[i].birth_name`` (and ``first_names``, ``birth_date``,
        ``relationship``, ``share``, ``rank``, ``address...``), ``ranks[r]`` for a rank whose shares do
        not total 100 %, ``beneficiaries`` for a missing rank or an empty form, ``lapse_rule``.

        Raises:
            ValidationFailed: ``designation.shares_not_100``, ``designation.share_invalid``,
                ``designation.rank_invalid``, ``designation.rank_missing``, ``designation.no_rank``,
                ``designation.unknown_relationship``, ``designation.unknown_lapse_rule``,
                ``designation.duplicate_beneficiary``, the names', dates' and addresses' own codes.
        """
        errors = ErrorCollector()
        rule = errors.capture("lapse_rule", _lapse_rule, self.lapse_rule)
        if not self.beneficiaries:
            errors.add(NO_RANK(), field="beneficiaries")
        ranks: dict[int, list[NamedBeneficiary | None]] = {}
        shares: dict[int, list[Decimal | None]] = {}
        seen: set[str] = set()
        for index, entry in enumerate(self.beneficiaries):
            here = f"beneficiaries[{index}]"
            rank = errors.capture(f"{here}.rank", _rank, entry.rank)
            share = errors.capture(here, parse_share, entry.share)  # its error names ``share``
            beneficiary = _beneficiary(entry, share, here, errors, today=today, new_id=new_id)
            if beneficiary is not None:
                if beneficiary.person_id in seen:
                    errors.add(
                        DUPLICATE_BENEFICIARY(person_id=beneficiary.person_id), field=f"{here}.person_id"
                    )
                seen.add(beneficiary.person_id)
            if rank is not None:
                ranks.setdefault(rank, []).append(beneficiary)
                shares.setdefault(rank, []).append(share)
        for number in range(1, max(ranks, default=0) + 1):
            if number not in ranks:
                errors.add(RANK_MISSING(rank=number), field="beneficiaries")
                continue
            known = [s for s in shares[number] if s is not None]
            if len(known) == len(shares[number]):  # a rank with an invalid share is not added up
                total = sum(known, Decimal(0))
                if total != HUNDRED:
                    errors.add(SHARES_NOT_100(rank=number, total=total), field=f"ranks[{number - 1}]")
        errors.raise_if_any()
        assert rule is not None
        return ParticularClause(
            ranks=tuple(Rank(tuple(b for b in ranks[number] if b is not None)) for number in sorted(ranks)),
            lapse_rule=rule,
        )


def _lapse_rule(text: str) -> LapseRule:
    try:
        return LapseRule(text.strip())
    except ValueError:
        raise UNKNOWN_LAPSE_RULE(None, rule=text[:30]) from None


def _rank(text: str) -> int:
    value = text.strip()
    if not value.isdigit() or not 1 <= int(value) <= MAX_RANKS:
        raise RANK_INVALID(None, max_rank=MAX_RANKS)
    return int(value)


def _relationship(text: str) -> Relationship:
    try:
        return Relationship(text.strip())
    except ValueError:
        raise UNKNOWN_RELATIONSHIP(None, relationship=text[:30]) from None


def _beneficiary(
    entry: BeneficiaryEntry,
    share: Decimal | None,
    here: str,
    errors: ErrorCollector,
    *,
    today: dt.date,
    new_id: Callable[[], str],
) -> NamedBeneficiary | None:
    name = errors.capture(here, PersonName.parse, entry.birth_name, entry.first_names, entry.usage_name)
    birth_date = errors.capture(f"{here}.birth_date", parse_birth_date, entry.birth_date, today=today)
    relationship = errors.capture(f"{here}.relationship", _relationship, entry.relationship)
    address: PostalAddress | None = None
    has_address = any(line.strip() for line in entry.address_lines) or entry.postal_code.strip()
    if has_address or entry.city.strip():
        address = errors.capture(
            f"{here}.address",
            PostalAddress.parse,
            entry.address_lines,
            entry.postal_code,
            entry.city,
            entry.country,
        )
        if address is None:
            return None
    if name is None or birth_date is None or relationship is None or share is None:
        return None
    return NamedBeneficiary(
        entry.person_id.strip() or new_id(),
        name,
        relationship,
        birth_date,
        address=address,
        share=share,
    )


# -- helpers --------------------------------------------------------------------------------------


def _load(uow: UnitOfWork, affiliation_id: str) -> tuple[Affiliation, CollectiveContract]:
    aff = uow.affiliations.find(affiliation_id)
    if aff is None:
        raise NOT_FOUND(None, what=f"dossier {affiliation_id}")
    contract = uow.contracts.get(aff.contract_number)
    if contract.kind is not ContractKind.PROVIDENT:
        raise NOT_PROVIDENT("affiliation_id")
    return aff, contract


def _require_covered(aff: Affiliation) -> None:
    if aff.status not in _COVERED:
        raise NOT_COVERED("affiliation_id")


def _designation_of(uow: UnitOfWork, affiliation_id: str, designation_id: str) -> Designation:
    designation = uow.designations.find(designation_id)
    if designation is None or designation.affiliation_id != affiliation_id:
        raise NOT_FOUND(None, what=f"désignation {designation_id}")
    return designation


def _member_email(aff: Affiliation) -> Email | None:
    contact = aff.journey.contact
    return contact.email if contact is not None else aff.email


def _summary(affiliation_id: str, current: Designation | None) -> DesignationSummary:
    clause: Clause = StandardClause() if current is None else current.clause
    ranks = clause.ranks if isinstance(clause, ParticularClause) else ()
    return DesignationSummary(
        affiliation_id=affiliation_id,
        kind=clause.kind,
        designated=current is not None,
        in_force_at=None if current is None else current.in_force_at,
        beneficiaries=len(clause.named_person_ids()),
        ranks=len(ranks),
    )


def _bring_into_force(uow: UnitOfWork, signed: Designation, now: dt.datetime) -> Designation:
    previous = uow.designations.in_force_for(signed.affiliation_id)
    in_force, superseded = replace_designation(previous, signed, at=now)
    if superseded is not None:
        uow.designations.update(superseded)  # first: one designation in force at any time
    return uow.designations.update(in_force)


def _check_signable(draft: Designation, current: Designation | None) -> None:
    # Before asking for a signature (a qualified provider's costs one): refuse what could not come
    # into force anyway. The domain checks it all again when the designation is signed and put in force.
    if draft.status is not DesignationStatus.DRAFT:
        raise TRANSITION_NOT_ALLOWED(
            "status", action=message("signer la désignation"), state=draft.status.label
        )
    if draft.replaces_id != (None if current is None else current.designation_id):
        raise STALE_PREVIOUS("designation_id")
    if current is not None:
        current.check_replacement(draft.clause)


def _draft(svc: Services, affiliation_id: str, clause_of: Callable[[], Clause]) -> Designation:
    with svc.uow() as uow:
        aff, _contract = _load(uow, affiliation_id)
        _require_covered(aff)
        clause = clause_of()
        draft = Designation.draft(
            designation_id=svc.ids.new_id(),
            affiliation_id=aff.affiliation_id,
            member_id=aff.affiliation_id,
            clause=clause,
            now=svc.clock.now(),
            replacing=uow.designations.in_force_for(aff.affiliation_id),
        )
        stored = uow.designations.add(draft)
        uow.commit()
    return stored


# -- member space ---------------------------------------------------------------------------------


def designation_summary(svc: Services, affiliation_id: str) -> DesignationSummary:
    """The clause summary (no second authentication needed: it shows no name and no share).

    Raises:
        NotFound: unknown affiliation.
        DomainError: ``designation.not_provident``.
    """
    with svc.uow() as uow:
        aff, _contract = _load(uow, affiliation_id)
        return _summary(aff.affiliation_id, uow.designations.in_force_for(aff.affiliation_id))


def request_strong_authentication(
    svc: Services, auth: StrongAuthentication, affiliation_id: str, purpose: str = VIEW_DESIGNATION
) -> str:
    """Send the member a one-time code for ``purpose``; returns the challenge id to confirm it with.

    The code goes to the member's e-mail (the contact address of the affiliation journey, else the
    invitation's). Confirm it with ``auth.confirm(challenge_id, code)`` to get the proof.

    Raises:
        NotFound: unknown affiliation.
        DomainError: ``strong_auth.no_email``, ``strong_auth.too_many_requests``.
    """
    with svc.uow() as uow:
        aff = uow.affiliations.find(affiliation_id)
        if aff is None:
            raise NOT_FOUND(None, what=f"dossier {affiliation_id}")
        to = _member_email(aff)
    if to is None:
        raise NO_EMAIL("email")
    return auth.start(affiliation_id, to, purpose)


def view_designation(svc: Services, affiliation_id: str, proof: StrongAuthProof | None) -> DesignationDetail:
    """The full designation in force, its signed text and any pending draft; needs a fresh proof.

    Raises:
        AccessDenied: ``strong_auth.required`` (no proof, another member's, another purpose),
            ``strong_auth.proof_too_old`` (confirmed more than 5 minutes ago).
        DomainError: ``designation.not_provident``.
    """
    require_fresh_proof(proof, subject=affiliation_id, purpose=VIEW_DESIGNATION, now=svc.clock.now())
    with svc.uow() as uow:
        aff, _contract = _load(uow, affiliation_id)
        history = uow.designations.list_for_affiliation(aff.affiliation_id)
        current = next((d for d in history if d.is_in_force), None)
        text: str | None = None
        if current is not None:
            signature = current.signature
            if signature is not None and signature.document_id is not None:
                text = uow.documents.get(signature.document_id).content.decode("utf-8")
            else:
                text = render_clause_text(current)
        replaces = current.designation_id if current is not None else None
        drafts = [d for d in history if d.status is DesignationStatus.DRAFT and d.replaces_id == replaces]
    return DesignationDetail(
        affiliation_id=aff.affiliation_id,
        current=current,
        clause_text=text,
        draft=drafts[-1] if drafts else None,
    )


def designation_history(
    svc: Services, affiliation_id: str, proof: StrongAuthProof | None
) -> tuple[Designation, ...]:
    """Every designation signed for the affiliation, oldest first (superseded ones kept); needs a proof.

    Unsigned drafts are left out.

    Raises:
        AccessDenied: ``strong_auth.required``, ``strong_auth.proof_too_old``.
    """
    require_fresh_proof(proof, subject=affiliation_id, purpose=VIEW_DESIGNATION, now=svc.clock.now())
    with svc.uow() as uow:
        aff, _contract = _load(uow, affiliation_id)
        history = uow.designations.list_for_affiliation(aff.affiliation_id)
    return tuple(d for d in history if d.status is not DesignationStatus.DRAFT)


def choose_standard_clause(svc: Services, affiliation_id: str) -> Designation:
    """Prepare a standard designation (a draft, to be signed with :func:`sign_designation`).

    Raises:
        DomainError: ``designation.not_provident``, ``designation.not_covered``,
            ``designation.irrevocable_beneficiary`` (a beneficiary accepted the current particular
            designation).
    """
    return _draft(svc, affiliation_id, StandardClause)


def enter_particular_designation(
    svc: Services, affiliation_id: str, form: ParticularDesignationForm
) -> Designation:
    """Prepare a particular designation from the form (a draft, to be signed with :func:`sign_designation`).

    Raises:
        ValidationFailed: every problem of the form (see :meth:`ParticularDesignationForm.validate`).
        DomainError: ``designation.not_provident``, ``designation.not_covered``,
            ``designation.irrevocable_beneficiary``.
    """
    return _draft(svc, affiliation_id, lambda: form.validate(today=svc.clock.today(), new_id=svc.ids.new_id))


def sign_designation(
    svc: Services, affiliation_id: str, designation_id: str, proof: StrongAuthProof | None
) -> Designation:
    """Sign a draft electronically and bring it into force, superseding the previous one.

    In one unit of work: the clause text (:func:`~mutuelle_core.designation.designation.render_clause_text`)
    is stored as a document, signed through the signature port by the member, the evidence recorded
    on the designation, the designation put in force and the previous one superseded (kept in the
    history); a confirmation e-mail, without the content, is queued. The fresh proof (purpose
    ``sign_designation``) authenticates the signer.

    Raises:
        AccessDenied: ``strong_auth.required``, ``strong_auth.proof_too_old``.
        TransitionNotAllowed: the designation is not a draft.
        DomainError: ``designation.stale_previous`` (another designation came into force since the
            draft), ``designation.irrevocable_beneficiary``, ``designation.not_covered``.
        ConcurrencyConflict: someone else changed the designations meanwhile.
    """
    now = svc.clock.now()
    require_fresh_proof(proof, subject=affiliation_id, purpose=SIGN_DESIGNATION, now=now)
    with svc.uow() as uow:
        aff, contract = _load(uow, affiliation_id)
        _require_covered(aff)
        draft = _designation_of(uow, aff.affiliation_id, designation_id)
        _check_signable(draft, uow.designations.in_force_for(aff.affiliation_id))
        document = make_document(
            document_id=svc.ids.new_id(),
            kind=CLAUSE_DOCUMENT_KIND,
            owner=draft.designation_id,
            filename=f"designation-beneficiaires-{draft.designation_id}.txt",
            text=render_clause_text(draft),
            at=now,
        )
        uow.documents.put(document)
        evidence = svc.signature.sign(signer=aff.affiliation_id, documents=[document], at=now)
        signed = draft.sign(SignatureEvidence.from_signature(evidence, document.document_id))
        in_force = _bring_into_force(uow, signed, now)
        to = _member_email(aff)
        if to is not None:
            uow.outbox.add(
                OutgoingMessage(
                    template=SIGNED_TEMPLATE,
                    to=to,
                    context={
                        "first_name": aff.name.first_names,
                        "contract": contract.number,
                        "in_force_at": now.isoformat(),
                    },
                )
            )
        uow.commit()
    return in_force


# -- employer space and back office ---------------------------------------------------------------


def designation_status(
    svc: Services, affiliation_id: str, *, actor_id: str | None = None
) -> DesignationStatusView:
    """Whether a designation is in force and since when, for the employer (``actor_id``) or the back office.

    The content (beneficiaries, shares) is never shown outside the member space.

    Raises:
        AccessDenied: the correspondent may not see this affiliation.
        DomainError: ``designation.not_provident``.
    """
    with svc.uow() as uow:
        if actor_id is not None:
            scope = EmployerScope.load(uow, actor_id)
            found = uow.affiliations.find(affiliation_id)
            if found is None:
                raise denied(f"dossier {affiliation_id}")
            scope.group(uow, found.contract_number, found.group_code)
        aff, _contract = _load(uow, affiliation_id)
        current = uow.designations.in_force_for(aff.affiliation_id)
    return DesignationStatusView(
        affiliation_id=aff.affiliation_id,
        exists=current is not None,
        in_force_at=None if current is None else current.in_force_at,
    )


def put_designation_in_force(svc: Services, affiliation_id: str, designation_id: str) -> Designation:
    """Bring into force a designation already signed (for instance through a provider's own journey).

    Raises:
        TransitionNotAllowed: ``designation.unsigned`` for a draft; a designation in force or superseded.
        DomainError: ``designation.stale_previous``, ``designation.irrevocable_beneficiary``.
    """
    with svc.uow() as uow:
        aff, _contract = _load(uow, affiliation_id)
        designation = _designation_of(uow, aff.affiliation_id, designation_id)
        in_force = _bring_into_force(uow, designation, svc.clock.now())
        uow.commit()
    return in_force


def record_acceptance(
    svc: Services, affiliation_id: str, person_id: str, *, accepted_at: dt.datetime | None = None
) -> Designation:
    """Record that a beneficiary accepted the designation in force (L132-9): irrevocable toward them.

    The formalities (an amendment signed by the insurer, the member and the beneficiary, or a deed
    notified to the insurer) are checked by the back office before calling this.

    Raises:
        DomainError: ``designation.none_in_force``, ``designation.accepting_not_named``.
    """
    with svc.uow() as uow:
        aff, _contract = _load(uow, affiliation_id)
        current = uow.designations.in_force_for(aff.affiliation_id)
        if current is None:
            raise NONE_IN_FORCE("affiliation_id")
        updated = uow.designations.update(current.accept(person_id, accepted_at or svc.clock.now()))
        uow.commit()
    return updated


def _in_force_at(history: Sequence[Designation], at: dt.datetime) -> Designation | None:
    for designation in history:
        started = designation.in_force_at
        ended = designation.superseded_at
        if started is not None and started <= at and (ended is None or at < ended):
            return designation
    return None


def allocate_death_capital(
    svc: Services,
    affiliation_id: str,
    capital: Money,
    family_at_death: FamilyAtDeath,
    *,
    death_at: dt.datetime,
) -> CapitalAllocation:
    """Split the death capital by the designation in force at ``death_at`` (else the standard clause).

    A designation that came into force after the death does not apply, even if it is the current one.

    Raises:
        DomainError: ``designation.not_provident``, ``designation.negative_amount``.
    """
    with svc.uow() as uow:
        aff, _contract = _load(uow, affiliation_id)
        applicable = _in_force_at(uow.designations.list_for_affiliation(aff.affiliation_id), death_at)
    clause: Clause = StandardClause() if applicable is None else applicable.clause
    return allocate_capital(clause, capital, family_at_death)


# -- family changes -------------------------------------------------------------------------------


def remind_after_family_change(
    uow: UnitOfWork,
    aff: Affiliation,
    change: FamilyChange,
    *,
    now: dt.datetime,
    person_id: str | None = None,
    description: str | None = None,
) -> str | None:
    """Queue « pensez à mettre à jour votre désignation » in ``uow``; returns the message id, if any.

    Only for a provident affiliation with a designation in force and a known e-mail address; the
    designation itself is not written (a family change must never conflict with a signature).

    Args:
        uow: the caller's unit of work (the reminder commits with the family change).
        aff: the affiliation whose family changed.
        change: what happened.
        now: when.
        person_id: the person concerned (a covered beneficiary's id), if known: the message says when
            that person is a named beneficiary.
        description: the change in words for the message (default: the change's label).
    """
    contract = uow.contracts.get(aff.contract_number)
    if contract.kind is not ContractKind.PROVIDENT:
        return None
    current = uow.designations.in_force_for(aff.affiliation_id)
    to = _member_email(aff)
    if current is None or to is None:
        return None
    event = FamilySituationChanged(
        occurred_at=now, member_id=current.member_id, change=change, person_id=person_id
    )
    reminder = DesignationReviewReminder.after(event, current)
    return uow.outbox.add(
        OutgoingMessage(
            template=REVIEW_REMINDER_TEMPLATE,
            to=to,
            context={
                "first_name": aff.name.first_names,
                "contract": contract.number,
                "change": description or change.label,
                "in_force_at": (current.in_force_at or now).isoformat(),
                "beneficiary_concerned": reminder.beneficiary_concerned,
            },
        )
    )


def remind_after_beneficiary_added(
    uow: UnitOfWork, aff: Affiliation, beneficiary: CoveredBeneficiary, now: dt.datetime
) -> str | None:
    """The reminder after a spouse or a child was added to the affiliation (see :func:`remind_after_family_change`)."""
    kind = beneficiary.details.kind
    if kind is BeneficiaryKind.SPOUSE:
        change, description = FamilyChange.MARRIAGE, _SPOUSE_ADDED
    elif kind is BeneficiaryKind.CHILD:
        change, description = FamilyChange.BIRTH, _CHILD_ADDED
    else:
        return None
    return remind_after_family_change(
        uow, aff, change, now=now, person_id=beneficiary.beneficiary_id, description=description
    )


def remind_after_beneficiary_radiated(
    uow: UnitOfWork,
    aff: Affiliation,
    beneficiary_id: str,
    motive: BeneficiaryRadiationMotive,
    now: dt.datetime,
) -> str | None:
    """The reminder after a beneficiary was radiated for death or divorce/separation (other motives: none)."""
    if motive is BeneficiaryRadiationMotive.DEATH:
        change, description = FamilyChange.DEATH, _BENEFICIARY_DIED
    elif motive is BeneficiaryRadiationMotive.DIVORCE_OR_SEPARATION:
        change, description = FamilyChange.SEPARATION, _SEPARATION
    else:
        return None
    return remind_after_family_change(
        uow, aff, change, now=now, person_id=beneficiary_id, description=description
    )


def notify_family_change(
    svc: Services, affiliation_id: str, change: FamilyChange | str, *, person_id: str | None = None
) -> str | None:
    """Record that the member's family changed: queue the designation review reminder, if it applies.

    Returns the queued message's id, or ``None`` (not a provident affiliation, no designation in force,
    no e-mail address).

    Raises:
        NotFound: unknown affiliation.
        DomainError: ``designation.unknown_family_change``.
    """
    try:
        chosen = FamilyChange(change)
    except ValueError:
        raise UNKNOWN_FAMILY_CHANGE("change", change=str(change)[:30]) from None
    with svc.uow() as uow:
        aff = uow.affiliations.find(affiliation_id)
        if aff is None:
            raise NOT_FOUND(None, what=f"dossier {affiliation_id}")
        message_id = remind_after_family_change(uow, aff, chosen, now=svc.clock.now(), person_id=person_id)
        uow.commit()
    return message_id
