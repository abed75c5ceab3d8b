"""The billing run prices each household shape once: the memoised rows equal the engine's, member by member."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from mutuelle_core.affiliation.transitions import AffiliationStatus as S
from mutuelle_core.contracts.contract import ProductLevel, ProrataRule
from mutuelle_core.cotisations import billing
from mutuelle_core.cotisations.engine import ContractPricing, CoveredPerson
from mutuelle_core.cotisations.records import LINE_COLUMNS, BillableAffiliation, as_row
from mutuelle_core.cotisations.rules import CotisationRules, EmployerShare
from mutuelle_core.cotisations.tariff import AgeBand, PersonCategory, Price, RankRange, TariffGrid, TariffLine
from mutuelle_core.departures.departure import ContinuationKind
from mutuelle_core.errors import DomainError
from mutuelle_core.values.dates import DateRange, Month

D = dt.date
MAY = Month(2026, 5)
INS, SP, CH, OA = (
    PersonCategory.INSURED,
    PersonCategory.SPOUSE,
    PersonCategory.CHILD,
    PersonCategory.OTHER_ADULT,
)


def line(group: str, product: int, category: PersonCategory, price: Price, **kw: object) -> TariffLine:
    return TariffLine(group_code=group, product=ProductLevel(product), category=category, price=price, **kw)  # type: ignore[arg-type]


def flat_grid() -> TariffGrid:
    """No age band, no child rank: birth dates and the children's order change nothing."""
    lines = []
    for group, factor in (("A1", 1), ("E1", 2)):
        for p in range(3):
            lines += [
                line(group, p, INS, Price.euros(str((40 + 7 * p) * factor))),
                line(group, p, SP, Price.euros(str((10 + p) * factor))),
                line(group, p, CH, Price.euros(str((6 + p) * factor))),
                line(group, p, OA, Price.euros("21.13")),
            ]
    return TariffGrid("C", lines)


def banded_grid() -> TariffGrid:
    """Age bands for the insured, prices by child rank, a PMSS price for the spouse."""
    lines = []
    for p in range(3):
        lines += [
            line("A1", p, INS, Price.euros(str(40 + p)), age_band=AgeBand(0, 40)),
            line("A1", p, INS, Price.euros(str(55 + p)), age_band=AgeBand(40)),
            line("A1", p, SP, Price.pmss_percent("1.25")),
            line("A1", p, CH, Price.euros(str(15 + p)), child_ranks=RankRange(1, 2)),
            line("A1", p, CH, Price.euros(str(9 + p)), child_ranks=RankRange(3)),
            line("A1", p, OA, Price.euros("21.13")),
        ]
    return TariffGrid("C", lines)


PRICINGS = {
    "psc": ContractPricing(flat_grid(), CotisationRules.psc(evin_reference_group="A1")),
    "private_ranked": ContractPricing(
        banded_grid(),
        CotisationRules.private(
            prorata=ProrataRule.DAYS,
            employer_dependants=EmployerShare.of_percent(30),
            employer_options=EmployerShare.of_percent(20),
            free_from_child_rank=4,
            evin_reference_group="A1",
        ),
    ),
}


def member(rng: random.Random, n: int) -> BillableAffiliation:
    """A random affiliation: few shapes, so that most of them repeat, ids always new."""
    status = rng.choice([S.AFFILIATED] * 4 + [S.RADIATED, S.PORTABILITY, S.EVIN, S.MAINTIEN])
    member_id = f"M{n:05d}"
    people: list[CoveredPerson] = []
    for i in range(rng.choice([0, 1, 2, 3, 4, 5])):
        twin = bool(people) and rng.random() < 0.3
        category = SP if i == 0 and rng.random() < 0.5 else rng.choice([CH, CH, CH, OA])
        people.append(
            CoveredPerson(
                person_id=member_id if rng.random() < 0.02 else f"p{rng.randrange(10**6)}",
                category=category,
                period=DateRange(
                    rng.choice([D(2026, 1, 1), D(2026, 5, 10)]), rng.choice([None, D(2026, 5, 20)])
                ),
                birth_date=people[-1].birth_date
                if twin
                else rng.choice([D(1980, 3, 1), D(2010, 6, 1), D(2012, 1, 9)]),
                birth_rank=i if twin and rng.random() < 0.5 else None,  # else the ids break the tie
            )
        )
    moved = status in (S.PORTABILITY, S.EVIN, S.MAINTIEN)
    continuation = status in (S.EVIN, S.MAINTIEN)
    return BillableAffiliation(
        affiliation_id=f"a{n:05d}",
        contract_number="C",
        status=status,
        group_code={S.PORTABILITY: "P1", S.EVIN: "E1", S.MAINTIEN: "E1"}.get(status, "A1"),
        member_id=member_id,
        level=ProductLevel(rng.randrange(3)),
        effective_date=rng.choice([D(2026, 1, 1), D(2026, 5, 17)]),
        birth_date=rng.choice([D(1970, 1, 1), D(1990, 8, 1), None]),
        alsace_moselle=rng.random() < 0.2,
        beneficiaries=tuple(people),
        departure_last_day=rng.choice([D(2026, 5, 12), D(2026, 4, 30)])
        if status is S.RADIATED or moved
        else None,
        continuation_kind=(ContinuationKind.EVIN if status is S.EVIN else ContinuationKind.MAINTIEN)
        if continuation
        else None,
        continuation_period=DateRange(rng.choice([D(2026, 5, 13), D(2025, 1, 1)]), None)
        if continuation
        else None,
    )


def rows_of(members: list[BillableAffiliation], pricing: ContractPricing, *, shared: bool) -> list[object]:
    """Each member's rows (or its error), with one memo for the run or a fresh one per member."""
    out: list[object] = []
    memo: dict[billing._Key, billing._Entry] = {}
    for m in members:
        batch = billing._Batch()
        try:
            billing._bill_one(m, pricing, MAY, "2026-05", "run", D(2026, 5, 5), batch, memo if shared else {})
        except DomainError as error:
            out.append(error.code)
        else:
            out.append((batch.lines, batch.schedule, batch.billed, batch.amount))
    return out


@pytest.mark.parametrize("name", sorted(PRICINGS))
def test_memoised_households_get_exactly_the_engine_rows(name: str) -> None:
    rng = random.Random(2026)
    members = [member(rng, n) for n in range(3000)]
    pricing = PRICINGS[name]
    alone = rows_of(members, pricing, shared=False)
    assert rows_of(members, pricing, shared=True) == alone
    assert sum(1 for r in alone if isinstance(r, tuple) and r[2]) > 1000  # most are billed


def test_children_born_the_same_day_are_ranked_by_id_in_every_household() -> None:
    """Triplets tie on birth date and rank: their ids order them, which the third child's price shows."""

    def triplets(n: int, ids: list[str]) -> BillableAffiliation:
        return BillableAffiliation(
            affiliation_id=f"a{n}",
            contract_number="C",
            status=S.AFFILIATED,
            group_code="A1",
            member_id=f"M{n}",
            level=ProductLevel.BASE,
            effective_date=D(2026, 1, 1),
            birth_date=D(1980, 1, 1),
            beneficiaries=tuple(
                CoveredPerson(
                    person_id=i, category=CH, period=DateRange(D(2026, 1, 1)), birth_date=D(2015, 2, 3)
                )
                for i in ids
            ),
        )

    members = [triplets(1, ["a", "b", "c"]), triplets(2, ["z", "y", "x"]), triplets(3, ["m", "k", "n"])]
    pricing = PRICINGS["private_ranked"]
    alone = rows_of(members, pricing, shared=False)
    assert rows_of(members, pricing, shared=True) == alone
    lines = [as_row(LINE_COLUMNS, values) for values in alone[1][0]]  # type: ignore[index]
    third = [r["person_id"] for r in lines if r["amount_cents"] in (630, 270)]
    assert set(third) == {"z"}  # the third by id ("x" < "y" < "z") is priced at rank 3
