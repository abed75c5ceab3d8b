"""Portability (L911-8 CSS): whether, how long and when, with every rounding edge."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mutuelle_core.departures.motives import DepartureMotive
from mutuelle_core.departures.portability import (
    PORTABILITY_MAX_MONTHS,
    portability_months,
    portability_period,
)
from mutuelle_core.errors import DomainError
from mutuelle_core.values.dates import DateRange, add_months, months_between_rounded_up

D = dt.date
ONE_DAY = dt.timedelta(days=1)
dates = st.dates(min_value=D(1950, 1, 1), max_value=D(2150, 12, 31))
granting = st.sampled_from([m for m in DepartureMotive if m.opens_portability])
refusing = st.sampled_from([m for m in DepartureMotive if not m.opens_portability])

# employment start, employment end, months of portability, cover start, cover end (all computed by hand)
GOLDEN = [
    # the example: 1 Jan-10 Apr 2025 is 3 whole months and 10 days -> 4 months
    (D(2025, 1, 1), D(2025, 4, 10), 4, D(2025, 4, 11), D(2025, 8, 10)),
    # exact whole months
    (D(2025, 1, 1), D(2025, 3, 31), 3, D(2025, 4, 1), D(2025, 6, 30)),
    # one day more starts a new month
    (D(2025, 1, 1), D(2025, 4, 1), 4, D(2025, 4, 2), D(2025, 8, 1)),
    # a single day of employment is one started month
    (D(2025, 6, 15), D(2025, 6, 15), 1, D(2025, 6, 16), D(2025, 7, 15)),
    # mid-month: exact month, then one day more
    (D(2025, 1, 15), D(2025, 2, 14), 1, D(2025, 2, 15), D(2025, 3, 14)),
    (D(2025, 1, 15), D(2025, 2, 15), 2, D(2025, 2, 16), D(2025, 4, 15)),
    # month ends: one month after 31 January is 28 February (clamped)
    (D(2025, 1, 31), D(2025, 2, 27), 1, D(2025, 2, 28), D(2025, 3, 27)),
    (D(2025, 1, 31), D(2025, 2, 28), 2, D(2025, 3, 1), D(2025, 4, 30)),
    # cover starting on 31 January ends on 27 February (one month after 31 January is 28 February)
    (D(2025, 1, 1), D(2025, 1, 30), 1, D(2025, 1, 31), D(2025, 2, 27)),
    # 29 February: leap years
    (D(2024, 1, 31), D(2024, 2, 28), 1, D(2024, 2, 29), D(2024, 3, 28)),
    (D(2024, 1, 31), D(2024, 2, 29), 2, D(2024, 3, 1), D(2024, 4, 30)),
    (D(2023, 12, 1), D(2024, 2, 28), 3, D(2024, 2, 29), D(2024, 5, 28)),
    (D(2024, 2, 29), D(2025, 2, 27), 12, D(2025, 2, 28), D(2026, 2, 27)),
    (D(2024, 2, 29), D(2025, 2, 28), 12, D(2025, 3, 1), D(2026, 2, 28)),  # 13 started months, capped
    # eleven exact months, then exactly a year, then a year and one day (capped)
    (D(2024, 3, 10), D(2025, 2, 9), 11, D(2025, 2, 10), D(2026, 1, 9)),
    (D(2024, 1, 1), D(2024, 12, 31), 12, D(2025, 1, 1), D(2025, 12, 31)),
    (D(2024, 1, 1), D(2025, 1, 1), 12, D(2025, 1, 2), D(2026, 1, 1)),
    # more than a year: 12
    (D(2015, 9, 1), D(2025, 6, 30), 12, D(2025, 7, 1), D(2026, 6, 30)),
    # across the year end
    (D(2025, 10, 20), D(2025, 12, 31), 3, D(2026, 1, 1), D(2026, 3, 31)),
]


@pytest.mark.parametrize(("start", "end", "months", "cover_start", "cover_end"), GOLDEN)
def test_golden_table(start: D, end: D, months: int, cover_start: D, cover_end: D) -> None:
    assert portability_months(start, end) == months
    assert portability_period(start, end, "020") == DateRange(cover_start, cover_end)


def test_the_golden_table_covers_enough_cases() -> None:
    assert len(GOLDEN) >= 12


@pytest.mark.parametrize("code", ["088", "096", "059", "039", "066", "035", "037", "038", "058", "999"])
def test_refusing_motives_give_no_portability(code: str) -> None:
    assert portability_period(D(2024, 1, 1), D(2025, 4, 10), code) is None


@pytest.mark.parametrize("code", ["011", "014", "020", "031", "032", "034", "043", "065", "087", "091"])
def test_granting_motives_give_the_period(code: str) -> None:
    assert portability_period(D(2025, 1, 1), D(2025, 4, 10), code) == DateRange(
        D(2025, 4, 11), D(2025, 8, 10)
    )


def test_motive_may_be_a_member() -> None:
    period = portability_period(D(2025, 1, 1), D(2025, 4, 10), DepartureMotive.RUPTURE_CONVENTIONNELLE)
    assert period == DateRange(D(2025, 4, 11), D(2025, 8, 10))


def test_end_before_start_is_refused() -> None:
    with pytest.raises(DomainError) as info:
        portability_months(D(2025, 4, 10), D(2025, 4, 9))
    assert info.value.code == "portability.end_before_start"
    assert info.value.field == "employment_end"
    assert (
        info.value.message()
        == "La fin du contrat de travail (09/04/2025) est antérieure à son début (10/04/2025)."
    )


@pytest.mark.parametrize("code", ["020", "088"])
def test_end_before_start_is_refused_whatever_the_motive(code: str) -> None:
    with pytest.raises(DomainError) as info:
        portability_period(D(2025, 4, 10), D(2025, 1, 1), code)
    assert info.value.code == "portability.end_before_start"


def test_unknown_motive_is_refused() -> None:
    with pytest.raises(DomainError) as info:
        portability_period(D(2025, 1, 1), D(2025, 4, 10), "000")
    assert info.value.code == "departure.unknown_motive"
    assert info.value.field == "motive"


@st.composite
def employments(draw: st.DrawFn) -> tuple[D, D]:
    start = draw(dates)
    return start, start + dt.timedelta(days=draw(st.integers(0, 3 * 366)))


@given(employments())
def test_duration_is_one_to_twelve_months(employment: tuple[D, D]) -> None:
    assert 1 <= portability_months(*employment) <= PORTABILITY_MAX_MONTHS


@given(employments(), st.integers(0, 800))
def test_duration_never_decreases_as_employment_lengthens(employment: tuple[D, D], extra: int) -> None:
    start, end = employment
    longer = portability_months(start, end + dt.timedelta(days=extra))
    earlier_start = portability_months(start - dt.timedelta(days=extra), end)
    assert longer >= portability_months(start, end)
    assert earlier_start >= portability_months(start, end)


@given(employments(), granting)
def test_cover_starts_the_day_after_employment_and_lasts_the_computed_months(
    employment: tuple[D, D], motive: DepartureMotive
) -> None:
    start, end = employment
    period = portability_period(start, end, motive)
    assert period is not None and period.end is not None
    assert period.start == end + ONE_DAY  # no gap, no overlap
    months = portability_months(start, end)
    assert months_between_rounded_up(period.start, period.end) == months
    assert period.end == add_months(period.start, months) - ONE_DAY


@given(employments(), refusing)
def test_refusing_motives_never_give_a_period(employment: tuple[D, D], motive: DepartureMotive) -> None:
    assert portability_period(*employment, motive) is None


@given(employments())
def test_duration_is_the_started_months_below_the_cap(employment: tuple[D, D]) -> None:
    start, end = employment
    months = portability_months(start, end)
    started = months_between_rounded_up(start, end)
    assert months == min(started, 12)
    if started < 12:
        assert add_months(start, months - 1) <= end < add_months(start, months)
