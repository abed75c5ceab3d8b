"""The cotisation engine: one member, one month, the lines each payer owes. Pure and fast.

:func:`cotisation_for_month` takes plain inputs:

* a :class:`MemberSnapshot`: the member's group, formula, status (active, portability, Evin,
  maintien), the days covered, the beneficiaries with their own periods, Alsace-Moselle, salary;
* a :class:`ContractPricing`: the contract's :class:`~mutuelle_core.cotisations.tariff.TariffGrid`
  and :class:`~mutuelle_core.cotisations.rules.CotisationRules` compiled once per contract (lookups
  indexed, euro prices in cents, PMSS prices resolved once per month and cached);
* the :class:`~mutuelle_core.values.dates.Month` billed,

and returns a tuple of :class:`CotisationLine`: for each person covered and each product (the base,
and the member's option priced as a supplement), the part each payer owes, with the channel through
which it is collected. Lines of zero are left out; a member in portability gets no line (L911-8 CSS:
free of charge).

How a line is computed, in integer cents:

1. the month's price of the product for the person (grid line by group, product, category,
   Alsace-Moselle, child rank and age band; a PMSS percentage is rounded half up to the cent);
2. Evin and maintien: the Evin (or M) group's own price, capped at the active group's price
   (``rules.evin_reference_group``) times :func:`~mutuelle_core.departures.evin.evin_price_cap`, the
   cap in force on the first day billed; a group without prices of its own is charged the cap itself
   (100 %, 125 %, 150 % of the active price, then ``rules.evin_uncapped_multiplier``);
3. a partial month: whole (``WHOLE_MONTH``) or ``price × days covered / days in month`` rounded half
   up (``DAYS``);
4. the split between payers: the employer's share (see :mod:`~mutuelle_core.cotisations.rules`) and
   the member's rest, which add up to the line exactly.

Seed 002 (PSC, MENJ): the agent's base is paid through the employer: the employer's 50 % and the
agent's 50 % deducted from pay (``PAYROLL_DEDUCTION``); what is debited from the agent's account is
the option supplement and the dependants' prices (``DIRECT_DEBIT``).

>>> import datetime as dt
>>> from mutuelle_core.contracts.contract import ProductLevel
>>> from mutuelle_core.cotisations.engine import (ContractPricing, CoveredPerson, MemberSnapshot,
...     cotisation_for_month, debited_from_account)
>>> from mutuelle_core.cotisations.rules import CotisationRules
>>> from mutuelle_core.cotisations.tariff import PersonCategory as P, Price, TariffGrid, TariffLine
>>> from mutuelle_core.values.dates import DateRange, Month
>>> def line(product, category, euros):
...     return TariffLine(group_code="A1", product=product, category=category, price=Price.euros(euros))
>>> grid = TariffGrid("MENJ2026", [line(ProductLevel.BASE, P.INSURED, "60"),
...     line(ProductLevel.OPTION_1, P.INSURED, "12"), line(ProductLevel.BASE, P.SPOUSE, "10"),
...     line(ProductLevel.OPTION_1, P.SPOUSE, "4")])
>>> pricing = ContractPricing(grid, CotisationRules.psc())
>>> agent = MemberSnapshot(member_id="M1", group_code="A1", level=ProductLevel.OPTION_1,
...     cover=DateRange(dt.date(2026, 5, 1)),
...     beneficiaries=(CoveredPerson(person_id="M1-b1", category=P.SPOUSE,
...                                  period=DateRange(dt.date(2026, 5, 1))),))
>>> for l in cotisation_for_month(agent, Month(2026, 5), pricing):
...     print(l.person_id, l.product.label, l.amount, l.payer.value, l.channel.value)
M1 Base 30.00 employer transfer
M1 Base 30.00 member payroll_deduction
M1 Base+option 1 12.00 member direct_debit
M1-b1 Base 10.00 member direct_debit
M1-b1 Base+option 1 4.00 member direct_debit
>>> debited_from_account(cotisation_for_month(agent, Month(2026, 5), pricing))
Money('26.00')
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple

import attrs

from mutuelle_core.affiliation.affiliation import Affiliation
from mutuelle_core.affiliation.journey import BeneficiaryKind, SocialRegime
from mutuelle_core.affiliation.transitions import AffiliationStatus
from mutuelle_core.contracts.contract import ProductLevel, ProrataRule
from mutuelle_core.cotisations.pmss import DEFAULT_CEILINGS, CeilingTable
from mutuelle_core.cotisations.rules import (
    RULES_BELOW_LEGAL,
    AgeBasis,
    AlsaceMoselleMode,
    CollectionChannel,
    CotisationRules,
    Payer,
    round_half_up,
)
from mutuelle_core.cotisations.tariff import (
    PersonCategory,
    PriceBasis,
    TariffGrid,
    TariffLine,
    age_for_tariff,
)
from mutuelle_core.departures.departure import ContinuationKind
from mutuelle_core.departures.evin import evin_price_cap
from mutuelle_core.errors import error_code
from mutuelle_core.families.beneficiaries import CoveredBeneficiary
from mutuelle_core.i18n import message
from mutuelle_core.values.dates import DateRange, Month
from mutuelle_core.values.money import Money

__all__ = [
    "ENGINE_BIRTH_DATE_MISSING",
    "ENGINE_CONTINUATION_START_MISSING",
    "ENGINE_EVIN_REFERENCE_MISSING",
    "ENGINE_PRICE_MISSING",
    "ENGINE_SNAPSHOT_INVALID",
    "ContractPricing",
    "CotisationLine",
    "CoverStatus",
    "CoveredPerson",
    "MemberSnapshot",
    "cotisation_for_month",
    "debited_from_account",
    "snapshots_from_affiliation",
    "total",
    "totals_by_payer",
]

ENGINE_PRICE_MISSING = error_code(
    "cotisation.price_missing",
    "Le tarif du contrat ne prévoit pas de prix pour « {category} », produit « {product} », groupe {group}.",
)
ENGINE_BIRTH_DATE_MISSING = error_code(
    "cotisation.birth_date_missing",
    "Le tarif dépend de l'âge : la date de naissance de la personne {person} est nécessaire.",
)
ENGINE_CONTINUATION_START_MISSING = error_code(
    "cotisation.continuation_start_missing",
    "La date de début du maintien (Evin ou après décès) est nécessaire pour plafonner le tarif.",
)
ENGINE_EVIN_REFERENCE_MISSING = error_code(
    "cotisation.evin_reference_missing",
    "Les règles du contrat ne désignent pas le groupe des actifs dont le tarif plafonne celui du maintien.",
)
ENGINE_SNAPSHOT_INVALID = error_code(
    "cotisation.snapshot_invalid", "Situation de l'adhérent incohérente pour le calcul : {rule}."
)


class CoverStatus(enum.Enum):
    """What kind of cover a snapshot bills."""

    ACTIVE = "active"
    """An employee (or agent) in the collective cover: employer shares apply."""
    PORTABILITY = "portability"
    """A former employee in portability (L911-8 CSS): free, no line."""
    EVIN = "evin"
    """Individual continuation (loi Evin art. 4): the member pays, under the yearly caps."""
    MAINTIEN = "maintien"
    """The people covered through a deceased employee: they pay, under the same caps."""

    @property
    def label(self) -> str:
        """The French label."""
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    CoverStatus.ACTIVE: message("Actif"),
    CoverStatus.PORTABILITY: message("Portabilité"),
    CoverStatus.EVIN: message("Evin"),
    CoverStatus.MAINTIEN: message("Maintien"),
}


@attrs.frozen(kw_only=True)
class CoveredPerson:
    """A beneficiary covered through the member, for billing.

    Attributes:
        person_id: the beneficiary's id (the lines carry it).
        category: spouse, child or other adult.
        period: the days the person is covered (inclusive).
        birth_date: needed for age bands and to rank children (eldest first).
        birth_rank: the rang de naissance, which orders twins born the same day.
    """

    person_id: str
    category: PersonCategory
    period: DateRange
    birth_date: dt.date | None = None
    birth_rank: int | None = None

    def __attrs_post_init__(self) -> None:
        if self.category is PersonCategory.INSURED:
            raise ENGINE_SNAPSHOT_INVALID("category", rule="un bénéficiaire n'est pas l'assuré principal")


def _as_people(people: Iterable[CoveredPerson]) -> tuple[CoveredPerson, ...]:
    return tuple(people)


@attrs.frozen(kw_only=True)
class MemberSnapshot:
    """What the engine needs to know about one member for one status and group (plain values).

    One snapshot bills one status in one group: a month in which a member moves from active cover to
    Evin is billed with two snapshots (see :func:`snapshots_from_affiliation`).

    Attributes:
        member_id: the adhesion (lines carry it).
        group_code: the assured group whose prices apply.
        level: the formula: the base, or the base and one option.
        cover: the days this snapshot bills (the insured's cover; the beneficiaries' periods are
            clipped to it).
        status: active, portability, Evin or maintien.
        insured_covered: ``False`` when only the beneficiaries are covered (maintien after a death).
        birth_date: the insured's birth date (age bands).
        beneficiaries: the people covered through the member, with their periods.
        alsace_moselle: the member is under the Alsace-Moselle local regime.
        monthly_salary: gross salary of the month, for salary-based (provident) prices.
        continuation_start: the first day of the Evin or maintien adhesion (decides the caps).
        member_channel: how this member pays their own lines, when not the contract's default
            (a member paying by cheque, say); the payroll deduction of an active member's base share
            is not affected.
    """

    member_id: str
    group_code: str
    level: ProductLevel
    cover: DateRange
    status: CoverStatus = CoverStatus.ACTIVE
    insured_covered: bool = True
    birth_date: dt.date | None = None
    beneficiaries: tuple[CoveredPerson, ...] = attrs.field(default=(), converter=_as_people)
    alsace_moselle: bool = False
    monthly_salary: Money | None = None
    continuation_start: dt.date | None = None
    member_channel: CollectionChannel | None = None


class CotisationLine(NamedTuple):
    """One payer's part of one product for one person in one month (an immutable row).

    A named tuple rather than an attrs class: a billing run builds millions of them, and a tuple is
    built in half the time; it compares, hashes and pickles as a value all the same.

    Attributes:
        member_id: the adhesion billed.
        person_id: the person covered (the member's id for the insured).
        category: insured, spouse, child or other adult.
        product: the base or the option (a supplement on top of the base).
        amount: what the payer owes for the month, exact to the cent, never zero.
        payer: the employer or the member.
        channel: how it is collected.
    """

    member_id: str
    person_id: str
    category: PersonCategory
    product: ProductLevel
    amount: Money
    payer: Payer
    channel: CollectionChannel


_MONEY: dict[int, Money] = {}


def _money(cents: int) -> Money:
    """Amounts repeat a lot over a billing run: share the immutable ``Money`` instances."""
    found = _MONEY.get(cents)
    if found is None:
        if len(_MONEY) > 200_000:
            _MONEY.clear()
        found = _MONEY[cents] = Money.cents(cents)
    return found


class _Entry:
    """A grid line compiled for the hot path."""

    __slots__ = ("age_max", "age_min", "basis", "cents", "line", "rank_first", "rank_last", "rate")

    def __init__(self, line: TariffLine) -> None:
        self.line = line
        ranks, ages = line.child_ranks, line.age_band
        self.rank_first = ranks.first if ranks is not None else None
        self.rank_last = ranks.last if ranks is not None else None
        self.age_min = ages.min_age if ages is not None else None
        self.age_max = ages.max_age if ages is not None else None
        self.basis = line.price.basis
        value = line.price.value
        self.cents = int(value * 100) if self.basis is PriceBasis.EUROS else None
        self.rate = Fraction(value) / 100


_Factor = tuple[int, int] | None
"""The prorata of a partial month, ``(days covered, days in the month)``; ``None`` for a whole month."""

_Key = tuple[str, ProductLevel, str, bool]
"""``(group, product, category value, alsace)``: plain-``Enum`` hashing is slow, the value's is not."""
_CATEGORY_OF_KIND = {
    BeneficiaryKind.SPOUSE: PersonCategory.SPOUSE,
    BeneficiaryKind.CHILD: PersonCategory.CHILD,
    BeneficiaryKind.OTHER_ADULT: PersonCategory.OTHER_ADULT,
}


class ContractPricing:
    """A contract's grid and rules compiled for billing (build once per contract, reuse for every member).

    It indexes the grid, keeps euro prices in cents, resolves PMSS prices once per month (cached), and
    checks a private employer's fixed share against the legal 50 % of the insured's base price in the
    active (``A``) groups: for euro prices when built, for PMSS prices in each month billed.

    It holds caches but no state a result depends on: two calls with the same inputs give the same
    lines.

    Attributes:
        prices_by_age: a birth date can pick a price (the grid has age bands); otherwise birth dates
            change no line.
        prices_by_child_rank: a child's rank (eldest first, twins by rang de naissance) can change a
            line (rank lines in the grid, or ``rules.free_from_child_rank``); otherwise the order of
            the children changes no line.

    Args:
        grid: the contract's tariff grid.
        rules: the contract's cotisation rules.
        ceilings: the PMSS table.

    Raises:
        DomainError: ``cotisation.employer_share_below_legal`` (field ``employer_base``) when a fixed
            private share is below half of an active group's base price.
    """

    __slots__ = (
        "_alsace_cents",
        "_alsace_fixed",
        "_by_days",
        "_dependants_share",
        "_employer_channel",
        "_index",
        "_member_channel",
        "_month_bounds",
        "_option_cap",
        "_options",
        "_payroll_channel",
        "_pmss_cents",
        "_uncapped",
        "ceilings",
        "grid",
        "prices_by_age",
        "prices_by_child_rank",
        "rules",
    )

    def __init__(self, grid: TariffGrid, rules: CotisationRules, ceilings: CeilingTable = DEFAULT_CEILINGS):
        self.grid = grid
        self.rules = rules
        self.ceilings = ceilings
        self._index: dict[_Key, tuple[_Entry, ...]] = {}
        compiled = {id(line): _Entry(line) for line in grid.lines}
        for key in grid.keys:
            group, product, category, alsace = key
            self._index[(group, product, category.value, alsace)] = tuple(
                compiled[id(line)]
                for line in grid.candidates(group, product, category, alsace_moselle=alsace)
            )
        self._pmss_cents: dict[Month, int] = {}
        self._month_bounds: dict[Month, tuple[dt.date, dt.date, int]] = {}
        # the rules, read once per contract rather than once per line
        psc = rules.is_psc
        self._by_days = rules.prorata is ProrataRule.DAYS
        self._options = None if rules.employer_options.is_nothing else rules.employer_options
        self._option_cap = rules.psc_option_cap.to_cents() if psc else None
        dependants = rules.employer_dependants
        self._dependants_share = None if psc or dependants.is_nothing else dependants
        alsace_base = rules.alsace_moselle_base
        self._alsace_cents = alsace_base.to_cents() if psc and alsace_base is not None else None
        self._alsace_fixed = rules.alsace_moselle_mode is AlsaceMoselleMode.FIXED
        self._employer_channel = rules.employer_channel
        self._payroll_channel = rules.payroll_channel
        self._member_channel = rules.member_channel
        self._uncapped = Fraction(rules.evin_uncapped_multiplier)
        for entry in compiled.values():
            if entry.cents is not None:
                self._check_fixed_share(entry.line, entry.cents)
        self.prices_by_age = any(e.age_min is not None for e in compiled.values())
        self.prices_by_child_rank = rules.free_from_child_rank is not None or any(
            e.rank_first is not None for e in compiled.values()
        )

    # -- checks ----------------------------------------------------------------------------------

    def _check_fixed_share(self, line: TariffLine, price_cents: int) -> None:
        """L911-7: a private employer's fixed share is at least half of an active base price."""
        fixed = self.rules.employer_base.amount
        if (
            fixed is None
            or self.rules.is_psc
            or line.product is not ProductLevel.BASE
            or line.category is not PersonCategory.INSURED
            or not line.group_code.startswith("A")
        ):
            return
        if fixed.to_cents() * 2 < price_cents:
            raise RULES_BELOW_LEGAL("employer_base", share=f"{fixed} € / {Money.cents(price_cents)} €")

    # -- prices ----------------------------------------------------------------------------------

    def _bounds(self, month: Month) -> tuple[dt.date, dt.date, int]:
        bounds = self._month_bounds.get(month)
        if bounds is None:
            bounds = self._month_bounds[month] = (month.first_day, month.last_day, month.days_in_month)
        return bounds

    def _pmss(self, month: Month) -> int:
        cents = self._pmss_cents.get(month)
        if cents is None:
            cents = self._pmss_cents[month] = self.ceilings.pmss(month).to_cents()
        return cents

    def _entry(
        self,
        group: str,
        product: ProductLevel,
        category: PersonCategory,
        alsace: bool,
        rank: int | None,
        birth_date: dt.date | None,
        month: Month,
        person_id: str,
    ) -> _Entry | None:
        entries = self._index.get((group, product, category._value_, alsace))
        if not entries:
            return None
        age: int | None = None
        for entry in entries:
            if entry.rank_first is not None and (
                rank is None
                or rank < entry.rank_first
                or (entry.rank_last is not None and rank > entry.rank_last)
            ):
                continue
            if entry.age_min is not None:
                if age is None:
                    if birth_date is None:
                        raise ENGINE_BIRTH_DATE_MISSING("birth_date", person=person_id)
                    age = age_for_tariff(
                        birth_date, month, civil_year=self.rules.age_basis is AgeBasis.CIVIL_YEAR
                    )
                if age < entry.age_min or (entry.age_max is not None and age >= entry.age_max):
                    continue
            return entry
        return None

    def _cents(self, entry: _Entry, month: Month, salary: Money | None) -> int:
        if entry.cents is not None:
            return entry.cents
        if entry.basis is PriceBasis.PMSS_PERCENT:
            rate = entry.rate
            cents = round_half_up(self._pmss(month) * rate.numerator, rate.denominator)
            if entry.line.product is ProductLevel.BASE and entry.line.category is PersonCategory.INSURED:
                self._check_fixed_share(entry.line, cents)
            return cents
        return entry.line.price.monthly(month, salary=salary, ceilings=self.ceilings).to_cents()

    def price_cents(
        self,
        group: str,
        product: ProductLevel,
        category: PersonCategory,
        month: Month,
        *,
        alsace_moselle: bool = False,
        child_rank: int | None = None,
        birth_date: dt.date | None = None,
        salary: Money | None = None,
        person_id: str = "",
    ) -> int | None:
        """The whole-month price in cents of a product for a person, ``None`` when the grid has none.

        Raises:
            DomainError: ``cotisation.birth_date_missing`` when an age band needs a birth date;
                ``tariff.salary_missing`` for a salary price without salary; ``pmss.unknown_year``.
        """
        entry = self._entry(
            group, product, category, alsace_moselle, child_rank, birth_date, month, person_id
        )
        return None if entry is None else self._cents(entry, month, salary)

    # -- one member ------------------------------------------------------------------------------

    def lines_for(self, member: MemberSnapshot, month: Month) -> tuple[CotisationLine, ...]:
        """The lines of ``member`` for ``month``: see :func:`cotisation_for_month`."""
        status = member.status
        if status is CoverStatus.PORTABILITY:
            return ()
        first, last, dim = self._bounds(month)
        cover = member.cover
        start = cover.start if cover.start > first else first
        end = last if cover.end is None or cover.end > last else cover.end
        if start > end:
            return ()
        active = status is CoverStatus.ACTIVE
        cap = None if active else self._evin_cap(member, start)
        level = member.level
        products = _BASE_ONLY if level is ProductLevel.BASE else (ProductLevel.BASE, level)
        own_channel = member.member_channel or self._member_channel
        out: list[CotisationLine] = []
        append = out.append
        member_id = member.member_id
        if member.insured_covered:
            days = (end - start).days + 1
            factor = (days, dim) if self._by_days and days != dim else None
            for product in products:
                total = self._line_cents(
                    member, month, product, _INSURED, None, member.birth_date, member_id, factor, active, cap
                )
                if active and product is ProductLevel.BASE:
                    employer, channel = self._base_share(member, total, factor), self._payroll_channel
                else:
                    employer = self._option_share(total, factor) if active else 0
                    channel = own_channel
                if employer:
                    line = (
                        member_id,
                        member_id,
                        _INSURED,
                        product,
                        _money(employer),
                        _EMPLOYER,
                        self._employer_channel,
                    )
                    append(CotisationLine(*line))
                if total - employer:
                    append(
                        CotisationLine(
                            member_id,
                            member_id,
                            _INSURED,
                            product,
                            _money(total - employer),
                            _MEMBER,
                            channel,
                        )
                    )
        if member.beneficiaries:
            self._beneficiaries(out, member, month, start, end, dim, products, active, cap, own_channel)
        return tuple(out)

    def _beneficiaries(
        self,
        out: list[CotisationLine],
        member: MemberSnapshot,
        month: Month,
        start: dt.date,
        end: dt.date,
        dim: int,
        products: tuple[ProductLevel, ...],
        active: bool,
        cap: Fraction | None,
        channel: CollectionChannel,
    ) -> None:
        covered: list[tuple[CoveredPerson, int]] = []
        children = 0
        for person in member.beneficiaries:
            period = person.period
            p_start = period.start if period.start > start else start
            p_end = end if period.end is None or period.end > end else period.end
            if p_start <= p_end:
                covered.append((person, (p_end - p_start).days + 1))
                children += person.category is _CHILD
        if not covered:
            return
        ranks = _child_ranks([p for p, _ in covered]) if children else {}
        free_from = self.rules.free_from_child_rank
        share = self._dependants_share if active else None
        member_id = member.member_id
        append = out.append
        by_days = self._by_days
        for person, days in covered:
            rank = ranks.get(person.person_id) if children else None
            if rank is not None and free_from is not None and rank >= free_from:
                continue
            factor = (days, dim) if by_days and days != dim else None
            person_id, category = person.person_id, person.category
            for product in products:
                total = self._line_cents(
                    member, month, product, category, rank, person.birth_date, person_id, factor, active, cap
                )
                employer = share.cents(total, factor) if share is not None else 0
                if employer:
                    line = (
                        member_id,
                        person_id,
                        category,
                        product,
                        _money(employer),
                        _EMPLOYER,
                        self._employer_channel,
                    )
                    append(CotisationLine(*line))
                if total - employer:
                    append(
                        CotisationLine(
                            member_id,
                            person_id,
                            category,
                            product,
                            _money(total - employer),
                            _MEMBER,
                            channel,
                        )
                    )

    def _line_cents(
        self,
        member: MemberSnapshot,
        month: Month,
        product: ProductLevel,
        category: PersonCategory,
        rank: int | None,
        birth_date: dt.date | None,
        person_id: str,
        factor: _Factor,
        active: bool,
        cap: Fraction | None,
    ) -> int:
        alsace = member.alsace_moselle
        salary = member.monthly_salary if category is _INSURED else None
        own = self._entry(member.group_code, product, category, alsace, rank, birth_date, month, person_id)
        if active:
            if own is None:
                raise self._missing(member.group_code, product, category)
            cents = own.cents if own.cents is not None else self._cents(own, month, salary)
        else:
            reference_group = self.rules.evin_reference_group
            if reference_group is None:
                raise ENGINE_EVIN_REFERENCE_MISSING("evin_reference_group")
            ref = self._entry(reference_group, product, category, alsace, rank, birth_date, month, person_id)
            if ref is None:
                raise self._missing(reference_group, product, category)
            ref_cents = self._cents(ref, month, salary)
            if own is not None and own is not ref:
                cents = self._cents(own, month, salary)
                if cap is not None:
                    cents = min(cents, round_half_up(ref_cents * cap.numerator, cap.denominator))
            else:
                multiplier = cap if cap is not None else self._uncapped
                cents = round_half_up(ref_cents * multiplier.numerator, multiplier.denominator)
        if factor is not None:
            cents = round_half_up(cents * factor[0], factor[1])
        return cents

    def _base_share(self, member: MemberSnapshot, total: int, factor: _Factor) -> int:
        """The employer's part of an active insured's base line."""
        share = self.rules.employer_base.cents(total, factor)
        fixed = self._alsace_cents
        if fixed is not None and member.alsace_moselle:
            if factor is not None:
                fixed = round_half_up(fixed * factor[0], factor[1])
            share = min(fixed, total) if self._alsace_fixed else min(share, fixed)
        return share

    def _option_share(self, total: int, factor: _Factor) -> int:
        """The employer's part of an active insured's option line (PSC: at most the monthly cap)."""
        rule = self._options
        if rule is None:
            return 0
        share = rule.cents(total, factor)
        cap = self._option_cap
        if cap is not None:
            if factor is not None:
                cap = round_half_up(cap * factor[0], factor[1])
            share = min(share, cap)
        return share

    def _evin_cap(self, member: MemberSnapshot, start: dt.date) -> Fraction | None:
        evin_start = member.continuation_start
        if evin_start is None:
            raise ENGINE_CONTINUATION_START_MISSING("continuation_start")
        cap: Decimal | None = evin_price_cap(evin_start, max(start, evin_start))
        return None if cap is None else Fraction(cap)

    @staticmethod
    def _missing(group: str, product: ProductLevel, category: PersonCategory) -> Exception:
        return ENGINE_PRICE_MISSING("group_code", category=category.label, product=product.label, group=group)


_BASE_ONLY = (ProductLevel.BASE,)
_INSURED, _CHILD = PersonCategory.INSURED, PersonCategory.CHILD
_EMPLOYER, _MEMBER = Payer.EMPLOYER, Payer.MEMBER


def _child_ranks(people: Iterable[CoveredPerson]) -> dict[str, int]:
    """Rank the children covered in the month, eldest first (twins by rang de naissance)."""
    children = [p for p in people if p.category is PersonCategory.CHILD]
    if not children:
        return {}
    children.sort(key=lambda p: (p.birth_date or dt.date.max, p.birth_rank or 0, p.person_id))
    return {p.person_id: i + 1 for i, p in enumerate(children)}


def cotisation_for_month(
    member: MemberSnapshot, month: Month, pricing: ContractPricing
) -> tuple[CotisationLine, ...]:
    """The cotisation lines of ``member`` for ``month`` under a contract's compiled ``pricing``.

    Args:
        member: the member's snapshot (one status, one group).
        month: the month billed.
        pricing: the contract's grid and rules, compiled once (:class:`ContractPricing`).

    Returns:
        The lines, insured first then the beneficiaries in snapshot order, base before option, the
        employer's part before the member's. Empty in portability or when nobody is covered in the month.

    Raises:
        DomainError: ``cotisation.price_missing`` when the grid does not price someone covered;
            ``cotisation.birth_date_missing``, ``tariff.salary_missing``, ``pmss.unknown_year``,
            ``cotisation.continuation_start_missing``, ``cotisation.evin_reference_missing``,
            ``cotisation.employer_share_below_legal`` (a fixed private share below half a PMSS price).
    """
    return pricing.lines_for(member, month)


def total(lines: Iterable[CotisationLine]) -> Money:
    """The sum of the lines.

    >>> total([])
    Money('0.00')
    """
    return Money.cents(sum(line.amount.to_cents() for line in lines))


def totals_by_payer(lines: Iterable[CotisationLine]) -> dict[Payer, Money]:
    """What each payer owes in total (payers owing nothing are left out)."""
    sums: dict[Payer, int] = {}
    for line in lines:
        sums[line.payer] = sums.get(line.payer, 0) + line.amount.to_cents()
    return {payer: Money.cents(cents) for payer, cents in sums.items()}


def debited_from_account(lines: Iterable[CotisationLine]) -> Money:
    """What is debited from the member's own account (seed 002: "Montant prélevé directement")."""
    return Money.cents(
        sum(
            line.amount.to_cents()
            for line in lines
            if line.payer is Payer.MEMBER and line.channel is CollectionChannel.DIRECT_DEBIT
        )
    )


def _person(b: CoveredBeneficiary) -> CoveredPerson:
    return CoveredPerson(
        person_id=b.beneficiary_id,
        category=_CATEGORY_OF_KIND[b.details.kind],
        period=b.period,
        birth_date=b.details.birth_date,
        birth_rank=b.details.birth_rank,
    )


_BILLED = frozenset(
    {
        AffiliationStatus.AFFILIATED,
        AffiliationStatus.RADIATED,
        AffiliationStatus.PORTABILITY,
        AffiliationStatus.EVIN,
        AffiliationStatus.MAINTIEN,
    }
)


def snapshots_from_affiliation(
    affiliation: Affiliation,
    *,
    active_group_code: str | None = None,
    alsace_moselle: bool | None = None,
    monthly_salary: Money | None = None,
    member_channel: CollectionChannel | None = None,
) -> tuple[MemberSnapshot, ...]:
    """The snapshots that bill an affiliation: its active cover, then its Evin or maintien cover.

    Portability is free and gets no snapshot. The active cover runs from the effective date to the
    departure's last day; the continuation from its own start, in the affiliation's (E or M) group.
    Beneficiaries come from the affiliation's ``covered`` periods, as they stand now.

    Args:
        affiliation: the aggregate.
        active_group_code: the active group, needed once the affiliation has moved to a P, E or M group
            (the aggregate only keeps its current group).
        alsace_moselle: the member is under the Alsace-Moselle local regime (default: the regime
            declared in the journey's first step).
        monthly_salary: gross salary of the month, for provident prices.
        member_channel: how the member pays their own lines, when not the contract's default.

    Raises:
        DomainError: ``cotisation.snapshot_invalid`` when the active group is needed but not given.
    """
    if (
        affiliation.status not in _BILLED
        or affiliation.effective_date is None
        or affiliation.product_level is None
    ):
        return ()
    personal = affiliation.journey.personal
    birth_date = personal.birth_date if personal is not None else None
    people = tuple(_person(b) for b in affiliation.covered)
    departure = affiliation.departure
    moved = affiliation.status in {
        AffiliationStatus.PORTABILITY,
        AffiliationStatus.EVIN,
        AffiliationStatus.MAINTIEN,
    }
    group = active_group_code or (None if moved else affiliation.group_code)
    if group is None:
        raise ENGINE_SNAPSHOT_INVALID("active_group_code", rule="le groupe des actifs n'est pas connu")
    common = {
        "member_id": affiliation.adhesion_number or affiliation.affiliation_id,
        "level": affiliation.product_level,
        "birth_date": birth_date,
        "beneficiaries": people,
        "alsace_moselle": (
            affiliation.journey.regime is SocialRegime.ALSACE_MOSELLE
            if alsace_moselle is None
            else alsace_moselle
        ),
        "monthly_salary": monthly_salary,
        "member_channel": member_channel,
    }
    last_day = departure.last_day if departure is not None else None
    snapshots = []
    if last_day is None or last_day >= affiliation.effective_date:
        snapshots.append(
            MemberSnapshot(group_code=group, cover=DateRange(affiliation.effective_date, last_day), **common)  # type: ignore[arg-type]
        )
    continuation = affiliation.continuation
    if continuation is not None:
        evin = continuation.kind is ContinuationKind.EVIN
        snapshots.append(
            MemberSnapshot(
                group_code=affiliation.group_code,
                cover=continuation.period,
                status=CoverStatus.EVIN if evin else CoverStatus.MAINTIEN,
                insured_covered=evin,
                continuation_start=continuation.period.start,
                **common,  # type: ignore[arg-type]
            )
        )
    return tuple(snapshots)
