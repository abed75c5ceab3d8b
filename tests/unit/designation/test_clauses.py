"""Clauses: standard, particular with ranks totalling 100 %, no free text."""

from __future__ import annotations

import datetime as dt
import typing
from decimal import Decimal

import pytest

from mutuelle_core.designation import (
    LapseRule,
    NamedBeneficiary,
    ParticularClause,
    Relationship,
    StandardClause,
    refuse_free_text,
)
from mutuelle_core.designation.clauses import Clause
from mutuelle_core.errors import DomainError, ValidationFailed
from tests.unit.designation.builders import name, named, particular


def leaf_codes(err: ValidationFailed) -> list[tuple[str, str | None]]:
    return [(e.code, e.field) for e in err.leaves()]


def test_a_rank_must_total_exactly_100_percent() -> None:
    with pytest.raises(ValidationFailed) as caught:
        particular([named("a", "alice", 50), named("b", "bruno", 30), named("c", "chloé", 19)])
    assert leaf_codes(caught.value) == [("designation.shares_not_100", "ranks[0]")]
    assert "99 %" in caught.value.errors[0].message()


def test_every_rank_is_checked_and_all_problems_are_reported() -> None:
    with pytest.raises(ValidationFailed) as caught:
        particular(
            [named("a", "alice", 100)],
            [named("b", "bruno", "33.33"), named("c", "chloé", "33.33")],
            [],
        )
    assert leaf_codes(caught.value) == [
        ("designation.shares_not_100", "ranks[1]"),
        ("designation.empty_rank", "ranks[2]"),
    ]


def test_shares_with_two_decimals_total_100() -> None:
    clause = particular(
        [named("a", "alice", "33,33"), named("b", "bruno", "33.33"), named("c", "chloé", "33.34")]
    )
    assert clause.ranks[0].total == Decimal(100)
    assert clause.position_of("c") == (1, Decimal("33.34"))


@pytest.mark.parametrize("share", ["0", "-5", "100.01", "12.345", "abc", "NaN", Decimal("Infinity")])
def test_invalid_shares_are_refused(share: str | Decimal) -> None:
    with pytest.raises(DomainError) as caught:
        named("a", "alice", share)
    assert caught.value.code == "designation.share_invalid"


def test_a_float_share_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        NamedBeneficiary("a", name("alice"), Relationship.CHILD, dt.date(1990, 1, 1), share=50.0)  # type: ignore[arg-type]


def test_no_rank_and_duplicates_are_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        ParticularClause(ranks=(), lapse_rule=LapseRule.PRO_RATA)
    assert leaf_codes(caught.value) == [("designation.no_rank", "ranks")]
    with pytest.raises(ValidationFailed) as caught:
        particular([named("a", "alice", 50), named("b", "bruno", 50)], [named("a", "alice", 100)])
    assert leaf_codes(caught.value) == [("designation.duplicate_beneficiary", "ranks[1].beneficiaries[0]")]


def test_subsequent_ranks_are_kept_in_order() -> None:
    clause = particular([named("a", "alice", 100)], [named("b", "bruno", 60), named("c", "chloé", 40)])
    assert clause.position_of("b") == (2, Decimal(60))
    assert clause.named_person_ids() == {"a", "b", "c"}
    assert clause.kind == "particular"


def test_the_standard_clause_names_nobody() -> None:
    assert StandardClause().named_person_ids() == frozenset()
    assert StandardClause().kind == "standard"
    assert StandardClause() == StandardClause()


def test_there_is_no_free_text_clause() -> None:
    # A clause is standard or particular; neither holds a free text field.
    assert set(typing.get_args(Clause)) == {StandardClause, ParticularClause}
    assert {f.name for f in ParticularClause.__attrs_attrs__} == {"ranks", "lapse_rule"}
    assert StandardClause.__attrs_attrs__ == ()
    with pytest.raises(DomainError) as caught:
        refuse_free_text("à mon frère, à défaut à mes neveux")
    assert caught.value.code == "designation.free_text_refused"
    assert "frère" not in caught.value.message()


def test_relationships_and_rules_have_french_labels() -> None:
    assert Relationship.PACS_PARTNER.label == "partenaire de PACS"
    assert LapseRule.STANDARD_CLAUSE.label == "Attribuée selon la clause standard"
    assert all(r.label for r in Relationship)
