"""Calendar values: inclusive date ranges, months, month arithmetic and ages.

Every range in the library is **inclusive on both ends**: cover from 1 January to 31 March includes
31 March. An open range (``end=None``) runs on without end, like a contract with no end date.

Month arithmetic clamps to the end of the month: one month after 31 January is 28 February (29 in a
leap year), never 3 March. :func:`months_between_rounded_up` counts the months of a period the way
portability is counted (L911-8 CSS: "in whole months rounded up"): every month that has started counts
as a whole one.

>>> from datetime import date
>>> from mutuelle_core.values.dates import DateRange, Month, add_months, age_on, months_between_rounded_up
>>> cover = DateRange(date(2025, 1, 1), date(2025, 3, 31))
>>> cover.contains(date(2025, 3, 31)), cover.days
(True, 90)
>>> cover.intersection(DateRange(date(2025, 3, 15), None))
DateRange(start=datetime.date(2025, 3, 15), end=datetime.date(2025, 3, 31))
>>> add_months(date(2024, 1, 31), 1)
datetime.date(2024, 2, 29)
>>> months_between_rounded_up(date(2025, 1, 1), date(2025, 4, 10))
4
>>> age_on(date(2000, 2, 29), date(2018, 2, 28)), age_on(date(2000, 2, 29), date(2018, 3, 1))
(17, 18)
>>> Month.parse("2026-05").last_day
datetime.date(2026, 5, 31)
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterator

import attrs

from mutuelle_core.errors import error_code

__all__ = [
    "DATES_BEFORE_BIRTH",
    "DATES_END_BEFORE_START",
    "DATES_INVALID_MONTH",
    "DateRange",
    "Month",
    "add_months",
    "age_on",
    "days_in_month",
    "first_day_of_month",
    "last_day_of_month",
    "months_between_rounded_up",
]

DATES_END_BEFORE_START = error_code(
    "dates.end_before_start", "La date de fin ({end}) est antérieure à la date de début ({start})."
)
DATES_INVALID_MONTH = error_code(
    "dates.invalid_month", "« {value} » n'est pas un mois valide (attendu : AAAA-MM)."
)
DATES_BEFORE_BIRTH = error_code(
    "dates.before_birth", "La date du {on} est antérieure à la date de naissance ({birth_date})."
)


def days_in_month(year: int, month: int) -> int:
    """The number of days of ``month`` in ``year``.

    >>> days_in_month(2024, 2), days_in_month(2025, 2), days_in_month(2025, 12)
    (29, 28, 31)
    """
    return calendar.monthrange(year, month)[1]


def first_day_of_month(day: dt.date) -> dt.date:
    """The first day of the month of ``day``.

    >>> first_day_of_month(dt.date(2025, 2, 17))
    datetime.date(2025, 2, 1)
    """
    return day.replace(day=1)


def last_day_of_month(day: dt.date) -> dt.date:
    """The last day of the month of ``day``.

    >>> last_day_of_month(dt.date(2024, 2, 3)), last_day_of_month(dt.date(2025, 2, 3))
    (datetime.date(2024, 2, 29), datetime.date(2025, 2, 28))
    """
    return day.replace(day=days_in_month(day.year, day.month))


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months`` months (negative goes back), clamped to the end of the month.

    The day of the month is kept when the target month has it, otherwise the target month's last day
    is used. Clamping is not reversible: ``add_months(add_months(d, 1), -1)`` may differ from ``d``.

    >>> add_months(dt.date(2025, 1, 31), 1), add_months(dt.date(2024, 1, 31), 1)
    (datetime.date(2025, 2, 28), datetime.date(2024, 2, 29))
    >>> add_months(dt.date(2025, 3, 31), -1), add_months(dt.date(2025, 11, 15), 14)
    (datetime.date(2025, 2, 28), datetime.date(2027, 1, 15))
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    month = month0 + 1
    return dt.date(year, month, min(day.day, days_in_month(year, month)))


def months_between_rounded_up(start: dt.date, end: dt.date) -> int:
    """The number of months from ``start`` to ``end`` **inclusive**, any started month counting whole.

    Precisely: the smallest ``n`` such that ``add_months(start, n) > end``. The months are counted
    from date to date: the first month runs from ``start`` up to the day before
    ``add_months(start, 1)``, the second from there, and so on; ``end`` falls in the n-th month.
    The result is at least 1 (a one-day period is one started month) and
    ``add_months(start, n - 1) <= end < add_months(start, n)``.

    Examples (this is how portability length is computed from the last employment contract):

    * 1 Jan 2025 → 1 Jan 2025: 1 (one day is a started month);
    * 1 Jan 2025 → 31 Mar 2025: 3 (three whole months, exactly);
    * 1 Jan 2025 → 1 Apr 2025: 4 (1 April starts a fourth month);
    * 1 Jan 2025 → 10 Apr 2025: 4;
    * 15 Jan 2025 → 14 Feb 2025: 1, but 15 Jan 2025 → 15 Feb 2025: 2;
    * 31 Jan 2025 → 27 Feb 2025: 1, but 31 Jan 2025 → 28 Feb 2025: 2: the month that starts on
      31 January ends on 27 February because one month after 31 January is 28 February (clamped);
      the same holds from 30 or 29 January. Likewise 31 Jan 2024 → 28 Feb 2024 is 1 and
      → 29 Feb 2024 is 2.
    * 29 Feb 2024 → 27 Feb 2025: 12, but 29 Feb 2024 → 28 Feb 2025: 13, since twelve months after
      29 February 2024 is 28 February 2025.
    * 28 Feb 2025 → 27 Mar 2025: 1, and 28 Feb 2025 → 28 Mar 2025: 2 (the day of month is kept,
      not "end of month to end of month").

    Args:
        start: the first day of the period.
        end: the last day of the period (inclusive), not before ``start``.

    Returns:
        The number of started months, at least 1.

    Raises:
        DomainError: ``dates.end_before_start`` when ``end`` is before ``start``.

    >>> months_between_rounded_up(dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    3
    >>> months_between_rounded_up(dt.date(2025, 1, 31), dt.date(2025, 2, 28))
    2
    """
    if end < start:
        raise DATES_END_BEFORE_START("end", start=start, end=end)
    months = max((end.year - start.year) * 12 + end.month - start.month, 0)
    # ``add_months(start, k)`` strictly increases with ``k``: adjust the estimate to the exact bound.
    while not _after(start, months, end):
        months += 1
    while months > 1 and _after(start, months - 1, end):
        months -= 1
    return months


def _after(start: dt.date, months: int, end: dt.date) -> bool:
    """``add_months(start, months) > end``, true as well when the date lies beyond year 9999."""
    try:
        return add_months(start, months) > end
    except ValueError:
        return True


def age_on(birth_date: dt.date, on: dt.date) -> int:
    """The age in whole years of a person born on ``birth_date``, on the day ``on``.

    The age goes up on the anniversary of the birth date. Someone born on 29 February gets one year
    older on 1 March in a non-leap year (on 28 February they are still the younger age), and on
    29 February in a leap year.

    Raises:
        DomainError: ``dates.before_birth`` when ``on`` is before ``birth_date``.

    >>> age_on(dt.date(1990, 6, 15), dt.date(2025, 6, 14)), age_on(dt.date(1990, 6, 15), dt.date(2025, 6, 15))
    (34, 35)
    >>> age_on(dt.date(2004, 2, 29), dt.date(2025, 2, 28)), age_on(dt.date(2004, 2, 29), dt.date(2025, 3, 1))
    (20, 21)
    """
    if on < birth_date:
        raise DATES_BEFORE_BIRTH("on", on=on, birth_date=birth_date)
    before_anniversary = (on.month, on.day) < (birth_date.month, birth_date.day)
    return on.year - birth_date.year - int(before_anniversary)


def _check_end(instance: DateRange, attribute: attrs.Attribute[dt.date | None], end: dt.date | None) -> None:
    if end is not None and end < instance.start:
        raise DATES_END_BEFORE_START("end", start=instance.start, end=end)


@attrs.frozen
class DateRange:
    """A period of days, inclusive on both ends; ``end=None`` leaves it open (no end yet).

    Attributes:
        start: the first day of the period.
        end: the last day of the period, included; ``None`` for an open-ended period.

    Raises:
        DomainError: ``dates.end_before_start`` when ``end`` is before ``start``. A one-day period
            (``end == start``) is allowed.

    >>> year = DateRange(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    >>> dt.date(2025, 12, 31) in year, year.days, DateRange(dt.date(2025, 1, 1), None).days is None
    (True, 365, True)
    """

    start: dt.date
    end: dt.date | None = attrs.field(default=None, validator=_check_end)

    @classmethod
    def of_month(cls, month: Month) -> DateRange:
        """The whole of ``month``, first to last day.

        >>> DateRange.of_month(Month(2024, 2)).days
        29
        """
        return cls(month.first_day, month.last_day)

    @property
    def is_open(self) -> bool:
        """Whether the period has no end date."""
        return self.end is None

    @property
    def days(self) -> int | None:
        """The number of days in the period, both ends included (``None`` when open-ended)."""
        if self.end is None:
            return None
        return (self.end - self.start).days + 1

    def contains(self, day: dt.date) -> bool:
        """Whether ``day`` lies within the period (ends included).

        >>> DateRange(dt.date(2025, 1, 1), dt.date(2025, 1, 31)).contains(dt.date(2025, 2, 1))
        False
        """
        return self.start <= day and (self.end is None or day <= self.end)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.contains(day)

    def overlaps(self, other: DateRange) -> bool:
        """Whether the two periods share at least one day (sharing an end day counts).

        >>> jan = DateRange(dt.date(2025, 1, 1), dt.date(2025, 1, 31))
        >>> jan.overlaps(DateRange(dt.date(2025, 1, 31), None))
        True
        >>> jan.overlaps(DateRange(dt.date(2025, 2, 1), None))
        False
        """
        return (other.end is None or self.start <= other.end) and (
            self.end is None or other.start <= self.end
        )

    def intersection(self, other: DateRange) -> DateRange | None:
        """The days common to both periods, or ``None`` when they do not overlap.

        >>> jan = DateRange(dt.date(2025, 1, 1), dt.date(2025, 1, 31))
        >>> jan.intersection(DateRange(dt.date(2025, 1, 20), dt.date(2025, 3, 1)))
        DateRange(start=datetime.date(2025, 1, 20), end=datetime.date(2025, 1, 31))
        """
        if not self.overlaps(other):
            return None
        start = max(self.start, other.start)
        ends = [e for e in (self.end, other.end) if e is not None]
        return DateRange(start, min(ends) if ends else None)

    def months(self) -> Iterator[Month]:
        """The calendar months the period touches, in order (the period must have an end).

        >>> [str(m) for m in DateRange(dt.date(2025, 11, 20), dt.date(2026, 1, 5)).months()]
        ['2025-11', '2025-12', '2026-01']

        Raises:
            ValueError: when the period is open-ended.
        """
        if self.end is None:
            raise ValueError("an open-ended period has no last month")
        return _months_from_to(Month.of(self.start), Month.of(self.end))


def _months_from_to(month: Month, last: Month) -> Iterator[Month]:
    while month <= last:
        yield month
        month = month.next()


_MONTH_TEXT = re.compile(r"(\d{4})-(\d{2})")


def _check_month(instance: Month, attribute: attrs.Attribute[int], value: int) -> None:
    if not 1 <= value <= 12:
        raise DATES_INVALID_MONTH(value=f"{instance.year:04d}-{value:02d}")


def _check_year(instance: Month, attribute: attrs.Attribute[int], value: int) -> None:
    if not dt.MINYEAR <= value <= dt.MAXYEAR:
        raise DATES_INVALID_MONTH(value=f"{value}")


@attrs.frozen(order=True)
class Month:
    """A calendar month of a year, such as a billing period; ordered chronologically.

    Attributes:
        year: the year (1 to 9999).
        month: the month, 1 (January) to 12 (December).

    Raises:
        DomainError: ``dates.invalid_month`` for a month outside 1-12 or a year outside 1-9999.

    >>> Month(2025, 12).next(), Month(2025, 1).previous()
    (Month(year=2026, month=1), Month(year=2024, month=12))
    >>> Month(2024, 2).days_in_month, str(Month(2026, 5))
    (29, '2026-05')
    >>> Month(2025, 12) < Month(2026, 1)
    True
    """

    year: int = attrs.field(validator=_check_year)
    month: int = attrs.field(validator=_check_month)

    @classmethod
    def parse(cls, text: str) -> Month:
        """Read a month written ``YYYY-MM`` (ISO 8601), e.g. ``"2026-05"``.

        Raises:
            DomainError: ``dates.invalid_month`` for anything else.

        >>> Month.parse("2026-05")
        Month(year=2026, month=5)
        """
        match = _MONTH_TEXT.fullmatch(text.strip())
        if match is None:
            raise DATES_INVALID_MONTH(value=text[:20])
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: dt.date) -> Month:
        """The month ``day`` falls in.

        >>> Month.of(dt.date(2025, 7, 14))
        Month(year=2025, month=7)
        """
        return cls(day.year, day.month)

    @property
    def first_day(self) -> dt.date:
        """The first day of the month."""
        return dt.date(self.year, self.month, 1)

    @property
    def last_day(self) -> dt.date:
        """The last day of the month."""
        return dt.date(self.year, self.month, self.days_in_month)

    @property
    def days_in_month(self) -> int:
        """The number of days in the month (28 to 31)."""
        return days_in_month(self.year, self.month)

    def shift(self, months: int) -> Month:
        """The month ``months`` months later (earlier when negative).

        >>> Month(2025, 11).shift(3), Month(2025, 1).shift(-13)
        (Month(year=2026, month=2), Month(year=2023, month=12))
        """
        year, month0 = divmod(self.year * 12 + self.month - 1 + months, 12)
        return Month(year, month0 + 1)

    def next(self) -> Month:
        """The following month."""
        return self.shift(1)

    def previous(self) -> Month:
        """The preceding month."""
        return self.shift(-1)

    def contains(self, day: dt.date) -> bool:
        """Whether ``day`` falls in this month."""
        return (day.year, day.month) == (self.year, self.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"
