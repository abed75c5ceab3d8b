"""allocate_capital: the standard clause, particular designations, exact cents and explanations."""

from __future__ import annotations

from fractions import Fraction

import pytest

from mutuelle_core.designation import (
    CapitalAllocation,
    ChildStatus,
    Designation,
    FamilyAtDeath,
    Heir,
    LapseRule,
    Person,
    Spouse,
    SpouseStatus,
    StandardClause,
    allocate_capital,
)
from mutuelle_core.designation.allocation import AllocationLine
from mutuelle_core.errors import DomainError, TransitionNotAllowed
from mutuelle_core.values.money import Money
from tests.unit.designation.builders import NOW, child, fifty_thirty_twenty, in_force, name, named, particular

CAPITAL = Money.of("120000")
STANDARD = StandardClause()


def amounts(result: CapitalAllocation) -> dict[str | None, str]:
    return {person: str(amount) for person, amount in result.by_person().items()}


def rules(result: CapitalAllocation) -> list[tuple[str | None, str, str | None]]:
    return [(line.person_id, line.rule, line.via) for line in result.lines]


# -- the standard clause --------------------------------------------------------------------------


def test_the_spouse_alone_takes_everything_even_with_children() -> None:
    family = FamilyAtDeath(
        spouse=Spouse("s", name("anne")), children=[child("c1", "léa"), child("c2", "tom")]
    )
    result = allocate_capital(STANDARD, CAPITAL, family)
    assert amounts(result) == {"s": "120000.00"}
    assert rules(result) == [("s", "standard.spouse", None)]
    assert result.lines[0].fraction == 1
    assert "conjoint non séparé de corps judiciairement (100 % du capital)" in result.lines[0].explanation


def test_three_children_one_predeceased_represented_by_its_two_children() -> None:
    family = FamilyAtDeath(
        children=[
            child("c1", "léa"),
            child("c2", "paul", ChildStatus.PREDECEASED, child("g1", "lou"), child("g2", "noé")),
            child("c3", "zoé"),
        ]
    )
    result = allocate_capital(STANDARD, CAPITAL, family)
    assert [(line.person_id, line.fraction) for line in result.lines] == [
        ("c1", Fraction(1, 3)),
        ("c3", Fraction(1, 3)),
        ("g1", Fraction(1, 6)),
        ("g2", Fraction(1, 6)),
    ]
    assert amounts(result) == {"c1": "40000.00", "c3": "40000.00", "g1": "20000.00", "g2": "20000.00"}
    assert rules(result) == [
        ("c1", "standard.children", None),
        ("c3", "standard.children", None),
        ("g1", "standard.children.represented", None),
        ("g2", "standard.children.represented", None),
    ]
    assert "descendant de Paul MARTIN" in result.lines[2].explanation
    assert "(1/6 du capital)" in result.lines[2].explanation


def test_representation_is_recursive_by_stirpes() -> None:
    grandson = child(
        "g1", "paul", ChildStatus.PREDECEASED, child("gg1", "ana"), child("gg2", "eli"), child("gg3", "ivo")
    )
    family = FamilyAtDeath(
        children=[
            child("c1", "léa"),
            child("c2", "marc", ChildStatus.PREDECEASED, grandson, child("g2", "noé")),
        ]
    )
    result = allocate_capital(STANDARD, Money.of("1200"), family)
    assert amounts(result) == {
        "c1": "600.00",
        "g2": "300.00",
        "gg1": "100.00",
        "gg2": "100.00",
        "gg3": "100.00",
    }
    assert result.lines[-1].rule == "standard.children.represented"
    assert "descendant de Paul MARTIN" in result.lines[-1].explanation


def test_a_predeceased_child_without_descendants_drops_out() -> None:
    family = FamilyAtDeath(children=[child("c1", "léa"), child("c2", "paul", ChildStatus.PREDECEASED)])
    assert amounts(allocate_capital(STANDARD, CAPITAL, family)) == {"c1": "120000.00"}


def test_a_child_to_be_born_takes_an_equal_share_on_condition() -> None:
    family = FamilyAtDeath(children=[child("c1", "léa"), child("c2", "bébé", ChildStatus.CONCEIVED)])
    result = allocate_capital(STANDARD, CAPITAL, family)
    assert amounts(result) == {"c1": "60000.00", "c2": "60000.00"}
    assert rules(result)[1] == ("c2", "standard.children.unborn", None)
    assert "naisse vivant et viable" in result.lines[1].explanation


def test_a_pacs_partner_takes_everything() -> None:
    family = FamilyAtDeath(pacs_partner=Person("p", name("paul")), children=[child("c1", "léa")])
    result = allocate_capital(STANDARD, CAPITAL, family)
    assert amounts(result) == {"p": "120000.00"}
    assert rules(result) == [("p", "standard.pacs_partner", None)]


def test_a_spouse_separated_by_judgment_takes_nothing() -> None:
    family = FamilyAtDeath(
        spouse=Spouse("s", name("anne"), SpouseStatus.SEPARATED_BY_JUDGMENT), children=[child("c1", "léa")]
    )
    assert amounts(allocate_capital(STANDARD, CAPITAL, family)) == {"c1": "120000.00"}


def test_pacs_partner_versus_a_spouse_separated_by_judgment() -> None:
    # The clause names « le conjoint non séparé de corps judiciairement ou le partenaire de PACS »:
    # the separated spouse is excluded, the partner on record qualifies.
    family = FamilyAtDeath(
        spouse=Spouse("s", name("anne"), SpouseStatus.SEPARATED_BY_JUDGMENT),
        pacs_partner=Person("p", name("paul")),
        children=[child("c1", "léa")],
    )
    assert amounts(allocate_capital(STANDARD, CAPITAL, family)) == {"p": "120000.00"}


def test_a_divorced_spouse_and_a_cohabitant_are_not_beneficiaries_of_the_standard_clause() -> None:
    family = FamilyAtDeath(
        spouse=Spouse("s", name("anne"), SpouseStatus.DIVORCED),
        cohabitant=Person("k", name("kim")),
        parents=[Person("f", name("marc")), Person("m", name("rose"))],
    )
    result = allocate_capital(STANDARD, CAPITAL, family)
    assert amounts(result) == {"f": "60000.00", "m": "60000.00"}
    assert {line.rule for line in result.lines} == {"standard.parents"}


def test_the_surviving_parent_takes_all() -> None:
    family = FamilyAtDeath(parents=[Person("m", name("rose"))])
    result = allocate_capital(STANDARD, CAPITAL, family)
    assert rules(result) == [("m", "standard.parents.survivor", None)]
    renouncing = FamilyAtDeath(
        parents=[Person("f", name("marc")), Person("m", name("rose"))], renouncing={"f"}
    )
    assert amounts(allocate_capital(STANDARD, CAPITAL, renouncing)) == {"m": "120000.00"}


def test_a_renouncing_spouse_passes_to_the_children() -> None:
    family = FamilyAtDeath(spouse=Spouse("s", name("anne")), children=[child("c1", "léa")], renouncing={"s"})
    assert amounts(allocate_capital(STANDARD, CAPITAL, family)) == {"c1": "120000.00"}


def test_a_renouncing_child_is_not_represented_and_its_share_accrues() -> None:
    family = FamilyAtDeath(
        children=[
            child("c1", "léa", ChildStatus.ALIVE, child("g1", "lou")),
            child("c2", "tom"),
            child("c3", "zoé"),
        ],
        renouncing={"c1"},
    )
    assert amounts(allocate_capital(STANDARD, CAPITAL, family)) == {"c2": "60000.00", "c3": "60000.00"}


def test_within_a_represented_branch_a_renouncing_descendant_s_share_accrues_to_the_branch() -> None:
    family = FamilyAtDeath(
        children=[
            child("c1", "léa"),
            child("c2", "paul", ChildStatus.PREDECEASED, child("g1", "lou"), child("g2", "noé")),
        ],
        renouncing={"g1"},
    )
    assert amounts(allocate_capital(STANDARD, CAPITAL, family)) == {"c1": "60000.00", "g2": "60000.00"}


def test_when_every_child_renounces_the_parents_take() -> None:
    family = FamilyAtDeath(
        children=[child("c1", "léa")], parents=[Person("m", name("rose"))], renouncing={"c1"}
    )
    assert amounts(allocate_capital(STANDARD, CAPITAL, family)) == {"m": "120000.00"}


def test_the_heirs_take_in_proportion_to_their_inheritance_shares() -> None:
    family = FamilyAtDeath(
        heirs=[Heir("h1", name("ana"), "1/2"), Heir("h2", name("eli"), "1/4"), Heir("h3", name("ivo"), "1/4")]
    )
    result = allocate_capital(STANDARD, CAPITAL, family)
    assert amounts(result) == {"h1": "60000.00", "h2": "30000.00", "h3": "30000.00"}
    assert {line.rule for line in result.lines} == {"heirs"}
    assert "part successorale de 1/4" in result.lines[1].explanation
    renouncing = FamilyAtDeath(heirs=family.heirs, renouncing={"h1"})
    assert amounts(allocate_capital(STANDARD, CAPITAL, renouncing)) == {"h2": "60000.00", "h3": "60000.00"}


def test_with_nobody_the_capital_falls_into_the_estate() -> None:
    family = FamilyAtDeath(
        cohabitant=Person("k", name("kim")), heirs=[Heir("h", name("ana"), 1)], renouncing={"h"}
    )
    result = allocate_capital(STANDARD, CAPITAL, family)
    assert rules(result) == [(None, "estate", None)]
    assert result.amount_for(None) == CAPITAL
    assert "L132-11" in result.lines[0].explanation
    assert result.letter_lines()[0].startswith("Succession de l'assuré : 120")


def test_100_000_euros_among_three_equal_shares_add_up_to_the_cent() -> None:
    family = FamilyAtDeath(children=[child("c3", "zoé"), child("c1", "léa"), child("c2", "tom")])
    result = allocate_capital(STANDARD, Money.of("100000"), family)
    assert amounts(result) == {"c1": "33333.34", "c2": "33333.33", "c3": "33333.33"}
    assert result.total == Money.of("100000.00")
    clause = particular(
        [named("a", "alice", "33.33"), named("b", "bruno", "33.33"), named("c", "chloé", "33.34")]
    )
    assert allocate_capital(clause, Money.of("100000"), FamilyAtDeath()).total == Money.of("100000")


# -- particular designations ----------------------------------------------------------------------

HUNDRED_K = Money.of("100000")


def test_a_particular_designation_pays_each_its_percentage() -> None:
    result = allocate_capital(fifty_thirty_twenty(LapseRule.PRO_RATA), HUNDRED_K, FamilyAtDeath())
    assert amounts(result) == {"a": "50000.00", "b": "30000.00", "c": "20000.00"}
    assert {line.rule for line in result.lines} == {"particular.rank1"}
    assert "bénéficiaire du rang 1 pour 50 % (1/2 du capital)" in result.lines[0].explanation


def test_50_30_20_whose_30_percent_beneficiary_died_first_pro_rata() -> None:
    family = FamilyAtDeath(spouse=Spouse("s", name("anne")), predeceased={"b"})
    result = allocate_capital(fifty_thirty_twenty(LapseRule.PRO_RATA), HUNDRED_K, family)
    assert amounts(result) == {"a": "71428.57", "c": "28571.43"}
    assert rules(result) == [
        ("a", "particular.lapsed_pro_rata", None),
        ("a", "particular.rank1", None),
        ("c", "particular.lapsed_pro_rata", None),
        ("c", "particular.rank1", None),
    ]
    by_line = {(line.person_id, line.rule): line for line in result.lines}
    assert by_line["a", "particular.lapsed_pro_rata"].fraction == Fraction(3, 14)
    assert by_line["a", "particular.rank1"].amount == Money.of("50000")
    text = by_line["c", "particular.lapsed_pro_rata"].explanation
    assert "part de Bruno MARTIN (30 %)" in text and "rang 1 au prorata" in text


def test_50_30_20_whose_30_percent_beneficiary_died_first_sent_to_the_standard_clause() -> None:
    family = FamilyAtDeath(spouse=Spouse("s", name("anne")), predeceased={"b"})
    result = allocate_capital(fifty_thirty_twenty(LapseRule.STANDARD_CLAUSE), HUNDRED_K, family)
    assert amounts(result) == {"a": "50000.00", "c": "20000.00", "s": "30000.00"}
    assert rules(result)[-1] == ("s", "standard.spouse", "particular.lapsed_standard")
    assert result.lines[-1].fraction == Fraction(3, 10)
    assert result.lines[-1].explanation.startswith(
        "Part de Bruno MARTIN (30 %), décédé avant l'assuré ou renonçant, que la désignation particulière"
    )
    children = FamilyAtDeath(children=[child("k1", "ana"), child("k2", "eli")], predeceased={"b"})
    result = allocate_capital(fifty_thirty_twenty(LapseRule.STANDARD_CLAUSE), HUNDRED_K, children)
    assert amounts(result) == {"a": "50000.00", "c": "20000.00", "k1": "15000.00", "k2": "15000.00"}


def test_a_renouncing_named_beneficiary_lapses_like_a_predeceased_one() -> None:
    family = FamilyAtDeath(renouncing={"b"})
    result = allocate_capital(fifty_thirty_twenty(LapseRule.PRO_RATA), HUNDRED_K, family)
    assert amounts(result) == {"a": "71428.57", "c": "28571.43"}


def test_a_named_child_who_died_first_lapses_even_when_only_its_status_says_so() -> None:
    family = FamilyAtDeath(children=[child("b", "bruno", ChildStatus.PREDECEASED, child("g", "lou"))])
    result = allocate_capital(fifty_thirty_twenty(LapseRule.STANDARD_CLAUSE), HUNDRED_K, family)
    # named beneficiaries are not represented; the standard clause then represents the child
    assert amounts(result) == {"a": "50000.00", "c": "20000.00", "g": "30000.00"}
    assert rules(result)[-1] == ("g", "standard.children.represented", "particular.lapsed_standard")


def test_a_named_beneficiary_who_is_also_the_spouse_receives_under_both_rules() -> None:
    family = FamilyAtDeath(spouse=Spouse("a", name("alice")), predeceased={"b"})
    result = allocate_capital(fifty_thirty_twenty(LapseRule.STANDARD_CLAUSE), HUNDRED_K, family)
    assert amounts(result) == {"a": "80000.00", "c": "20000.00"}
    assert [line.rule for line in result.lines if line.person_id == "a"] == [
        "particular.rank1",
        "standard.spouse",
    ]


def test_the_next_rank_applies_only_when_nobody_of_the_rank_can_receive() -> None:
    clause = particular(
        [named("a", "alice", 60), named("b", "bruno", 40)],
        [named("c", "chloé", 50), named("d", "david", 50)],
        rule=LapseRule.STANDARD_CLAUSE,
    )
    partly = allocate_capital(
        clause, HUNDRED_K, FamilyAtDeath(predeceased={"a"}, parents=[Person("m", name("rose"))])
    )
    assert amounts(partly) == {"b": "40000.00", "m": "60000.00"}
    wholly = allocate_capital(clause, HUNDRED_K, FamilyAtDeath(predeceased={"a"}, renouncing={"b"}))
    assert amounts(wholly) == {"c": "50000.00", "d": "50000.00"}
    assert {line.rule for line in wholly.lines} == {"particular.rank2"}


def test_when_no_named_beneficiary_can_receive_the_standard_clause_applies() -> None:
    family = FamilyAtDeath(children=[child("k1", "ana")], predeceased={"a", "b", "c"})
    result = allocate_capital(fifty_thirty_twenty(LapseRule.PRO_RATA), HUNDRED_K, family)
    assert rules(result) == [("k1", "standard.children", "particular.no_beneficiary")]
    assert result.lines[0].explanation.startswith("Aucun bénéficiaire de la désignation particulière")


# -- what is refused ------------------------------------------------------------------------------


def test_a_designation_in_force_is_applied_and_an_unsigned_one_is_refused() -> None:
    designation = in_force(fifty_thirty_twenty(LapseRule.PRO_RATA))
    assert allocate_capital(designation, HUNDRED_K, FamilyAtDeath()).clause_kind == "particular"
    draft = Designation.draft(
        designation_id="d2", affiliation_id="aff-1", member_id="m1", clause=STANDARD, now=NOW
    )
    with pytest.raises(TransitionNotAllowed) as caught:
        allocate_capital(draft, HUNDRED_K, FamilyAtDeath())
    assert caught.value.code == "designation.unsigned"


def test_a_superseded_designation_is_not_applied() -> None:
    old = in_force(STANDARD)
    new = in_force(fifty_thirty_twenty(LapseRule.PRO_RATA), "d2", previous=old)
    superseded = old.supersede(by=new, at=NOW)
    with pytest.raises(DomainError) as caught:
        allocate_capital(superseded, HUNDRED_K, FamilyAtDeath())
    assert caught.value.code == "designation.superseded"


def test_a_negative_capital_is_refused_and_zero_is_fine() -> None:
    with pytest.raises(DomainError) as caught:
        allocate_capital(STANDARD, Money.of("-1"), FamilyAtDeath())
    assert caught.value.code == "designation.negative_amount"
    assert allocate_capital(STANDARD, Money.zero(), FamilyAtDeath(children=[child("c", "léa")])).total.is_zero


def test_an_allocation_that_does_not_add_up_cannot_be_built() -> None:
    line = AllocationLine("a", name("alice"), Money.of("10"), "particular.rank1", Fraction(1))
    with pytest.raises(DomainError) as caught:
        CapitalAllocation(Money.of("11"), "particular", (line,))
    assert caught.value.code == "designation.allocation_total_mismatch"


def test_letter_lines_name_the_person_the_amount_and_the_rule() -> None:
    family = FamilyAtDeath(spouse=Spouse("s", name("anne")))
    [line] = allocate_capital(STANDARD, Money.of("1234.5"), family).letter_lines()
    assert line == (
        "Anne MARTIN : 1\u202f234,50\xa0€. Clause standard : conjoint non séparé de corps judiciairement "
        "(100 % du capital)."
    )
