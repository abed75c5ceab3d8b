"""PMSS table and tariff grids: figures, overrides, price kinds, validation with codes, lookups."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from mutuelle_core.cotisations.pmss import DEFAULT_CEILINGS, CeilingTable, tranche_a, tranche_b
from mutuelle_core.cotisations.tariff import (
    AgeBand,
    PersonCategory,
    Price,
    RankRange,
    TariffGrid,
    TariffLine,
    age_for_tariff,
)
from mutuelle_core.errors import DomainError, ValidationFailed
from mutuelle_core.values.dates import Month
from mutuelle_core.values.money import Money
from tests.unit.cotisations.seed002 import CH, INS, O1, SP, B

D = dt.date


@pytest.mark.parametrize(
    ("year", "pmss", "pass_"), [(2024, 3864, 46368), (2025, 3925, 47100), (2026, 4005, 48060)]
)
def test_default_ceilings(year: int, pmss: int, pass_: int) -> None:
    assert DEFAULT_CEILINGS.pmss(Month(year, 7)) == Money(pmss)
    assert DEFAULT_CEILINGS.pmss(D(year, 12, 31)) == Money(pmss)
    assert DEFAULT_CEILINGS.pass_for(year) == Money(pass_) == Money(pmss) * 12


def test_ceilings_are_overridable() -> None:
    table = DEFAULT_CEILINGS.with_years({2026: "4010", 2027: Decimal("4100")})
    assert table.pmss(Month(2026, 1)) == Money(4010)
    assert table.pass_for(2026) == Money(48120)  # the default PASS of 2026 no longer applies
    assert table.pass_for(2027) == Money(49200)
    assert table.pmss(Month(2025, 1)) == Money(3925)
    own = CeilingTable.of({2030: 4500}, {2030: 54001})
    assert own.years == (2030,) and own.pass_for(2030) == Money(54001)
    with pytest.raises(DomainError) as caught:
        own.pmss(Month(2026, 1))
    assert caught.value.code == "pmss.unknown_year"
    with pytest.raises(DomainError) as caught:
        CeilingTable.of({2030: 0})
    assert caught.value.code == "pmss.invalid"


def test_tranches() -> None:
    jan = Month(2026, 1)
    assert tranche_a(Money(3000), jan) == Money(3000) and tranche_b(Money(3000), jan) == Money.zero()
    assert tranche_a(Money(50000), jan) == Money(4005) and tranche_b(Money(50000), jan) == Money(12015)


def test_price_kinds_resolve_for_the_month() -> None:
    assert Price.euros("12.5").monthly(Month(2026, 1)) == Money("12.50")
    assert Price.pmss_percent("0.5").monthly(Month(2024, 1)) == Money("19.32")
    assert Price.tranche_b_percent("2").monthly(Month(2026, 1), salary=Money(6005)) == Money(40)
    with pytest.raises(DomainError) as caught:
        Price.tranche_a_percent("1").monthly(Month(2026, 1))
    assert caught.value.code == "tariff.salary_missing"


def codes(err: ValidationFailed) -> list[tuple[str, str | None]]:
    return [(e.code, e.field) for e in err.errors]


def test_line_validation_reports_every_problem() -> None:
    with pytest.raises(ValidationFailed) as caught:
        TariffLine(
            group_code="A1",
            product=B,
            category=SP,
            price=Price.tranche_a_percent("120"),
            child_ranks=RankRange(0),
            age_band=AgeBand(30, 20),
        )
    assert codes(caught.value) == [
        ("tariff.rate_out_of_range", "price"),
        ("tariff.rank_for_non_child", "child_ranks"),
        ("tariff.invalid_child_ranks", "child_ranks"),
        ("tariff.invalid_age_band", "age_band"),
        ("tariff.salary_price_for_dependant", "price"),
    ]
    with pytest.raises(ValidationFailed) as caught:
        TariffLine(group_code="A1", product=B, category=INS, price=Price.euros("10.005"))
    assert codes(caught.value) == [("tariff.sub_cent_price", "price")]
    with pytest.raises(ValidationFailed) as caught:
        TariffLine(group_code="A1", product=B, category=INS, price=Price.pmss_percent("-1"))
    assert codes(caught.value) == [("tariff.negative_price", "price")]
    with pytest.raises(DomainError) as bad:
        Price.euros("douze")
    assert bad.value.code == "tariff.invalid_price"


def line(category: PersonCategory, amount: str, **kw: object) -> TariffLine:
    return TariffLine(group_code="A1", product=B, category=category, price=Price.euros(amount), **kw)  # type: ignore[arg-type]


def test_overlapping_lines_are_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        TariffGrid(
            "C",
            [
                line(CH, "10", child_ranks=RankRange(1, 2)),
                line(CH, "8", child_ranks=RankRange(2)),
                line(INS, "40", age_band=AgeBand(0, 30)),
                line(INS, "50", age_band=AgeBand(29)),
                line(INS, "45", alsace_moselle=True),  # another regime: no overlap
            ],
        )
    assert codes(caught.value) == [
        ("tariff.overlapping_lines", "lines[1]"),
        ("tariff.overlapping_lines", "lines[3]"),
    ]
    assert "Enfant" in caught.value.errors[0].message()


def test_lookup_by_rank_age_and_regime() -> None:
    grid = TariffGrid(
        "C",
        [
            line(CH, "10", child_ranks=RankRange(1, 1)),
            line(CH, "8", child_ranks=RankRange(2)),
            line(INS, "40", age_band=AgeBand(0, 30)),
            line(INS, "50", age_band=AgeBand(30)),
            line(INS, "45", alsace_moselle=True),
            TariffLine(
                group_code="A1", product=O1, category=INS, price=Price.euros("12"), alsace_moselle=False
            ),
        ],
    )

    def price(category: PersonCategory, **kw: object) -> Money | None:
        found = grid.find("A1", B, category, **kw)  # type: ignore[arg-type]
        return None if found is None else found.price.monthly(Month(2026, 1))

    assert price(CH, child_rank=1) == Money(10)
    assert price(CH, child_rank=5) == Money(8)
    assert price(CH) is None  # a rank is needed
    assert price(INS, age=29) == Money(40) and price(INS, age=30) == Money(50)
    assert price(INS, alsace_moselle=True, age=70) == Money(45)
    assert grid.find("A1", O1, INS, alsace_moselle=True) is None  # general regime only
    assert grid.find("A1", O1, INS) is not None
    assert grid.groups() == frozenset({"A1"})
    assert len(grid.insured_base_lines("A1")) == 3


def test_age_for_tariff() -> None:
    birth = D(2000, 2, 29)
    assert age_for_tariff(birth, Month(2026, 2), civil_year=False) == 25
    assert age_for_tariff(birth, Month(2026, 3), civil_year=False) == 26
    assert age_for_tariff(birth, Month(2026, 1), civil_year=True) == 26
    assert age_for_tariff(D(2026, 5, 20), Month(2026, 5), civil_year=False) == 0
