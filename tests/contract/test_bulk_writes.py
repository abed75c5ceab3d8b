"""Contract tests of the bulk writes (bulk invitations): what ``add_many`` stores reads back the same."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest
from sqlalchemy.exc import IntegrityError

from mutuelle_adapters.email.rendering import default_renderer
from mutuelle_adapters.sql.bulk import COPY_MIN_ROWS, SQLITE_ROWS_PER_STATEMENT
from mutuelle_core.affiliation.affiliation import Affiliation
from mutuelle_core.ports import OutgoingMessage
from mutuelle_core.values.identity import Civility, Email, PersonName
from tests.conftest import Backend
from tests.contract.test_backbone_ports import contract, employer


def invitation(n: int, backend: Backend, first_names: str | None = None, **changes: object) -> Affiliation:
    aff = Affiliation.invite(
        affiliation_id=f"aff-{n}",
        contract_number="M1000304",
        group_code="A2",
        civility=Civility.MME,
        name=PersonName("Lefèvre", first_names or f"Anaïs{'a' * n}"),
        email=Email.parse(f"anais.{n}@example.fr"),
        token=f"token-{n}",
        validity_months=3,
        now=backend.clock.now(),
        actor="corr-1",
    )
    return attrs.evolve(aff, **changes)


def test_add_many_affiliations_reads_back_as_added(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.employers.add(employer())
        uow.contracts.add(contract())
        uow.commit()
    added = [
        invitation(1, backend),
        invitation(
            2,
            backend,
            name=PersonName("Lefèvre", "Zoé", usage_name="Martin--Noël"),
            employment_start=dt.date(2026, 6, 1),
            dispense_email=Email.parse("dispenses@example.fr"),
            control_reasons=("pièce illisible", "RIB absent"),
            email=None,
        ),
    ]
    with backend.uow() as uow:
        uow.affiliations.add_many(added)
        uow.commit()
        events = uow.collect_events()
    assert [e.affiliation_id for e in events] == ["aff-1", "aff-2"]  # type: ignore[attr-defined]
    with backend.uow() as uow:
        for aff in added:
            assert uow.affiliations.get(aff.affiliation_id) == attrs.evolve(aff, version=1, pending_events=())
        assert uow.affiliations.find_by_link(added[0].link.token_hash).affiliation_id == "aff-1"  # type: ignore[union-attr]


def test_add_many_messages_are_rendered_when_read(backend: Backend) -> None:
    messages = [
        OutgoingMessage(
            template="affiliation_invitation",
            to=Email.parse(f"anais.{n}@example.fr"),
            context={
                "first_name": f"Anaïs {n}",
                "employer": "REDWATER",
                "contract": "M1000304",
                "link": f"https://salarie.example/affiliation?jeton=t{n}",
                "expires_at": "2026-08-04T07:30:00+00:00",
                "reinvitation": n == 2,
            },
        )
        for n in (1, 2)
    ]
    with backend.uow() as uow:
        ids = uow.outbox.add_many(messages)
        uow.commit()
    with backend.uow() as uow:
        pending = {e.message_id: e for e in uow.outbox.pending(backend.clock.now())}
        for message_id, message in zip(ids, messages, strict=True):
            expected = default_renderer().render(message)
            for entry in (pending[message_id], uow.outbox.get(message_id)):
                assert (entry.template, entry.recipient) == ("affiliation_invitation", str(message.to))
                assert (entry.subject, entry.body_text, entry.body_html) == (
                    expected.subject,
                    expected.text,
                    expected.html,
                )
        assert uow.outbox.mark_sent(ids[0], backend.clock.now()) is True


def test_add_many_of_a_large_batch_reads_back_as_added(backend: Backend) -> None:
    """Enough rows for the bulk paths (COPY on PostgreSQL, multi-row INSERTs with values bound once
    on SQLite, several statements of them), with values a COPY must escape and rows that differ."""
    with backend.uow() as uow:
        uow.employers.add(employer())
        uow.contracts.add(contract())
        uow.commit()
    count = max(COPY_MIN_ROWS, SQLITE_ROWS_PER_STATEMENT) + 37
    added = [
        invitation(n, backend, "Anaïs")
        if n % 5
        else invitation(
            n,
            backend,
            "Zoé",
            email=None,
            control_reasons=("tab\there", "back\\slash", "new\nline", "\\N"),
            employment_start=dt.date(2026, 6, 1 + n % 28),
        )
        for n in range(1, count + 1)
    ]
    messages = [
        OutgoingMessage(
            template="affiliation_invitation",
            to=Email.parse(f"anais.{n}@example.fr"),
            context={
                "first_name": f"Anaïs\t{n}\\N\n",
                "employer": "REDWATER \\ « Œuvre »",
                "contract": "M1000304",
                "link": f"https://salarie.example/affiliation?jeton=t{n}",
                "expires_at": "2026-08-04T07:30:00+00:00",
                "reinvitation": n % 2 == 0,
            },
        )
        for n in range(count)
    ]
    with backend.uow() as uow:
        uow.affiliations.add_many(added)
        ids = uow.outbox.add_many(messages)
        uow.commit()
    with backend.uow() as uow:
        for aff in added:
            assert uow.affiliations.get(aff.affiliation_id) == attrs.evolve(aff, version=1, pending_events=())
        for message_id, message in zip(ids, messages, strict=True):
            expected = default_renderer().render(message)
            entry = uow.outbox.get(message_id)
            assert (entry.recipient, entry.body_text) == (str(message.to), expected.text)


def test_a_failed_bulk_write_fails_the_unit_of_work_and_leaves_nothing(backend: Backend) -> None:
    """SQL writes big batches behind the caller: the failure comes out at the latest at commit, the
    writes queued after it are skipped, and the transaction is rolled back as a whole."""
    if backend.engine is None:
        pytest.skip("the memory adapter writes at once")
    with backend.uow() as uow:
        uow.employers.add(employer())
        uow.contracts.add(contract())
        uow.commit()
    added = [invitation(n, backend, "Anaïs") for n in range(1, COPY_MIN_ROWS + 51)]
    messages = [
        OutgoingMessage(
            template="affiliation_invitation",
            to=Email.parse(f"anais.{n}@example.fr"),
            context={
                "first_name": "Anaïs",
                "employer": "REDWATER",
                "contract": "M1000304",
                "link": f"https://salarie.example/affiliation?jeton=t{n}",
                "expires_at": "2026-08-04T07:30:00+00:00",
                "reinvitation": False,
            },
        )
        for n in range(COPY_MIN_ROWS)
    ]
    with pytest.raises(IntegrityError), backend.uow() as uow:
        uow.affiliations.add_many([*added, added[0]])  # the same file twice: its key is taken
        uow.outbox.add_many(messages)
        uow.outbox.add_many(messages)  # more batches than are let wait: the failed one is waited for
        uow.commit()
    with backend.uow() as uow:
        assert uow.affiliations.find("aff-1") is None
        assert uow.affiliations.list_for_contract("M1000304") == []
        assert uow.outbox.pending(backend.clock.now()) == []
    with backend.uow() as uow:  # and the connection serves again
        uow.affiliations.add_many(added)
        uow.commit()
    with backend.uow() as uow:
        assert len(uow.affiliations.list_for_contract("M1000304")) == len(added)


def test_a_bulk_write_is_seen_by_the_next_query_of_its_unit_of_work(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.employers.add(employer())
        uow.contracts.add(contract())
        uow.affiliations.add_many([invitation(n, backend, "Anaïs") for n in range(1, COPY_MIN_ROWS + 2)])
        assert len(uow.affiliations.list_for_contract("M1000304")) == COPY_MIN_ROWS + 1
        uow.rollback()
        assert uow.affiliations.list_for_contract("M1000304") == []


def test_a_unit_of_work_whose_bulk_write_failed_never_commits_even_if_the_error_was_caught(
    backend: Backend,
) -> None:
    if backend.engine is None:
        pytest.skip("the memory adapter writes at once")
    with backend.uow() as uow:
        uow.employers.add(employer())
        uow.contracts.add(contract())
        uow.commit()
    added = [invitation(n, backend, "Anaïs") for n in range(1, COPY_MIN_ROWS + 51)]
    with backend.uow() as uow:
        uow.affiliations.add_many([*added, added[0]])
        with pytest.raises(IntegrityError):
            uow.affiliations.find("aff-1")  # the failure comes out here, and the caller swallows it
        with pytest.raises(IntegrityError):
            uow.commit()  # but this transaction misses writes: it is refused
    with backend.uow() as uow:
        assert uow.affiliations.list_for_contract("M1000304") == []
