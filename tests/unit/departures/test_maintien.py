"""Maintien after death (loi 89-1009 art. 4): twelve months at least, on request within six months."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mutuelle_core.departures.maintien import (
    check_maintien_request,
    maintien_period,
    maintien_request_deadline,
)
from mutuelle_core.errors import DomainError
from mutuelle_core.values.dates import DateRange, add_months

D = dt.date
dates = st.dates(min_value=D(1950, 1, 1), max_value=D(2150, 12, 31))


@pytest.mark.parametrize(
    ("death", "period", "deadline"),
    [
        (D(2025, 3, 15), DateRange(D(2025, 3, 16), D(2026, 3, 15)), D(2025, 9, 15)),
        (D(2024, 12, 31), DateRange(D(2025, 1, 1), D(2025, 12, 31)), D(2025, 6, 30)),
        (D(2024, 2, 29), DateRange(D(2024, 3, 1), D(2025, 2, 28)), D(2024, 8, 29)),
        (D(2024, 2, 28), DateRange(D(2024, 2, 29), D(2025, 2, 28)), D(2024, 8, 28)),
        (D(2025, 8, 31), DateRange(D(2025, 9, 1), D(2026, 8, 31)), D(2026, 2, 28)),
    ],
)
def test_period_and_deadline(death: D, period: DateRange, deadline: D) -> None:
    assert maintien_period(death, death) == period
    assert maintien_request_deadline(death) == deadline
    assert maintien_period(death, deadline) == period


def test_longer_maintien_granted_by_the_contract() -> None:
    assert maintien_period(D(2025, 3, 15), D(2025, 4, 1), months=24) == DateRange(
        D(2025, 3, 16), D(2027, 3, 15)
    )


def test_less_than_twelve_months_is_refused() -> None:
    with pytest.raises(DomainError) as info:
        maintien_period(D(2025, 3, 15), D(2025, 4, 1), months=11)
    assert info.value.code == "maintien.duration_too_short"
    assert info.value.field == "months"
    assert info.value.message() == "La durée du maintien (11 mois) ne peut être inférieure à 12 mois."


def test_request_the_day_after_the_deadline_is_too_late() -> None:
    with pytest.raises(DomainError) as info:
        maintien_period(D(2025, 3, 15), D(2025, 9, 16))
    err = info.value
    assert err.code == "maintien.request_too_late"
    assert err.field == "requested_on"
    assert err.params["deadline"] == D(2025, 9, 15)
    assert err.message() == (
        "La demande de maintien du 16/09/2025 est tardive : elle devait être faite au plus tard le "
        "15/09/2025, 6 mois après le décès (15/03/2025)."
    )


def test_request_before_the_death_is_refused() -> None:
    with pytest.raises(DomainError) as info:
        check_maintien_request(D(2025, 3, 15), D(2025, 3, 14))
    assert info.value.code == "maintien.request_before_death"
    assert info.value.field == "requested_on"


@given(dates, st.integers(0, 183))
def test_cover_follows_the_death_for_at_least_twelve_months(death: D, delay: int) -> None:
    requested_on = death + dt.timedelta(days=delay)
    if requested_on > maintien_request_deadline(death):
        return
    period = maintien_period(death, requested_on)
    assert period.start == death + dt.timedelta(days=1)
    assert period.end == add_months(death, 12)
    assert period.days is not None and period.days >= 365


@given(dates, dates)
def test_request_check_agrees_with_the_deadline(death: D, requested_on: D) -> None:
    if death <= requested_on <= maintien_request_deadline(death):
        check_maintien_request(death, requested_on)
    else:
        with pytest.raises(DomainError):
            check_maintien_request(death, requested_on)
