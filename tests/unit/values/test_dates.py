"""Dates: inclusive ranges, month arithmetic clamped to month ends, started months, ages, months."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mutuelle_core.errors import DomainError, registered_codes
from mutuelle_core.i18n import translate
from mutuelle_core.values.dates import (
    DateRange,
    Month,
    add_months,
    age_on,
    days_in_month,
    first_day_of_month,
    last_day_of_month,
    months_between_rounded_up,
)

D = dt.date
dates = st.dates(min_value=D(1900, 1, 1), max_value=D(2200, 12, 31))


@st.composite
def ranges(draw: st.DrawFn) -> DateRange:
    start = draw(dates)
    if draw(st.booleans()):
        return DateRange(start, None)
    return DateRange(start, start + dt.timedelta(days=draw(st.integers(0, 2000))))


@st.composite
def ordered_pairs(draw: st.DrawFn) -> tuple[dt.date, dt.date]:
    start = draw(dates)
    end = start + dt.timedelta(days=draw(st.integers(0, 3000)))
    return start, end


# -- DateRange ------------------------------------------------------------------------------------


def test_range_is_inclusive() -> None:
    q1 = DateRange(D(2025, 1, 1), D(2025, 3, 31))
    assert q1.contains(D(2025, 1, 1))
    assert q1.contains(D(2025, 3, 31))
    assert not q1.contains(D(2024, 12, 31))
    assert not q1.contains(D(2025, 4, 1))
    assert D(2025, 2, 14) in q1
    assert "2025-02-14" not in q1
    assert q1.days == 90
    assert not q1.is_open


def test_one_day_range() -> None:
    day = DateRange(D(2025, 5, 1), D(2025, 5, 1))
    assert day.days == 1
    assert day.contains(D(2025, 5, 1))


def test_open_range() -> None:
    cover = DateRange(D(2025, 1, 1))
    assert cover.end is None
    assert cover.is_open
    assert cover.days is None
    assert cover.contains(D(9999, 12, 31))
    assert not cover.contains(D(2024, 12, 31))


def test_end_before_start_refused() -> None:
    with pytest.raises(DomainError) as caught:
        DateRange(D(2025, 2, 1), D(2025, 1, 31))
    assert caught.value.code == "dates.end_before_start"
    assert caught.value.field == "end"
    assert (
        caught.value.message()
        == "La date de fin (31/01/2025) est antérieure à la date de début (01/02/2025)."
    )


def test_overlaps_and_intersection() -> None:
    jan = DateRange(D(2025, 1, 1), D(2025, 1, 31))
    feb = DateRange(D(2025, 2, 1), D(2025, 2, 28))
    from_jan_31 = DateRange(D(2025, 1, 31), None)
    assert not jan.overlaps(feb)
    assert jan.intersection(feb) is None
    assert jan.overlaps(from_jan_31)
    assert jan.intersection(from_jan_31) == DateRange(D(2025, 1, 31), D(2025, 1, 31))
    assert DateRange(D(2020, 1, 1)).intersection(DateRange(D(2021, 1, 1))) == DateRange(D(2021, 1, 1))
    assert jan.intersection(DateRange(D(2024, 1, 1), D(2026, 1, 1))) == jan


def test_of_month_and_months() -> None:
    assert DateRange.of_month(Month(2024, 2)) == DateRange(D(2024, 2, 1), D(2024, 2, 29))
    span = DateRange(D(2025, 11, 30), D(2026, 2, 1))
    assert list(span.months()) == [Month(2025, 11), Month(2025, 12), Month(2026, 1), Month(2026, 2)]
    assert list(DateRange(D(2025, 3, 5), D(2025, 3, 5)).months()) == [Month(2025, 3)]
    with pytest.raises(ValueError, match="open-ended"):
        DateRange(D(2025, 1, 1)).months()


@given(ranges(), ranges())
def test_overlap_is_symmetric(a: DateRange, b: DateRange) -> None:
    assert a.overlaps(b) == b.overlaps(a)
    assert a.intersection(b) == b.intersection(a)
    assert a.overlaps(a)


@given(ranges(), ranges(), dates)
def test_intersection_contains_exactly_the_common_days(a: DateRange, b: DateRange, day: dt.date) -> None:
    common = a.intersection(b)
    assert (common is not None) == a.overlaps(b)
    in_both = a.contains(day) and b.contains(day)
    assert (common is not None and common.contains(day)) == in_both


@given(ranges())
def test_days_counts_contained_days(r: DateRange) -> None:
    if r.end is not None:
        assert r.days == sum(1 for i in range(r.days or 0) if r.contains(r.start + dt.timedelta(days=i)))
        assert not r.contains(r.end + dt.timedelta(days=1))
        months = list(r.months())
        assert months[0].contains(r.start)
        assert months[-1].contains(r.end)


# -- month arithmetic -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2025, 1, 31), 1, D(2025, 2, 28)),
        (D(2024, 1, 31), 1, D(2024, 2, 29)),
        (D(2025, 1, 15), 1, D(2025, 2, 15)),
        (D(2025, 3, 31), -1, D(2025, 2, 28)),
        (D(2025, 12, 31), 2, D(2026, 2, 28)),
        (D(2024, 2, 29), 12, D(2025, 2, 28)),
        (D(2024, 2, 29), 48, D(2028, 2, 29)),
        (D(2025, 5, 31), 1, D(2025, 6, 30)),
        (D(2025, 1, 1), 0, D(2025, 1, 1)),
        (D(2025, 1, 1), -13, D(2023, 12, 1)),
    ],
)
def test_add_months(day: dt.date, months: int, expected: dt.date) -> None:
    assert add_months(day, months) == expected


@given(dates, st.integers(-600, 600))
def test_add_months_clamps_and_moves_whole_months(day: dt.date, n: int) -> None:
    moved = add_months(day, n)
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == n
    assert moved.day == min(day.day, days_in_month(moved.year, moved.month))


@given(dates, st.integers(-600, 600))
def test_add_months_is_strictly_increasing(day: dt.date, n: int) -> None:
    assert add_months(day, n) < add_months(day, n + 1)


def test_month_helpers() -> None:
    assert first_day_of_month(D(2025, 2, 17)) == D(2025, 2, 1)
    assert last_day_of_month(D(2024, 2, 3)) == D(2024, 2, 29)
    assert last_day_of_month(D(2025, 2, 3)) == D(2025, 2, 28)
    assert last_day_of_month(D(2025, 12, 3)) == D(2025, 12, 31)
    assert days_in_month(2100, 2) == 28
    assert days_in_month(2000, 2) == 29


# -- months_between_rounded_up --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (D(2025, 1, 1), D(2025, 4, 10), 4),
        (D(2025, 1, 1), D(2025, 3, 31), 3),
        (D(2025, 1, 1), D(2025, 4, 1), 4),
        (D(2025, 1, 1), D(2025, 1, 1), 1),
        (D(2025, 1, 1), D(2025, 1, 31), 1),
        (D(2025, 1, 1), D(2025, 2, 1), 2),
        (D(2025, 1, 15), D(2025, 2, 14), 1),
        (D(2025, 1, 15), D(2025, 2, 15), 2),
        (D(2025, 1, 31), D(2025, 2, 27), 1),
        (D(2025, 1, 31), D(2025, 2, 28), 2),
        (D(2025, 1, 30), D(2025, 2, 28), 2),
        (D(2024, 1, 31), D(2024, 2, 28), 1),
        (D(2024, 1, 31), D(2024, 2, 29), 2),
        (D(2024, 2, 29), D(2025, 2, 27), 12),
        (D(2024, 2, 29), D(2025, 2, 28), 13),
        (D(2025, 2, 28), D(2025, 3, 27), 1),
        (D(2025, 2, 28), D(2025, 3, 28), 2),
        (D(2024, 3, 1), D(2025, 2, 28), 12),
        (D(2023, 6, 12), D(2025, 6, 11), 24),
    ],
)
def test_months_between_rounded_up_examples(start: dt.date, end: dt.date, expected: int) -> None:
    assert months_between_rounded_up(start, end) == expected


def test_months_between_refuses_reversed_period() -> None:
    with pytest.raises(DomainError) as caught:
        months_between_rounded_up(D(2025, 2, 1), D(2025, 1, 31))
    assert caught.value.code == "dates.end_before_start"


def test_months_between_near_the_end_of_the_calendar() -> None:
    assert months_between_rounded_up(D(9999, 12, 1), D(9999, 12, 31)) == 1
    assert months_between_rounded_up(D(9999, 1, 1), D(9999, 12, 31)) == 12


@given(ordered_pairs())
def test_months_between_brackets_the_end(pair: tuple[dt.date, dt.date]) -> None:
    start, end = pair
    n = months_between_rounded_up(start, end)
    assert n >= 1
    assert add_months(start, n - 1) <= end < add_months(start, n)


@given(ordered_pairs(), st.integers(0, 400))
def test_months_between_is_monotonic_in_end(pair: tuple[dt.date, dt.date], extra: int) -> None:
    start, end = pair
    later = end + dt.timedelta(days=extra)
    assert months_between_rounded_up(start, end) <= months_between_rounded_up(start, later)


@given(dates, st.integers(1, 300))
def test_a_whole_number_of_months_is_counted_exactly(start: dt.date, n: int) -> None:
    # the day before the n-th monthly anniversary closes exactly n months
    end = add_months(start, n) - dt.timedelta(days=1)
    assert months_between_rounded_up(start, end) == n


# -- age ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        (D(1990, 6, 15), D(2025, 6, 14), 34),
        (D(1990, 6, 15), D(2025, 6, 15), 35),
        (D(1990, 6, 15), D(1990, 6, 15), 0),
        (D(2004, 2, 29), D(2025, 2, 28), 20),
        (D(2004, 2, 29), D(2025, 3, 1), 21),
        (D(2004, 2, 29), D(2028, 2, 28), 23),
        (D(2004, 2, 29), D(2028, 2, 29), 24),
        (D(1999, 12, 31), D(2025, 1, 1), 25),
    ],
)
def test_age_on(birth: dt.date, on: dt.date, age: int) -> None:
    assert age_on(birth, on) == age


def test_age_before_birth_refused() -> None:
    with pytest.raises(DomainError) as caught:
        age_on(D(2000, 1, 2), D(2000, 1, 1))
    assert caught.value.code == "dates.before_birth"


@given(ordered_pairs())
def test_age_is_consistent_with_anniversaries(pair: tuple[dt.date, dt.date]) -> None:
    birth, on = pair
    age = age_on(birth, on)
    assert age >= 0

    # the age-th anniversary (29 Feb -> 1 Mar in common years) is passed, the next one is not
    def anniversary(years: int) -> dt.date:
        try:
            return birth.replace(year=birth.year + years)
        except ValueError:
            return D(birth.year + years, 3, 1)

    assert anniversary(age) <= on < anniversary(age + 1)


# -- Month ----------------------------------------------------------------------------------------


def test_month_basics() -> None:
    may = Month.parse("2026-05")
    assert may == Month(2026, 5)
    assert may.first_day == D(2026, 5, 1)
    assert may.last_day == D(2026, 5, 31)
    assert may.days_in_month == 31
    assert may.next() == Month(2026, 6)
    assert Month(2025, 12).next() == Month(2026, 1)
    assert Month(2025, 1).previous() == Month(2024, 12)
    assert Month(2025, 1).shift(-13) == Month(2023, 12)
    assert Month(2024, 2).days_in_month == 29
    assert str(may) == "2026-05"
    assert Month.of(D(2026, 5, 17)) == may
    assert may.contains(D(2026, 5, 31))
    assert not may.contains(D(2025, 5, 31))
    assert Month.parse(" 0999-01 ") == Month(999, 1)


def test_month_ordering() -> None:
    assert Month(2025, 12) < Month(2026, 1) < Month(2026, 2)
    assert sorted([Month(2026, 1), Month(2024, 7), Month(2025, 12)]) == [
        Month(2024, 7),
        Month(2025, 12),
        Month(2026, 1),
    ]
    assert len({Month(2025, 1), Month.parse("2025-01")}) == 1


@pytest.mark.parametrize("text", ["2026-5", "2026-13", "2026-00", "05/2026", "2026-05-01", "", "abcd-ef"])
def test_month_parse_refuses(text: str) -> None:
    with pytest.raises(DomainError) as caught:
        Month.parse(text)
    assert caught.value.code == "dates.invalid_month"


@pytest.mark.parametrize(("year", "month"), [(2025, 0), (2025, 13), (0, 1), (10000, 1)])
def test_month_constructor_refuses(year: int, month: int) -> None:
    with pytest.raises(DomainError) as caught:
        Month(year, month)
    assert caught.value.code == "dates.invalid_month"


@given(st.integers(1, 9998), st.integers(1, 12), st.integers(-100, 100))
def test_month_shift_round_trips(year: int, month: int, n: int) -> None:
    m = Month(year, month)
    if 1 < year + n // 12 < 9998:
        assert m.shift(n).shift(-n) == m
        assert (m.shift(n) > m) == (n > 0)
        assert m.shift(n).first_day == add_months(m.first_day, n)
    assert Month.parse(str(m)) == m
    assert m.next().previous() == m


@pytest.mark.parametrize(
    "code",
    ["dates.end_before_start", "dates.invalid_month", "dates.before_birth"],
)
def test_messages_are_translated_to_english(code: str) -> None:
    template = registered_codes()[code].template
    english = translate(template, "en")
    assert english != template
    assert sorted(re.findall(r"{\w+}", english)) == sorted(re.findall(r"{\w+}", template))
