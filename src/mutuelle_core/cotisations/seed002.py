"""Seed 002's PSC formula table as a tariff grid: for demos, benchmarks and tests.

Seed 002 ("Ma formule santé", a State PSC contract) prints, per month: the agent's base paid through the
employer, option supplements of 12 € and 16 €, a spouse at 10 / 14 / 23 € and a child at 6 / 10 / 16 €
for base / option 1 / option 2. Options are supplements on top of the base, so the spouse's 14 € and
23 € are 10 € of base plus 4 € and 13 € of option. The seed does not give the agent's base price:
:data:`AGENT_BASE` is an illustrative figure with an odd cent, to exercise the 50 % split.

>>> from mutuelle_core.cotisations.seed002 import seed_002_grid
>>> grid = seed_002_grid()
>>> grid.contract_number, len(grid.lines)
('MENJ2026', 9)
"""

from __future__ import annotations

from mutuelle_core.contracts.contract import ProductLevel
from mutuelle_core.cotisations.tariff import PersonCategory, Price, TariffGrid, TariffLine

__all__ = ["AGENT_BASE", "PRICES", "seed_002_grid", "seed_002_lines"]

AGENT_BASE = "58.51"
"""Illustrative: the seed only says the base is "payé(e) par votre employeur"."""

PRICES = {
    # (product level, person category): € a month, options as supplements on top of the base
    (ProductLevel.OPTION_1, PersonCategory.INSURED): "12",
    (ProductLevel.OPTION_2, PersonCategory.INSURED): "16",
    (ProductLevel.BASE, PersonCategory.SPOUSE): "10",
    (ProductLevel.OPTION_1, PersonCategory.SPOUSE): "4",
    (ProductLevel.OPTION_2, PersonCategory.SPOUSE): "13",
    (ProductLevel.BASE, PersonCategory.CHILD): "6",
    (ProductLevel.OPTION_1, PersonCategory.CHILD): "4",
    (ProductLevel.OPTION_2, PersonCategory.CHILD): "10",
}
"""The seed's prices but the agent's base (see :data:`AGENT_BASE`)."""


def seed_002_lines(group: str = "A1", agent_base: str = AGENT_BASE) -> list[TariffLine]:
    """The table as grid lines of one assured group."""
    prices = {(ProductLevel.BASE, PersonCategory.INSURED): agent_base, **PRICES}
    return [
        TariffLine(group_code=group, product=product, category=category, price=Price.euros(amount))
        for (product, category), amount in prices.items()
    ]


def seed_002_grid(
    contract_number: str = "MENJ2026", group: str = "A1", agent_base: str = AGENT_BASE
) -> TariffGrid:
    """The table as a contract's grid (one group)."""
    return TariffGrid(contract_number, seed_002_lines(group, agent_base))
