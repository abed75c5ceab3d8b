"""Contract tests of the backbone's ports, written once and run on memory, SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib

import attrs
import pytest

from mutuelle_core.contracts.contract import (
    AssuredGroup,
    CollectiveContract,
    ContractKind,
    ContractSettings,
    GroupCategory,
    Product,
    ProductLevel,
    ProrataRule,
    Regime,
)
from mutuelle_core.contracts.correspondent import (
    AccessScope,
    ContractAccess,
    Correspondent,
    CorrespondentRole,
    hash_token,
)
from mutuelle_core.contracts.employer import Employer
from mutuelle_core.errors import ConcurrencyConflict, DomainError, NotFound
from mutuelle_core.ports import Document, OutgoingMessage
from mutuelle_core.values.company import Siret
from mutuelle_core.values.identity import Email, PersonName, Phone, PostalAddress
from tests.conftest import Backend, InjectedFailure

D = dt.date


def employer(eid: str = "emp-1") -> Employer:
    return Employer.create(
        employer_id=eid,
        name="Redwater",
        siret=Siret.parse("73282932000074"),
        address=PostalAddress.parse(["3 square Max Hymans"], "75015", "Paris"),
        email=Email.parse("rh@redwater.example"),
    )


def contract(number: str = "M1000304", eid: str = "emp-1") -> CollectiveContract:
    c = CollectiveContract.create(
        number=number,
        employer_id=eid,
        kind=ContractKind.HEALTH,
        regime=Regime.PRIVATE,
        effective_date=D(2019, 9, 1),
        settings=ContractSettings(
            dispense_request_email=Email.parse("dispenses@redwater.example"), prorata=ProrataRule.DAYS
        ),
    )
    c = c.add_group(
        AssuredGroup(code="A2", category=GroupCategory.ACTIVE, label="Actifs", population="titulaire")
    )
    c = c.add_group(AssuredGroup(code="P2", category=GroupCategory.PORTABILITY, label="Portabilité"))
    for level, label in enumerate(["Base Seule", "Base+option 1", "Base+option 2"]):
        c = c.add_product(
            Product(
                code=f"ADMR61-{level}",
                label=f"Admr61 {label} Actif",
                level=ProductLevel(level),
                group_code="A2",
                start_date=D(2019, 9, 1),
            )
        )
    return c


def correspondent(cid: str = "cor-1", login: str = "jmartin", token: str = "tok") -> Correspondent:
    return Correspondent.register(
        correspondent_id=cid,
        employer_id="emp-1",
        login=login,
        name=PersonName.parse("Martin", "Jeanne"),
        email=Email.parse("jeanne.martin@redwater.example"),
        role=CorrespondentRole.PRINCIPAL,
        scope=AccessScope.of(ContractAccess("M1000304", frozenset({"titulaire"}))),
        token=token,
        now=dt.datetime(2026, 5, 4, 8, tzinfo=dt.UTC),
    )


def seed(b: Backend) -> None:
    with b.uow() as uow:
        uow.employers.add(employer())
        uow.contracts.add(contract())
        uow.commit()


# --- repositories -------------------------------------------------------------------------------


def test_employer_round_trip(backend: Backend) -> None:
    with backend.uow() as uow:
        stored = uow.employers.add(employer())
        uow.commit()
    assert stored.version == 1
    with backend.uow() as uow:
        loaded = uow.employers.get("emp-1")
        assert loaded == stored
        assert loaded.siren is not None and str(loaded.siren) == "732829320"
        assert uow.employers.find("nope") is None
        with pytest.raises(NotFound):
            uow.employers.get("nope")
        assert [e.employer_id for e in uow.employers.list()] == ["emp-1"]


def test_contract_round_trip_keeps_groups_products_and_settings(backend: Backend) -> None:
    seed(backend)
    with backend.uow() as uow:
        loaded = uow.contracts.get("M1000304")
        assert loaded == attrs.evolve(contract(), version=1)
        assert loaded.settings.prorata is ProrataRule.DAYS
        assert str(loaded.settings.dispense_request_email) == "dispenses@redwater.example"
        assert [c.number for c in uow.contracts.list_for_employer("emp-1")] == ["M1000304"]
        assert uow.contracts.list_for_employer("emp-2") == []


def test_update_bumps_version_and_replaces_children(backend: Backend) -> None:
    seed(backend)
    with backend.uow() as uow:
        c = uow.contracts.get("M1000304")
        c = uow.contracts.update(c.radiate_product("ADMR61-2", D(2026, 12, 31)))
        assert c.version == 2
        uow.commit()
    with backend.uow() as uow:
        again = uow.contracts.get("M1000304")
        assert again.version == 2
        assert again.product("ADMR61-2").radiation_date == D(2026, 12, 31)
        assert again.products == c.products


def test_adding_twice_is_refused(backend: Backend) -> None:
    seed(backend)
    with backend.uow() as uow, pytest.raises(DomainError) as exc:
        uow.employers.add(employer())
    assert exc.value.code == "storage.duplicate"


def test_stale_update_raises_conflict_and_writes_nothing(backend: Backend) -> None:
    seed(backend)
    with backend.uow() as uow:
        stale = uow.contracts.get("M1000304")
    with backend.uow() as uow:
        fresh = uow.contracts.get("M1000304")
        uow.contracts.update(fresh.radiate_product("ADMR61-2", D(2026, 6, 30)))
        uow.commit()
    with backend.uow() as uow, pytest.raises(ConcurrencyConflict):
        uow.contracts.update(stale.radiate_product("ADMR61-1", D(2026, 6, 30)))
    with backend.uow() as uow:
        final = uow.contracts.get("M1000304")
        assert final.version == 2
        assert final.product("ADMR61-2").radiation_date == D(2026, 6, 30)
        assert final.product("ADMR61-1").radiation_date is None


def test_correspondent_round_trip_and_lookups(backend: Backend) -> None:
    seed(backend)
    with backend.uow() as uow:
        c = correspondent()
        c = attrs.evolve(c, mobile=Phone.parse("06 12 34 56 78"))
        uow.correspondents.add(c)
        uow.commit()
    with backend.uow() as uow:
        loaded = uow.correspondents.get("cor-1")
        assert loaded == attrs.evolve(c, version=1)
        assert uow.correspondents.find_by_login("JMARTIN") == loaded
        assert uow.correspondents.find_by_activation(hash_token("tok")) == loaded
        assert uow.correspondents.find_by_activation(hash_token("other")) is None
        assert [x.login for x in uow.correspondents.list_for_employer("emp-1")] == ["jmartin"]
        with pytest.raises(DomainError) as exc:
            uow.correspondents.add(correspondent("cor-2", login="JMartin"))
        assert exc.value.code == "correspondent.duplicate_login"


def test_events_are_collected_after_commit_only(backend: Backend) -> None:
    seed(backend)
    uow = backend.uow()
    with uow:
        uow.correspondents.add(correspondent())
        assert uow.collect_events() == []
        uow.commit()
    events = uow.collect_events()
    assert [e.name for e in events] == ["CorrespondentCreated"]
    assert uow.collect_events() == []


# --- unit of work -------------------------------------------------------------------------------


def test_leaving_without_commit_rolls_back(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.employers.add(employer())
        uow.outbox.add(
            OutgoingMessage(template="correspondent_activation", to=Email.parse("a@b.fr"), context=ctx())
        )
    with backend.uow() as uow:
        assert uow.employers.find("emp-1") is None
        assert uow.outbox.pending(backend.clock.now()) == []


def test_injected_failure_after_first_write_leaves_everything_as_before(backend: Backend) -> None:
    seed(backend)
    backend.fail_on_write("correspondents")
    with pytest.raises(InjectedFailure), backend.uow() as uow:
        uow.outbox.add(
            OutgoingMessage(template="correspondent_activation", to=Email.parse("a@b.fr"), context=ctx())
        )
        uow.contracts.update(uow.contracts.get("M1000304").radiate_product("ADMR61-2", D(2026, 6, 30)))
        uow.correspondents.add(correspondent())
        uow.commit()
    with backend.uow() as uow:
        assert uow.contracts.get("M1000304").version == 1
        assert uow.correspondents.find("cor-1") is None
        assert uow.outbox.pending(backend.clock.now()) == []


def test_reference_counters_are_sequential_and_transactional(backend: Backend) -> None:
    with backend.uow() as uow:
        assert uow.references.next_reference("adhesion", "M") == "M0000001"
        assert uow.references.next_reference("adhesion", "M") == "M0000002"
        assert uow.references.next_reference("rum", "RUM") == "RUM0000001"
        uow.commit()
    with backend.uow() as uow:
        assert uow.references.next_reference("adhesion", "M") == "M0000003"
    with backend.uow() as uow:
        assert uow.references.next_reference("adhesion", "M") == "M0000003"


# --- outbox and documents -----------------------------------------------------------------------


def ctx() -> dict[str, str]:
    return {
        "first_name": "Jeanne",
        "login": "jmartin",
        "employer": "REDWATER",
        "link": "https://x/activation?jeton=abc",
        "expires_at": "2026-05-05T08:00:00+00:00",
    }


def test_outbox_renders_in_french_and_marks_sent_once(backend: Backend) -> None:
    with backend.uow() as uow:
        mid = uow.outbox.add(
            OutgoingMessage(
                template="correspondent_activation", to=Email.parse("jeanne@redwater.example"), context=ctx()
            )
        )
        uow.commit()
    now = backend.clock.now()
    with backend.uow() as uow:
        [entry] = uow.outbox.pending(now)
        assert entry.message_id == mid
        assert entry.subject == "Activez votre accès à l’espace entreprise REDWATER"
        assert "valable jusqu’au 05/05/2026" in entry.body_text
        assert entry.recipient == "jeanne@redwater.example"
        assert "jeanne@" not in repr(entry)
        uow.outbox.mark_failed(mid, "connection refused", now + dt.timedelta(minutes=1))
        uow.commit()
    with backend.uow() as uow:
        assert uow.outbox.pending(now) == []
        [entry] = uow.outbox.pending(now + dt.timedelta(minutes=1))
        assert entry.attempts == 1
        assert entry.last_error == "connection refused"
        assert uow.outbox.mark_sent(mid, now + dt.timedelta(minutes=2)) is True
        assert uow.outbox.mark_sent(mid, now + dt.timedelta(minutes=3)) is False
        uow.commit()
    with backend.uow() as uow:
        sent = uow.outbox.get(mid)
        assert sent.sent_at == now + dt.timedelta(minutes=2)
        assert sent.attempts == 2
        assert uow.outbox.pending(now + dt.timedelta(days=1)) == []


def test_documents_round_trip(backend: Backend) -> None:
    content = b"Bulletin individuel d'affiliation"
    doc = Document(
        document_id="doc-1",
        kind="bia",
        owner="aff-1",
        filename="bia.txt",
        media_type="text/plain",
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        created_at=backend.clock.now(),
    )
    with backend.uow() as uow:
        uow.documents.put(doc)
        uow.commit()
    with backend.uow() as uow:
        assert uow.documents.get("doc-1") == doc
        assert uow.documents.list_for_owner("aff-1") == [doc]
        assert uow.documents.list_for_owner("aff-2") == []
