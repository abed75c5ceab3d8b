"""Does a new beneficiary make the member owe a direct debit? Then a SEPA mandate is needed.

Seed 002: on a PSC contract the agent's base goes through the employer and payroll, but the dependants
are paid by the agent, **debited from her account**. A member affiliated without a mandate (forced to
the base by her employer, enrolled automatically) who then adds a child would be billed for it with
nothing to collect it under: the collection skips her and the dunning job sends her a mise en demeure.
:func:`~mutuelle_core.families.use_cases.add_beneficiary` therefore asks for the bank details and the
mandate's signature in the same command when this module says the addition is debited.

The answer comes from the pricing engine, not from a guess: the affiliation is priced as the billing
run prices it (:func:`~mutuelle_core.cotisations.billing.snapshots_for` and
:class:`~mutuelle_core.cotisations.engine.ContractPricing`), without and with the new person, over the
first :data:`MANDATE_HORIZON_MONTHS` months of the person's cover. The addition is debited when, in one
of those months, the new person has a line the member pays by direct debit, or the member's direct
debits grow. So a third child free under ``free_from_child_rank`` costs nothing and needs no mandate;
nor does any dependant on a contract that collects members by cheque or transfer.

* **Which tariff.** The contract's stored tariff (:class:`~mutuelle_core.cotisations.records.ContractTariff`).
  A contract without one yet (the billing tariff is set later) is priced from its own price grid, the
  one the affiliation journey quotes (``settings.price_grid``: what the member pays per formula and
  person, options as totals), turned into an engine grid (:func:`grid_from_price_grid`) with the
  contract's default rules (:meth:`~mutuelle_core.cotisations.rules.CotisationRules.from_contract`:
  members pay by direct debit, children free from the contract's ``free_from_child_rank``).
* **When the engine cannot price** any month of the horizon (a price missing from the grid, a PMSS
  year not in the table...), the answer falls back to the grid's list price: the highest price of the
  person's category in the member's group, summed over the base and the member's option; a positive
  one is debited (:func:`listed_price`).
* **What it does not foresee.** Changes after the horizon (a child who leaves a free age band later)
  and changes of the other people (the eldest reaching the age limit moves a free third child up to
  rank 2) are not seen at the time of the addition.

>>> import datetime as dt
>>> from mutuelle_core.affiliation.transitions import AffiliationStatus
>>> from mutuelle_core.contracts.contract import ProductLevel
>>> from mutuelle_core.cotisations.engine import ContractPricing, CoveredPerson
>>> from mutuelle_core.cotisations.records import BillableAffiliation
>>> from mutuelle_core.cotisations.rules import CotisationRules
>>> from mutuelle_core.cotisations.seed002 import seed_002_grid
>>> from mutuelle_core.cotisations.tariff import PersonCategory
>>> from mutuelle_core.values.dates import DateRange, Month
>>> pricing = ContractPricing(seed_002_grid(), CotisationRules.psc(free_from_child_rank=3))
>>> agent = BillableAffiliation(affiliation_id="aff-1", contract_number="MENJ2026",
...     status=AffiliationStatus.AFFILIATED, group_code="A1", member_id="M1", level=ProductLevel.BASE,
...     effective_date=dt.date(2026, 5, 1))
>>> def child(n, born):
...     return CoveredPerson(person_id=f"c{n}", category=PersonCategory.CHILD,
...         period=DateRange(dt.date(2026, 6, 1)), birth_date=born)
>>> with_one = agent._replace(beneficiaries=(child(1, dt.date(2016, 3, 14)),))
>>> new_debit(pricing, agent, with_one, "c1", Month(2026, 6))
Money('6.00')
>>> with_three = agent._replace(beneficiaries=(child(1, dt.date(2016, 3, 14)), child(2, dt.date(2019, 1, 2)),
...     child(3, dt.date(2026, 5, 20))))
>>> new_debit(pricing, with_three._replace(beneficiaries=with_three.beneficiaries[:2]), with_three, "c3",
...     Month(2026, 6))  # the third child is free
Money('0.00')
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from mutuelle_core.contracts.contract import CollectiveContract, GroupCategory, ProductLevel
from mutuelle_core.cotisations.billing import snapshots_for
from mutuelle_core.cotisations.engine import ContractPricing, CotisationLine
from mutuelle_core.cotisations.records import BillableAffiliation, ContractTariff
from mutuelle_core.cotisations.rules import CollectionChannel, CotisationRules, Payer
from mutuelle_core.cotisations.tariff import PersonCategory, Price, TariffGrid, TariffLine
from mutuelle_core.errors import DomainError
from mutuelle_core.values.dates import Month
from mutuelle_core.values.money import Money

__all__ = [
    "MANDATE_HORIZON_MONTHS",
    "grid_from_price_grid",
    "listed_price",
    "member_pricing",
    "monthly_debit",
    "new_debit",
]

MANDATE_HORIZON_MONTHS: Final = 12
"""How many months of the new person's cover are priced, from the month the cover starts."""

_DEBIT = CollectionChannel.DIRECT_DEBIT


def grid_from_price_grid(contract: CollectiveContract) -> TariffGrid | None:
    """The contract's own price grid (``settings.price_grid``) as an engine grid, every group priced alike.

    The simple grid gives what the member pays per formula, options included (seed 002: a child 6 €,
    10 €, 16 €); the engine wants the base, then each option as a supplement on top of it (6 €, 4 €,
    10 €). ``None`` when the contract has no price grid, or one the engine cannot read (an option
    cheaper than the base, an option without a base price).

    >>> from mutuelle_core.contracts.price_grid import PriceLine, PersonCategory as Simple
    >>> from decimal import Decimal
    >>> grid = tuple(PriceLine(level=lvl, category=Simple.CHILD, monthly=Decimal(p)) for lvl, p in
    ...     enumerate(["6", "10", "16"]))
    >>> class Contract:  # any contract with groups and settings
    ...     number, groups = "C1", (type("G", (), {"code": "A1"})(),)
    ...     settings = type("S", (), {"price_grid": grid})()
    >>> [(l.product.label, str(l.price.value)) for l in grid_from_price_grid(Contract()).lines]
    [('Base', '6'), ('Base+option 1', '4'), ('Base+option 2', '10')]
    """
    prices = {(line.level, line.category.value): line.monthly for line in contract.settings.price_grid}
    if not prices:
        return None
    lines: list[TariffLine] = []
    try:
        for (level, category), monthly in sorted(prices.items()):
            base = prices.get((0, category))
            if base is None:
                return None
            amount = monthly if level == 0 else monthly - base
            for group in contract.groups:
                lines.append(
                    TariffLine(
                        group_code=group.code,
                        product=ProductLevel(level),
                        category=PersonCategory(category),
                        price=Price.euros(amount),
                    )
                )
        return TariffGrid(contract.number, lines)
    except (DomainError, ValueError):
        return None


def member_pricing(contract: CollectiveContract, tariff: ContractTariff | None) -> ContractPricing | None:
    """How the contract prices its members: its stored tariff, else its own price grid with the
    contract's default rules (:func:`grid_from_price_grid`); ``None`` when it has neither."""
    try:
        if tariff is not None:
            return ContractPricing(tariff.grid, tariff.rules)
        grid = grid_from_price_grid(contract)
        if grid is None:
            return None
        active = next((g.code for g in contract.groups if g.category is GroupCategory.ACTIVE), None)
        rules = CotisationRules.from_contract(contract.regime, contract.settings, evin_reference_group=active)
        return ContractPricing(grid, rules)
    except DomainError:
        return None


def _debited(lines: list[CotisationLine], person_id: str | None = None) -> int:
    return sum(
        line.amount.to_cents()
        for line in lines
        if line.payer is Payer.MEMBER
        and line.channel is _DEBIT
        and (person_id is None or line.person_id == person_id)
    )


def _lines(pricing: ContractPricing, member: BillableAffiliation, month: Month) -> list[CotisationLine]:
    return [
        line
        for snapshot in snapshots_for(member, pricing.rules, month)
        for line in pricing.lines_for(snapshot, month)
    ]


def new_debit(
    pricing: ContractPricing,
    before: BillableAffiliation,
    after: BillableAffiliation,
    person_id: str,
    first: Month,
    *,
    months: int = MANDATE_HORIZON_MONTHS,
) -> Money | None:
    """What adding ``person_id`` adds to the member's direct debits, per month, at most.

    For each of ``months`` months from ``first``, the larger of the new person's own lines the member
    pays by direct debit and the growth of all the member's direct debits (``after`` against
    ``before``, the same affiliation without the person); the highest month is returned. Zero: the
    person costs the member nothing by direct debit (free rank, free category, members collected
    otherwise). ``None`` when the engine could price none of the months.
    """
    if pricing.rules.member_channel is not _DEBIT:
        return Money(0)
    found: int | None = None
    for shift in range(months):
        month = first.shift(shift)
        try:
            with_person = _lines(pricing, after, month)
            without = _lines(pricing, before, month)
        except DomainError:
            continue
        added = max(_debited(with_person, person_id), _debited(with_person) - _debited(without))
        found = added if found is None else max(found, added)
    return None if found is None else Money.cents(found)


def monthly_debit(
    pricing: ContractPricing,
    member: BillableAffiliation,
    first: Month,
    *,
    months: int = MANDATE_HORIZON_MONTHS,
) -> Money | None:
    """The most the member is debited in a month (direct debits of every line the member pays),
    over ``months`` months from ``first``: what a maintien after a death costs its payer, say.
    ``None`` when the engine could price none of the months.

    >>> import datetime as dt
    >>> from mutuelle_core.affiliation.transitions import AffiliationStatus
    >>> from mutuelle_core.cotisations.engine import CoveredPerson
    >>> from mutuelle_core.cotisations.seed002 import seed_002_grid
    >>> from mutuelle_core.departures.departure import ContinuationKind
    >>> from mutuelle_core.values.dates import DateRange
    >>> kept = BillableAffiliation(affiliation_id="aff-1", contract_number="MENJ2026",
    ...     status=AffiliationStatus.MAINTIEN, group_code="A1", member_id="M1", level=ProductLevel.BASE,
    ...     effective_date=dt.date(2026, 1, 1), departure_last_day=dt.date(2026, 7, 14),
    ...     beneficiaries=(CoveredPerson(person_id="c1", category=PersonCategory.CHILD,
    ...         period=DateRange(dt.date(2026, 1, 1)), birth_date=dt.date(2016, 3, 14)),),
    ...     continuation_kind=ContinuationKind.MAINTIEN,
    ...     continuation_period=DateRange(dt.date(2026, 7, 15), dt.date(2027, 7, 14)))
    >>> rules = CotisationRules.psc(evin_reference_group="A1")
    >>> monthly_debit(ContractPricing(seed_002_grid(), rules), kept, Month(2026, 8))
    Money('6.00')
    """
    if pricing.rules.member_channel is not _DEBIT:
        return Money(0)
    found: int | None = None
    for shift in range(months):
        month = first.shift(shift)
        try:
            debited = _debited(_lines(pricing, member, month))
        except DomainError:
            continue
        found = debited if found is None else max(found, debited)
    return None if found is None else Money.cents(found)


def listed_price(
    pricing: ContractPricing, member: BillableAffiliation, category: PersonCategory, month: Month
) -> Money:
    """The grid's list price of a person of ``category`` for the member's formula, ignoring ranks and
    ages: the highest line of the category in the member's group (or the rules' reference group),
    summed over the base and the member's option. Lines that cannot be priced for ``month`` count as
    nothing. Zero as well when the contract collects members otherwise than by direct debit."""
    if pricing.rules.member_channel is not _DEBIT or member.level is None:
        return Money(0)
    groups = {member.group_code, pricing.rules.evin_reference_group}
    products = {ProductLevel.BASE, member.level}
    best: dict[ProductLevel, Decimal] = {}
    for line in pricing.grid.lines:
        if line.category is not category or line.group_code not in groups or line.product not in products:
            continue
        try:
            price = line.price.monthly(month, ceilings=pricing.ceilings).amount
        except DomainError:
            continue
        best[line.product] = max(best.get(line.product, Decimal(0)), price)
    return Money(sum(best.values(), Decimal(0)))
