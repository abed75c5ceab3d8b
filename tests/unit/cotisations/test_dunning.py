"""Unpaid cotisations: the dunning state machine, its day counts per regime, idempotent steps."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mutuelle_core.cotisations.dunning import (
    DUNNING_POLICIES,
    DUNNING_TRANSITIONS,
    CoverSituation,
    DunningEvent,
    DunningPolicy,
    DunningRegime,
    DunningState,
    DunningStatus,
    cover_situation,
    dunning_step,
    exclude,
    reopen,
    settle,
    terminate,
    worst_status,
)
from mutuelle_core.cotisations.rules import Payer
from mutuelle_core.errors import DomainError, TransitionNotAllowed

D = dt.date
S = DunningStatus
DUE = D(2026, 1, 31)


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def run_daily(state: DunningState, until: dt.date) -> DunningState:
    day = state.due_date
    while day <= until:
        state = dunning_step(state, day)
        day += days(1)
    return state


def test_individual_regime_day_by_day() -> None:
    state = DunningState.open("M1", "2026-01", DUE, DunningRegime.L221_7)
    assert state.policy.notice_to is Payer.MEMBER
    assert dunning_step(state, D(2026, 2, 9)).status is S.PENDING
    state = run_daily(state, D(2026, 2, 10))
    assert (state.status, state.notice_on) == (S.NOTICE_SENT, D(2026, 2, 10))
    assert (state.suspended_from, state.terminable_from) == (D(2026, 3, 12), D(2026, 3, 22))
    assert run_daily(state, D(2026, 3, 11)).status is S.NOTICE_SENT
    state = run_daily(state, D(2026, 3, 12))
    assert state.status is S.SUSPENDED
    assert cover_situation([state], D(2026, 3, 11)) is CoverSituation.IN_FORCE
    assert cover_situation([state], D(2026, 3, 12)) is CoverSituation.SUSPENDED
    state = run_daily(state, D(2026, 3, 25))
    assert state.status is S.TERMINABLE
    assert [e.event for e in state.history] == [
        DunningEvent.SEND_NOTICE,
        DunningEvent.SUSPEND,
        DunningEvent.OPEN_TERMINATION,
    ]
    with pytest.raises(DomainError) as caught:
        terminate(state, D(2026, 3, 21))
    assert caught.value.code == "dunning.invalid_policy"
    ended = terminate(state, D(2026, 3, 25))
    assert ended.status is S.TERMINATED and cover_situation([ended], D(2026, 3, 25)) is CoverSituation.ENDED
    with pytest.raises(TransitionNotAllowed):
        settle(ended, D(2026, 4, 1))


def test_cover_resumes_the_day_after_full_payment() -> None:
    state = run_daily(DunningState.open("M1", "2026-01", DUE, DunningRegime.L221_7), D(2026, 3, 15))
    settled = settle(state, D(2026, 3, 15))
    assert (settled.status, settled.settled_on, settled.cover_resumes_on) == (
        S.SETTLED,
        D(2026, 3, 15),
        D(2026, 3, 16),
    )
    assert cover_situation([settled], D(2026, 3, 15)) is CoverSituation.SUSPENDED
    assert cover_situation([settled], D(2026, 3, 16)) is CoverSituation.IN_FORCE
    assert worst_status([settled]) is None


def test_payment_before_the_suspension_prevents_it() -> None:
    state = run_daily(DunningState.open("M1", "2026-01", DUE, DunningRegime.L221_7), D(2026, 2, 20))
    # the step has not run since 20 February; the payment arrives on the suspension day itself
    settled = settle(state, D(2026, 3, 12))
    assert settled.cover_resumes_on is None and settled.suspended_from is None
    assert cover_situation([settled], D(2026, 3, 12)) is CoverSituation.IN_FORCE
    # one day later, the suspension had begun
    late = settle(state, D(2026, 3, 13))
    assert late.suspended_from == D(2026, 3, 12) and late.cover_resumes_on == D(2026, 3, 14)
    # paid within the grace period: no mise en demeure at all
    early = settle(DunningState.open("M1", "2026-01", DUE, DunningRegime.L221_7), D(2026, 2, 3))
    assert early.notice_on is None and [e.event for e in early.history] == [DunningEvent.SETTLE]


def test_collective_employer_regime_sends_the_notice_to_the_employer() -> None:
    for regime in (DunningRegime.L221_8_I, DunningRegime.L932_9_I):
        state = run_daily(DunningState.open("EMP", "2026-T1", DUE, regime), D(2026, 3, 22))
        assert state.policy.notice_to is Payer.EMPLOYER
        assert (state.status, state.suspended_from, state.terminable_from) == (
            S.TERMINABLE,
            D(2026, 3, 12),
            D(2026, 3, 22),
        )
        assert "employeur" in state.policy.sources


def test_optional_scheme_excludes_40_days_after_the_notice_without_suspension() -> None:
    for regime in (DunningRegime.L221_8_II, DunningRegime.L932_9_II):
        state = run_daily(DunningState.open("M1", "2026-01", DUE, regime), D(2026, 3, 21))
        assert state.status is S.NOTICE_SENT and state.suspended_from is None
        assert cover_situation([state], D(2026, 3, 21)) is CoverSituation.IN_FORCE
        state = run_daily(state, D(2026, 3, 22))
        assert (state.status, state.excludable_from) == (S.EXCLUDABLE, D(2026, 3, 22))
        with pytest.raises(TransitionNotAllowed):
            terminate(state, D(2026, 3, 22))
        assert exclude(state, D(2026, 3, 30)).status is S.EXCLUDED
        assert settle(state, D(2026, 3, 25)).status is S.SETTLED


def test_branch_agreement_membership_is_never_suspended() -> None:
    for regime in (DunningRegime.L221_8_III, DunningRegime.L932_9_III):
        state = run_daily(DunningState.open("M1", "2026-01", DUE, regime), D(2026, 2, 10))
        assert state.status is S.NOTICE_SENT
        later = dunning_step(state, D(2030, 1, 1))
        assert later == state and later.next_step() is None
        assert cover_situation([later], D(2030, 1, 1)) is CoverSituation.IN_FORCE


def test_a_late_run_sends_the_notice_late_and_counts_from_it() -> None:
    state = dunning_step(DunningState.open("M1", "2026-01", DUE, DunningRegime.L221_7), D(2026, 4, 1))
    assert (state.notice_on, state.suspended_from) == (D(2026, 4, 1), D(2026, 5, 1))
    caught_up = dunning_step(state, D(2026, 6, 1))
    assert (caught_up.status, caught_up.history[-1].on) == (S.TERMINABLE, D(2026, 5, 11))


def test_rejected_payment_reopens_the_dunning() -> None:
    state = run_daily(DunningState.open("M1", "2026-01", DUE, DunningRegime.L221_7), D(2026, 3, 15))
    reopened = reopen(settle(state, D(2026, 3, 15)), D(2026, 3, 20))
    assert reopened.status is S.PENDING and reopened.notice_on is None
    again = dunning_step(reopened, D(2026, 3, 20))
    assert (again.status, again.notice_on) == (S.NOTICE_SENT, D(2026, 3, 20))
    with pytest.raises(TransitionNotAllowed):
        reopen(again, D(2026, 3, 21))


def test_worst_status_and_labels() -> None:
    a = run_daily(DunningState.open("M1", "a", DUE, DunningRegime.L221_7), D(2026, 3, 12))
    b = DunningState.open("M1", "b", D(2026, 2, 28), DunningRegime.L221_7)
    assert worst_status([a, b]) is S.SUSPENDED
    assert worst_status([]) is None
    assert S.SUSPENDED.label == "Garantie suspendue"


def test_the_table_has_no_way_out_of_termination_and_exclusion() -> None:
    assert not [key for key in DUNNING_TRANSITIONS if key[0] in {S.TERMINATED, S.EXCLUDED}]
    targets = set(DUNNING_TRANSITIONS.values()) | {S.PENDING}
    assert targets == set(S)
    assert set(DUNNING_POLICIES) == set(DunningRegime)
    assert all(policy.sources for policy in DUNNING_POLICIES.values())


def test_policy_validation() -> None:
    with pytest.raises(DomainError):
        DunningPolicy(regime=DunningRegime.L221_7, notice_to=Payer.MEMBER, notice_after_days=-1)
    with pytest.raises(DomainError):
        DunningPolicy(regime=DunningRegime.L221_7, notice_to=Payer.MEMBER, suspension_after_notice_days=None)


due_dates = st.dates(D(1996, 1, 1), D(2099, 12, 31))
month_ends = st.builds(
    lambda y, m: (D(y, m, 28) + days(4)).replace(day=1) - days(1), st.integers(1996, 2099), st.integers(1, 12)
)
leap_days = st.integers(1996, 2096).map(lambda y: D(y - y % 4, 2, 29))


def expected(due: dt.date, n: int) -> dt.date:
    """Counted independently of timedelta: through the proleptic ordinal."""
    return D.fromordinal(due.toordinal() + n)


@given(due=st.one_of(due_dates, month_ends, leap_days), regime=st.sampled_from(DunningRegime))
def test_dunning_dates_match_the_law_for_any_due_date(due: dt.date, regime: DunningRegime) -> None:
    state = DunningState.open("P", "d", due, regime)
    # step on every day an event may happen, and on the day before each (nothing must move early)
    for day in [expected(due, n) for n in (9, 10, 39, 40, 49, 50, 51)]:
        state = dunning_step(state, day)
    assert state.notice_on == expected(due, 10)
    policy = DUNNING_POLICIES[regime]
    if policy.suspension_after_notice_days is not None:
        assert state.suspended_from == expected(due, 40)
        assert state.terminable_from == expected(due, 50)
        assert state.status is S.TERMINABLE
        assert [e.on for e in state.history] == [expected(due, 10), expected(due, 40), expected(due, 50)]
    elif policy.exclusion_after_notice_days is not None:
        assert (state.suspended_from, state.excludable_from) == (None, expected(due, 50))
        assert state.status is S.EXCLUDABLE
    else:
        assert state.status is S.NOTICE_SENT and state.suspended_from is None


@given(
    due=st.one_of(due_dates, month_ends, leap_days),
    regime=st.sampled_from(DunningRegime),
    offsets=st.lists(st.integers(0, 120), min_size=1, max_size=8),
    paid_after=st.one_of(st.none(), st.integers(0, 120)),
)
def test_steps_are_idempotent_and_count_from_the_real_notice(
    due: dt.date, regime: DunningRegime, offsets: list[int], paid_after: int | None
) -> None:
    state = DunningState.open("P", "d", due, regime)
    for offset in sorted(offsets):
        today = due + days(offset)
        state = dunning_step(state, today)
        assert dunning_step(state, today) == state
    if state.notice_on is not None:
        first_run = min(o for o in offsets if o >= 10)
        assert state.notice_on == due + days(first_run)
        if state.suspended_from is not None:
            assert state.suspended_from == state.notice_on + days(30)
    if paid_after is not None and state.status not in {S.TERMINATED, S.EXCLUDED}:
        paid_on = due + days(paid_after)
        if state.history and state.history[-1].on > paid_on:
            return
        settled = settle(state, paid_on)
        if settled.suspended_from is not None:
            assert settled.cover_resumes_on == paid_on + days(1)
            assert settled.suspended_from <= paid_on
        assert cover_situation([settled], paid_on + days(1)) is CoverSituation.IN_FORCE
