"""Maintien after the employee's death: continued cover of the people covered through the deceased.

Article 4 of loi 89-1009 ("loi Evin") obliges the insurer to keep covering the people who were covered
through a deceased employee (spouse, children, other beneficiaries **on the date of death**) for **at
least 12 months from the death**, provided they **ask within 6 months** of the death. The departure
motive is DSN 066 (:attr:`~mutuelle_core.departures.motives.DepartureMotive.EMPLOYEE_DEATH`, which opens
no portability). These members sit in the **M** group.

Choices made here, where DOMAIN.md §4 and the law leave room:

* the deceased's own cover ends on the day of death (the DSN end date); the maintien **starts the day
  after**, without a gap, and **ends on the 12-month anniversary of the death** (a period in months
  expires on the day of the last month that has the same number, or on that month's last day when it
  has none, as article 641 of the Code de procédure civile counts it): death on 15 March 2025 →
  16 March 2025 to 15 March 2026; death on 29 February 2024 → 1 March 2024 to 28 February 2025;
* the contract may grant longer (``months`` above 12), never shorter;
* the request is in time up to and including the day six months after the death
  (:func:`maintien_request_deadline`); a request dated before the death is refused.

>>> import datetime as dt
>>> from mutuelle_core.departures.maintien import maintien_period, maintien_request_deadline
>>> maintien_period(dt.date(2025, 3, 15), requested_on=dt.date(2025, 4, 2))
DateRange(start=datetime.date(2025, 3, 16), end=datetime.date(2026, 3, 15))
>>> maintien_request_deadline(dt.date(2025, 3, 15))
datetime.date(2025, 9, 15)
"""

from __future__ import annotations

import datetime as dt

from mutuelle_core.errors import error_code
from mutuelle_core.values.dates import DateRange, add_months

__all__ = [
    "MAINTIEN_DURATION_TOO_SHORT",
    "MAINTIEN_MIN_MONTHS",
    "MAINTIEN_REQUEST_BEFORE_DEATH",
    "MAINTIEN_REQUEST_MONTHS",
    "MAINTIEN_REQUEST_TOO_LATE",
    "check_maintien_request",
    "maintien_period",
    "maintien_request_deadline",
]

MAINTIEN_MIN_MONTHS = 12
"""The shortest maintien the law allows, in months from the death."""

MAINTIEN_REQUEST_MONTHS = 6
"""The people covered ask for maintien within this many months of the death."""

MAINTIEN_REQUEST_TOO_LATE = error_code(
    "maintien.request_too_late",
    "La demande de maintien du {requested_on} est tardive : elle devait être faite au plus tard le "
    "{deadline}, {months} mois après le décès ({death_date}).",
)
MAINTIEN_REQUEST_BEFORE_DEATH = error_code(
    "maintien.request_before_death",
    "La demande de maintien ({requested_on}) est antérieure au décès ({death_date}).",
)
MAINTIEN_DURATION_TOO_SHORT = error_code(
    "maintien.duration_too_short",
    "La durée du maintien ({months} mois) ne peut être inférieure à {minimum} mois.",
)

_ONE_DAY = dt.timedelta(days=1)


def maintien_request_deadline(death_date: dt.date) -> dt.date:
    """The last day (included) to ask for maintien: six months after the death.

    >>> maintien_request_deadline(dt.date(2025, 8, 31))
    datetime.date(2026, 2, 28)
    """
    return add_months(death_date, MAINTIEN_REQUEST_MONTHS)


def check_maintien_request(death_date: dt.date, requested_on: dt.date) -> None:
    """Accept a maintien request made on ``requested_on``, or refuse it.

    Raises:
        DomainError: ``maintien.request_before_death`` or ``maintien.request_too_late`` (field
            ``requested_on``).

    >>> check_maintien_request(dt.date(2025, 3, 15), dt.date(2025, 9, 15))
    >>> check_maintien_request(dt.date(2025, 3, 15), dt.date(2025, 9, 16))
    Traceback (most recent call last):
    ...
    mutuelle_core.errors.DomainError: [maintien.request_too_late] (requested_on) La demande de maintien du 16/09/2025 est tardive : elle devait être faite au plus tard le 15/09/2025, 6 mois après le décès (15/03/2025).
    """
    if requested_on < death_date:
        raise MAINTIEN_REQUEST_BEFORE_DEATH("requested_on", requested_on=requested_on, death_date=death_date)
    deadline = maintien_request_deadline(death_date)
    if requested_on > deadline:
        raise MAINTIEN_REQUEST_TOO_LATE(
            "requested_on",
            requested_on=requested_on,
            deadline=deadline,
            months=MAINTIEN_REQUEST_MONTHS,
            death_date=death_date,
        )


def maintien_period(
    death_date: dt.date, requested_on: dt.date, *, months: int = MAINTIEN_MIN_MONTHS
) -> DateRange:
    """The maintien cover of the people covered through an employee who died on ``death_date``.

    Args:
        death_date: the day of the death (the deceased's last day of cover).
        requested_on: the day the request was received.
        months: the length the contract grants, 12 (the legal minimum) by default.

    Returns:
        The inclusive period from the day after the death to the ``months``-month anniversary of the
        death.

    Raises:
        DomainError: ``maintien.request_before_death``, ``maintien.request_too_late`` (field
            ``requested_on``); ``maintien.duration_too_short`` (field ``months``) below 12 months.

    >>> maintien_period(dt.date(2024, 2, 29), dt.date(2024, 3, 1), months=18)
    DateRange(start=datetime.date(2024, 3, 1), end=datetime.date(2025, 8, 29))
    """
    if months < MAINTIEN_MIN_MONTHS:
        raise MAINTIEN_DURATION_TOO_SHORT("months", months=months, minimum=MAINTIEN_MIN_MONTHS)
    check_maintien_request(death_date, requested_on)
    return DateRange(death_date + _ONE_DAY, add_months(death_date, months))
