"""The beneficiary designation of a provident affiliation: drafted, signed, in force, superseded.

A :class:`Designation` holds one clause (standard or particular) for one provident affiliation and
goes through ``DRAFT → SIGNED → IN_FORCE → SUPERSEDED``:

* **signed** with an electronic signature whose evidence (:class:`SignatureEvidence`) names the signer,
  the time and the SHA-256 of the clause document: the text :func:`render_clause_text` produces, which
  the member read and signed. A signature over any other text is refused;
* **in force** once signed (never before: ``designation.unsigned``); the designation it replaces is
  **superseded** and kept, with its dates, in the history (:func:`replace_designation` does both);
* a beneficiary's **acceptance** (:meth:`Designation.accept`) makes the designation irrevocable toward
  that beneficiary (article L132-9 of the Code des assurances): a replacement that removes or reduces an
  accepting beneficiary is refused with ``designation.irrevocable_beneficiary``. Acceptances carry over
  to the designation that replaces it;
* a change in the member's family situation (:class:`FamilySituationChanged`: marriage, divorce, birth,
  death of a beneficiary...) raises a :class:`DesignationReviewReminder`: « pensez à mettre à jour
  votre désignation ».

>>> import datetime as dt
>>> from mutuelle_core.designation.clauses import StandardClause
>>> from mutuelle_core.designation.designation import (
...     Designation, SignatureEvidence, clause_document_sha256, replace_designation)
>>> now = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
>>> first = Designation.draft(designation_id="d1", affiliation_id="a1", member_id="m1",
...                           clause=StandardClause(), now=now)
>>> first.put_in_force(at=now)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
mutuelle_core.errors.TransitionNotAllowed: [designation.unsigned] (status) La désignation doit être signée...
>>> signed = first.sign(SignatureEvidence(signer="m1", signed_at=now,
...                                       document_sha256=clause_document_sha256(first)))
>>> in_force = signed.put_in_force(at=now)
>>> in_force.status.value, [e.name for e in in_force.pending_events]
('in_force', ['DesignationDrafted', 'DesignationSigned', 'DesignationPutInForce'])
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import re
from collections.abc import Iterable
from decimal import Decimal

import attrs

from mutuelle_core.designation.clauses import (
    Clause,
    LapseRule,
    NamedBeneficiary,
    ParticularClause,
    StandardClause,
)
from mutuelle_core.errors import TRANSITION_NOT_ALLOWED, TransitionNotAllowed, error_code
from mutuelle_core.events import DomainEvent
from mutuelle_core.i18n import message
from mutuelle_core.signature import SignatureEvidence as SignatureServiceEvidence

__all__ = [
    "CLAUSE_TEXT_MODEL",
    "REVIEW_REMINDER_TEXT",
    "Acceptance",
    "BeneficiaryAccepted",
    "Designation",
    "DesignationDrafted",
    "DesignationPutInForce",
    "DesignationReviewReminder",
    "DesignationSigned",
    "DesignationStatus",
    "DesignationSuperseded",
    "FamilyChange",
    "FamilySituationChanged",
    "SignatureEvidence",
    "clause_document_sha256",
    "current_designation",
    "render_clause_text",
    "replace_designation",
]

UNSIGNED = error_code(
    "designation.unsigned",
    "La désignation doit être signée électroniquement avant d'entrer en vigueur.",
    TransitionNotAllowed,
)
SIGNATURE_MISMATCH = error_code(
    "designation.signature_mismatch",
    "La signature ne porte pas sur le texte de cette désignation (empreinte SHA-256 différente).",
)
INVALID_SHA256 = error_code(
    "designation.invalid_sha256",
    "L'empreinte SHA-256 du document signé doit comporter 64 caractères hexadécimaux.",
)
IRREVOCABLE_BENEFICIARY = error_code(
    "designation.irrevocable_beneficiary",
    "Le bénéficiaire {person_id} a accepté la désignation : elle ne peut plus être modifiée à son "
    "détriment sans son accord (article L132-9 du Code des assurances).",
)
STALE_PREVIOUS = error_code(
    "designation.stale_previous",
    "La désignation en vigueur a changé depuis la préparation de celle-ci : recommencez la désignation.",
)
OTHER_AFFILIATION = error_code(
    "designation.other_affiliation", "Ces deux désignations ne concernent pas la même adhésion."
)
NOT_NAMED = error_code(
    "designation.accepting_not_named",
    "La personne {person_id} n'est pas un bénéficiaire nommé de cette désignation.",
)
SEVERAL_IN_FORCE = error_code(
    "designation.several_in_force", "Plusieurs désignations sont en vigueur pour l'adhésion {affiliation_id}."
)

REVIEW_REMINDER_TEXT = message(
    "En cas de changement de situation familiale (séparation, décès, etc.), pensez à mettre à jour "
    "votre désignation de bénéficiaires."
)
"""The member space's reminder (seed 004), sent with every :class:`DesignationReviewReminder`."""

CLAUSE_TEXT_MODEL = "1"
"""Version of the clause text layout printed in :func:`render_clause_text`.

The signed hash covers the exact text: a change of wording is a new model (bump this value), so that
a document signed under an earlier model is never mistaken for the current rendering.
"""

_SHA256 = re.compile(r"[0-9a-f]{64}")


_ACTION_SIGN = message("signer la désignation")
_ACTION_PUT_IN_FORCE = message("mettre la désignation en vigueur")
_ACTION_SUPERSEDE = message("remplacer la désignation")
_ACTION_ACCEPT = message("accepter la désignation")


class DesignationStatus(enum.StrEnum):
    """Where a designation stands in its life."""

    DRAFT = "draft"
    SIGNED = "signed"
    IN_FORCE = "in_force"
    SUPERSEDED = "superseded"

    @property
    def label(self) -> str:
        """French label."""
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    DesignationStatus.DRAFT: message("Brouillon"),
    DesignationStatus.SIGNED: message("Signée"),
    DesignationStatus.IN_FORCE: message("En vigueur"),
    DesignationStatus.SUPERSEDED: message("Remplacée"),
}


def _check_sha256(_inst: object, _attr: object, value: str) -> None:
    if not _SHA256.fullmatch(value):
        raise INVALID_SHA256("document_sha256")


@attrs.frozen(kw_only=True)
class SignatureEvidence:
    """Proof of the electronic signature of a clause document.

    It is the designation's view of the signature port's evidence
    (:class:`mutuelle_core.signature.SignatureEvidence`, which may cover several documents): the one
    clause document, with its id in the document store and the provider, when known
    (:meth:`from_signature` builds it).

    Attributes:
        signer: who signed (the member's id, or the legal representative's, as the signature adapter
            authenticated them; the domain does not check who may sign).
        signed_at: when.
        document_sha256: the SHA-256 (64 lowercase hexadecimal characters) of the signed document, the
            UTF-8 bytes of :func:`render_clause_text`.
        document_id: the signed clause document in the document store, if stored there.
        provider: the signature provider (``local``, a qualified provider...), if known.

    Raises:
        DomainError: ``designation.invalid_sha256``.
    """

    signer: str
    signed_at: dt.datetime
    document_sha256: str = attrs.field(validator=_check_sha256)
    document_id: str | None = None
    provider: str | None = None

    @classmethod
    def from_signature(cls, evidence: SignatureServiceEvidence, document_id: str) -> SignatureEvidence:
        """The evidence of the clause document ``document_id`` among those the signature port signed.

        Raises:
            DomainError: ``designation.signature_mismatch`` when that document was not signed.

        >>> import datetime as dt
        >>> from mutuelle_core.signature import SignatureEvidence as Signed, SignedDocument
        >>> at = dt.datetime(2026, 5, 4, tzinfo=dt.UTC)
        >>> signed = Signed(signer="aff-1", signed_at=at, provider="local",
        ...                 documents=(SignedDocument("doc-1", "designation_clause", "ab" * 32),))
        >>> SignatureEvidence.from_signature(signed, "doc-1").provider
        'local'
        """
        for document in evidence.documents:
            if document.document_id == document_id:
                return cls(
                    signer=evidence.signer,
                    signed_at=evidence.signed_at,
                    document_sha256=document.sha256,
                    document_id=document.document_id,
                    provider=evidence.provider,
                )
        raise SIGNATURE_MISMATCH("signature")


@attrs.frozen
class Acceptance:
    """A beneficiary accepted the designation (L132-9): irrevocable toward that person from then on."""

    person_id: str
    accepted_at: dt.datetime


class FamilyChange(enum.StrEnum):
    """A change in the member's family situation that may call for a new designation."""

    MARRIAGE = "marriage"
    PACS = "pacs"
    SEPARATION = "separation"
    DIVORCE = "divorce"
    PACS_DISSOLUTION = "pacs_dissolution"
    BIRTH = "birth"
    ADOPTION = "adoption"
    DEATH = "death"
    """Death of a family member (a beneficiary, possibly)."""

    @property
    def label(self) -> str:
        """French label."""
        return _CHANGE_LABELS[self]


_CHANGE_LABELS = {
    FamilyChange.MARRIAGE: message("Mariage"),
    FamilyChange.PACS: message("Conclusion d'un PACS"),
    FamilyChange.SEPARATION: message("Séparation"),
    FamilyChange.DIVORCE: message("Divorce prononcé"),
    FamilyChange.PACS_DISSOLUTION: message("Dissolution d'un PACS"),
    FamilyChange.BIRTH: message("Naissance"),
    FamilyChange.ADOPTION: message("Adoption d'un enfant"),
    FamilyChange.DEATH: message("Décès d'un proche"),
}


# -- events ---------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class DesignationDrafted(DomainEvent):
    """A member prepared a designation (standard or particular)."""

    designation_id: str
    affiliation_id: str
    kind: str


@attrs.frozen(kw_only=True)
class DesignationSigned(DomainEvent):
    """A designation was signed electronically."""

    designation_id: str
    affiliation_id: str
    signer: str
    document_sha256: str


@attrs.frozen(kw_only=True)
class DesignationPutInForce(DomainEvent):
    """A signed designation came into force, replacing ``replaces_id`` if any."""

    designation_id: str
    affiliation_id: str
    replaces_id: str | None


@attrs.frozen(kw_only=True)
class DesignationSuperseded(DomainEvent):
    """A designation was replaced by a newer one; it stays in the history."""

    designation_id: str
    affiliation_id: str
    superseded_by: str


@attrs.frozen(kw_only=True)
class BeneficiaryAccepted(DomainEvent):
    """A beneficiary accepted the designation: it is irrevocable toward that person."""

    designation_id: str
    affiliation_id: str
    person_id: str


@attrs.frozen(kw_only=True)
class FamilySituationChanged(DomainEvent):
    """The member's family situation changed (raised by the affiliation side, consumed here).

    Attributes:
        member_id: the member whose family changed.
        change: what happened.
        person_id: the person concerned (the new spouse, the child born, the person who died), if known.
    """

    member_id: str
    change: FamilyChange
    person_id: str | None = None


@attrs.frozen(kw_only=True)
class DesignationReviewReminder(DomainEvent):
    """Remind the member to review the designation after a change in the family situation.

    Attributes:
        member_id: whom to remind.
        affiliation_id: the provident affiliation, when a designation exists.
        designation_id: the designation in force, or ``None`` (the standard clause applies by default).
        change: the family change that triggered the reminder.
        beneficiary_concerned: ``True`` when the person concerned is named in the designation (for
            instance a named beneficiary died).
    """

    member_id: str
    affiliation_id: str | None
    designation_id: str | None
    change: FamilyChange
    beneficiary_concerned: bool = False

    @property
    def text(self) -> str:
        """The reminder shown to the member (French; translate with :func:`mutuelle_core.i18n.translate`)."""
        return REVIEW_REMINDER_TEXT

    @classmethod
    def after(
        cls, change: FamilySituationChanged, designation: Designation | None = None
    ) -> DesignationReviewReminder:
        """The reminder for ``change``; ``designation`` is the member's current one, if any.

        >>> import datetime as dt
        >>> at = dt.datetime(2026, 5, 4, tzinfo=dt.UTC)
        >>> reminder = DesignationReviewReminder.after(
        ...     FamilySituationChanged(occurred_at=at, member_id="m1", change=FamilyChange.BIRTH))
        >>> reminder.member_id, reminder.designation_id, reminder.text[:45]
        ('m1', None, 'En cas de changement de situation familiale (')
        """
        concerned = (
            designation is not None
            and change.person_id is not None
            and change.person_id in designation.clause.named_person_ids()
        )
        return cls(
            occurred_at=change.occurred_at,
            member_id=change.member_id,
            affiliation_id=designation.affiliation_id if designation is not None else None,
            designation_id=designation.designation_id if designation is not None else None,
            change=change.change,
            beneficiary_concerned=concerned,
        )


# -- the aggregate --------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Designation:
    """A beneficiary designation of one provident affiliation (aggregate).

    Attributes:
        designation_id: the designation's id.
        affiliation_id: the provident affiliation it belongs to.
        member_id: the insured member.
        clause: the standard clause or a particular designation.
        created_at: when it was drafted.
        status: draft, signed, in force or superseded.
        signature: the signature evidence, once signed.
        replaces_id: the designation in force when this one was drafted, which it will replace.
        in_force_at: when it came into force.
        superseded_at: when a newer designation replaced it.
        superseded_by: the id of that newer designation.
        acceptances: the beneficiaries who accepted, in order (carried over from the designation it
            replaces).
    """

    designation_id: str
    affiliation_id: str
    member_id: str
    clause: Clause
    created_at: dt.datetime
    status: DesignationStatus = DesignationStatus.DRAFT
    signature: SignatureEvidence | None = None
    replaces_id: str | None = None
    in_force_at: dt.datetime | None = None
    superseded_at: dt.datetime | None = None
    superseded_by: str | None = None
    acceptances: tuple[Acceptance, ...] = ()
    version: int = 0
    pending_events: tuple[DomainEvent, ...] = attrs.field(default=(), eq=False, repr=False)

    @classmethod
    def draft(
        cls,
        *,
        designation_id: str,
        affiliation_id: str,
        member_id: str,
        clause: Clause,
        now: dt.datetime,
        replacing: Designation | None = None,
    ) -> Designation:
        """A new designation to be signed; ``replacing`` is the designation in force, if any.

        The irrevocability of ``replacing`` toward its accepting beneficiaries is checked now, so that the
        member is told before signing, and again when the new designation comes into force.

        Raises:
            DomainError: ``designation.irrevocable_beneficiary``, ``designation.other_affiliation``,
                ``designation.stale_previous`` (``replacing`` is not in force).
        """
        if replacing is not None:
            if replacing.affiliation_id != affiliation_id:
                raise OTHER_AFFILIATION("affiliation_id")
            if replacing.status is not DesignationStatus.IN_FORCE:
                raise STALE_PREVIOUS("replacing")
            replacing.check_replacement(clause)
        return cls(
            designation_id=designation_id,
            affiliation_id=affiliation_id,
            member_id=member_id,
            clause=clause,
            created_at=now,
            replaces_id=replacing.designation_id if replacing is not None else None,
            pending_events=(
                DesignationDrafted(
                    occurred_at=now,
                    designation_id=designation_id,
                    affiliation_id=affiliation_id,
                    kind=clause.kind,
                ),
            ),
        )

    # -- queries -----------------------------------------------------------------------------------

    @property
    def is_in_force(self) -> bool:
        """Whether this is the designation that applies today."""
        return self.status is DesignationStatus.IN_FORCE

    @property
    def accepted_person_ids(self) -> frozenset[str]:
        """The beneficiaries who accepted: the designation is irrevocable toward them."""
        return frozenset(a.person_id for a in self.acceptances)

    def check_replacement(self, clause: Clause) -> None:
        """Refuse a new clause that would remove or reduce a beneficiary who accepted this designation.

        A beneficiary who accepted a particular designation must keep, in the new one, at least the same
        share at the same or an earlier rank; if the rule for lapsed shares was to share them within the
        rank, it must stay so while the beneficiary had co-beneficiaries in that rank (their lapsed
        shares would have increased theirs). Under the standard clause an accepting beneficiary's share
        depends on the family at death, which is unknown today: only a standard clause can replace it.

        Raises:
            DomainError: ``designation.irrevocable_beneficiary``, naming the first such beneficiary (in
                ``person_id`` order).
        """
        for person_id in sorted(self.accepted_person_ids):
            if not _keeps_rights(self.clause, clause, person_id):
                raise IRREVOCABLE_BENEFICIARY("clause", person_id=person_id)

    # -- commands ----------------------------------------------------------------------------------

    def sign(self, evidence: SignatureEvidence) -> Designation:
        """Record the electronic signature of the clause document.

        Raises:
            DomainError: ``designation.signature_mismatch`` when the evidence's SHA-256 is not that of
                :func:`render_clause_text` for this designation.
            TransitionNotAllowed: unless the designation is a draft.
        """
        self._require(DesignationStatus.DRAFT, _ACTION_SIGN)
        if evidence.document_sha256 != clause_document_sha256(self):
            raise SIGNATURE_MISMATCH("signature")
        return attrs.evolve(
            self,
            status=DesignationStatus.SIGNED,
            signature=evidence,
            pending_events=(
                *self.pending_events,
                DesignationSigned(
                    occurred_at=evidence.signed_at,
                    designation_id=self.designation_id,
                    affiliation_id=self.affiliation_id,
                    signer=evidence.signer,
                    document_sha256=evidence.document_sha256,
                ),
            ),
        )

    def put_in_force(self, *, at: dt.datetime, previous: Designation | None = None) -> Designation:
        """Bring the signed designation into force; ``previous`` is the one in force, which it replaces.

        ``previous`` must be the designation that was in force when this one was drafted (or ``None``
        for a first designation). Its acceptances carry over. Supersede ``previous`` with
        :meth:`supersede` in the same unit of work, or call :func:`replace_designation`.

        Raises:
            TransitionNotAllowed: ``designation.unsigned`` for a draft; ``state.transition_not_allowed``
                for a designation already in force or superseded.
            DomainError: ``designation.stale_previous``, ``designation.other_affiliation``,
                ``designation.irrevocable_beneficiary``.
        """
        if self.status is DesignationStatus.DRAFT:
            raise UNSIGNED("status")
        self._require(DesignationStatus.SIGNED, _ACTION_PUT_IN_FORCE)
        self._check_previous(previous)
        carried = previous.acceptances if previous is not None else ()
        own = tuple(a for a in self.acceptances if a.person_id not in {c.person_id for c in carried})
        return attrs.evolve(
            self,
            status=DesignationStatus.IN_FORCE,
            in_force_at=at,
            acceptances=(*carried, *own),
            pending_events=(
                *self.pending_events,
                DesignationPutInForce(
                    occurred_at=at,
                    designation_id=self.designation_id,
                    affiliation_id=self.affiliation_id,
                    replaces_id=self.replaces_id,
                ),
            ),
        )

    def supersede(self, *, by: Designation, at: dt.datetime) -> Designation:
        """Mark this designation as replaced by ``by`` (signed, drafted to replace this one).

        Raises:
            TransitionNotAllowed: unless this designation is in force; ``designation.unsigned`` when
                ``by`` is a draft.
            DomainError: ``designation.stale_previous`` when ``by`` was not drafted to replace this one,
                ``designation.other_affiliation``, ``designation.irrevocable_beneficiary``.
        """
        self._require(DesignationStatus.IN_FORCE, _ACTION_SUPERSEDE)
        if by.status is DesignationStatus.DRAFT:
            raise UNSIGNED("by")
        if by.affiliation_id != self.affiliation_id:
            raise OTHER_AFFILIATION("by")
        if by.replaces_id != self.designation_id or by.status is DesignationStatus.SUPERSEDED:
            raise STALE_PREVIOUS("by")
        self.check_replacement(by.clause)
        return attrs.evolve(
            self,
            status=DesignationStatus.SUPERSEDED,
            superseded_at=at,
            superseded_by=by.designation_id,
            pending_events=(
                *self.pending_events,
                DesignationSuperseded(
                    occurred_at=at,
                    designation_id=self.designation_id,
                    affiliation_id=self.affiliation_id,
                    superseded_by=by.designation_id,
                ),
            ),
        )

    def accept(self, person_id: str, at: dt.datetime) -> Designation:
        """Record a beneficiary's acceptance (L132-9); accepting twice keeps the first acceptance.

        Under a particular designation the person must be named. Under the standard clause any person
        may accept (the caller checks that the person belongs to the clause's classes, e.g. the spouse):
        the designation can then only be replaced by the standard clause.

        The formalities of L132-9 II (an amendment signed by the insurer, the member and the beneficiary,
        or a deed notified to the insurer) are the caller's to check.

        Raises:
            DomainError: ``designation.accepting_not_named``.
            TransitionNotAllowed: unless the designation is signed or in force.
        """
        if self.status not in (DesignationStatus.SIGNED, DesignationStatus.IN_FORCE):
            raise TRANSITION_NOT_ALLOWED("status", action=_ACTION_ACCEPT, state=self.status.label)
        if isinstance(self.clause, ParticularClause) and person_id not in self.clause.named_person_ids():
            raise NOT_NAMED("person_id", person_id=person_id)
        if person_id in self.accepted_person_ids:
            return self
        return attrs.evolve(
            self,
            acceptances=(*self.acceptances, Acceptance(person_id, at)),
            pending_events=(
                *self.pending_events,
                BeneficiaryAccepted(
                    occurred_at=at,
                    designation_id=self.designation_id,
                    affiliation_id=self.affiliation_id,
                    person_id=person_id,
                ),
            ),
        )

    def notice_family_change(self, change: FamilySituationChanged) -> Designation:
        """Raise a :class:`DesignationReviewReminder` when the member's family situation changed.

        Only the member's signed or in-force designation reminds; a draft, a superseded designation or
        another member's change leaves it unchanged.
        """
        if change.member_id != self.member_id or self.status not in (
            DesignationStatus.SIGNED,
            DesignationStatus.IN_FORCE,
        ):
            return self
        reminder = DesignationReviewReminder.after(change, self)
        return attrs.evolve(self, pending_events=(*self.pending_events, reminder))

    # -- helpers -----------------------------------------------------------------------------------

    def _require(self, status: DesignationStatus, action: str) -> None:
        if self.status is not status:
            raise TRANSITION_NOT_ALLOWED("status", action=action, state=self.status.label)

    def _check_previous(self, previous: Designation | None) -> None:
        if previous is None:
            if self.replaces_id is not None:
                raise STALE_PREVIOUS("previous")
            return
        if previous.affiliation_id != self.affiliation_id:
            raise OTHER_AFFILIATION("previous")
        if previous.designation_id != self.replaces_id or previous.status is not DesignationStatus.IN_FORCE:
            raise STALE_PREVIOUS("previous")
        previous.check_replacement(self.clause)


def _keeps_rights(old: Clause, new: Clause, person_id: str) -> bool:
    if isinstance(old, StandardClause):
        return isinstance(new, StandardClause)
    before = old.position_of(person_id)
    if before is None:  # an acceptance that cannot be placed: refuse, the back office decides
        return False
    if not isinstance(new, ParticularClause):
        return False
    after = new.position_of(person_id)
    if after is None:
        return False
    (old_rank, old_share), (new_rank, new_share) = before, after
    if new_rank > old_rank or new_share < old_share:
        return False
    had_co_beneficiaries = len(old.ranks[old_rank - 1].beneficiaries) > 1
    return not (
        had_co_beneficiaries
        and old.lapse_rule is LapseRule.PRO_RATA
        and new.lapse_rule is not LapseRule.PRO_RATA
    )


def replace_designation(
    previous: Designation | None, new: Designation, *, at: dt.datetime
) -> tuple[Designation, Designation | None]:
    """Bring ``new`` into force and supersede ``previous`` (if any): ``(new in force, previous superseded)``.

    Both are checked (signature, irrevocability, ``previous`` being the designation ``new`` was drafted
    to replace); nothing changes when either is refused. Store both in the same unit of work.
    """
    in_force = new.put_in_force(at=at, previous=previous)
    superseded = previous.supersede(by=in_force, at=at) if previous is not None else None
    return in_force, superseded


def current_designation(designations: Iterable[Designation]) -> Designation | None:
    """The designation in force among an affiliation's designations (its history), or ``None``.

    ``None`` means no designation was ever put in force: the contract's standard clause applies.

    Raises:
        DomainError: ``designation.several_in_force`` (a broken history).
    """
    in_force = [d for d in designations if d.is_in_force]
    if len(in_force) > 1:
        raise SEVERAL_IN_FORCE(affiliation_id=in_force[0].affiliation_id)
    return in_force[0] if in_force else None


# -- the clause document --------------------------------------------------------------------------

_STANDARD_TEXT = (
    "le capital est versé à son conjoint non séparé de corps judiciairement ou à son partenaire lié par "
    "un pacte civil de solidarité ; à défaut, à ses enfants nés ou à naître, vivants ou représentés, par "
    "parts égales entre eux ; à défaut, à ses père et mère par parts égales entre eux ou au survivant "
    "d'entre eux pour la totalité ; à défaut, à ses héritiers en proportion de leurs parts héréditaires."
)
_LAPSE_TEXT = {
    LapseRule.PRO_RATA: (
        "Si un bénéficiaire est décédé avant l'assuré ou renonce au bénéfice du contrat, sa part est "
        "répartie entre les autres bénéficiaires du même rang au prorata de leurs parts."
    ),
    LapseRule.STANDARD_CLAUSE: (
        "Si un bénéficiaire est décédé avant l'assuré ou renonce au bénéfice du contrat, sa part est "
        "versée selon la désignation standard ci-dessous."
    ),
}


def _percent_text(share: Decimal) -> str:
    text = format(share.normalize(), "f")
    return text.replace(".", ",") + " %"


def _beneficiary_text(beneficiary: NamedBeneficiary) -> str:
    name = beneficiary.name
    parts = [name.display]
    if name.usage_name is not None and name.usage_name != name.birth_name:
        parts[0] += f" (nom de naissance {name.birth_name})"
    parts.append(f"né(e) le {beneficiary.birth_date:%d/%m/%Y}")
    parts.append(beneficiary.relationship.label)
    if beneficiary.address is not None:
        parts.append("demeurant " + ", ".join(beneficiary.address.postal_lines()))
    return f"- {', '.join(parts)} : {_percent_text(beneficiary.share)}"


def render_clause_text(designation: Designation) -> str:
    """The French clause document the member signs; its UTF-8 SHA-256 is the signature evidence.

    The text depends only on the designation's id, affiliation and clause (not on its status), is
    always French (it is the contractual document: a translation would be another document) and is
    formatted without locale data, so that the same designation always gives the same bytes. Its
    layout is versioned by :data:`CLAUSE_TEXT_MODEL`.

    >>> import datetime as dt
    >>> from mutuelle_core.designation.clauses import StandardClause
    >>> d = Designation.draft(designation_id="d1", affiliation_id="a1", member_id="m1",
    ...                       clause=StandardClause(), now=dt.datetime(2026, 5, 4, tzinfo=dt.UTC))
    >>> print(render_clause_text(d))  # doctest: +ELLIPSIS
    DÉSIGNATION DE BÉNÉFICIAIRES EN CAS DE DÉCÈS
    Modèle de texte : 1
    Désignation : d1
    Adhésion : a1
    <BLANKLINE>
    Désignation standard. En cas de décès de l'assuré, le capital est versé à son conjoint non séparé...
    """
    lines = [
        "DÉSIGNATION DE BÉNÉFICIAIRES EN CAS DE DÉCÈS",
        f"Modèle de texte : {CLAUSE_TEXT_MODEL}",
        f"Désignation : {designation.designation_id}",
        f"Adhésion : {designation.affiliation_id}",
        "",
    ]
    clause = designation.clause
    if isinstance(clause, StandardClause):
        lines.append(f"Désignation standard. En cas de décès de l'assuré, {_STANDARD_TEXT}")
    else:
        lines.append("Désignation particulière. En cas de décès de l'assuré, le capital est versé :")
        for index, rank in enumerate(clause.ranks):
            number = index + 1
            if number == 1:
                lines.append("Au rang 1 :")
            else:
                lines.append(f"À défaut de tous les bénéficiaires du rang {number - 1}, au rang {number} :")
            lines.extend(_beneficiary_text(b) for b in rank.beneficiaries)
        lines.append(_LAPSE_TEXT[clause.lapse_rule])
        lines.append(
            f"À défaut de tous les bénéficiaires désignés, selon la désignation standard : {_STANDARD_TEXT}"
        )
    lines.extend(
        [
            "",
            "Cette désignation remplace toute désignation antérieure pour cette adhésion. Elle peut être "
            "modifiée à tout moment, sauf à l'égard d'un bénéficiaire qui l'a acceptée (article L132-9 "
            "du Code des assurances).",
        ]
    )
    return "\n".join(lines) + "\n"


def clause_document_sha256(designation: Designation) -> str:
    """The SHA-256 (lowercase hexadecimal) of the UTF-8 bytes of :func:`render_clause_text`."""
    return hashlib.sha256(render_clause_text(designation).encode("utf-8")).hexdigest()
