"""Tariff grids: the monthly price per contract, group, product level and person category.

A :class:`TariffGrid` holds the :class:`TariffLine` of one collective contract. Each line prices one
product (the base, or an option **as a supplement on top of the base**) for one person category in
one assured group, optionally narrowed to:

* a range of **child ranks** (``child_ranks``: the first child at one price, the next ones at
  another; ranks count the children covered in the month, eldest first);
* an **age band** (``age_band``: from ``min_age`` included to ``max_age`` excluded);
* the **Alsace-Moselle** local regime (``alsace_moselle=True``) or the general regime (``False``);
  ``None`` prices both. When a key has lines for one regime, those lines replace the ``None`` lines
  for the members of that regime.

A :class:`Price` is one of:

* euros per month (:meth:`Price.euros`);
* a percentage of the PMSS of the month (:meth:`Price.pmss_percent`), rounded half up to the cent
  once the month's PMSS is known;
* for provident cover, a percentage of the member's monthly gross salary within tranche A (up to the
  PMSS, i.e. the PASS over the year) or tranche B (:meth:`Price.tranche_a_percent`,
  :meth:`Price.tranche_b_percent`): these need the member's salary and price the insured only.

Options are supplements: a spouse at "Base+option 1" pays the spouse's base line plus the spouse's
option 1 line. A grid written as formula totals (seed 002 shows the spouse at 10 / 14 / 23 € a month)
is entered as differences (10, then 4 and 13), which keeps each product on its own cotisation line.

Validation reports every problem at once (``validation.failed`` with one error per line at fault):
negative prices, rates above 100 %, sub-cent euro prices, child ranks on a non-child line, salary
prices for dependants, bad ranges and bands, and lines that overlap (two prices for the same person).

>>> from decimal import Decimal
>>> from mutuelle_core.contracts.contract import ProductLevel
>>> from mutuelle_core.cotisations.tariff import PersonCategory, Price, TariffGrid, TariffLine
>>> from mutuelle_core.values.dates import Month
>>> grid = TariffGrid("M1000304", (
...     TariffLine(group_code="A2", product=ProductLevel.BASE, category=PersonCategory.INSURED,
...                price=Price.pmss_percent("1.25")),
...     TariffLine(group_code="A2", product=ProductLevel.BASE, category=PersonCategory.CHILD,
...                price=Price.euros("6")),
... ))
>>> line = grid.find("A2", ProductLevel.BASE, PersonCategory.INSURED)
>>> line.price.monthly(Month(2026, 1))
Money('50.06')
>>> TariffLine(group_code="A2", product=ProductLevel.BASE, category=PersonCategory.INSURED,
...            price=Price.euros("-1"))  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
mutuelle_core.errors.ValidationFailed: [validation.failed] La saisie comporte 1 erreur(s).
  - [tariff.negative_price] (price) Le tarif ne peut pas être négatif (-1).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import attrs

from mutuelle_core.contracts.contract import ProductLevel
from mutuelle_core.cotisations.pmss import DEFAULT_CEILINGS, CeilingTable, tranche_a, tranche_b
from mutuelle_core.errors import DomainError, ErrorCollector, error_code
from mutuelle_core.i18n import message
from mutuelle_core.values.dates import Month
from mutuelle_core.values.money import Money

__all__ = [
    "TARIFF_BAD_AGE_BAND",
    "TARIFF_BAD_RANKS",
    "TARIFF_BAD_RATE",
    "TARIFF_INVALID",
    "TARIFF_NEGATIVE_PRICE",
    "TARIFF_OVERLAP",
    "TARIFF_RANK_NOT_CHILD",
    "TARIFF_SALARY_FOR_DEPENDANT",
    "TARIFF_SALARY_MISSING",
    "TARIFF_SUB_CENT",
    "AgeBand",
    "LineKey",
    "PersonCategory",
    "Price",
    "PriceBasis",
    "RankRange",
    "TariffGrid",
    "TariffLine",
    "age_for_tariff",
]

TARIFF_INVALID = error_code("tariff.invalid_price", "« {value} » n'est pas un tarif valide.")
TARIFF_NEGATIVE_PRICE = error_code("tariff.negative_price", "Le tarif ne peut pas être négatif ({value}).")
TARIFF_SUB_CENT = error_code(
    "tariff.sub_cent_price", "Un tarif en euros s'exprime au centime près ({value})."
)
TARIFF_BAD_RATE = error_code(
    "tariff.rate_out_of_range", "Un taux doit être compris entre 0 et 100 % ({value})."
)
TARIFF_RANK_NOT_CHILD = error_code(
    "tariff.rank_for_non_child", "Seul un tarif « enfant » peut dépendre du rang de l'enfant."
)
TARIFF_SALARY_FOR_DEPENDANT = error_code(
    "tariff.salary_price_for_dependant",
    "Un tarif en pourcentage du salaire ne s'applique qu'à l'assuré principal.",
)
TARIFF_BAD_RANKS = error_code(
    "tariff.invalid_child_ranks", "Rangs d'enfant invalides : du rang {first} au rang {last}."
)
TARIFF_BAD_AGE_BAND = error_code(
    "tariff.invalid_age_band", "Tranche d'âge invalide : de {min_age} ans à {max_age} ans."
)
TARIFF_OVERLAP = error_code(
    "tariff.overlapping_lines",
    "Deux lignes du tarif s'appliquent à la même personne : groupe {group}, {product}, {category}.",
)
TARIFF_SALARY_MISSING = error_code(
    "tariff.salary_missing",
    "Ce tarif est un pourcentage du salaire : le salaire brut mensuel de l'assuré est nécessaire.",
)

_HUNDRED = Decimal(100)


class PersonCategory(enum.Enum):
    """Who a price applies to: the insured, a spouse, a child or another adult covered."""

    INSURED = "insured"
    SPOUSE = "spouse"
    CHILD = "child"
    OTHER_ADULT = "other_adult"

    @property
    def label(self) -> str:
        """The French label."""
        return _CATEGORY_LABELS[self]


_CATEGORY_LABELS = {
    PersonCategory.INSURED: message("Assuré principal"),
    PersonCategory.SPOUSE: message("Conjoint"),
    PersonCategory.CHILD: message("Enfant"),
    PersonCategory.OTHER_ADULT: message("Autre adulte"),
}


class PriceBasis(enum.Enum):
    """What a price is expressed in."""

    EUROS = "euros"
    """Euros per month."""
    PMSS_PERCENT = "pmss_percent"
    """A percentage of the month's PMSS."""
    TRANCHE_A_PERCENT = "tranche_a_percent"
    """A percentage of the monthly gross salary up to the PMSS (provident cover)."""
    TRANCHE_B_PERCENT = "tranche_b_percent"
    """A percentage of the monthly gross salary from one to four PMSS (provident cover)."""

    @property
    def needs_salary(self) -> bool:
        """True for the salary-based prices."""
        return self in {PriceBasis.TRANCHE_A_PERCENT, PriceBasis.TRANCHE_B_PERCENT}


def _decimal(value: Decimal | int | str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise TypeError(f"a price needs a Decimal, an int or a str, not {type(value).__name__}")
    try:
        number = Decimal(value.strip().replace(",", ".") if isinstance(value, str) else value)
    except InvalidOperation:
        raise TARIFF_INVALID("price", value=str(value)[:20]) from None
    if not number.is_finite():
        raise TARIFF_INVALID("price", value=str(value)[:20])
    return number


@attrs.frozen
class Price:
    """A monthly price: euros, or a percentage of the PMSS or of a salary tranche.

    Attributes:
        basis: what ``value`` is expressed in.
        value: euros (exact to the cent) for :attr:`PriceBasis.EUROS`, a percentage otherwise.

    >>> Price.euros("12"), Price.pmss_percent("1.25").value
    (Price(basis=<PriceBasis.EUROS: 'euros'>, value=Decimal('12')), Decimal('1.25'))
    """

    basis: PriceBasis
    value: Decimal = attrs.field(converter=_decimal)

    @classmethod
    def euros(cls, amount: Decimal | int | str | Money) -> Price:
        """A price in euros per month."""
        return cls(PriceBasis.EUROS, amount.amount if isinstance(amount, Money) else amount)

    @classmethod
    def pmss_percent(cls, rate: Decimal | int | str) -> Price:
        """A price of ``rate`` % of the month's PMSS."""
        return cls(PriceBasis.PMSS_PERCENT, rate)

    @classmethod
    def tranche_a_percent(cls, rate: Decimal | int | str) -> Price:
        """A price of ``rate`` % of the salary within tranche A (provident cover)."""
        return cls(PriceBasis.TRANCHE_A_PERCENT, rate)

    @classmethod
    def tranche_b_percent(cls, rate: Decimal | int | str) -> Price:
        """A price of ``rate`` % of the salary within tranche B (provident cover)."""
        return cls(PriceBasis.TRANCHE_B_PERCENT, rate)

    def problems(self) -> list[DomainError]:
        """What is wrong with this price (empty when it is valid)."""
        found: list[DomainError] = []
        if self.value < 0:
            found.append(TARIFF_NEGATIVE_PRICE("price", value=str(self.value)))
        elif self.basis is PriceBasis.EUROS:
            if self.value != self.value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP):
                found.append(TARIFF_SUB_CENT("price", value=str(self.value)))
        elif self.value > _HUNDRED:
            found.append(TARIFF_BAD_RATE("price", value=str(self.value)))
        return found

    def monthly(
        self, month: Month, *, salary: Money | None = None, ceilings: CeilingTable = DEFAULT_CEILINGS
    ) -> Money:
        """The price of a whole ``month``, rounded half up to the cent.

        Args:
            month: the month priced (it picks the PMSS).
            salary: the member's gross salary of the month (salary-based prices only).
            ceilings: the PMSS table.

        Raises:
            DomainError: ``tariff.salary_missing`` for a salary-based price without ``salary``;
                ``pmss.unknown_year`` for a month the ceilings do not know.

        >>> Price.tranche_a_percent("1.5").monthly(Month(2026, 1), salary=Money(5000))
        Money('60.08')
        """
        if self.basis is PriceBasis.EUROS:
            return Money(self.value)
        if self.basis is PriceBasis.PMSS_PERCENT:
            base = ceilings.pmss(month)
        else:
            if salary is None:
                raise TARIFF_SALARY_MISSING("salary")
            cut = tranche_a if self.basis is PriceBasis.TRANCHE_A_PERCENT else tranche_b
            base = cut(salary, month, ceilings)
        return base.percent(self.value, ROUND_HALF_UP)


@attrs.frozen
class RankRange:
    """Child ranks from ``first`` to ``last`` included (``last=None``: and every later child).

    >>> RankRange(3).contains(5), RankRange(1, 2).contains(3)
    (True, False)
    """

    first: int = 1
    last: int | None = None

    def contains(self, rank: int) -> bool:
        """Whether ``rank`` is in the range."""
        return self.first <= rank and (self.last is None or rank <= self.last)

    def overlaps(self, other: RankRange) -> bool:
        """Whether the two ranges share a rank."""
        return (self.last is None or other.first <= self.last) and (
            other.last is None or self.first <= other.last
        )

    def problems(self) -> list[DomainError]:
        """What is wrong with this range."""
        if self.first < 1 or (self.last is not None and self.last < self.first):
            return [TARIFF_BAD_RANKS("child_ranks", first=self.first, last=self.last or "…")]
        return []


@attrs.frozen
class AgeBand:
    """Ages from ``min_age`` included to ``max_age`` excluded (``None``: no upper limit).

    >>> AgeBand(0, 26).contains(25), AgeBand(0, 26).contains(26), AgeBand(60).contains(99)
    (True, False, True)
    """

    min_age: int = 0
    max_age: int | None = None

    def contains(self, age: int) -> bool:
        """Whether ``age`` is in the band."""
        return self.min_age <= age and (self.max_age is None or age < self.max_age)

    def overlaps(self, other: AgeBand) -> bool:
        """Whether the two bands share an age."""
        return (self.max_age is None or other.min_age < self.max_age) and (
            other.max_age is None or self.min_age < other.max_age
        )

    def problems(self) -> list[DomainError]:
        """What is wrong with this band."""
        if self.min_age < 0 or (self.max_age is not None and self.max_age <= self.min_age):
            return [TARIFF_BAD_AGE_BAND("age_band", min_age=self.min_age, max_age=self.max_age or "…")]
        return []


_ALL_RANKS = RankRange()
_ALL_AGES = AgeBand()


@attrs.frozen(kw_only=True)
class TariffLine:
    """The monthly price of one product for one person category of one assured group.

    Attributes:
        group_code: the assured group (``A2``, ``E1``...).
        product: the base, or the option priced as a supplement on top of the base.
        category: insured, spouse, child or other adult.
        price: the price.
        child_ranks: for a child line, the ranks it prices (``None``: every rank).
        age_band: the ages it prices (``None``: every age).
        alsace_moselle: ``True`` for the Alsace-Moselle local regime only, ``False`` for the general
            regime only, ``None`` for both.

    Raises:
        ValidationFailed: with every problem of the line.
    """

    group_code: str
    product: ProductLevel
    category: PersonCategory
    price: Price
    child_ranks: RankRange | None = None
    age_band: AgeBand | None = None
    alsace_moselle: bool | None = None

    def __attrs_post_init__(self) -> None:
        errors = ErrorCollector()
        for problem in self.problems():
            errors.add(problem)
        errors.raise_if_any()

    def problems(self) -> list[DomainError]:
        """What is wrong with this line on its own."""
        found = list(self.price.problems())
        if self.child_ranks is not None:
            if self.category is not PersonCategory.CHILD:
                found.append(TARIFF_RANK_NOT_CHILD("child_ranks"))
            found.extend(self.child_ranks.problems())
        if self.age_band is not None:
            found.extend(self.age_band.problems())
        if self.price.basis.needs_salary and self.category is not PersonCategory.INSURED:
            found.append(TARIFF_SALARY_FOR_DEPENDANT("price"))
        return found

    @property
    def ranks(self) -> RankRange:
        """The child ranks priced (every rank when unset)."""
        return self.child_ranks or _ALL_RANKS

    @property
    def ages(self) -> AgeBand:
        """The ages priced (every age when unset)."""
        return self.age_band or _ALL_AGES

    def applies_to(self, *, child_rank: int | None = None, age: int | None = None) -> bool:
        """Whether this line prices a person of this rank and age (``None``: not known / not needed)."""
        if self.child_ranks is not None and (child_rank is None or not self.child_ranks.contains(child_rank)):
            return False
        return self.age_band is None or (age is not None and self.age_band.contains(age))

    def overlaps(self, other: TariffLine) -> bool:
        """Whether both lines would price the same person (same key, ranks and ages overlap)."""
        return (
            self.group_code == other.group_code
            and self.product is other.product
            and self.category is other.category
            and self.alsace_moselle == other.alsace_moselle
            and self.ranks.overlaps(other.ranks)
            and self.ages.overlaps(other.ages)
        )


LineKey = tuple[str, ProductLevel, PersonCategory, bool]
"""``(group_code, product, category, alsace_moselle)``: how lines are looked up."""


def _index(lines: Iterable[TariffLine]) -> dict[LineKey, tuple[TariffLine, ...]]:
    by_flag: dict[tuple[str, ProductLevel, PersonCategory], dict[bool | None, list[TariffLine]]] = {}
    for line in lines:
        key = (line.group_code, line.product, line.category)
        by_flag.setdefault(key, {}).setdefault(line.alsace_moselle, []).append(line)
    index: dict[LineKey, tuple[TariffLine, ...]] = {}
    for (group, product, category), flags in by_flag.items():
        for alsace in (False, True):
            chosen = flags.get(alsace) or flags.get(None) or []
            if chosen:
                index[(group, product, category, alsace)] = tuple(chosen)
    return index


def _as_lines(lines: Iterable[TariffLine]) -> tuple[TariffLine, ...]:
    return tuple(lines)


def _check_overlaps(lines: tuple[TariffLine, ...], errors: ErrorCollector) -> None:
    for i, line in enumerate(lines):
        for other in lines[:i]:
            if line.overlaps(other):
                errors.add(
                    TARIFF_OVERLAP(
                        f"lines[{i}]",
                        group=line.group_code,
                        product=line.product.label,
                        category=line.category.label,
                    )
                )
                break


@attrs.frozen
class TariffGrid:
    """The tariff grid of one contract: its lines, checked together and indexed for lookups.

    Attributes:
        contract_number: the collective contract priced.
        lines: the lines, in any order.

    Raises:
        ValidationFailed: ``tariff.overlapping_lines`` when two lines price the same person.
    """

    contract_number: str
    lines: tuple[TariffLine, ...] = attrs.field(converter=_as_lines)
    _by_key: dict[LineKey, tuple[TariffLine, ...]] = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        errors = ErrorCollector()
        _check_overlaps(self.lines, errors)
        errors.raise_if_any()
        object.__setattr__(self, "_by_key", _index(self.lines))

    @property
    def keys(self) -> frozenset[LineKey]:
        """Every ``(group, product, category, alsace_moselle)`` the grid prices."""
        return frozenset(self._by_key)

    def candidates(
        self,
        group_code: str,
        product: ProductLevel,
        category: PersonCategory,
        *,
        alsace_moselle: bool = False,
    ) -> tuple[TariffLine, ...]:
        """The lines that may price this person, before ranks and ages are looked at."""
        return self._by_key.get((group_code, product, category, alsace_moselle), ())

    def find(
        self,
        group_code: str,
        product: ProductLevel,
        category: PersonCategory,
        *,
        alsace_moselle: bool = False,
        child_rank: int | None = None,
        age: int | None = None,
    ) -> TariffLine | None:
        """The line pricing this person, or ``None`` when the grid has none."""
        for line in self.candidates(group_code, product, category, alsace_moselle=alsace_moselle):
            if line.applies_to(child_rank=child_rank, age=age):
                return line
        return None

    def groups(self) -> frozenset[str]:
        """The assured groups the grid prices."""
        return frozenset(line.group_code for line in self.lines)

    def insured_base_lines(self, group_code: str) -> tuple[TariffLine, ...]:
        """The insured's base lines of a group (both regimes), for the employer-share checks."""
        return tuple(
            line
            for line in self.lines
            if line.group_code == group_code
            and line.product is ProductLevel.BASE
            and line.category is PersonCategory.INSURED
        )


def age_for_tariff(birth_date: dt.date, month: Month, *, civil_year: bool) -> int:
    """The age used to pick an age band in ``month``.

    Args:
        birth_date: the person's birth date.
        month: the month priced.
        civil_year: ``True`` for the age reached during the calendar year (``year - birth year``,
            the "millésime" many grids use), ``False`` for the age on the month's first day.

    >>> age_for_tariff(dt.date(2000, 12, 31), Month(2026, 1), civil_year=True)
    26
    >>> age_for_tariff(dt.date(2000, 12, 31), Month(2026, 1), civil_year=False)
    25
    """
    if civil_year:
        return max(month.year - birth_date.year, 0)
    first = month.first_day
    if first < birth_date:
        return 0
    return first.year - birth_date.year - int((first.month, first.day) < (birth_date.month, birth_date.day))
