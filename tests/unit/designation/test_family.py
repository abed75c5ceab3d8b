"""The family at death: facts, checked for consistency."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from mutuelle_core.designation import Child, ChildStatus, FamilyAtDeath, Heir, Person, Spouse, SpouseStatus
from mutuelle_core.errors import DomainError, ValidationFailed
from tests.unit.designation.builders import child, name


def codes(err: ValidationFailed) -> list[tuple[str, str | None]]:
    return [(e.code, e.field) for e in err.leaves()]


def test_a_married_spouse_and_a_pacs_partner_cannot_both_be() -> None:
    with pytest.raises(ValidationFailed) as caught:
        FamilyAtDeath(spouse=Spouse("s", name("anne")), pacs_partner=Person("p", name("paul")))
    assert codes(caught.value) == [("designation.spouse_and_partner", "pacs_partner")]


@pytest.mark.parametrize("status", [SpouseStatus.DIVORCED, SpouseStatus.SEPARATED_BY_JUDGMENT])
def test_a_former_or_separated_spouse_and_a_partner_are_accepted(status: SpouseStatus) -> None:
    family = FamilyAtDeath(spouse=Spouse("s", name("anne"), status), pacs_partner=Person("p", name("paul")))
    assert family.pacs_partner is not None


def test_a_widowed_member_may_have_a_partner() -> None:
    FamilyAtDeath(spouse=Spouse("s", name("anne")), pacs_partner=Person("p", name("paul")), predeceased={"s"})


def test_heir_shares_are_exact_fractions_totalling_one() -> None:
    heirs = [
        Heir("h1", name("léa"), "1/3"),
        Heir("h2", name("tom"), Fraction(1, 3)),
        Heir("h3", name("zoé"), "1/3"),
    ]
    assert sum((h.share for h in FamilyAtDeath(heirs=heirs).heirs), Fraction(0)) == 1
    assert Heir("h", name("léa"), Decimal("0.25")).share == Fraction(1, 4)
    with pytest.raises(ValidationFailed) as caught:
        FamilyAtDeath(
            heirs=[Heir("h1", name("léa"), Decimal("0.3333")), Heir("h2", name("tom"), Decimal("0.6666"))]
        )
    assert codes(caught.value) == [("designation.heir_shares_not_one", "heirs")]


@pytest.mark.parametrize("share", ["0", "-1/2", "3/2", "x", Decimal("NaN")])
def test_invalid_heir_shares(share: str | Decimal) -> None:
    with pytest.raises(DomainError) as caught:
        Heir("h", name("léa"), share)
    assert caught.value.code == "designation.heir_share_invalid"


def test_an_unborn_child_has_no_descendants() -> None:
    unborn = Child("c", name("bébé"), ChildStatus.CONCEIVED, descendants=(child("g", "lou"),))
    with pytest.raises(ValidationFailed) as caught:
        FamilyAtDeath(children=[unborn])
    assert codes(caught.value) == [("designation.unborn_with_descendants", "children[0]")]


def test_one_id_one_person() -> None:
    with pytest.raises(ValidationFailed) as caught:
        FamilyAtDeath(
            children=[child("c1", "léa", ChildStatus.PREDECEASED, child("c1", "léa"))],
            parents=[Person("p", name("marc")), Person("p", name("marc"))],
            heirs=[Heir("c2", name("tom"), 1)],
            spouse=Spouse("c2", name("eva"), SpouseStatus.DIVORCED),
        )
    assert codes(caught.value) == [
        ("designation.duplicate_person", "children[0].descendants[0]"),
        ("designation.duplicate_person", "parents[1]"),
        ("designation.person_conflict", "heirs[0]"),
    ]


def test_the_same_person_may_hold_several_roles() -> None:
    family = FamilyAtDeath(spouse=Spouse("s", name("anne")), heirs=[Heir("s", name("anne"), 1)])
    assert family.can_receive("s")


def test_predeceased_and_renouncing() -> None:
    dead = child("c1", "léa", ChildStatus.PREDECEASED)
    marked = child("c2", "tom")
    family = FamilyAtDeath(children=[dead, marked], predeceased={"c2", "p"}, renouncing=["r"])
    assert family.is_predeceased(dead) and family.is_predeceased(marked) and family.is_predeceased("p")
    assert not family.can_receive("r") and family.renounces("r") and family.can_receive("x")
    assert ChildStatus.CONCEIVED.label == "À naître"
    assert SpouseStatus.SEPARATED_BY_JUDGMENT.label == "Séparé(e) de corps judiciairement"
