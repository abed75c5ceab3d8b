"""The social security ceiling: PMSS (monthly) and PASS (yearly), dated, and the salary tranches.

Many tariffs are written as a percentage of the **plafond mensuel de la sécurité sociale** (PMSS),
and provident cover as a percentage of the salary within **tranche A** (the part of the salary up to
the ceiling) or **tranche B** (from one to four times the ceiling). The ceiling is set every year by
arrêté, from 1 January: the monthly ceiling is the yearly one divided by twelve.

===== ============ ============
Year  PMSS         PASS
===== ============ ============
2024  3 864 €      46 368 €
2025  3 925 €      47 100 €
2026  4 005 €      48 060 €
===== ============ ============

The table is data, not code: :class:`CeilingTable` takes its own figures (``CeilingTable.of(...)``)
or extends the default one (:meth:`CeilingTable.with_years`); a year it does not know raises
``pmss.unknown_year`` rather than reusing an old figure.

For a month's pay, tranche A is the pay up to the month's PMSS and tranche B the part above it, up to
four times the PMSS (:func:`tranche_a`, :func:`tranche_b`). The yearly regularisation of the tranches
(progressive ceiling over the year, as payroll does it) is the payroll's business, not the insurer's.

>>> from mutuelle_core.cotisations.pmss import DEFAULT_CEILINGS, CeilingTable, tranche_a, tranche_b
>>> from mutuelle_core.values.dates import Month
>>> from mutuelle_core.values.money import Money
>>> DEFAULT_CEILINGS.pmss(Month(2026, 5)), DEFAULT_CEILINGS.pass_for(2026)
(Money('4005.00'), Money('48060.00'))
>>> DEFAULT_CEILINGS.with_years({2027: "4100"}).pmss(Month(2027, 1))
Money('4100.00')
>>> tranche_a(Money(5000), Month(2026, 1)), tranche_b(Money(5000), Month(2026, 1))
(Money('4005.00'), Money('995.00'))
>>> DEFAULT_CEILINGS.pmss(Month(2019, 1))  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
mutuelle_core.errors.DomainError: [pmss.unknown_year] (month) Le plafond mensuel de la sécurité sociale de 2019 ...
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

import attrs

from mutuelle_core.errors import error_code
from mutuelle_core.values.dates import Month
from mutuelle_core.values.money import Money

__all__ = [
    "DEFAULT_CEILINGS",
    "DEFAULT_PASS",
    "DEFAULT_PMSS",
    "PMSS_INVALID",
    "PMSS_UNKNOWN_YEAR",
    "TRANCHE_B_CEILINGS",
    "CeilingTable",
    "tranche_a",
    "tranche_b",
]

PMSS_UNKNOWN_YEAR = error_code(
    "pmss.unknown_year",
    "Le plafond mensuel de la sécurité sociale de {year} n'est pas connu : ajoutez-le à la table des plafonds.",
)
PMSS_INVALID = error_code(
    "pmss.invalid", "Le plafond de la sécurité sociale de {year} doit être un montant positif ({amount})."
)

DEFAULT_PMSS: Mapping[int, Money] = {2024: Money(3864), 2025: Money(3925), 2026: Money(4005)}
"""The monthly ceiling (PMSS) by year, from 1 January of that year."""

DEFAULT_PASS: Mapping[int, Money] = {2024: Money(46368), 2025: Money(47100), 2026: Money(48060)}
"""The yearly ceiling (PASS) by year: twelve times the PMSS."""

TRANCHE_B_CEILINGS = 4
"""Tranche B runs from one to four ceilings."""

AmountLike = Money | Decimal | int | str


def _money(year: int, value: AmountLike) -> Money:
    amount = value if isinstance(value, Money) else Money.of(value)
    if not amount.is_positive:
        raise PMSS_INVALID("pmss", year=year, amount=str(amount))
    return amount


def _table(values: Mapping[int, AmountLike]) -> tuple[tuple[int, Money], ...]:
    return tuple(sorted((int(year), _money(int(year), value)) for year, value in values.items()))


@attrs.frozen
class CeilingTable:
    """The social security ceilings by calendar year (PMSS monthly, PASS yearly).

    Build it with :meth:`of` (your own figures) or :meth:`with_years` (the default figures plus or
    overridden by yours). A year without a PASS uses twelve times its PMSS.

    Attributes:
        pmss_by_year: ``(year, PMSS)`` pairs, sorted by year.
        pass_by_year: ``(year, PASS)`` pairs, sorted by year (may be empty).
    """

    pmss_by_year: tuple[tuple[int, Money], ...]
    pass_by_year: tuple[tuple[int, Money], ...] = ()
    _pmss: dict[int, Money] = attrs.field(init=False, eq=False, repr=False, hash=False)
    _pass: dict[int, Money] = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_pmss", dict(self.pmss_by_year))
        object.__setattr__(self, "_pass", dict(self.pass_by_year))

    @classmethod
    def of(
        cls, pmss: Mapping[int, AmountLike], pass_: Mapping[int, AmountLike] | None = None
    ) -> CeilingTable:
        """A table of exactly these figures (amounts as ``Money``, ``Decimal``, ``int`` or ``str``).

        Raises:
            DomainError: ``pmss.invalid`` for an amount that is not positive.

        >>> CeilingTable.of({2030: 4500}).pass_for(2030)
        Money('54000.00')
        """
        return cls(_table(pmss), _table(pass_ or {}))

    def with_years(
        self, pmss: Mapping[int, AmountLike], pass_: Mapping[int, AmountLike] | None = None
    ) -> CeilingTable:
        """This table with more years, or other figures for years it has (yours win).

        A year given a new PMSS but no PASS gets twelve times that PMSS.
        """
        new_pmss: dict[int, AmountLike] = dict(self._pmss)
        new_pmss.update(pmss)
        new_pass: dict[int, AmountLike] = {y: v for y, v in self._pass.items() if y not in pmss}
        new_pass.update(pass_ or {})
        return CeilingTable(_table(new_pmss), _table(new_pass))

    def pmss(self, month: Month | dt.date) -> Money:
        """The monthly ceiling in force in ``month`` (or on that day).

        Raises:
            DomainError: ``pmss.unknown_year`` (field ``month``) for a year the table does not hold.
        """
        year = month.year
        amount = self._pmss.get(year)
        if amount is None:
            raise PMSS_UNKNOWN_YEAR("month", year=year)
        return amount

    def pass_for(self, year: int) -> Money:
        """The yearly ceiling (PASS) of ``year``: the table's figure, or twelve times the PMSS.

        Raises:
            DomainError: ``pmss.unknown_year`` (field ``month``) for a year the table does not hold.
        """
        amount = self._pass.get(year)
        if amount is not None:
            return amount
        return self.pmss(dt.date(year, 1, 1)) * 12

    @property
    def years(self) -> tuple[int, ...]:
        """The years the table knows."""
        return tuple(year for year, _ in self.pmss_by_year)


DEFAULT_CEILINGS = CeilingTable.of(DEFAULT_PMSS, DEFAULT_PASS)
"""The ceilings of 2024 to 2026; extend it with :meth:`CeilingTable.with_years`."""


def tranche_a(monthly_salary: Money, month: Month, ceilings: CeilingTable = DEFAULT_CEILINGS) -> Money:
    """The part of a month's gross salary within tranche A: up to the month's PMSS.

    >>> tranche_a(Money(3000), Month(2026, 3))
    Money('3000.00')
    """
    ceiling = ceilings.pmss(month)
    return max(min(monthly_salary, ceiling), Money.zero())


def tranche_b(monthly_salary: Money, month: Month, ceilings: CeilingTable = DEFAULT_CEILINGS) -> Money:
    """The part of a month's gross salary within tranche B: from one to four PMSS.

    >>> tranche_b(Money(20000), Month(2026, 3))
    Money('12015.00')
    """
    ceiling = ceilings.pmss(month)
    above = monthly_salary - ceiling
    return max(min(above, ceiling * (TRANCHE_B_CEILINGS - 1)), Money.zero())
