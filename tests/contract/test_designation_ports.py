"""Contract tests of the designation repository, run on memory, SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
import pytest

from mutuelle_core.designation import (
    Designation,
    DesignationStatus,
    LapseRule,
    NamedBeneficiary,
    ParticularClause,
    Rank,
    Relationship,
    SignatureEvidence,
    StandardClause,
    clause_document_sha256,
    replace_designation,
)
from mutuelle_core.designation.clauses import Clause
from mutuelle_core.errors import ConcurrencyConflict, NotFound
from mutuelle_core.values.identity import PersonName, PostalAddress
from tests.conftest import START, Backend
from tests.designation_fixtures import affiliated_member

D = dt.date


def beneficiary(person_id: str, first: str, share: str, **extra: object) -> NamedBeneficiary:
    return NamedBeneficiary(
        person_id,
        PersonName("Dupond", first, usage_name=extra.pop("usage_name", None)),  # type: ignore[arg-type]
        Relationship.CHILD,
        D(2013, 5, 12),
        share=share,
        **extra,  # type: ignore[arg-type]
    )


def particular() -> ParticularClause:
    """Two ranks, odd shares, an address and a usage name: everything the JSON must carry."""
    return ParticularClause(
        ranks=(
            Rank(
                (
                    beneficiary("p-1", "Isalyne", "33,33"),
                    beneficiary("p-2", "Nathaniel", "33.33"),
                    beneficiary(
                        "p-3",
                        "Claudia",
                        "33.34",
                        usage_name="Duzu",
                        address=PostalAddress.parse(["213 rue de Gerland"], "69007", "Lyon"),
                    ),
                )
            ),
            Rank(
                (
                    NamedBeneficiary(
                        "p-4", PersonName("Roy", "Luc"), Relationship.SIBLING, D(1980, 1, 2), share=100
                    ),
                )
            ),
        ),
        lapse_rule=LapseRule.STANDARD_CLAUSE,
    )


def draft(
    aff_id: str, designation_id: str, clause: Clause, replacing: Designation | None = None
) -> Designation:
    return Designation.draft(
        designation_id=designation_id,
        affiliation_id=aff_id,
        member_id=aff_id,
        clause=clause,
        now=START,
        replacing=replacing,
    )


def signed(d: Designation, at: dt.datetime = START) -> Designation:
    return d.sign(
        SignatureEvidence(
            signer=d.member_id,
            signed_at=at,
            document_sha256=clause_document_sha256(d),
            document_id=f"doc-{d.designation_id}",
            provider="local",
        )
    )


@pytest.fixture
def aff_id(backend: Backend) -> str:
    return affiliated_member(backend.services())[1]


def test_standard_draft_round_trip(backend: Backend, aff_id: str) -> None:
    with backend.uow() as uow:
        stored = uow.designations.add(draft(aff_id, "d-1", StandardClause()))
        uow.commit()
    assert stored.version == 1 and stored.pending_events == ()
    with backend.uow() as uow:
        loaded = uow.designations.get("d-1")
        assert loaded == stored
        assert isinstance(loaded.clause, StandardClause)
        assert loaded.status is DesignationStatus.DRAFT and loaded.signature is None
        assert uow.designations.find("nope") is None
        with pytest.raises(NotFound):
            uow.designations.get("nope")
        assert uow.designations.in_force_for(aff_id) is None
        assert [d.designation_id for d in uow.designations.list_for_affiliation(aff_id)] == ["d-1"]
        assert uow.designations.list_for_affiliation("other") == []


def test_particular_designation_with_ranks_and_signature_round_trip(backend: Backend, aff_id: str) -> None:
    in_force = signed(draft(aff_id, "d-1", particular())).put_in_force(at=START)
    with backend.uow() as uow:
        stored = uow.designations.add(in_force)
        uow.commit()
    with backend.uow() as uow:
        loaded = uow.designations.get("d-1")
    assert loaded == stored
    assert loaded.clause == particular()
    assert isinstance(loaded.clause, ParticularClause)
    assert [str(b.share) for b in loaded.clause.ranks[0].beneficiaries] == ["33.33", "33.33", "33.34"]
    assert loaded.clause.ranks[0].beneficiaries[2].name.usage_name == "DUZU"
    assert loaded.clause.ranks[1].beneficiaries[0].relationship is Relationship.SIBLING
    assert loaded.signature == SignatureEvidence(
        signer=aff_id,
        signed_at=START,
        document_sha256=clause_document_sha256(in_force),
        document_id="doc-d-1",
        provider="local",
    )
    assert loaded.status is DesignationStatus.IN_FORCE and loaded.in_force_at == START
    assert clause_document_sha256(loaded) == clause_document_sha256(in_force)  # same text, same bytes


def test_history_keeps_the_superseded_designation_and_acceptances(backend: Backend, aff_id: str) -> None:
    later = START + dt.timedelta(days=30)
    first = signed(draft(aff_id, "d-1", particular())).put_in_force(at=START)
    first = first.accept("p-3", START + dt.timedelta(days=1)).accept("p-1", START + dt.timedelta(days=2))
    with backend.uow() as uow:
        uow.designations.add(first)
        uow.commit()
    with backend.uow() as uow:
        previous = uow.designations.get("d-1")
        assert [(a.person_id, a.accepted_at) for a in previous.acceptances] == [
            ("p-3", START + dt.timedelta(days=1)),
            ("p-1", START + dt.timedelta(days=2)),
        ]
        second = attrs.evolve(draft(aff_id, "d-2", particular(), replacing=previous), created_at=later)
        second = uow.designations.add(second)
        new, old = replace_designation(previous, signed(second, later), at=later)
        assert old is not None
        uow.designations.update(old)
        uow.designations.update(new)
        uow.commit()
    with backend.uow() as uow:
        history = uow.designations.list_for_affiliation(aff_id)
        current = uow.designations.in_force_for(aff_id)
    assert [(d.designation_id, d.status) for d in history] == [
        ("d-1", DesignationStatus.SUPERSEDED),
        ("d-2", DesignationStatus.IN_FORCE),
    ]
    assert history[0].superseded_by == "d-2" and history[0].superseded_at == later
    assert history[0].in_force_at == START  # its dates are kept
    assert current is not None and current.designation_id == "d-2"
    assert current.replaces_id == "d-1" and current.version == 2
    assert current.accepted_person_ids == {"p-1", "p-3"}  # acceptances carried over


def test_stale_update_is_a_concurrency_conflict(backend: Backend, aff_id: str) -> None:
    with backend.uow() as uow:
        uow.designations.add(signed(draft(aff_id, "d-1", particular())).put_in_force(at=START))
        uow.commit()
    with backend.uow() as uow:
        stale = uow.designations.get("d-1")
    with backend.uow() as uow:
        fresh = uow.designations.get("d-1")
        uow.designations.update(fresh.accept("p-1", START))
        uow.commit()
    with backend.uow() as uow, pytest.raises(ConcurrencyConflict):
        uow.designations.update(stale.accept("p-2", START))
    with backend.uow() as uow:
        final = uow.designations.get("d-1")
    assert final.version == 2 and final.accepted_person_ids == {"p-1"}


def test_a_second_designation_in_force_for_the_same_affiliation_is_refused(
    backend: Backend, aff_id: str
) -> None:
    with backend.uow() as uow:
        uow.designations.add(signed(draft(aff_id, "d-1", StandardClause())).put_in_force(at=START))
        uow.commit()
    with backend.uow() as uow, pytest.raises(ConcurrencyConflict):
        # Drafted as a first designation (as if the other one had not been committed yet).
        uow.designations.add(signed(draft(aff_id, "d-2", particular())).put_in_force(at=START))
    with backend.uow() as uow:
        assert [d.designation_id for d in uow.designations.list_for_affiliation(aff_id)] == ["d-1"]


def test_leaving_without_commit_stores_nothing(backend: Backend, aff_id: str) -> None:
    with backend.uow() as uow:
        uow.designations.add(draft(aff_id, "d-1", StandardClause()))
    with backend.uow() as uow:
        assert uow.designations.find("d-1") is None


def test_shares_survive_as_exact_decimals(backend: Backend, aff_id: str) -> None:
    with backend.uow() as uow:
        uow.designations.add(draft(aff_id, "d-1", particular()))
        uow.commit()
    with backend.uow() as uow:
        clause = uow.designations.get("d-1").clause
    assert isinstance(clause, ParticularClause)
    assert clause.ranks[0].total == Decimal(100)
    assert all(isinstance(b.share, Decimal) for rank in clause.ranks for b in rank.beneficiaries)
