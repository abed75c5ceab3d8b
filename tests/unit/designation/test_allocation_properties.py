"""Properties of allocate_capital: adds up to the cent, never negative, independent of input order."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from mutuelle_core.designation import (
    Child,
    ChildStatus,
    FamilyAtDeath,
    Heir,
    LapseRule,
    NamedBeneficiary,
    ParticularClause,
    Person,
    Rank,
    Relationship,
    Spouse,
    SpouseStatus,
    StandardClause,
    allocate_capital,
)
from mutuelle_core.designation.clauses import Clause
from mutuelle_core.values.identity import PersonName
from mutuelle_core.values.money import Money

# A child's shape: its status and its own children's shapes (only kept for a predeceased child).
Shape = tuple[ChildStatus, list["Shape"]]

shapes: st.SearchStrategy[Shape] = st.recursive(
    st.tuples(st.sampled_from(ChildStatus), st.just([])),
    lambda inner: st.tuples(st.sampled_from(ChildStatus), st.lists(inner, max_size=3)),
    max_leaves=12,
)
person_ids = st.text(alphabet="abcdefgh", min_size=1, max_size=3)


def person_name(person_id: str) -> PersonName:
    return PersonName("test", person_id)


def build_children(shapes_: list[Shape], ids: list[str]) -> list[Child]:
    children = []
    for status, inner in shapes_:
        person_id = ids.pop()
        descendants = build_children(inner, ids) if status is ChildStatus.PREDECEASED else []
        children.append(Child(person_id, person_name(person_id), status, descendants=descendants))
    return children


def count(shapes_: list[Shape]) -> int:
    return sum(1 + (count(inner) if status is ChildStatus.PREDECEASED else 0) for status, inner in shapes_)


@st.composite
def families(draw: st.DrawFn) -> FamilyAtDeath:
    child_shapes = draw(st.lists(shapes, max_size=4))
    n_parents = draw(st.integers(0, 2))
    heir_weights = draw(st.lists(st.integers(1, 12), max_size=4))
    size = count(child_shapes) + n_parents + len(heir_weights) + 2
    ids = draw(st.lists(person_ids, min_size=size, max_size=size, unique=True))
    pool = list(ids)
    spouse_status = draw(st.none() | st.sampled_from(SpouseStatus))
    spouse_id, partner_id = pool.pop(), pool.pop()
    spouse = Spouse(spouse_id, person_name(spouse_id), spouse_status) if spouse_status is not None else None
    partner_allowed = spouse_status is not SpouseStatus.MARRIED
    partner = Person(partner_id, person_name(partner_id)) if partner_allowed and draw(st.booleans()) else None
    children = build_children(child_shapes, pool)
    parents = [Person(p, person_name(p)) for p in (pool.pop() for _ in range(n_parents))]
    total = sum(heir_weights)
    heirs = [Heir(h, person_name(h), Fraction(w, total)) for h, w in zip(pool, heir_weights, strict=False)]
    renouncing = draw(st.sets(st.sampled_from(ids))) if ids else set()
    predeceased = draw(st.sets(st.sampled_from([spouse_id, partner_id, *ids[:3]])))
    return FamilyAtDeath(
        spouse=spouse,
        pacs_partner=partner,
        children=children,
        parents=parents,
        heirs=heirs,
        renouncing=renouncing,
        predeceased=predeceased,
    )


@st.composite
def percent_splits(draw: st.DrawFn, n: int) -> list[Decimal]:
    cuts = sorted(draw(st.lists(st.integers(1, 9999), min_size=n - 1, max_size=n - 1, unique=True)))
    bounds = [0, *cuts, 10000]
    return [Decimal(b - a) / 100 for a, b in itertools.pairwise(bounds)]


def everyone(family: FamilyAtDeath) -> set[str]:
    def walk(children: tuple[Child, ...]) -> set[str]:
        return {c.person_id for c in children}.union(*(walk(c.descendants) for c in children))

    people = [family.spouse, family.pacs_partner, *family.parents, *family.heirs]
    return walk(family.children) | {p.person_id for p in people if p is not None} | family.predeceased


@st.composite
def particular_clauses(draw: st.DrawFn, family: FamilyAtDeath) -> ParticularClause:
    sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    known = sorted(everyone(family))
    candidates = st.sampled_from(known) | person_ids if known else person_ids
    ids = draw(st.lists(candidates, min_size=sum(sizes), max_size=sum(sizes), unique=True))
    ranks = []
    for size in sizes:
        shares = draw(percent_splits(size))
        ranks.append(
            Rank(
                NamedBeneficiary(pid, person_name(pid), Relationship.OTHER, dt.date(1980, 1, 1), share=share)
                for pid, share in zip((ids.pop() for _ in range(size)), shares, strict=True)
            )
        )
    return ParticularClause(ranks=ranks, lapse_rule=draw(st.sampled_from(LapseRule)))


@st.composite
def cases(draw: st.DrawFn) -> tuple[Clause, FamilyAtDeath]:
    family = draw(families())
    clause: Clause = draw(st.just(StandardClause()) | particular_clauses(family))
    return clause, family


capitals = st.integers(0, 10**11).map(Money.cents)


def shuffled_children(children: tuple[Child, ...], rng: random.Random) -> list[Child]:
    out = [
        Child(c.person_id, c.name, c.status, descendants=shuffled_children(c.descendants, rng))
        for c in children
    ]
    rng.shuffle(out)
    return out


def shuffled(clause: Clause, family: FamilyAtDeath, rng: random.Random) -> tuple[Clause, FamilyAtDeath]:
    parents, heirs = list(family.parents), list(family.heirs)
    rng.shuffle(parents)
    rng.shuffle(heirs)
    new_family = FamilyAtDeath(
        spouse=family.spouse,
        pacs_partner=family.pacs_partner,
        children=shuffled_children(family.children, rng),
        parents=parents,
        heirs=heirs,
        renouncing=sorted(family.renouncing, key=lambda _: rng.random()),
        predeceased=sorted(family.predeceased, key=lambda _: rng.random()),
    )
    if isinstance(clause, StandardClause):
        return clause, new_family
    ranks = []
    for rank in clause.ranks:
        beneficiaries = list(rank.beneficiaries)
        rng.shuffle(beneficiaries)
        ranks.append(Rank(beneficiaries))
    return ParticularClause(ranks=ranks, lapse_rule=clause.lapse_rule), new_family


@given(cases(), capitals)
def test_the_allocation_adds_up_to_the_capital_and_nothing_is_negative(
    case: tuple[Clause, FamilyAtDeath], capital: Money
) -> None:
    clause, family = case
    result = allocate_capital(clause, capital, family)
    assert Money.total(line.amount for line in result.lines) == capital
    assert all(not line.amount.is_negative for line in result.lines)
    assert sum(line.fraction for line in result.lines) == 1
    assert all(line.fraction > 0 for line in result.lines)


@given(cases(), capitals)
def test_each_person_gets_its_exact_share_within_one_cent(
    case: tuple[Clause, FamilyAtDeath], capital: Money
) -> None:
    clause, family = case
    result = allocate_capital(clause, capital, family)
    exact: dict[str | None, Fraction] = {}
    for line in result.lines:
        exact[line.person_id] = exact.get(line.person_id, Fraction(0)) + line.fraction * capital.to_cents()
    for person, amount in result.by_person().items():
        assert abs(amount.to_cents() - exact[person]) < 1


@given(cases(), capitals, st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_the_order_of_entry(
    case: tuple[Clause, FamilyAtDeath], capital: Money, rng: random.Random
) -> None:
    clause, family = case
    other_clause, other_family = shuffled(clause, family, rng)
    assert allocate_capital(other_clause, capital, other_family) == allocate_capital(clause, capital, family)


def dead_children(children: tuple[Child, ...]) -> set[str]:
    dead = {c.person_id for c in children if c.status is ChildStatus.PREDECEASED}
    return dead.union(*(dead_children(c.descendants) for c in children))


@given(cases())
def test_nobody_who_died_first_or_renounced_receives(case: tuple[Clause, FamilyAtDeath]) -> None:
    clause, family = case
    result = allocate_capital(clause, Money.of("100000"), family)
    excluded = family.renouncing | family.predeceased | dead_children(family.children)
    assert not {line.person_id for line in result.lines} & excluded
    assert all(line.explanation for line in result.lines)
