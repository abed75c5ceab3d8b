"""Small builders shared by the designation tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from mutuelle_core.designation import (
    Child,
    ChildStatus,
    Designation,
    LapseRule,
    NamedBeneficiary,
    ParticularClause,
    Rank,
    Relationship,
    SignatureEvidence,
    clause_document_sha256,
)
from mutuelle_core.designation.clauses import Clause
from mutuelle_core.values.identity import PersonName

NOW = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)


def name(first: str, family: str = "martin") -> PersonName:
    return PersonName(family, first)


def child(person_id: str, first: str, status: ChildStatus = ChildStatus.ALIVE, *descendants: Child) -> Child:
    return Child(person_id, name(first), status, descendants=descendants)


def named(
    person_id: str, first: str, share: str | int | Decimal, relationship: Relationship = Relationship.CHILD
) -> NamedBeneficiary:
    return NamedBeneficiary(person_id, name(first), relationship, dt.date(1990, 1, 1), share=share)


def particular(*ranks: list[NamedBeneficiary], rule: LapseRule = LapseRule.PRO_RATA) -> ParticularClause:
    return ParticularClause(ranks=tuple(Rank(tuple(r)) for r in ranks), lapse_rule=rule)


def fifty_thirty_twenty(rule: LapseRule) -> ParticularClause:
    return particular([named("a", "alice", 50), named("b", "bruno", 30), named("c", "chloé", 20)], rule=rule)


def signed(designation: Designation, at: dt.datetime = NOW) -> Designation:
    evidence = SignatureEvidence(
        signer=designation.member_id, signed_at=at, document_sha256=clause_document_sha256(designation)
    )
    return designation.sign(evidence)


def in_force(clause: Clause, designation_id: str = "d1", previous: Designation | None = None) -> Designation:
    draft = Designation.draft(
        designation_id=designation_id,
        affiliation_id="aff-1",
        member_id="m1",
        clause=clause,
        now=NOW,
        replacing=previous,
    )
    return signed(draft).put_in_force(at=NOW, previous=previous)
