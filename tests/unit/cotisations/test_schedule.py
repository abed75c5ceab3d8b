"""Schedules: frequencies, due dates from the debit day, exact totals, SEPA pre-notification."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mutuelle_core.cotisations.engine import cotisation_for_month
from mutuelle_core.cotisations.rules import CollectionChannel, Payer
from mutuelle_core.cotisations.schedule import (
    Frequency,
    NoticeMode,
    Term,
    build_schedule,
    check_prenotification,
    collector,
    monthly_totals,
    spread_evenly,
)
from mutuelle_core.errors import DomainError
from mutuelle_core.values.dates import Month
from mutuelle_core.values.money import Money
from tests.unit.cotisations.seed002 import O1, agent, psc_pricing

D = dt.date
YEAR = {Month(2026, m): Money("36.00") for m in range(1, 13)}


def schedule(frequency: Frequency, **kw: object):  # type: ignore[no-untyped-def]
    values: dict[str, object] = {
        "payer_id": "M1",
        "payer": Payer.MEMBER,
        "monthly": YEAR,
        "frequency": frequency,
        "debit_day": 10,
        "channel": CollectionChannel.DIRECT_DEBIT,
    }
    values.update(kw)
    return build_schedule(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("frequency", "dues", "amount"),
    [
        (Frequency.MONTHLY, [D(2026, m, 10) for m in range(1, 13)], "36.00"),
        (Frequency.QUARTERLY, [D(2026, 1, 10), D(2026, 4, 10), D(2026, 7, 10), D(2026, 10, 10)], "108.00"),
        (Frequency.HALF_YEARLY, [D(2026, 1, 10), D(2026, 7, 10)], "216.00"),
        (Frequency.YEARLY, [D(2026, 1, 10)], "432.00"),
    ],
)
def test_frequencies_in_advance(frequency: Frequency, dues: list[dt.date], amount: str) -> None:
    s = schedule(frequency)
    assert [i.due_date for i in s.installments] == dues
    assert {i.amount for i in s.installments} == {Money(amount)}
    assert s.total == Money(432)
    assert [i.notify_by for i in s.installments] == [d - dt.timedelta(days=14) for d in dues]
    assert s.notify_by == D(2025, 12, 27)


def test_in_arrears_and_shifted_year() -> None:
    s = schedule(Frequency.QUARTERLY, term=Term.IN_ARREARS)
    assert [i.due_date for i in s.installments] == [
        D(2026, 4, 10),
        D(2026, 7, 10),
        D(2026, 10, 10),
        D(2027, 1, 10),
    ]
    shifted = schedule(Frequency.HALF_YEARLY, year_start_month=5)
    assert [(str(i.months[0]), str(i.months[-1])) for i in shifted.installments] == [
        ("2026-01", "2026-04"),
        ("2026-05", "2026-10"),
        ("2026-11", "2026-12"),
    ]
    assert shifted.installments[1].period.days == 184


def test_joining_mid_year_and_earliest_collection() -> None:
    months = {Month(2026, m): Money(36) for m in range(5, 13)}
    s = schedule(Frequency.QUARTERLY, monthly=months, earliest_collection=D(2026, 5, 20))
    # the first quarter billed is April-June with May and June only, collected on the first debit day
    # on or after 20 May
    assert [(i.due_date, i.amount) for i in s.installments] == [
        (D(2026, 6, 10), Money(72)),
        (D(2026, 7, 10), Money(108)),
        (D(2026, 10, 10), Money(108)),
    ]


def test_other_channels_have_no_prenotification_and_zero_instalments_are_dropped() -> None:
    months = {Month(2026, 1): Money(0), Month(2026, 2): Money(10)}
    s = schedule(Frequency.MONTHLY, monthly=months, channel=CollectionChannel.CHEQUE)
    assert [(i.due_date, i.notify_by) for i in s.installments] == [(D(2026, 2, 10), None)]
    assert s.notify_by is None
    per = schedule(Frequency.MONTHLY, notice=NoticeMode.PER_COLLECTION)
    assert per.notify_by is None and per.installments[0].notify_by == D(2025, 12, 27)


def test_prenotification() -> None:
    s = schedule(Frequency.MONTHLY)
    assert s.late_installments(D(2025, 12, 27)) == ()
    assert [i.due_date for i in s.late_installments(D(2026, 1, 27))] == [D(2026, 1, 10)]
    assert [i.due_date for i in s.late_installments(D(2026, 1, 28))] == [D(2026, 1, 10), D(2026, 2, 10)]
    check_prenotification(D(2026, 2, 24), D(2026, 3, 10))
    with pytest.raises(DomainError) as caught:
        check_prenotification(D(2026, 2, 25), D(2026, 3, 10))
    assert caught.value.code == "schedule.prenotification_late"
    short = schedule(Frequency.MONTHLY, prenotification_days=2)  # agreed in the mandate
    assert short.installments[0].notify_by == D(2026, 1, 8)


def test_invalid_settings() -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"debit_day": 29}, "schedule.invalid"),
        ({"year_start_month": 13}, "schedule.invalid"),
        ({"prenotification_days": 0}, "schedule.invalid"),
        ({"monthly": {Month(2026, 1): Money(-1)}}, "schedule.negative_amount"),
    ]
    for kw, code in cases:
        with pytest.raises(DomainError) as caught:
            schedule(Frequency.MONTHLY, **kw)
        assert caught.value.code == code


def test_engine_lines_go_to_the_collecting_payer() -> None:
    pricing = psc_pricing()
    months = [Month(2026, m) for m in range(5, 8)]
    lines = {m: cotisation_for_month(agent(O1, spouse=True), m, pricing) for m in months}
    assert {collector(line) for line in lines[months[0]] if line.payer is Payer.MEMBER} == {
        Payer.EMPLOYER,
        Payer.MEMBER,
    }
    member = monthly_totals(lines, Payer.MEMBER)
    employer = monthly_totals(lines, Payer.EMPLOYER)
    assert set(member.values()) == {Money(26)}  # 12 + 10 + 4, debited from the agent's account
    assert set(employer.values()) == {Money("58.51")}  # both halves of the base
    s = build_schedule(
        payer_id="AG",
        payer=Payer.MEMBER,
        monthly=member,
        frequency=Frequency.MONTHLY,
        debit_day=5,
        channel=CollectionChannel.DIRECT_DEBIT,
    )
    assert s.total == Money(78)


def test_spread_evenly() -> None:
    assert spread_evenly(Money("100.00"), 3) == [Money("33.34"), Money("33.33"), Money("33.33")]
    with pytest.raises(DomainError):
        spread_evenly(Money(1), 0)


@given(
    amounts=st.dictionaries(
        st.builds(Month, st.integers(2024, 2027), st.integers(1, 12)),
        st.integers(0, 10**7).map(Money.cents),
        max_size=36,
    ),
    frequency=st.sampled_from(Frequency),
    term=st.sampled_from(Term),
    debit_day=st.integers(1, 28),
    start=st.integers(1, 12),
    earliest=st.one_of(st.none(), st.dates(D(2023, 1, 1), D(2028, 1, 1))),
)
def test_a_schedule_adds_up_to_the_period_cotisation(
    amounts: dict[Month, Money],
    frequency: Frequency,
    term: Term,
    debit_day: int,
    start: int,
    earliest: dt.date | None,
) -> None:
    s = schedule(
        frequency,
        monthly=amounts,
        term=term,
        debit_day=debit_day,
        year_start_month=start,
        earliest_collection=earliest,
    )
    assert s.total == Money.total(amounts.values())
    covered = [m for i in s.installments for m in i.months]
    assert len(covered) == len(set(covered))
    for i in s.installments:
        assert i.amount == Money.total(amounts[m] for m in i.months)
        assert i.amount.is_positive
        assert i.due_date.day == debit_day
        assert earliest is None or i.due_date >= earliest
        if term is Term.IN_ADVANCE:
            assert i.due_date >= D(i.months[0].year, i.months[0].month, debit_day)
        else:
            assert i.due_date > i.months[-1].last_day
        assert i.notify_by == i.due_date - dt.timedelta(days=14)
        assert len({(m.year * 12 + m.month - start) // frequency.months for m in i.months}) == 1


@given(total=st.integers(0, 10**9).map(Money.cents), parts=st.integers(1, 12))
def test_even_spread_adds_up(total: Money, parts: int) -> None:
    shares = spread_evenly(total, parts)
    assert Money.total(shares) == total
    assert max(shares) - min(shares) <= Money.cents(1)
