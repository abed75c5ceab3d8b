"""Portability (L911-8 CSS): the free continued cover of a former employee, as a pure computation.

When the employment contract ends other than for faute lourde and the end opens unemployment benefits,
the former employee (and the beneficiaries covered on that date) keep the cover **free of charge**,
without a gap, for as long as benefits are paid, **capped at the length of the last employment contract
with the employer** (or of the last consecutive contracts with that employer), "apprécié en mois,
le cas échéant arrondi au nombre supérieur", **12 months at most** (article L911-8 of the Code de la
sécurité sociale, 1° and 2°).

The rules implemented here:

* **whether**: the departure motive decides (:mod:`mutuelle_core.departures.motives`); a refused motive
  gives ``None``;
* **how long**: :func:`portability_months`, the months of the employment from its first to its last day
  (both included), any started month counting whole
  (:func:`~mutuelle_core.values.dates.months_between_rounded_up`), at most
  :data:`PORTABILITY_MAX_MONTHS`. For consecutive contracts, pass the first day of the first one;
* **when**: :func:`portability_period`, from the day after the last day of employment (no gap: the
  employee's own cover runs to the end of that day) to the day before the same day of the month
  ``n`` months later: ``add_months(end + 1 day, n) - 1 day``. Month ends clamp as everywhere in the
  library (cover from 31 January for one month ends on 27 February, since one month after 31 January
  is 28 February).

The period is the **maximum**: portability ends earlier when the benefits stop, which the former
employee proves (contract setting ``portability_proof_interval_months``).

>>> import datetime as dt
>>> from mutuelle_core.departures.portability import portability_months, portability_period
>>> portability_months(dt.date(2025, 1, 1), dt.date(2025, 4, 10))
4
>>> portability_period(dt.date(2025, 1, 1), dt.date(2025, 4, 10), "020")
DateRange(start=datetime.date(2025, 4, 11), end=datetime.date(2025, 8, 10))
>>> portability_period(dt.date(2020, 3, 1), dt.date(2025, 4, 10), "014").end   # capped at 12 months
datetime.date(2026, 4, 10)
>>> portability_period(dt.date(2025, 1, 1), dt.date(2025, 4, 10), "059") is None   # resignation
True
"""

from __future__ import annotations

import datetime as dt

from mutuelle_core.departures.motives import DepartureMotive
from mutuelle_core.errors import error_code
from mutuelle_core.values.dates import DateRange, add_months, months_between_rounded_up

__all__ = [
    "PORTABILITY_END_BEFORE_START",
    "PORTABILITY_MAX_MONTHS",
    "portability_months",
    "portability_period",
]

PORTABILITY_MAX_MONTHS = 12
"""The longest portability, in months, whatever the length of employment (L911-8 1° CSS)."""

PORTABILITY_END_BEFORE_START = error_code(
    "portability.end_before_start",
    "La fin du contrat de travail ({end}) est antérieure à son début ({start}).",
)

_ONE_DAY = dt.timedelta(days=1)


def portability_months(employment_start: dt.date, employment_end: dt.date) -> int:
    """The length of portability, in months: the employment's started months, 1 to 12.

    Args:
        employment_start: the first day of the last employment (of the first of the last consecutive
            contracts with the same employer).
        employment_end: the last day of employment (DSN S21.G00.62.001), not before the start.

    Raises:
        DomainError: ``portability.end_before_start`` (field ``employment_end``).

    >>> portability_months(dt.date(2025, 1, 1), dt.date(2025, 3, 31)), portability_months(dt.date(2025, 1, 1), dt.date(2025, 4, 1))
    (3, 4)
    >>> portability_months(dt.date(2010, 1, 1), dt.date(2025, 1, 1))
    12
    """
    if employment_end < employment_start:
        raise PORTABILITY_END_BEFORE_START("employment_end", start=employment_start, end=employment_end)
    return min(months_between_rounded_up(employment_start, employment_end), PORTABILITY_MAX_MONTHS)


def portability_period(
    employment_start: dt.date, employment_end: dt.date, motive: str | DepartureMotive
) -> DateRange | None:
    """The longest portability cover a departure opens, or ``None`` when the motive opens none.

    Args:
        employment_start: the first day of the last employment with the employer.
        employment_end: the last day of employment.
        motive: the DSN departure motive (``"020"``) or a :class:`DepartureMotive`.

    Returns:
        The inclusive cover period, starting the day after ``employment_end`` and lasting
        :func:`portability_months` months; ``None`` for a motive that refuses portability
        (faute lourde, resignation, voluntary retirement, death...).

    Raises:
        DomainError: ``departure.unknown_motive`` (field ``motive``) for a code outside the table;
            ``portability.end_before_start`` (field ``employment_end``), even for a refused motive.

    >>> portability_period(dt.date(2025, 1, 15), dt.date(2025, 1, 30), "031")   # 16 days: one month
    DateRange(start=datetime.date(2025, 1, 31), end=datetime.date(2025, 2, 27))
    """
    departure = DepartureMotive.parse(motive)
    months = portability_months(employment_start, employment_end)
    if not departure.opens_portability:
        return None
    start = employment_end + _ONE_DAY
    return DateRange(start, add_months(start, months) - _ONE_DAY)
