"""Evin: individual continued cover of former employees, its price caps and its time windows.

Article 4 of loi 89-1009 of 31 December 1989 ("loi Evin") lets former employees who receive an
incapacity or invalidity annuity, a retirement pension or, unemployed, a replacement income keep the
collective health cover **individually**, with no waiting period nor medical questionnaire:

* the insurer sends the **offer** within **2 months** of the end of the employment contract or of the
  end of portability (:func:`evin_offer_deadline`);
* the former employee **asks** within **6 months** of that date (:func:`evin_request_deadline`,
  :func:`check_evin_request`, error ``evin.request_too_late``).

The reference date is the last day of employment, or the last day of portability when the former
employee had it. Both deadlines are that date moved by whole months (clamped to the month's end, as
everywhere in the library) and are **included**: leaving on 10 April 2025, a request on 10 October 2025
is in time, one on 11 October is late. A request made before the reference date is accepted.

**Price caps** (décret 2017-372 of 21 March 2017, article 1, amending décret 90-769), as a multiplier of
the global tariff applicable to the active employees (:func:`evin_price_cap`):

* Evin adhesion **from 1 July 2017**: year 1 at most 100 %, year 2 at most 125 %, year 3 at most 150 %,
  then no cap;
* Evin adhesion **before 1 July 2017**: at most 150 %, from the first year and without end (the rule of
  décret 90-769 before its amendment).

Year 1 is the first twelve months from the day the Evin adhesion starts; year ``k`` starts on the
``k-1``-th anniversary of that day (``add_months(start, 12 * (k - 1))``: an adhesion starting
29 February 2024 enters year 2 on 28 February 2025).

>>> import datetime as dt
>>> from decimal import Decimal
>>> from mutuelle_core.departures.evin import evin_price_cap, evin_request_deadline, evin_offer_deadline
>>> start = dt.date(2025, 4, 11)
>>> [evin_price_cap(start, on) for on in (start, dt.date(2026, 4, 11), dt.date(2027, 4, 11), dt.date(2028, 4, 11))]
[Decimal('1.00'), Decimal('1.25'), Decimal('1.50'), None]
>>> evin_price_cap(dt.date(2016, 1, 1), dt.date(2025, 1, 1))
Decimal('1.50')
>>> evin_offer_deadline(dt.date(2025, 4, 10)), evin_request_deadline(dt.date(2025, 4, 10))
(datetime.date(2025, 6, 10), datetime.date(2025, 10, 10))
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from mutuelle_core.errors import error_code
from mutuelle_core.values.dates import add_months

__all__ = [
    "EVIN_DATE_BEFORE_START",
    "EVIN_LEGACY_CAP",
    "EVIN_OFFER_MONTHS",
    "EVIN_PROGRESSIVE_CAPS",
    "EVIN_REFORM_DATE",
    "EVIN_REQUEST_MONTHS",
    "EVIN_REQUEST_TOO_LATE",
    "check_evin_request",
    "evin_offer_deadline",
    "evin_price_cap",
    "evin_request_deadline",
    "evin_year",
]

EVIN_REFORM_DATE = dt.date(2017, 7, 1)
"""Evin adhesions from this day get the progressive caps of décret 2017-372; earlier ones keep 150 %."""

EVIN_PROGRESSIVE_CAPS: tuple[Decimal, ...] = (Decimal("1.00"), Decimal("1.25"), Decimal("1.50"))
"""The caps of years 1, 2 and 3 for adhesions from 1 July 2017 (no cap from year 4)."""

EVIN_LEGACY_CAP = Decimal("1.50")
"""The cap of adhesions before 1 July 2017, every year."""

EVIN_OFFER_MONTHS = 2
"""The insurer offers the Evin cover within this many months of the reference date."""

EVIN_REQUEST_MONTHS = 6
"""The former employee asks for the Evin cover within this many months of the reference date."""

EVIN_DATE_BEFORE_START = error_code(
    "evin.date_before_start", "La date du {on} est antérieure au début de l'adhésion Evin ({start})."
)
EVIN_REQUEST_TOO_LATE = error_code(
    "evin.request_too_late",
    "La demande de maintien Evin du {requested_on} est tardive : elle devait être faite au plus tard "
    "le {deadline}, {months} mois après la fin du contrat de travail ou de la portabilité "
    "({reference_date}).",
)


def evin_year(evin_start: dt.date, on: dt.date) -> int:
    """The year of the Evin adhesion ``on`` falls in: 1 for the first twelve months from ``evin_start``.

    Raises:
        DomainError: ``evin.date_before_start`` (field ``on``) when ``on`` is before ``evin_start``.

    >>> evin_year(dt.date(2024, 2, 29), dt.date(2025, 2, 27)), evin_year(dt.date(2024, 2, 29), dt.date(2025, 2, 28))
    (1, 2)
    """
    if on < evin_start:
        raise EVIN_DATE_BEFORE_START("on", on=on, start=evin_start)
    years = on.year - evin_start.year
    # ``add_months(start, 12 * k)`` increases with ``k``: adjust the estimate to the exact anniversary.
    while years > 0 and add_months(evin_start, 12 * years) > on:
        years -= 1
    return years + 1


def evin_price_cap(evin_start: dt.date, on: dt.date) -> Decimal | None:
    """The highest price allowed ``on``, as a multiple of the active employees' global tariff.

    Args:
        evin_start: the first day of the Evin adhesion (decides the regime: before or from
            1 July 2017).
        on: the day the price applies to (a billing period's first day, say).

    Returns:
        ``Decimal("1.00")``, ``"1.25"`` or ``"1.50"``, or ``None`` when no cap applies (from year 4 of an
        adhesion from 1 July 2017).

    Raises:
        DomainError: ``evin.date_before_start`` (field ``on``) when ``on`` is before ``evin_start``.

    >>> evin_price_cap(dt.date(2017, 7, 1), dt.date(2018, 6, 30)), evin_price_cap(dt.date(2017, 6, 30), dt.date(2017, 6, 30))
    (Decimal('1.00'), Decimal('1.50'))
    """
    year = evin_year(evin_start, on)
    if evin_start < EVIN_REFORM_DATE:
        return EVIN_LEGACY_CAP
    if year <= len(EVIN_PROGRESSIVE_CAPS):
        return EVIN_PROGRESSIVE_CAPS[year - 1]
    return None


def evin_offer_deadline(reference_date: dt.date) -> dt.date:
    """The last day for the insurer to send the Evin offer: 2 months after ``reference_date``.

    ``reference_date`` is the last day of employment, or of portability when there was one.

    >>> evin_offer_deadline(dt.date(2025, 12, 31))
    datetime.date(2026, 2, 28)
    """
    return add_months(reference_date, EVIN_OFFER_MONTHS)


def evin_request_deadline(reference_date: dt.date) -> dt.date:
    """The last day (included) for the former employee to ask for the Evin cover: 6 months later.

    >>> evin_request_deadline(dt.date(2025, 8, 31))
    datetime.date(2026, 2, 28)
    """
    return add_months(reference_date, EVIN_REQUEST_MONTHS)


def check_evin_request(reference_date: dt.date, requested_on: dt.date) -> None:
    """Accept an Evin request made on ``requested_on``, or refuse it as late.

    Raises:
        DomainError: ``evin.request_too_late`` (field ``requested_on``) after
            :func:`evin_request_deadline`.

    >>> check_evin_request(dt.date(2025, 4, 10), dt.date(2025, 10, 10))
    >>> check_evin_request(dt.date(2025, 4, 10), dt.date(2025, 10, 11))
    Traceback (most recent call last):
    ...
    mutuelle_core.errors.DomainError: [evin.request_too_late] (requested_on) La demande de maintien Evin du 11/10/2025 est tardive : elle devait être faite au plus tard le 10/10/2025, 6 mois après la fin du contrat de travail ou de la portabilité (10/04/2025).
    """
    deadline = evin_request_deadline(reference_date)
    if requested_on > deadline:
        raise EVIN_REQUEST_TOO_LATE(
            "requested_on",
            requested_on=requested_on,
            deadline=deadline,
            months=EVIN_REQUEST_MONTHS,
            reference_date=reference_date,
        )
