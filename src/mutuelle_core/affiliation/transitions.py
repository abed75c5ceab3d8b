"""The affiliation state machine, as an explicit table: state × action → state, with guards.

This table is the single source of truth: the :class:`~mutuelle_core.affiliation.affiliation.Affiliation`
aggregate applies it, the documentation prints it (:func:`transition_table_markdown`), and the stateful
property test explores it. An action absent from the table for the current state raises
``state.transition_not_allowed`` naming the state and the action.

Statuses (seeds 000 and 003): en attente, en cours, à relancer, lien expiré, en contrôle, affilié(e),
en erreur (rejected at control with reasons, correctable), refusée (final refusal at control),
dispense demandée, dispensé(e), clôturé, retiré du suivi; radié(e) and en portabilité arrive with the
departures slice (their rows are reserved below).

The target ``RESUME`` means "back to *en cours* if the employee had started the journey, to *en
attente* otherwise".

>>> from mutuelle_core.affiliation.transitions import Action, AffiliationStatus, allowed_actions
>>> sorted(a.value for a in allowed_actions(AffiliationStatus.CLOSED))
['consult']
>>> AffiliationStatus.TO_REMIND.label
'À relancer'
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

import attrs

from mutuelle_core.i18n import message

__all__ = [
    "RESUME",
    "TRANSITIONS",
    "Action",
    "AffiliationStatus",
    "FollowUpFilter",
    "Transition",
    "allowed_actions",
    "transition_table_markdown",
]


class AffiliationStatus(enum.Enum):
    """Where an employee's affiliation stands."""

    INVITED = "invited"
    IN_PROGRESS = "in_progress"
    TO_REMIND = "to_remind"
    LINK_EXPIRED = "link_expired"
    SUBMITTED = "submitted"
    AFFILIATED = "affiliated"
    REJECTED = "rejected"
    REFUSED = "refused"
    DISPENSE_REQUESTED = "dispense_requested"
    DISPENSED = "dispensed"
    CLOSED = "closed"
    REMOVED = "removed"
    RADIATED = "radiated"
    PORTABILITY = "portability"
    EVIN = "evin"
    MAINTIEN = "maintien"

    @property
    def label(self) -> str:
        """The French label of the employer space."""
        return _LABELS[self]

    @property
    def is_open(self) -> bool:
        """True while the employee still has to finish (or can resume) the affiliation."""
        return self in _OPEN

    @property
    def counts_as_existing(self) -> bool:
        """True when a new invitation of the same person on the contract would be a duplicate."""
        return self not in {AffiliationStatus.CLOSED, AffiliationStatus.REMOVED, AffiliationStatus.REFUSED}


_LABELS = {
    AffiliationStatus.INVITED: message("En attente"),
    AffiliationStatus.IN_PROGRESS: message("En cours"),
    AffiliationStatus.TO_REMIND: message("À relancer"),
    AffiliationStatus.LINK_EXPIRED: message("Lien expiré"),
    AffiliationStatus.SUBMITTED: message("En contrôle"),
    AffiliationStatus.AFFILIATED: message("Affilié(e)"),
    AffiliationStatus.REJECTED: message("En erreur"),
    AffiliationStatus.REFUSED: message("Refusée"),
    AffiliationStatus.DISPENSE_REQUESTED: message("Dispense demandée"),
    AffiliationStatus.DISPENSED: message("Dispensé(e)"),
    AffiliationStatus.CLOSED: message("Clôturé"),
    AffiliationStatus.REMOVED: message("Retiré du suivi"),
    AffiliationStatus.RADIATED: message("Radié(e)"),
    AffiliationStatus.PORTABILITY: message("En portabilité"),
    AffiliationStatus.EVIN: message("Maintien individuel (loi Evin)"),
    AffiliationStatus.MAINTIEN: message("Maintien après décès"),
}

_OPEN = frozenset(
    {
        AffiliationStatus.INVITED,
        AffiliationStatus.IN_PROGRESS,
        AffiliationStatus.TO_REMIND,
        AffiliationStatus.LINK_EXPIRED,
        AffiliationStatus.REJECTED,
    }
)


class FollowUpFilter(enum.Enum):
    """The filters of the employer's follow-up list (seed 003), each a set of statuses."""

    AFFILIATED = "affiliated"
    IN_PROGRESS = "in_progress"
    DISPENSED = "dispensed"
    TO_REMIND = "to_remind"
    RADIATED = "radiated"
    PORTABILITY = "portability"
    EVIN = "evin"
    MAINTIEN = "maintien"

    @property
    def statuses(self) -> frozenset[AffiliationStatus]:
        """The statuses the filter shows."""
        return _FILTERS[self]

    @property
    def label(self) -> str:
        """French label."""
        return _FILTER_LABELS[self]


_FILTERS = {
    FollowUpFilter.IN_PROGRESS: frozenset(
        {
            AffiliationStatus.INVITED,
            AffiliationStatus.IN_PROGRESS,
            AffiliationStatus.LINK_EXPIRED,
            AffiliationStatus.SUBMITTED,
            AffiliationStatus.REJECTED,
            AffiliationStatus.DISPENSE_REQUESTED,
        }
    ),
    FollowUpFilter.DISPENSED: frozenset({AffiliationStatus.DISPENSED}),
    FollowUpFilter.TO_REMIND: frozenset({AffiliationStatus.TO_REMIND, AffiliationStatus.LINK_EXPIRED}),
    FollowUpFilter.AFFILIATED: frozenset(
        {AffiliationStatus.AFFILIATED, AffiliationStatus.EVIN, AffiliationStatus.MAINTIEN}
    ),
    FollowUpFilter.RADIATED: frozenset({AffiliationStatus.RADIATED}),
    FollowUpFilter.PORTABILITY: frozenset({AffiliationStatus.PORTABILITY}),
}
_FILTER_LABELS = {
    FollowUpFilter.AFFILIATED: message("Affilié(e)"),
    FollowUpFilter.IN_PROGRESS: message("En cours d'affiliation"),
    FollowUpFilter.DISPENSED: message("Dispensé(e)"),
    FollowUpFilter.TO_REMIND: message("À relancer"),
    FollowUpFilter.RADIATED: message("Radié(e)"),
    FollowUpFilter.PORTABILITY: message("En portabilité"),
}


class Action(enum.Enum):
    """What can happen to an affiliation, and who does it."""

    INVITE = "invite"
    CONSULT = "consult"
    OPEN_LINK = "open_link"
    SAVE_STEP = "save_step"
    SIGN = "sign"
    SUBMIT_COMPLETE = "submit_complete"
    ACCEPT = "accept"
    REJECT = "reject"
    REFUSE = "refuse"
    FLAG_REMINDER = "flag_reminder"
    REMIND = "remind"
    EXPIRE_LINK = "expire_link"
    REQUEST_DISPENSE = "request_dispense"
    ACCEPT_DISPENSE = "accept_dispense"
    REFUSE_DISPENSE = "refuse_dispense"
    END_DISPENSE = "end_dispense"
    RENOUNCE_DISPENSE = "renounce_dispense"
    FORCE_BASE = "force_base"
    AUTO_ENROL = "auto_enrol"
    CLOSE = "close"
    REMOVE = "remove"
    RADIATE = "radiate"
    RADIATE_WITH_PORTABILITY = "radiate_with_portability"
    END_PORTABILITY = "end_portability"
    RECORD_PORTABILITY_PROOF = "record_portability_proof"
    JOIN_EVIN = "join_evin"
    JOIN_MAINTIEN = "join_maintien"
    END_CONTINUATION = "end_continuation"
    ADD_BENEFICIARY = "add_beneficiary"
    RADIATE_BENEFICIARY = "radiate_beneficiary"

    @property
    def label(self) -> str:
        """French label (used in errors and the request history)."""
        return _ACTION_LABELS[self]


_ACTION_LABELS = {
    Action.INVITE: message("inviter"),
    Action.CONSULT: message("consulter"),
    Action.OPEN_LINK: message("ouvrir le lien d'affiliation"),
    Action.SAVE_STEP: message("enregistrer une étape"),
    Action.SIGN: message("signer et envoyer"),
    Action.SUBMIT_COMPLETE: message("affiliation complète par l'employeur"),
    Action.ACCEPT: message("valider au contrôle"),
    Action.REJECT: message("rejeter au contrôle"),
    Action.REFUSE: message("refuser l'adhésion"),
    Action.FLAG_REMINDER: message("signaler à relancer"),
    Action.REMIND: message("relancer"),
    Action.EXPIRE_LINK: message("expirer le lien"),
    Action.REQUEST_DISPENSE: message("demander une dispense"),
    Action.ACCEPT_DISPENSE: message("accepter la dispense"),
    Action.REFUSE_DISPENSE: message("refuser la dispense"),
    Action.END_DISPENSE: message("terminer la dispense"),
    Action.RENOUNCE_DISPENSE: message("renoncer à la dispense"),
    Action.FORCE_BASE: message("forcer l'affiliation à la base"),
    Action.AUTO_ENROL: message("affilier automatiquement à la base"),
    Action.CLOSE: message("clôturer le dossier"),
    Action.REMOVE: message("retirer du suivi"),
    Action.RADIATE: message("radier"),
    Action.RADIATE_WITH_PORTABILITY: message("radier avec portabilité"),
    Action.END_PORTABILITY: message("mettre fin à la portabilité"),
    Action.RECORD_PORTABILITY_PROOF: message("enregistrer un justificatif de portabilité"),
    Action.JOIN_EVIN: message("adhérer au maintien Evin"),
    Action.JOIN_MAINTIEN: message("adhérer au maintien après décès"),
    Action.END_CONTINUATION: message("mettre fin au maintien"),
    Action.ADD_BENEFICIARY: message("ajouter un bénéficiaire"),
    Action.RADIATE_BENEFICIARY: message("radier un bénéficiaire"),
}


class _Resume(enum.Enum):
    RESUME = "resume"


RESUME = _Resume.RESUME
"""Target meaning: *en cours* when the journey was started, *en attente* otherwise."""

Target = AffiliationStatus | _Resume


@attrs.frozen
class Transition:
    """One row of the table."""

    source: AffiliationStatus
    action: Action
    target: Target
    guard: str | None = None
    """The rule checked before the transition (documented, enforced by the aggregate)."""
    actor: str = "system"
    """Who performs it: ``employee``, ``employer``, ``management`` or ``system`` (time-driven jobs)."""


S = AffiliationStatus
A = Action
_STARTED = (S.INVITED, S.IN_PROGRESS, S.TO_REMIND, S.REJECTED)
_ROWS: list[Transition] = []


def _rows(
    sources: Iterable[AffiliationStatus], action: Action, target: Target, guard: str | None, actor: str
) -> None:
    _ROWS.extend(Transition(s, action, target, guard, actor) for s in sources)


_rows(
    (S.INVITED, S.TO_REMIND, S.REJECTED, S.IN_PROGRESS),
    A.OPEN_LINK,
    S.IN_PROGRESS,
    "lien valide, non utilisé",
    "employee",
)
_rows(
    (S.IN_PROGRESS, S.TO_REMIND, S.REJECTED),
    A.SAVE_STEP,
    S.IN_PROGRESS,
    "données de l'étape valides",
    "employee",
)
_rows(
    (S.IN_PROGRESS, S.TO_REMIND, S.REJECTED), A.SIGN, S.SUBMITTED, "toutes les étapes complètes", "employee"
)
_rows(
    (S.INVITED, S.IN_PROGRESS, S.TO_REMIND, S.LINK_EXPIRED, S.REJECTED),
    A.SUBMIT_COMPLETE,
    S.SUBMITTED,
    "toutes les données fournies et signées",
    "employer",
)
_rows((S.SUBMITTED,), A.ACCEPT, S.AFFILIATED, None, "management")
_rows((S.SUBMITTED,), A.REJECT, S.REJECTED, "au moins un motif", "management")
_rows((S.SUBMITTED,), A.REFUSE, S.REFUSED, "au moins un motif", "management")
_rows((S.INVITED, S.IN_PROGRESS), A.FLAG_REMINDER, S.TO_REMIND, "8 jours sans action (paramètre)", "system")
_rows((S.TO_REMIND, S.LINK_EXPIRED, S.REJECTED), A.REMIND, RESUME, "nouveau lien envoyé", "employer")
_rows(
    (S.INVITED, S.IN_PROGRESS, S.TO_REMIND),
    A.EXPIRE_LINK,
    S.LINK_EXPIRED,
    "lien échu (1 mois, paramètre)",
    "system",
)
_rows(
    _STARTED,
    A.REQUEST_DISPENSE,
    S.DISPENSE_REQUESTED,
    "motif du régime, attestation, date de fin",
    "employee",
)
_rows((S.DISPENSE_REQUESTED,), A.ACCEPT_DISPENSE, S.DISPENSED, None, "management")
_rows((S.DISPENSE_REQUESTED,), A.REFUSE_DISPENSE, RESUME, "au moins un motif", "management")
_rows((S.DISPENSED,), A.END_DISPENSE, S.INVITED, "date de fin dépassée ; nouveau lien", "system")
_rows((S.DISPENSE_REQUESTED, S.DISPENSED), A.RENOUNCE_DISPENSE, RESUME, "contrat PSC uniquement", "employee")
_rows(
    (S.INVITED, S.IN_PROGRESS, S.TO_REMIND, S.LINK_EXPIRED, S.REJECTED),
    A.FORCE_BASE,
    S.AFFILIATED,
    "produit de base en vigueur",
    "employer",
)
_rows(
    (S.INVITED, S.IN_PROGRESS, S.TO_REMIND, S.LINK_EXPIRED),
    A.AUTO_ENROL,
    S.AFFILIATED,
    "délai du contrat écoulé (21 jours PSC)",
    "system",
)
_rows(
    (S.INVITED, S.IN_PROGRESS, S.TO_REMIND, S.LINK_EXPIRED, S.REJECTED, S.DISPENSE_REQUESTED),
    A.CLOSE,
    S.CLOSED,
    None,
    "employer",
)
_rows(
    (S.INVITED, S.IN_PROGRESS, S.TO_REMIND, S.LINK_EXPIRED, S.REJECTED, S.REFUSED),
    A.REMOVE,
    S.REMOVED,
    "personne ni couverte ni dispensée",
    "employer",
)

# --- departures and families ---------------------------------------------------------------------
_rows((S.AFFILIATED,), A.RADIATE, S.RADIATED, "motif sans portabilité (L911-8)", "employer")
_rows(
    (S.AFFILIATED,),
    A.RADIATE_WITH_PORTABILITY,
    S.PORTABILITY,
    "motif ouvrant la portabilité, groupe P",
    "employer",
)
_rows((S.PORTABILITY,), A.RECORD_PORTABILITY_PROOF, S.PORTABILITY, "justificatif d'indemnisation", "employee")
_rows(
    (S.PORTABILITY,),
    A.END_PORTABILITY,
    S.RADIATED,
    "reprise d'emploi, fin d'indemnisation ou terme",
    "employee",
)
_rows(
    (S.RADIATED,),
    A.JOIN_EVIN,
    S.EVIN,
    "revenu de remplacement, demande dans les 6 mois, groupe E",
    "employee",
)
_rows(
    (S.RADIATED,), A.JOIN_MAINTIEN, S.MAINTIEN, "décès (066), demande dans les 6 mois, groupe M", "employee"
)
_rows((S.EVIN, S.MAINTIEN), A.END_CONTINUATION, S.RADIATED, None, "employee")
_rows((S.AFFILIATED, S.EVIN), A.ADD_BENEFICIARY, RESUME, "éligibilité du contrat", "employee")
_rows(
    (S.AFFILIATED, S.PORTABILITY, S.EVIN, S.MAINTIEN),
    A.RADIATE_BENEFICIARY,
    RESUME,
    "motif et date",
    "employee",
)

TRANSITIONS: dict[tuple[AffiliationStatus, Action], Transition] = {(t.source, t.action): t for t in _ROWS}
"""The table. ``consult`` is allowed in every state and changes nothing (not listed).

For ``add_beneficiary`` and ``radiate_beneficiary`` the target ``RESUME`` means the state is kept.
"""


def allowed_actions(status: AffiliationStatus) -> frozenset[Action]:
    """The actions possible in ``status`` (``consult`` always is)."""
    return frozenset({Action.CONSULT} | {a for (s, a) in TRANSITIONS if s is status})


def transition_table_markdown() -> str:
    """The table as Markdown, for the documentation."""
    lines = [
        "| état | action | état suivant | condition | acteur |",
        "|---|---|---|---|---|",
    ]
    for t in _ROWS:
        if t.target is RESUME:
            keeps = t.action in {Action.ADD_BENEFICIARY, Action.RADIATE_BENEFICIARY}
            target = "inchangé" if keeps else "en attente / en cours (selon l'avancement)"
        else:
            target = t.target.label
        lines.append(f"| {t.source.label} | {t.action.label} | {target} | {t.guard or '-'} | {t.actor} |")
    return "\n".join(lines)
