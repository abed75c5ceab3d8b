"""The PSC grid of seed 002 (MENJ, Polynésie), shared by the cotisation tests.

Seed 002's "Ma formule santé" table, per month:

============  ===========================  ====================  ====================
              Base                         + Option 1            + Option 2
============  ===========================  ====================  ====================
Vous          payé(e) par votre employeur  complément de 12 €    complément de 16 €
Conjoint(e)   10 €                         14 €                  23 €
Enfant        6 € par enfant               10 € par enfant       16 € par enfant
Prélevé       16 €                         36 €                  65 € (printed)
============  ===========================  ====================  ====================

Options are supplements on top of the base, so the spouse's 14 € and 23 € are entered as 10 € of base
plus 4 € and 13 € of option. The seed does not give the agent's base price (the employer collects
it); :data:`AGENT_BASE` is an illustrative figure with an odd cent to exercise the 50 % split.
"""

from __future__ import annotations

import datetime as dt

from mutuelle_core.contracts.contract import ProductLevel
from mutuelle_core.cotisations.engine import ContractPricing, CoveredPerson, MemberSnapshot
from mutuelle_core.cotisations.rules import CotisationRules
from mutuelle_core.cotisations.seed002 import AGENT_BASE, seed_002_lines
from mutuelle_core.cotisations.tariff import PersonCategory, TariffGrid, TariffLine
from mutuelle_core.values.dates import DateRange

D = dt.date
B, O1, O2 = ProductLevel.BASE, ProductLevel.OPTION_1, ProductLevel.OPTION_2
INS, SP, CH = PersonCategory.INSURED, PersonCategory.SPOUSE, PersonCategory.CHILD

START = D(2026, 5, 1)

FORMULA_TOTALS = {
    # formula: (agent's supplement, spouse, child), as printed in seed 002
    B: ("0", "10", "6"),
    O1: ("12", "14", "10"),
    O2: ("16", "23", "16"),
}
PRINTED_DEBITED = {B: "16", O1: "36", O2: "65"}


def psc_lines(group: str = "A1", agent_base: str = AGENT_BASE) -> list[TariffLine]:
    """Seed 002's table as grid lines (options as supplements on top of the base)."""
    return seed_002_lines(group, agent_base)


def psc_grid(*extra: TariffLine) -> TariffGrid:
    """The seed 002 grid for group A1, plus any extra lines."""
    return TariffGrid("MENJ2026", [*psc_lines(), *extra])


def psc_pricing(**rules: object) -> ContractPricing:
    """Seed 002's grid under the PSC rules (overridable)."""
    return ContractPricing(psc_grid(), CotisationRules.psc(**rules))


def agent(
    level: ProductLevel,
    *,
    spouse: bool = False,
    children: int = 0,
    start: dt.date = START,
    **fields: object,
) -> MemberSnapshot:
    """An agent of group A1 covered from ``start`` with a spouse and children born 2010, 2012..."""
    people = []
    if spouse:
        people.append(
            CoveredPerson(person_id="S", category=SP, period=DateRange(start), birth_date=D(1985, 4, 2))
        )
    people.extend(
        CoveredPerson(
            person_id=f"C{i + 1}", category=CH, period=DateRange(start), birth_date=D(2010 + 2 * i, 9, 9)
        )
        for i in range(children)
    )
    values: dict[str, object] = {
        "member_id": "AG",
        "group_code": "A1",
        "level": level,
        "cover": DateRange(start),
        "beneficiaries": tuple(people),
    }
    values.update(fields)
    return MemberSnapshot(**values)  # type: ignore[arg-type]
