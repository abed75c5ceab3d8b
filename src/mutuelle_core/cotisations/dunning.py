"""Unpaid cotisations (pré-contentieux): a state machine per payer and due, with the law's day counts.

The steps, for a cotisation left unpaid (DOMAIN.md §5):

1. **10 days** after the due date the insurer may send the **mise en demeure** (to the employer when
   the employer pays or deducts the cotisation from pay, to the member otherwise);
2. **30 days** after the mise en demeure the cover is **suspended**;
3. **10 days** after that (40 days after the mise en demeure) the insurer **may terminate**;
4. the cover **resumes the day after full payment** (the codes say "at noon the day after": the
   library counts in days, so from the next day) unless it was terminated.

An optional collective scheme whose members pay the insurer directly has no suspension: the member
may be **excluded 40 days** after the mise en demeure. Membership made compulsory by a branch
agreement has **no suspension and no exclusion**: only the mise en demeure, then recovery.

Each variant is a :class:`DunningPolicy`, chosen per payer as a contract setting
(:data:`DUNNING_POLICIES`); its sources and our assumptions are in its ``sources`` text:

=================== ========================== ========= ===================================
Regime              Scope                      Notice to After the mise en demeure
=================== ========================== ========= ===================================
``L221_7``          mutuelle, individual       member    suspended +30 d, terminable +40 d
``L113_3``          insurer, individual        member    suspended +30 d, terminable +40 d
``L221_8_I``        mutuelle, collective,      employer  suspended +30 d, terminable +40 d
                    employer pays / deducts
``L221_8_II``       mutuelle, collective       member    exclusion possible +40 d
                    optional, member pays
``L221_8_III``      mutuelle, compulsory by    member    none (recovery only)
                    branch agreement
``L932_9_I``        institution de prévoyance, employer  suspended +30 d, terminable +40 d
                    employer pays / deducts
``L932_9_II``       institution, optional,     member    exclusion possible +40 d
                    member pays
``L932_9_III``      institution, compulsory by member    none (recovery only)
                    branch agreement
=================== ========================== ========= ===================================

**Day counts.** "*n* days after *D*" is the date ``D + n`` (calendar days): the mise en demeure may go
out from ``due_date + 10``; the cover is suspended from ``notice_on + 30`` and may be terminated from
``notice_on + 40`` (``L221_8_II``: exclusion from ``notice_on + 40``). The mise en demeure is dated the
day :func:`dunning_step` sends it (a letter cannot be backdated): a run that comes late sends it late
and every later date follows from the real one. The suspension and the termination right are
recorded on their legal dates even when the step runs after them. A payment received on the day a
step would take effect prevents it (the step is applied only for the days before the payment).

**Assumptions.** The state is kept per payer and per due (one mise en demeure per due); a contract
that sends one letter for all arrears can group them, the dates being the same. The codes' "frais de
poursuite" and the resumption conditioned on the fractions fallen due during the suspension are
settled by the caller, who decides when the arrears are "paid in full" (:func:`settle`). The
articles were read from their consolidated versions as we understand them: check them against
Légifrance before relying on a corner case.

The transitions are one explicit table, :data:`DUNNING_TRANSITIONS`: ``(status, event) → status``;
anything else raises ``state.transition_not_allowed``. :func:`dunning_step` applies the time-driven
events up to a day and is idempotent: running it again on the same day changes nothing.

>>> import datetime as dt
>>> from mutuelle_core.cotisations.dunning import DunningRegime, DunningState, dunning_step, settle
>>> state = DunningState.open("M1", "2026-01", dt.date(2026, 1, 5), DunningRegime.L221_7)
>>> state = dunning_step(state, dt.date(2026, 1, 15))
>>> state.status.label, state.notice_on
('Mise en demeure', datetime.date(2026, 1, 15))
>>> state = dunning_step(state, dt.date(2026, 3, 1))
>>> state.status.label, state.suspended_from, state.terminable_from
('Résiliation possible', datetime.date(2026, 2, 14), datetime.date(2026, 2, 24))
>>> dunning_step(state, dt.date(2026, 3, 1)) == state
True
>>> settled = settle(state, dt.date(2026, 3, 2))
>>> settled.status.label, settled.cover_resumes_on
('Régularisé', datetime.date(2026, 3, 3))
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping

import attrs

from mutuelle_core.cotisations.rules import DunningRegime, Payer
from mutuelle_core.errors import TRANSITION_NOT_ALLOWED, error_code
from mutuelle_core.i18n import message

__all__ = [
    "DUNNING_INVALID",
    "DUNNING_POLICIES",
    "DUNNING_TRANSITIONS",
    "CoverSituation",
    "DunningEntry",
    "DunningEvent",
    "DunningPolicy",
    "DunningRegime",
    "DunningState",
    "DunningStatus",
    "cover_situation",
    "dunning_step",
    "exclude",
    "reopen",
    "settle",
    "terminate",
    "worst_status",
]

DUNNING_INVALID = error_code("dunning.invalid_policy", "Délai de recouvrement invalide : {setting}.")


class DunningStatus(enum.Enum):
    """Where an unpaid due stands (seed 000: "Situation de pré-contentieux")."""

    PENDING = "pending"
    NOTICE_SENT = "notice_sent"
    SUSPENDED = "suspended"
    TERMINABLE = "terminable"
    EXCLUDABLE = "excludable"
    TERMINATED = "terminated"
    EXCLUDED = "excluded"
    SETTLED = "settled"

    @property
    def label(self) -> str:
        """The French label."""
        return _STATUS_LABELS[self]

    @property
    def severity(self) -> int:
        """How serious the situation is, to show a payer's worst one (0: nothing to report)."""
        return _SEVERITY[self]


_STATUS_LABELS = {
    DunningStatus.PENDING: message("Impayé"),
    DunningStatus.NOTICE_SENT: message("Mise en demeure"),
    DunningStatus.SUSPENDED: message("Garantie suspendue"),
    DunningStatus.TERMINABLE: message("Résiliation possible"),
    DunningStatus.EXCLUDABLE: message("Exclusion possible"),
    DunningStatus.TERMINATED: message("Résilié"),
    DunningStatus.EXCLUDED: message("Exclu"),
    DunningStatus.SETTLED: message("Régularisé"),
}

_SEVERITY = {
    DunningStatus.SETTLED: 0,
    DunningStatus.PENDING: 1,
    DunningStatus.NOTICE_SENT: 2,
    DunningStatus.EXCLUDABLE: 3,
    DunningStatus.SUSPENDED: 3,
    DunningStatus.TERMINABLE: 4,
    DunningStatus.EXCLUDED: 5,
    DunningStatus.TERMINATED: 5,
}


class DunningEvent(enum.Enum):
    """What moves a due through the machine: time (the first four), payment, or the insurer's decision."""

    SEND_NOTICE = "send_notice"
    SUSPEND = "suspend"
    OPEN_TERMINATION = "open_termination"
    OPEN_EXCLUSION = "open_exclusion"
    SETTLE = "settle"
    REOPEN = "reopen"
    TERMINATE = "terminate"
    EXCLUDE = "exclude"

    @property
    def label(self) -> str:
        """The French label."""
        return _EVENT_LABELS[self]


_EVENT_LABELS = {
    DunningEvent.SEND_NOTICE: message("Envoi de la mise en demeure"),
    DunningEvent.SUSPEND: message("Suspension de la garantie"),
    DunningEvent.OPEN_TERMINATION: message("Ouverture du droit de résiliation"),
    DunningEvent.OPEN_EXCLUSION: message("Ouverture du droit d'exclusion"),
    DunningEvent.SETTLE: message("Paiement intégral"),
    DunningEvent.REOPEN: message("Rejet du paiement"),
    DunningEvent.TERMINATE: message("Résiliation"),
    DunningEvent.EXCLUDE: message("Exclusion"),
}

_S, _E = DunningStatus, DunningEvent
_UNSETTLED = (_S.PENDING, _S.NOTICE_SENT, _S.SUSPENDED, _S.TERMINABLE, _S.EXCLUDABLE)

DUNNING_TRANSITIONS: Mapping[tuple[DunningStatus, DunningEvent], DunningStatus] = {
    (_S.PENDING, _E.SEND_NOTICE): _S.NOTICE_SENT,
    (_S.NOTICE_SENT, _E.SUSPEND): _S.SUSPENDED,
    (_S.SUSPENDED, _E.OPEN_TERMINATION): _S.TERMINABLE,
    (_S.NOTICE_SENT, _E.OPEN_EXCLUSION): _S.EXCLUDABLE,
    (_S.TERMINABLE, _E.TERMINATE): _S.TERMINATED,
    (_S.EXCLUDABLE, _E.EXCLUDE): _S.EXCLUDED,
    **{(status, _E.SETTLE): _S.SETTLED for status in _UNSETTLED},
    (_S.SETTLED, _E.REOPEN): _S.PENDING,
}
"""The whole machine: ``(status, event) → status``; terminated and excluded are final."""


@attrs.frozen(kw_only=True)
class DunningPolicy:
    """The day counts of one legal regime.

    Attributes:
        regime: which regime.
        notice_to: who receives the mise en demeure (the employer when it pays or deducts).
        notice_after_days: the mise en demeure may be sent this many days after the due date.
        suspension_after_notice_days: the cover is suspended this many days after the mise en
            demeure (``None``: never suspended).
        termination_after_suspension_days: the insurer may terminate this many days after the
            suspension (``None``: no termination).
        exclusion_after_notice_days: the member may be excluded this many days after the mise en
            demeure (``None``: no exclusion).
        sources: the articles and the assumptions made in reading them.
    """

    regime: DunningRegime
    notice_to: Payer
    notice_after_days: int = 10
    suspension_after_notice_days: int | None = 30
    termination_after_suspension_days: int | None = 10
    exclusion_after_notice_days: int | None = None
    sources: str = ""

    def __attrs_post_init__(self) -> None:
        delays = {
            "notice_after_days": self.notice_after_days,
            "suspension_after_notice_days": self.suspension_after_notice_days,
            "termination_after_suspension_days": self.termination_after_suspension_days,
            "exclusion_after_notice_days": self.exclusion_after_notice_days,
        }
        for name, days in delays.items():
            if days is not None and days < 0:
                raise DUNNING_INVALID(name, setting=name)
        if self.termination_after_suspension_days is not None and self.suspension_after_notice_days is None:
            raise DUNNING_INVALID(
                "termination_after_suspension_days", setting="termination without suspension"
            )

    def notice_from(self, due_date: dt.date) -> dt.date:
        """The first day the mise en demeure may be sent."""
        return due_date + dt.timedelta(days=self.notice_after_days)


_INDIVIDUAL = (
    "Code de la mutualité L221-7 (opérations individuelles) : à défaut de paiement dans les dix jours de "
    "l'échéance, la garantie ne peut être suspendue que trente jours après la mise en demeure du membre "
    "participant ; la mutuelle peut résilier dix jours après l'expiration de ce délai ; la garantie non "
    "résiliée reprend effet à midi le lendemain du paiement. Hypothèses : jours calendaires ; la mise en "
    "demeure est envoyée au plus tôt 10 jours après l'échéance ; reprise comptée à partir du lendemain."
)
_INSURER = (
    "Code des assurances L113-3 : mêmes délais que L221-7 (mise en demeure 10 jours après l'échéance, "
    "suspension 30 jours après, résiliation 10 jours plus tard, reprise le lendemain du paiement)."
)
_EMPLOYER = (
    "{article} I (opérations collectives, l'employeur paie ou précompte la cotisation) : la garantie ne "
    "peut être suspendue que trente jours après la mise en demeure de l'employeur, qui en informe les "
    "salariés ; résiliation possible dix jours après. Hypothèses : jours calendaires, mise en demeure au "
    "plus tôt 10 jours après l'échéance, reprise le lendemain du paiement."
)
_OPTIONAL = (
    "{article} II (adhésion facultative, le membre paie directement l'organisme) : exclusion possible "
    "quarante jours après la notification de la mise en demeure, envoyée au plus tôt dix jours après "
    "l'échéance ; pas de suspension."
)
_BRANCH = (
    "{article} III (adhésion rendue obligatoire par une convention de branche ou un accord professionnel "
    "ou interprofessionnel) : ni suspension ni exclusion ; seule la mise en demeure puis le recouvrement. "
    "Hypothèse (DOMAIN.md §5) : notre lecture est que l'exclusion du II est écartée et qu'aucune "
    "suspension n'est prévue."
)

DUNNING_POLICIES: Mapping[DunningRegime, DunningPolicy] = {
    DunningRegime.L221_7: DunningPolicy(
        regime=DunningRegime.L221_7, notice_to=Payer.MEMBER, sources=_INDIVIDUAL
    ),
    DunningRegime.L113_3: DunningPolicy(
        regime=DunningRegime.L113_3, notice_to=Payer.MEMBER, sources=_INSURER
    ),
    DunningRegime.L221_8_I: DunningPolicy(
        regime=DunningRegime.L221_8_I,
        notice_to=Payer.EMPLOYER,
        sources=_EMPLOYER.format(article="Code de la mutualité L221-8"),
    ),
    DunningRegime.L221_8_II: DunningPolicy(
        regime=DunningRegime.L221_8_II,
        notice_to=Payer.MEMBER,
        suspension_after_notice_days=None,
        termination_after_suspension_days=None,
        exclusion_after_notice_days=40,
        sources=_OPTIONAL.format(article="Code de la mutualité L221-8"),
    ),
    DunningRegime.L221_8_III: DunningPolicy(
        regime=DunningRegime.L221_8_III,
        notice_to=Payer.MEMBER,
        suspension_after_notice_days=None,
        termination_after_suspension_days=None,
        sources=_BRANCH.format(article="Code de la mutualité L221-8"),
    ),
    DunningRegime.L932_9_I: DunningPolicy(
        regime=DunningRegime.L932_9_I,
        notice_to=Payer.EMPLOYER,
        sources=_EMPLOYER.format(article="Code de la sécurité sociale L932-9"),
    ),
    DunningRegime.L932_9_II: DunningPolicy(
        regime=DunningRegime.L932_9_II,
        notice_to=Payer.MEMBER,
        suspension_after_notice_days=None,
        termination_after_suspension_days=None,
        exclusion_after_notice_days=40,
        sources=_OPTIONAL.format(article="Code de la sécurité sociale L932-9"),
    ),
    DunningRegime.L932_9_III: DunningPolicy(
        regime=DunningRegime.L932_9_III,
        notice_to=Payer.MEMBER,
        suspension_after_notice_days=None,
        termination_after_suspension_days=None,
        sources=_BRANCH.format(article="Code de la sécurité sociale L932-9"),
    ),
}
"""The policy of each regime, with its sources."""


@attrs.frozen
class DunningEntry:
    """A dated line of a due's dunning history."""

    on: dt.date
    event: DunningEvent
    from_status: DunningStatus
    to_status: DunningStatus


def _days(day: dt.date | None, days: int | None) -> dt.date | None:
    return None if day is None or days is None else day + dt.timedelta(days=days)


@attrs.frozen(kw_only=True)
class DunningState:
    """The dunning of one unpaid due of one payer (immutable; move it with the module's functions).

    Attributes:
        payer_id: the employer or the member.
        due_id: the due.
        due_date: its due date (the day counts start from it).
        policy: the regime's day counts.
        status: where it stands.
        notice_on: the day the mise en demeure was sent.
        suspended_from: the first day the cover is suspended.
        terminable_from: the first day the insurer may terminate.
        excludable_from: the first day the insurer may exclude the member.
        settled_on: the day of full payment.
        cover_resumes_on: the day cover resumes after a suspension (the day after full payment).
        ended_on: the day of termination or exclusion.
        history: every transition, dated.
    """

    payer_id: str
    due_id: str
    due_date: dt.date
    policy: DunningPolicy
    status: DunningStatus = DunningStatus.PENDING
    notice_on: dt.date | None = None
    suspended_from: dt.date | None = None
    terminable_from: dt.date | None = None
    excludable_from: dt.date | None = None
    settled_on: dt.date | None = None
    cover_resumes_on: dt.date | None = None
    ended_on: dt.date | None = None
    history: tuple[DunningEntry, ...] = ()

    @classmethod
    def open(
        cls, payer_id: str, due_id: str, due_date: dt.date, regime: DunningRegime | DunningPolicy
    ) -> DunningState:
        """The dunning of a due left unpaid, under a regime (or a policy of your own)."""
        policy = regime if isinstance(regime, DunningPolicy) else DUNNING_POLICIES[regime]
        return cls(payer_id=payer_id, due_id=due_id, due_date=due_date, policy=policy)

    def next_step(self) -> tuple[DunningEvent, dt.date] | None:
        """The next time-driven event and the first day it may happen, ``None`` when time alone
        moves nothing any more."""
        policy = self.policy
        if self.status is DunningStatus.PENDING:
            return DunningEvent.SEND_NOTICE, policy.notice_from(self.due_date)
        if self.status is DunningStatus.NOTICE_SENT:
            if self.suspended_from is not None:
                return DunningEvent.SUSPEND, self.suspended_from
            if self.excludable_from is not None:
                return DunningEvent.OPEN_EXCLUSION, self.excludable_from
            return None
        if self.status is DunningStatus.SUSPENDED and self.terminable_from is not None:
            return DunningEvent.OPEN_TERMINATION, self.terminable_from
        return None

    def _apply(self, event: DunningEvent, on: dt.date, **changes: object) -> DunningState:
        target = DUNNING_TRANSITIONS.get((self.status, event))
        if target is None:
            raise TRANSITION_NOT_ALLOWED("status", state=self.status.label, action=event.label)
        entry = DunningEntry(on, event, self.status, target)
        return attrs.evolve(self, status=target, history=(*self.history, entry), **changes)  # type: ignore[arg-type]


def dunning_step(state: DunningState, today: dt.date) -> DunningState:
    """Apply every time-driven step due by ``today`` (idempotent: the same day twice changes nothing).

    The mise en demeure is sent (dated ``today``) once ``due_date + notice_after_days`` is reached;
    suspension, termination right and exclusion right are then recorded on their legal dates, counted
    from the mise en demeure, as soon as ``today`` reaches them.
    """
    while True:
        step = state.next_step()
        if step is None or step[1] > today:
            return state
        event, day = step
        if event is DunningEvent.SEND_NOTICE:
            policy = state.policy
            suspended = _days(today, policy.suspension_after_notice_days)
            state = state._apply(
                event,
                today,
                notice_on=today,
                suspended_from=suspended,
                terminable_from=_days(suspended, policy.termination_after_suspension_days),
                excludable_from=_days(today, policy.exclusion_after_notice_days),
            )
        else:
            state = state._apply(event, day)


def settle(state: DunningState, paid_on: dt.date) -> DunningState:
    """The arrears are paid in full on ``paid_on``: the dunning ends, cover resumes the next day.

    Steps due before the payment day are applied first. When the cover was suspended, it resumes on
    ``paid_on + 1``; a suspension recorded for a day after the payment is cancelled.

    Raises:
        TransitionNotAllowed: on a terminated, excluded or already settled due.
    """
    state = dunning_step(state, paid_on - dt.timedelta(days=1))
    suspended = (
        state.status in {DunningStatus.SUSPENDED, DunningStatus.TERMINABLE}
        and state.suspended_from is not None
        and state.suspended_from <= paid_on
    )
    changes: dict[str, object] = {
        "settled_on": paid_on,
        "cover_resumes_on": paid_on + dt.timedelta(days=1) if suspended else None,
    }
    if not suspended:
        changes.update(suspended_from=None, terminable_from=None)
    if state.excludable_from is not None and state.status is not DunningStatus.EXCLUDABLE:
        changes["excludable_from"] = None
    return state._apply(DunningEvent.SETTLE, paid_on, **changes)


def reopen(state: DunningState, on: dt.date) -> DunningState:
    """The payment that settled the due was rejected: the due is unpaid again, dunning starts over
    (a new mise en demeure at the next step, the earlier one having been satisfied).

    Raises:
        TransitionNotAllowed: unless the due was settled.
    """
    return state._apply(
        DunningEvent.REOPEN,
        on,
        notice_on=None,
        suspended_from=None,
        terminable_from=None,
        excludable_from=None,
        settled_on=None,
        cover_resumes_on=None,
    )


def terminate(state: DunningState, on: dt.date) -> DunningState:
    """The insurer terminates the cover on ``on`` (only once the termination right is open).

    Raises:
        TransitionNotAllowed: unless the status is *résiliation possible*.
        DomainError: ``dunning.invalid_policy`` for a day before the right opened.
    """
    if state.terminable_from is not None and on < state.terminable_from:
        raise DUNNING_INVALID("on", setting=f"{on} < {state.terminable_from}")
    return state._apply(DunningEvent.TERMINATE, on, ended_on=on)


def exclude(state: DunningState, on: dt.date) -> DunningState:
    """The insurer excludes the member on ``on`` (optional schemes, once the right is open).

    Raises:
        TransitionNotAllowed: unless the status is *exclusion possible*.
        DomainError: ``dunning.invalid_policy`` for a day before the right opened.
    """
    if state.excludable_from is not None and on < state.excludable_from:
        raise DUNNING_INVALID("on", setting=f"{on} < {state.excludable_from}")
    return state._apply(DunningEvent.EXCLUDE, on, ended_on=on)


class CoverSituation(enum.Enum):
    """A payer's cover on a day, seen from its dunnings."""

    IN_FORCE = "in_force"
    SUSPENDED = "suspended"
    ENDED = "ended"


def cover_situation(states: Iterable[DunningState], day: dt.date) -> CoverSituation:
    """The cover on ``day`` given all of a payer's dunnings: ended by a termination or exclusion,
    suspended while any suspension runs (until the day after its full payment), in force otherwise."""
    suspended = False
    for s in states:
        if s.ended_on is not None and s.ended_on <= day:
            return CoverSituation.ENDED
        if (
            s.suspended_from is not None
            and s.suspended_from <= day
            and (s.cover_resumes_on is None or day < s.cover_resumes_on)
            and s.status in {DunningStatus.SUSPENDED, DunningStatus.TERMINABLE, DunningStatus.SETTLED}
        ):
            suspended = True
    return CoverSituation.SUSPENDED if suspended else CoverSituation.IN_FORCE


def worst_status(states: Iterable[DunningState]) -> DunningStatus | None:
    """A payer's most serious situation (seed 000's "Situation de pré-contentieux"; ``None``: none)."""
    worst: DunningStatus | None = None
    for s in states:
        if s.status is not DunningStatus.SETTLED and (worst is None or s.status.severity > worst.severity):
            worst = s.status
    return worst
