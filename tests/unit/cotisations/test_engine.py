"""The cotisation engine: employer shares (private, PSC, Alsace-Moselle), free children, prorata,
Evin caps, portability, PMSS and salary prices, snapshots from the affiliation aggregate."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mutuelle_core.affiliation.affiliation import Affiliation, EnrolmentKind
from mutuelle_core.affiliation.journey import BeneficiaryDetails, BeneficiaryKind, SocialRegime
from mutuelle_core.affiliation.transitions import AffiliationStatus
from mutuelle_core.contracts.contract import ProductLevel, ProrataRule
from mutuelle_core.cotisations.engine import (
    ContractPricing,
    CotisationLine,
    CoveredPerson,
    CoverStatus,
    MemberSnapshot,
    cotisation_for_month,
    debited_from_account,
    snapshots_from_affiliation,
    total,
    totals_by_payer,
)
from mutuelle_core.cotisations.rules import (
    AgeBasis,
    AlsaceMoselleMode,
    CollectionChannel,
    CotisationRules,
    EmployerShare,
    Payer,
    round_half_up,
)
from mutuelle_core.cotisations.tariff import (
    AgeBand,
    PersonCategory,
    Price,
    RankRange,
    TariffGrid,
    TariffLine,
)
from mutuelle_core.departures.departure import Continuation, ContinuationKind, Departure
from mutuelle_core.departures.motives import DepartureMotive
from mutuelle_core.errors import DomainError, ValidationFailed
from mutuelle_core.families.beneficiaries import CoveredBeneficiary
from mutuelle_core.values.dates import DateRange, Month
from mutuelle_core.values.identity import Civility, PersonName
from mutuelle_core.values.money import Money, allocate
from mutuelle_core.values.organisme import DEFAULT_ORGANISME_CODE
from tests.unit.cotisations.seed002 import CH, INS, O1, O2, SP, B, D, agent, psc_grid, psc_lines, psc_pricing

MAY = Month(2026, 5)


def codes(err: DomainError) -> list[str]:
    return [leaf.code for leaf in err.leaves()]


def by_payer(
    lines: tuple[CotisationLine, ...], product: ProductLevel = B, person: str = "AG"
) -> dict[Payer, Money]:
    return {line.payer: line.amount for line in lines if line.product is product and line.person_id == person}


def euro(
    group: str, product: ProductLevel, category: PersonCategory, amount: str, **kw: object
) -> TariffLine:
    return TariffLine(group_code=group, product=product, category=category, price=Price.euros(amount), **kw)  # type: ignore[arg-type]


# -- PSC employer share --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("share", "level", "employer", "member"),
    [
        (EmployerShare.of_percent(50), O1, "5.00", "7.00"),  # 50 % of 12 = 6, capped at 5
        (EmployerShare.of_percent(50), O2, "5.00", "11.00"),  # 50 % of 16 = 8, capped at 5
        (EmployerShare.of_percent(25), O2, "4.00", "12.00"),  # 25 % of 16 = 4, under the cap
        (EmployerShare.of_amount("5"), O2, "5.00", "11.00"),
        (EmployerShare.of_amount("3"), O1, "3.00", "9.00"),
        (EmployerShare.nothing(), O2, None, "16.00"),  # seed 002's contract
    ],
)
def test_psc_option_participation_is_capped_at_5_euros(
    share: EmployerShare, level: ProductLevel, employer: str | None, member: str
) -> None:
    lines = cotisation_for_month(agent(level), MAY, psc_pricing(employer_options=share))
    option = by_payer(lines, level)
    assert option.get(Payer.EMPLOYER) == (Money(employer) if employer else None)
    assert option[Payer.MEMBER] == Money(member)
    assert debited_from_account(lines) == Money(member)


def test_psc_option_cap_is_prorated_with_the_line() -> None:
    pricing = psc_pricing(employer_options=EmployerShare.of_percent(50), prorata=ProrataRule.DAYS)
    lines = cotisation_for_month(agent(O2, start=D(2026, 5, 17)), MAY, pricing)  # 15 days of 31
    option = by_payer(lines, O2)
    # 16 × 15/31 = 7.74; half is 3.87 against a cap of 5 × 15/31 = 2.42
    assert option == {Payer.EMPLOYER: Money("2.42"), Payer.MEMBER: Money("5.32")}


def test_psc_fixed_option_share_above_5_euros_is_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        CotisationRules.psc(employer_options=EmployerShare.of_amount("6"))
    assert codes(caught.value) == ["cotisation.psc_option_share_above_cap"]
    assert caught.value.errors[0].field == "employer_options"


def test_psc_base_share_must_be_half_and_dependants_get_nothing() -> None:
    with pytest.raises(ValidationFailed) as caught:
        CotisationRules.psc(
            employer_base=EmployerShare.of_percent(60), employer_dependants=EmployerShare.of_percent(10)
        )
    assert codes(caught.value) == ["cotisation.psc_base_share", "cotisation.psc_dependants_share"]
    fixed = CotisationRules.psc(employer_base=EmployerShare.of_amount("30"))  # 50 % of an équilibre of 60 €
    lines = cotisation_for_month(agent(B), MAY, ContractPricing(psc_grid(), fixed))
    assert by_payer(lines) == {Payer.EMPLOYER: Money(30), Payer.MEMBER: Money("28.51")}


@pytest.mark.parametrize(
    ("mode", "base", "employer", "member"),
    [
        (AlsaceMoselleMode.FIXED, "58.51", "26.81", "31.70"),
        (AlsaceMoselleMode.FIXED, "53.62", "26.81", "26.81"),
        (AlsaceMoselleMode.FIXED, "20.00", "20.00", None),  # never more than the cotisation
        (AlsaceMoselleMode.CAP, "58.51", "26.81", "31.70"),
        (AlsaceMoselleMode.CAP, "40.00", "20.00", "20.00"),  # 50 % is under the cap
    ],
)
def test_psc_alsace_moselle_share(
    mode: AlsaceMoselleMode, base: str, employer: str, member: str | None
) -> None:
    grid = TariffGrid("MENJ2026", psc_lines(agent_base=base))
    pricing = ContractPricing(grid, CotisationRules.psc(alsace_moselle_mode=mode))
    lines = cotisation_for_month(agent(O1, alsace_moselle=True), MAY, pricing)
    expected = {Payer.EMPLOYER: Money(employer)}
    if member is not None:
        expected[Payer.MEMBER] = Money(member)
    assert by_payer(lines) == expected
    # the option and the dependants are not affected by the Alsace-Moselle amount
    assert debited_from_account(lines) == Money(12)
    general = cotisation_for_month(agent(O1), MAY, pricing)
    assert by_payer(general)[Payer.EMPLOYER] == Money(base).allocate([1, 1])[0]


def test_alsace_moselle_grid_lines_replace_the_general_ones_for_those_members() -> None:
    grid = psc_grid(
        euro("A1", B, INS, "53.62", alsace_moselle=True), euro("A1", B, SP, "8", alsace_moselle=True)
    )
    pricing = ContractPricing(grid, CotisationRules.psc())
    lines = cotisation_for_month(agent(B, spouse=True, alsace_moselle=True), MAY, pricing)
    assert by_payer(lines) == {Payer.EMPLOYER: Money("26.81"), Payer.MEMBER: Money("26.81")}
    assert by_payer(lines, B, "S") == {Payer.MEMBER: Money(8)}
    # the general regime keeps the general prices; a child has no A-M line: the general one applies
    general = cotisation_for_month(agent(B, spouse=True, children=1), MAY, pricing)
    assert by_payer(general, B, "S") == {Payer.MEMBER: Money(10)}
    am_child = cotisation_for_month(agent(B, children=1, alsace_moselle=True), MAY, pricing)
    assert by_payer(am_child, B, "C1") == {Payer.MEMBER: Money(6)}


# -- private sector ------------------------------------------------------------------------------


def private_grid(base: Price | None = None) -> TariffGrid:
    return TariffGrid(
        "M1000304",
        [
            TariffLine(group_code="A2", product=B, category=INS, price=base or Price.euros("50")),
            euro("A2", O1, INS, "20"),
            euro("A2", B, SP, "40"),
            euro("A2", B, CH, "25"),
            euro("A2", O1, SP, "15"),
            euro("A2", O1, CH, "8"),
            euro("E2", B, INS, "90"),
            euro("E2", O1, INS, "30"),
        ],
    )


def private_member(level: ProductLevel = B, **fields: Any) -> MemberSnapshot:
    fields.setdefault("group_code", "A2")
    return attrs.evolve(agent(level, **fields), member_id="M1000312")


def test_private_employer_pays_at_least_half_of_the_base() -> None:
    with pytest.raises(ValidationFailed) as caught:
        CotisationRules.private(employer_base=EmployerShare.of_percent("49.99"))
    assert codes(caught.value) == ["cotisation.employer_share_below_legal"]
    pricing = ContractPricing(
        private_grid(), CotisationRules.private(employer_base=EmployerShare.of_percent(60))
    )
    lines = cotisation_for_month(private_member(O1, spouse=True), MAY, pricing)
    assert by_payer(lines, B, "M1000312") == {Payer.EMPLOYER: Money(30), Payer.MEMBER: Money(20)}
    assert by_payer(lines, O1, "M1000312") == {Payer.MEMBER: Money(20)}
    assert totals_by_payer(lines) == {Payer.EMPLOYER: Money(30), Payer.MEMBER: Money(20 + 20 + 40 + 15)}


def test_private_fixed_share_is_checked_against_the_grid() -> None:
    with pytest.raises(DomainError) as caught:
        ContractPricing(
            private_grid(), CotisationRules.private(employer_base=EmployerShare.of_amount("24.99"))
        )
    assert caught.value.code == "cotisation.employer_share_below_legal"
    pricing = ContractPricing(
        private_grid(), CotisationRules.private(employer_base=EmployerShare.of_amount("25"))
    )
    assert by_payer(cotisation_for_month(private_member(), MAY, pricing), B, "M1000312") == {
        Payer.EMPLOYER: Money(25),
        Payer.MEMBER: Money(25),
    }


def test_private_fixed_share_against_a_pmss_price_is_checked_in_each_month() -> None:
    grid = private_grid(Price.pmss_percent("1.25"))  # 48.30 in 2024, 49.06 in 2025, 50.06 in 2026
    pricing = ContractPricing(grid, CotisationRules.private(employer_base=EmployerShare.of_amount("25")))
    member = private_member(start=D(2024, 1, 1))
    assert by_payer(cotisation_for_month(member, Month(2025, 3), pricing), B, "M1000312") == {
        Payer.EMPLOYER: Money(25),
        Payer.MEMBER: Money("24.06"),
    }
    with pytest.raises(DomainError) as caught:
        cotisation_for_month(member, Month(2026, 3), pricing)
    assert caught.value.code == "cotisation.employer_share_below_legal"


def test_private_contract_may_fund_options_and_dependants() -> None:
    rules = CotisationRules.private(
        employer_options=EmployerShare.of_percent(50), employer_dependants=EmployerShare.of_amount("10")
    )
    lines = cotisation_for_month(private_member(O1, spouse=True), MAY, ContractPricing(private_grid(), rules))
    assert by_payer(lines, O1, "M1000312") == {Payer.EMPLOYER: Money(10), Payer.MEMBER: Money(10)}
    assert by_payer(lines, B, "S") == {Payer.EMPLOYER: Money(10), Payer.MEMBER: Money(30)}
    assert by_payer(lines, O1, "S") == {Payer.EMPLOYER: Money(10), Payer.MEMBER: Money(5)}


def test_member_paying_by_cheque_keeps_the_payroll_deduction_of_the_base() -> None:
    lines = cotisation_for_month(
        agent(O1, spouse=True, member_channel=CollectionChannel.CHEQUE), MAY, psc_pricing()
    )
    channels = {(line.person_id, line.product, line.payer): line.channel for line in lines}
    assert channels[("AG", B, Payer.MEMBER)] is CollectionChannel.PAYROLL_DEDUCTION
    assert channels[("AG", O1, Payer.MEMBER)] is CollectionChannel.CHEQUE
    assert channels[("S", B, Payer.MEMBER)] is CollectionChannel.CHEQUE
    assert debited_from_account(lines) == Money.zero()


# -- children --------------------------------------------------------------------------------------


def test_third_child_is_free_when_the_contract_says_so() -> None:
    member = agent(O1, children=4)
    paying = {line.person_id for line in cotisation_for_month(member, MAY, psc_pricing())}
    assert {"C1", "C2", "C3", "C4"} <= paying
    free = cotisation_for_month(member, MAY, psc_pricing(free_from_child_rank=3))
    assert {line.person_id for line in free if line.category is CH} == {"C1", "C2"}  # the two eldest
    assert debited_from_account(free) == Money(12 + 10 + 10)


def test_children_are_ranked_eldest_first_twins_by_birth_rank_among_those_covered() -> None:
    start = D(2026, 5, 1)
    twins = (
        CoveredPerson(
            person_id="T2", category=CH, period=DateRange(start), birth_date=D(2015, 3, 3), birth_rank=2
        ),
        CoveredPerson(
            person_id="T1", category=CH, period=DateRange(start), birth_date=D(2015, 3, 3), birth_rank=1
        ),
        CoveredPerson(
            person_id="OLD", category=CH, period=DateRange(start, D(2026, 5, 31)), birth_date=D(2005, 1, 1)
        ),
    )
    member = attrs.evolve(agent(B), beneficiaries=twins)
    pricing = psc_pricing(free_from_child_rank=3)
    assert {line.person_id for line in cotisation_for_month(member, MAY, pricing) if line.category is CH} == {
        "OLD",
        "T1",
    }
    # in June the eldest is no longer covered: the twins are ranks 1 and 2 and both pay
    june = cotisation_for_month(member, Month(2026, 6), pricing)
    assert {line.person_id for line in june if line.category is CH} == {"T1", "T2"}


def test_child_rank_prices() -> None:
    grid = TariffGrid(
        "C1",
        [
            euro("A1", B, INS, "50"),
            euro("A1", B, CH, "20", child_ranks=RankRange(1, 1)),
            euro("A1", B, CH, "15", child_ranks=RankRange(2, 2)),
            euro("A1", B, CH, "0", child_ranks=RankRange(3)),
        ],
    )
    lines = cotisation_for_month(agent(B, children=4), MAY, ContractPricing(grid, CotisationRules.psc()))
    assert {line.person_id: line.amount for line in lines if line.category is CH} == {
        "C1": Money(20),
        "C2": Money(15),
    }


# -- prorata -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prorata", "month", "spouse", "child"),
    [
        (ProrataRule.WHOLE_MONTH, Month(2026, 2), "23.00", "16.00"),
        # spouse joins 15 Feb 2026 (14 days of 28), the child leaves 10 Feb 2026 (10 days of 28)
        (ProrataRule.DAYS, Month(2026, 2), "11.50", "5.71"),
        # 2024 is a leap year: 15 of 29 days and 10 of 29; each line rounds on its own:
        # spouse 10 × 15/29 = 5.17 and 13 × 15/29 = 6.72 (11.89, where 23 × 15/29 would be 11.90)
        (ProrataRule.DAYS, Month(2024, 2), "11.89", "5.52"),
    ],
)
def test_partial_month_whole_or_by_days(prorata: ProrataRule, month: Month, spouse: str, child: str) -> None:
    year = month.year
    people = (
        CoveredPerson(person_id="S", category=SP, period=DateRange(D(year, 2, 15))),
        CoveredPerson(
            person_id="C1",
            category=CH,
            period=DateRange(D(2010, 1, 1), D(year, 2, 10)),
            birth_date=D(2010, 9, 9),
        ),
    )
    member = attrs.evolve(agent(O2, start=D(2010, 1, 1)), beneficiaries=people)
    lines = cotisation_for_month(member, month, psc_pricing(prorata=prorata))
    assert total(line for line in lines if line.person_id == "S") == Money(spouse)
    assert total(line for line in lines if line.person_id == "C1") == Money(child)
    # the agent is covered the whole month: never prorated
    assert total(line for line in lines if line.person_id == "AG") == Money("58.51") + Money(16)


def test_no_line_outside_the_cover_and_beneficiaries_clipped_to_the_insured() -> None:
    member = agent(O1, spouse=True, start=D(2026, 5, 1))
    member = attrs.evolve(member, cover=DateRange(D(2026, 5, 1), D(2026, 5, 10)))
    assert cotisation_for_month(member, Month(2026, 4), psc_pricing()) == ()
    assert cotisation_for_month(member, Month(2026, 6), psc_pricing()) == ()
    lines = cotisation_for_month(member, MAY, psc_pricing(prorata=ProrataRule.DAYS))
    assert total(line for line in lines if line.person_id == "S") == Money("4.52")  # 14 × 10/31


# -- departures ------------------------------------------------------------------------------------


def test_portability_is_free() -> None:
    member = agent(O2, spouse=True, children=2, status=CoverStatus.PORTABILITY, group_code="P1")
    assert cotisation_for_month(member, MAY, psc_pricing()) == ()


def evin_pricing(*, own_prices: bool) -> ContractPricing:
    lines = [*private_grid().lines]
    if not own_prices:
        lines = [line for line in lines if line.group_code != "E2"]
    return ContractPricing(TariffGrid("M1000304", lines), CotisationRules.private(evin_reference_group="A2"))


def evin_member(start: dt.date, **fields: object) -> MemberSnapshot:
    return private_member(
        O1, start=start, status=CoverStatus.EVIN, group_code="E2", continuation_start=start, **fields
    )


@pytest.mark.parametrize(
    ("month", "own", "reference_only"),
    [
        (Month(2025, 5), "70.00", "70.00"),  # year 1: at most 100 % of the active price (50 + 20)
        (Month(2026, 5), "87.50", "87.50"),  # year 2: 125 %
        (Month(2027, 5), "105.00", "105.00"),  # year 3: 150 %
        (Month(2028, 5), "120.00", "105.00"),  # year 4: no cap; without own prices, the last cap
    ],
)
def test_evin_years_1_to_4(month: Month, own: str, reference_only: str) -> None:
    member = evin_member(D(2025, 4, 11))
    lines = cotisation_for_month(member, month, evin_pricing(own_prices=True))
    assert total(lines) == Money(own)
    assert {(line.payer, line.channel) for line in lines} == {(Payer.MEMBER, CollectionChannel.DIRECT_DEBIT)}
    assert total(cotisation_for_month(member, month, evin_pricing(own_prices=False))) == Money(reference_only)


def test_evin_cap_uses_the_first_day_billed_and_legacy_adhesions_keep_150_percent() -> None:
    member = evin_member(D(2025, 4, 11))
    # April 2026 starts in year 1 (year 2 begins on 11 April): the month is capped at 100 %
    assert total(cotisation_for_month(member, Month(2026, 4), evin_pricing(own_prices=True))) == Money(70)
    legacy = evin_member(D(2016, 1, 1))
    for month in (Month(2016, 1), Month(2026, 1)):
        assert total(cotisation_for_month(legacy, month, evin_pricing(own_prices=True))) == Money(105)


def test_evin_needs_its_start_and_the_reference_group() -> None:
    member = attrs.evolve(evin_member(D(2025, 4, 11)), continuation_start=None)
    with pytest.raises(DomainError) as caught:
        cotisation_for_month(member, MAY, evin_pricing(own_prices=True))
    assert caught.value.code == "cotisation.continuation_start_missing"
    pricing = ContractPricing(private_grid(), CotisationRules.private())
    with pytest.raises(DomainError) as caught:
        cotisation_for_month(evin_member(D(2025, 4, 11)), MAY, pricing)
    assert caught.value.code == "cotisation.evin_reference_missing"


def test_maintien_bills_the_survivors_only_under_the_caps() -> None:
    member = attrs.evolve(
        evin_member(D(2026, 1, 1), spouse=True),
        status=CoverStatus.MAINTIEN,
        insured_covered=False,
        group_code="M2",
    )
    lines = cotisation_for_month(member, Month(2026, 3), evin_pricing(own_prices=False))
    assert {line.person_id for line in lines} == {"S"}
    assert total(lines) == Money(55)  # year 1: the active price of the spouse (40 + 15)


# -- prices ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("month", "price"), [(Month(2024, 6), "48.30"), (Month(2025, 6), "49.06"), (Month(2026, 6), "50.06")]
)
def test_pmss_percent_price_follows_the_year(month: Month, price: str) -> None:
    pricing = ContractPricing(private_grid(Price.pmss_percent("1.25")), CotisationRules.private())
    lines = cotisation_for_month(private_member(start=D(2024, 1, 1)), month, pricing)
    assert total(lines) == Money(price)
    assert by_payer(lines, B, "M1000312")[Payer.EMPLOYER] == allocate(Money(price), [1, 1])[0]


def test_unknown_pmss_year_is_an_error() -> None:
    pricing = ContractPricing(private_grid(Price.pmss_percent("1.25")), CotisationRules.private())
    with pytest.raises(DomainError) as caught:
        cotisation_for_month(private_member(start=D(2020, 1, 1)), Month(2023, 1), pricing)
    assert caught.value.code == "pmss.unknown_year"


def test_provident_tranche_a_price_needs_the_salary() -> None:
    grid = TariffGrid(
        "PREV1", [TariffLine(group_code="A1", product=B, category=INS, price=Price.tranche_a_percent("1.5"))]
    )
    pricing = ContractPricing(grid, CotisationRules.private())
    rich = agent(B, monthly_salary=Money(5000))
    assert by_payer(cotisation_for_month(rich, MAY, pricing)) == {
        Payer.EMPLOYER: Money("30.04"),
        Payer.MEMBER: Money("30.04"),
    }  # 1.5 % of min(5000, 4005) = 60.075 → 60.08
    assert total(cotisation_for_month(agent(B, monthly_salary=Money(2000)), MAY, pricing)) == Money(30)
    with pytest.raises(DomainError) as caught:
        cotisation_for_month(agent(B), MAY, pricing)
    assert caught.value.code == "tariff.salary_missing"


@pytest.mark.parametrize(("basis", "price"), [(AgeBasis.MONTH_START, "40"), (AgeBasis.CIVIL_YEAR, "60")])
def test_age_bands(basis: AgeBasis, price: str) -> None:
    grid = TariffGrid(
        "AGE",
        [
            euro("A1", B, INS, "40", age_band=AgeBand(0, 30)),
            euro("A1", B, INS, "60", age_band=AgeBand(30, 50)),
            euro("A1", B, INS, "80", age_band=AgeBand(50)),
        ],
    )
    pricing = ContractPricing(grid, CotisationRules.private(age_basis=basis))
    member = agent(B, birth_date=D(1996, 1, 15), start=D(2026, 1, 1))
    assert total(cotisation_for_month(member, Month(2026, 1), pricing)) == Money(price)
    assert total(cotisation_for_month(member, Month(2026, 2), pricing)) == Money(60)
    with pytest.raises(DomainError) as caught:
        cotisation_for_month(agent(B), MAY, pricing)
    assert caught.value.code == "cotisation.birth_date_missing"


def test_missing_price_is_an_error() -> None:
    grid = TariffGrid("X", [euro("A1", B, INS, "50")])
    with pytest.raises(DomainError) as caught:
        cotisation_for_month(agent(B, spouse=True), MAY, ContractPricing(grid, CotisationRules.psc()))
    assert caught.value.code == "cotisation.price_missing"
    assert "Conjoint" in caught.value.message()


# -- snapshots from the aggregate --------------------------------------------------------------------


def beneficiary(i: int, kind: BeneficiaryKind, birth: dt.date, start: dt.date) -> CoveredBeneficiary:
    details = BeneficiaryDetails(
        kind=kind,
        civility=Civility.MME,
        name=PersonName("Dupond", ["Anne", "Paul", "Lou"][i % 3]),
        birth_date=birth,
        birth_country="FR",
        birth_city="Paris",
        regime=SocialRegime.GENERAL,
        nir=None,
        organisme=DEFAULT_ORGANISME_CODE,
        birth_rank=1,
    )
    return CoveredBeneficiary(beneficiary_id=f"F1-b{i}", details=details, period=DateRange(start))


def affiliation(**fields: object) -> Affiliation:
    now = dt.datetime(2026, 4, 1, 9, tzinfo=dt.UTC)
    values: dict[str, object] = {
        "affiliation_id": "F1",
        "contract_number": "MENJ2026",
        "group_code": "A1",
        "status": AffiliationStatus.AFFILIATED,
        "civility": Civility.M,
        "name": PersonName("Dupond", "Benoît"),
        "email": None,
        "person_key": "DUPOND|BENOIT|",
        "invited_at": now,
        "last_activity_at": now,
        "enrolment": EnrolmentKind.AUTOMATIC,
        "product_level": B,
        "effective_date": D(2026, 5, 1),
        "adhesion_number": "M1000312",
        "covered": (
            beneficiary(1, BeneficiaryKind.SPOUSE, D(1985, 1, 1), D(2026, 5, 1)),
            beneficiary(2, BeneficiaryKind.CHILD, D(2015, 1, 1), D(2026, 5, 1)),
        ),
    }
    values.update(fields)
    return Affiliation(**values)  # type: ignore[arg-type]


def test_snapshot_of_an_active_affiliation() -> None:
    (snapshot,) = snapshots_from_affiliation(affiliation())
    assert snapshot.member_id == "M1000312"
    assert snapshot.cover == DateRange(D(2026, 5, 1))
    assert [(p.person_id, p.category) for p in snapshot.beneficiaries] == [("F1-b1", SP), ("F1-b2", CH)]
    assert debited_from_account(cotisation_for_month(snapshot, MAY, psc_pricing())) == Money(16)
    assert snapshots_from_affiliation(affiliation(status=AffiliationStatus.INVITED, enrolment=None)) == ()


def test_snapshots_of_an_evin_affiliation_bill_both_parts_of_the_month() -> None:
    departure = Departure.of(
        last_day=D(2026, 6, 14), motive=DepartureMotive("039"), employment_start=D(2000, 1, 1)
    )
    evin = Continuation(
        kind=ContinuationKind.EVIN, period=DateRange(D(2026, 6, 15)), requested_on=D(2026, 6, 20)
    )
    aff = affiliation(status=AffiliationStatus.EVIN, group_code="E1", departure=departure, continuation=evin)
    with pytest.raises(DomainError) as caught:
        snapshots_from_affiliation(aff)
    assert caught.value.code == "cotisation.snapshot_invalid"
    active, continued = snapshots_from_affiliation(aff, active_group_code="A1")
    assert (active.status, active.group_code, active.cover) == (
        CoverStatus.ACTIVE,
        "A1",
        DateRange(D(2026, 5, 1), D(2026, 6, 14)),
    )
    assert (continued.status, continued.group_code, continued.continuation_start) == (
        CoverStatus.EVIN,
        "E1",
        D(2026, 6, 15),
    )
    pricing = ContractPricing(
        psc_grid(), CotisationRules.psc(prorata=ProrataRule.DAYS, evin_reference_group="A1")
    )
    june = Month(2026, 6)
    lines = cotisation_for_month(active, june, pricing) + cotisation_for_month(continued, june, pricing)
    # 14 + 16 days of 30: the base 58.51 becomes 27.30 (active, split) + 31.21 (Evin, year 1 at 100 %)
    assert total(line for line in lines if line.person_id == "M1000312") == Money("58.51")
    assert (
        snapshots_from_affiliation(aff, active_group_code="A1", alsace_moselle=None)[0].alsace_moselle
        is False
    )


def test_snapshot_alsace_moselle_from_the_journey_regime() -> None:
    from mutuelle_core.affiliation.journey import Journey

    aff = affiliation(journey=Journey(regime=SocialRegime.ALSACE_MOSELLE))
    assert snapshots_from_affiliation(aff)[0].alsace_moselle is True


# -- properties ----------------------------------------------------------------------------------


@given(
    total_cents=st.integers(min_value=0, max_value=10**9),
    percent=st.decimals(min_value=0, max_value=100, places=2),
)
def test_percent_share_is_allocate(total_cents: int, percent: Decimal) -> None:
    """The engine's integer split is exactly ``allocate(total, [p, 100 - p])``."""
    employer = EmployerShare.of_percent(percent).cents(total_cents)
    expected = (
        allocate(Money.cents(total_cents), [percent, 100 - percent])[0] if total_cents else Money.zero()
    )
    assert Money.cents(employer) == expected


prices = st.integers(min_value=0, max_value=50_000).map(lambda c: str(Money.cents(c)))


@st.composite
def households(draw: st.DrawFn) -> tuple[MemberSnapshot, Month]:
    month = Month(draw(st.integers(2024, 2026)), draw(st.integers(1, 12)))
    day = st.integers(1, month.days_in_month).map(lambda d: D(month.year, month.month, d))
    start = draw(st.one_of(st.just(D(2020, 1, 1)), day))
    end_day = draw(st.one_of(st.none(), st.integers(max(start, month.first_day).day, month.days_in_month)))
    end = None if end_day is None else D(month.year, month.month, end_day)
    people = []
    for i in range(draw(st.integers(0, 4))):
        p_start = draw(st.one_of(st.just(start), day))
        p_end_day = draw(st.one_of(st.none(), st.integers(p_start.day, month.days_in_month)))
        p_end = None if p_end_day is None else D(month.year, month.month, p_end_day)
        category = SP if i == 0 and draw(st.booleans()) else CH
        people.append(
            CoveredPerson(
                person_id=f"P{i}",
                category=category,
                period=DateRange(p_start, p_end),
                birth_date=D(2000 + i, 1, 1),
            )
        )
    member = MemberSnapshot(
        member_id="M",
        group_code="A1",
        level=draw(st.sampled_from([B, O1, O2])),
        cover=DateRange(start, end),
        beneficiaries=tuple(people),
        alsace_moselle=draw(st.booleans()),
    )
    return member, month


@given(
    household=households(),
    base=prices,
    option=prices,
    spouse=prices,
    child=prices,
    by_days=st.booleans(),
    psc=st.booleans(),
    share_percent=st.one_of(st.none(), st.decimals(min_value=50, max_value=100, places=2)),
    share_extra=st.integers(min_value=0, max_value=10_000),
    option_share=st.decimals(min_value=0, max_value=100, places=1).map(EmployerShare.of_percent),
)
def test_shares_add_up_to_each_line_to_the_cent(
    household: tuple[MemberSnapshot, Month],
    base: str,
    option: str,
    spouse: str,
    child: str,
    by_days: bool,
    psc: bool,
    share_percent: Decimal | None,
    share_extra: int,
    option_share: EmployerShare,
) -> None:
    member, month = household
    if share_percent is not None:
        share = EmployerShare.of_percent(share_percent)
    else:  # a fixed amount at least half the base
        share = EmployerShare.of_amount(Money.cents(-(-Money(base).to_cents() // 2) + share_extra))
    grid = TariffGrid(
        "P",
        [
            euro("A1", B, INS, base),
            euro("A1", B, SP, spouse),
            euro("A1", B, CH, child),
            *(euro("A1", level, cat, option) for level in (O1, O2) for cat in (INS, SP, CH)),
        ],
    )
    prorata = ProrataRule.DAYS if by_days else ProrataRule.WHOLE_MONTH
    if psc:
        fixed = share.amount is not None
        rules = CotisationRules.psc(
            prorata=prorata,
            employer_base=share if fixed else EmployerShare.of_percent(50),
            employer_options=option_share,
        )
    else:
        rules = CotisationRules.private(prorata=prorata, employer_base=share, employer_options=option_share)
    lines = cotisation_for_month(member, month, ContractPricing(grid, rules))
    prices_of = {(INS, B): base, (SP, B): spouse, (CH, B): child}
    first, last = month.first_day, month.last_day
    window_start = max(member.cover.start, first)
    window_end = min(member.cover.end or last, last)
    for (person, product), parts in _group(lines).items():
        assert all(amount.is_positive for amount in parts.values())
        category = next(line.category for line in lines if line.person_id == person)
        price = Money(prices_of.get((category, product), option)).to_cents()
        if person == "M":
            days = (window_end - window_start).days + 1
        else:
            p = next(b for b in member.beneficiaries if b.person_id == person)
            days = (min(p.period.end or last, window_end) - max(p.period.start, window_start)).days + 1
        expected = round_half_up(price * days, month.days_in_month) if by_days else price
        assert sum(parts.values(), Money.zero()) == Money.cents(expected)
        if psc and product is not B:
            assert parts.get(Payer.EMPLOYER, Money.zero()) <= Money(5)
        if person != "M":
            assert Payer.EMPLOYER not in parts or not psc
    assert total(lines) == sum(totals_by_payer(lines).values(), Money.zero())


def _group(lines: tuple[CotisationLine, ...]) -> dict[tuple[str, ProductLevel], dict[Payer, Money]]:
    grouped: dict[tuple[str, ProductLevel], dict[Payer, Money]] = {}
    for line in lines:
        parts = grouped.setdefault((line.person_id, line.product), {})
        assert line.payer not in parts
        parts[line.payer] = line.amount
    return grouped


def test_fraction_helper_matches_money_multiply() -> None:
    assert Money.cents(round_half_up(1601 * 12, 31)) == Money("16.01").multiply(Fraction(12, 31))
