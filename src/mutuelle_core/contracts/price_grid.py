"""The contract's simple price grid: what the member pays each month, per formula and person.

Until the cotisation engine (tariff grids, employer shares, prorata) lands, the journey quotes the
monthly amount debited from the member's account from this grid (seed 002: base paid through the
employer; option supplement 12 € / 16 €; spouse 10 / 14 / 23 €; child 6 / 10 / 16 € a month).

>>> from decimal import Decimal
>>> from mutuelle_core.contracts.price_grid import PriceLine, PersonCategory, monthly_quote
>>> grid = (PriceLine(level=1, category=PersonCategory.INSURED, monthly=Decimal("12")),
...         PriceLine(level=1, category=PersonCategory.SPOUSE, monthly=Decimal("14")),
...         PriceLine(level=1, category=PersonCategory.CHILD, monthly=Decimal("10")))
>>> str(monthly_quote(grid, 1, spouse=True, children=2))
'46.00'
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from decimal import Decimal

import attrs

from mutuelle_core.values.money import Money

__all__ = ["PersonCategory", "PriceLine", "monthly_quote"]


class PersonCategory(enum.Enum):
    """Who a price applies to."""

    INSURED = "insured"
    SPOUSE = "spouse"
    CHILD = "child"


@attrs.frozen(kw_only=True)
class PriceLine:
    """The monthly amount the member pays for one person category at one formula level."""

    level: int
    category: PersonCategory
    monthly: Decimal


def monthly_quote(grid: Sequence[PriceLine], level: int, *, spouse: bool, children: int) -> Money | None:
    """The member's monthly amount for a household, or ``None`` when the grid has no price for it."""
    prices = {(p.level, p.category): p.monthly for p in grid}
    needed = [
        (PersonCategory.INSURED, 1),
        (PersonCategory.SPOUSE, int(spouse)),
        (PersonCategory.CHILD, children),
    ]
    total = Decimal(0)
    for category, count in needed:
        if count == 0:
            continue
        price = prices.get((level, category))
        if price is None:
            return None
        total += price * count
    return Money.of(total)
