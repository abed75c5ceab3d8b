"""Evin (loi 89-1009 art. 4, décret 2017-372): price caps by year and the offer and request windows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mutuelle_core.departures.evin import (
    EVIN_REFORM_DATE,
    check_evin_request,
    evin_offer_deadline,
    evin_price_cap,
    evin_request_deadline,
    evin_year,
)
from mutuelle_core.errors import DomainError
from mutuelle_core.values.dates import add_months

D = dt.date
dates = st.dates(min_value=D(1990, 1, 1), max_value=D(2150, 12, 31))

CAP_100, CAP_125, CAP_150 = Decimal("1.00"), Decimal("1.25"), Decimal("1.50")


@pytest.mark.parametrize(
    ("on", "year", "cap"),
    [
        (D(2018, 3, 15), 1, CAP_100),  # first day
        (D(2019, 3, 14), 1, CAP_100),  # last day of year 1
        (D(2019, 3, 15), 2, CAP_125),  # first anniversary
        (D(2020, 3, 14), 2, CAP_125),
        (D(2020, 3, 15), 3, CAP_150),  # second anniversary
        (D(2021, 3, 14), 3, CAP_150),
        (D(2021, 3, 15), 4, None),  # third anniversary: no cap any more
        (D(2040, 1, 1), 22, None),
    ],
)
def test_progressive_caps_from_1_july_2017(on: D, year: int, cap: Decimal | None) -> None:
    assert evin_year(D(2018, 3, 15), on) == year
    assert evin_price_cap(D(2018, 3, 15), on) == cap


@pytest.mark.parametrize(
    ("on", "cap"),
    [
        (D(2017, 7, 1), CAP_100),
        (D(2018, 6, 30), CAP_100),
        (D(2018, 7, 1), CAP_125),
        (D(2019, 6, 30), CAP_125),
        (D(2019, 7, 1), CAP_150),
        (D(2020, 6, 30), CAP_150),
        (D(2020, 7, 1), None),
    ],
)
def test_adhesion_on_1_july_2017_is_under_the_new_rules(on: D, cap: Decimal | None) -> None:
    assert D(2017, 7, 1) == EVIN_REFORM_DATE
    assert evin_price_cap(D(2017, 7, 1), on) == cap


@pytest.mark.parametrize(
    "on", [D(2017, 6, 30), D(2018, 6, 29), D(2018, 6, 30), D(2019, 6, 30), D(2020, 6, 30), D(2030, 1, 1)]
)
def test_adhesion_on_30_june_2017_keeps_150_percent_every_year(on: D) -> None:
    assert evin_price_cap(D(2017, 6, 30), on) == CAP_150


def test_old_adhesions_are_capped_at_150_percent_from_year_one() -> None:
    assert evin_price_cap(D(2009, 1, 1), D(2009, 1, 1)) == CAP_150
    assert evin_price_cap(D(2009, 1, 1), D(2026, 5, 1)) == CAP_150


def test_adhesion_on_29_february_enters_a_new_year_on_28_february() -> None:
    start = D(2024, 2, 29)
    assert [
        evin_year(start, on) for on in (D(2025, 2, 27), D(2025, 2, 28), D(2026, 2, 28), D(2028, 2, 28))
    ] == [
        1,
        2,
        3,
        4,
    ]
    assert evin_year(start, D(2028, 2, 29)) == 5  # leap year: the anniversary is 29 February again
    assert evin_price_cap(start, D(2026, 2, 27)) == CAP_125
    assert evin_price_cap(start, D(2027, 2, 28)) is None


def test_a_date_before_the_adhesion_is_refused() -> None:
    with pytest.raises(DomainError) as info:
        evin_price_cap(D(2025, 1, 1), D(2024, 12, 31))
    assert info.value.code == "evin.date_before_start"
    assert info.value.field == "on"
    assert (
        info.value.message()
        == "La date du 31/12/2024 est antérieure au début de l'adhésion Evin (01/01/2025)."
    )


@pytest.mark.parametrize(
    ("reference", "offer", "request_by"),
    [
        (D(2025, 4, 10), D(2025, 6, 10), D(2025, 10, 10)),
        (D(2025, 8, 31), D(2025, 10, 31), D(2026, 2, 28)),
        (D(2023, 8, 31), D(2023, 10, 31), D(2024, 2, 29)),
        (D(2025, 12, 31), D(2026, 2, 28), D(2026, 6, 30)),
    ],
)
def test_offer_and_request_deadlines(reference: D, offer: D, request_by: D) -> None:
    assert evin_offer_deadline(reference) == offer
    assert evin_request_deadline(reference) == request_by


@pytest.mark.parametrize("requested_on", [D(2025, 3, 1), D(2025, 4, 10), D(2025, 4, 11), D(2025, 10, 10)])
def test_requests_up_to_the_deadline_are_accepted(requested_on: D) -> None:
    check_evin_request(D(2025, 4, 10), requested_on)


def test_a_request_the_day_after_the_deadline_is_too_late() -> None:
    with pytest.raises(DomainError) as info:
        check_evin_request(D(2025, 4, 10), D(2025, 10, 11))
    err = info.value
    assert err.code == "evin.request_too_late"
    assert err.field == "requested_on"
    assert err.params["deadline"] == D(2025, 10, 10)
    assert "10/10/2025" in err.message()


@given(dates, st.integers(0, 80))
def test_year_k_starts_on_the_anniversary(start: D, k: int) -> None:
    anniversary = add_months(start, 12 * k)
    assert evin_year(start, anniversary) == k + 1
    if anniversary > start:
        assert evin_year(start, anniversary - dt.timedelta(days=1)) == k


@given(dates, st.integers(0, 20_000), st.integers(0, 2_000))
def test_year_never_decreases_and_caps_follow_the_year(start: D, days: int, more: int) -> None:
    on = start + dt.timedelta(days=days)
    later = on + dt.timedelta(days=more)
    assert 1 <= evin_year(start, on) <= evin_year(start, later)
    cap = evin_price_cap(start, on)
    if start < EVIN_REFORM_DATE:
        assert cap == CAP_150
    else:
        assert cap == {1: CAP_100, 2: CAP_125, 3: CAP_150}.get(evin_year(start, on))


@given(dates, dates)
def test_request_check_agrees_with_the_deadline(reference: D, requested_on: D) -> None:
    if requested_on <= evin_request_deadline(reference):
        check_evin_request(reference, requested_on)
    else:
        with pytest.raises(DomainError):
            check_evin_request(reference, requested_on)
