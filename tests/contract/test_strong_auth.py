"""The one-time code adapter on memory, SQLite and PostgreSQL: mailed through the outbox, hashed, counted."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import select

from mutuelle_adapters.sql import tables
from mutuelle_adapters.strong_auth import StrongAuthByEmail, code_hash
from mutuelle_core.errors import DomainError
from mutuelle_core.strong_auth import VIEW_DESIGNATION
from mutuelle_core.values.identity import Email
from tests.conftest import Backend, InjectedFailure

TO = Email.parse("benoit.dupond@example.fr")


def auth_for(backend: Backend, **options: Any) -> StrongAuthByEmail:
    return StrongAuthByEmail(backend.uow_factory, backend.clock, backend.ids, backend.tokens, **options)  # type: ignore[arg-type]


def mailed_code(backend: Backend) -> str:
    """The code of the latest strong-authentication message in the outbox."""
    with backend.uow() as uow:
        messages = [m for m in uow.outbox.pending(backend.clock.now()) if m.template == "strong_auth_code"]
    message = messages[-1]
    assert message.recipient == str(TO)
    found = re.findall(r"^\s+(\d{6})$", message.body_text, re.MULTILINE)
    assert len(found) == 1, message.body_text
    return str(found[0])


def code(err: DomainError) -> str:
    return err.code


def challenge_row(backend: Backend, challenge_id: str) -> dict[str, Any]:
    if backend.memory is not None:
        import attrs

        return attrs.asdict(backend.memory.tables["auth_challenges"][challenge_id])
    assert backend.engine is not None
    with backend.engine.connect() as conn:
        row = (
            conn.execute(
                select(tables.auth_challenges).where(tables.auth_challenges.c.challenge_id == challenge_id)
            )
            .mappings()
            .one()
        )
    return dict(row)


def test_the_code_is_mailed_through_the_outbox_and_works_once(backend: Backend) -> None:
    auth = auth_for(backend)
    challenge = auth.start("aff-1", TO, VIEW_DESIGNATION)
    mailed = mailed_code(backend)
    with backend.uow() as uow:
        [message] = [m for m in uow.outbox.pending(backend.clock.now()) if m.template == "strong_auth_code"]
    assert "consulter votre désignation de bénéficiaires" in message.body_text
    assert "10 minutes" in message.body_text
    assert mailed not in message.subject

    backend.clock.advance(minutes=2)
    proof = auth.confirm(challenge, mailed)
    assert (proof.subject, proof.purpose, proof.confirmed_at) == (
        "aff-1",
        VIEW_DESIGNATION,
        backend.clock.now(),
    )
    with pytest.raises(DomainError) as exc:
        auth.confirm(challenge, mailed)
    assert code(exc.value) == "strong_auth.already_used"


def test_wrong_codes_are_counted_and_the_fifth_locks_the_challenge(backend: Backend) -> None:
    auth = auth_for(backend, codes=lambda: "042042")
    challenge = auth.start("aff-1", TO, VIEW_DESIGNATION)
    assert mailed_code(backend) == "042042"  # leading zero kept
    for remaining in (4, 3, 2, 1):
        with pytest.raises(DomainError) as exc:
            auth.confirm(challenge, "000000")
        assert code(exc.value) == "strong_auth.wrong_code"
        assert exc.value.params == {"remaining": remaining}
        assert challenge_row(backend, challenge)["attempts"] == 5 - remaining
    with pytest.raises(DomainError) as exc:
        auth.confirm(challenge, "12ab")  # malformed: a wrong attempt too
    assert code(exc.value) == "strong_auth.too_many_attempts"
    with pytest.raises(DomainError) as exc:
        auth.confirm(challenge, "042042")  # even the right code, now
    assert code(exc.value) == "strong_auth.too_many_attempts"
    assert challenge_row(backend, challenge)["attempts"] == 5
    assert challenge_row(backend, challenge)["used_at"] is None


def test_a_code_expires_after_ten_minutes(backend: Backend) -> None:
    auth = auth_for(backend, codes=lambda: "314159")
    first = auth.start("aff-1", TO, VIEW_DESIGNATION)
    second = auth.start("aff-1", TO, VIEW_DESIGNATION)
    backend.clock.advance(minutes=9, seconds=59)
    assert auth.confirm(first, "314 159").subject == "aff-1"  # spaces typed are ignored
    backend.clock.advance(seconds=1)
    with pytest.raises(DomainError) as exc:
        auth.confirm(second, "314159")
    assert code(exc.value) == "strong_auth.code_expired"


def test_the_code_is_never_stored_in_clear(backend: Backend) -> None:
    auth = auth_for(backend, secret=b"pepper")
    challenge = auth.start("aff-1", TO, VIEW_DESIGNATION)
    mailed = mailed_code(backend)
    row = challenge_row(backend, challenge)
    assert set(row) >= {"code_hash", "salt", "attempts", "expires_at"}
    assert row["code_hash"] == code_hash(
        secret=b"pepper", salt=row["salt"], challenge_id=challenge, purpose=VIEW_DESIGNATION, code=mailed
    )
    assert re.fullmatch(r"[0-9a-f]{64}", row["code_hash"])
    assert all(mailed != str(value) for value in row.values())
    assert all(mailed not in str(value) for key, value in row.items() if key != "code_hash")
    assert mailed not in repr(auth)
    # Another challenge of the same code gets another hash (per-challenge salt).
    other = auth_for(backend, secret=b"pepper", codes=lambda: mailed).start("aff-1", TO, VIEW_DESIGNATION)
    assert challenge_row(backend, other)["code_hash"] != row["code_hash"]


def test_a_proof_is_bound_to_its_purpose(backend: Backend) -> None:
    auth = auth_for(backend, codes=lambda: "271828")
    challenge = auth.start("aff-2", TO, "sign_designation")
    proof = auth.confirm(challenge, "271828")
    assert (proof.subject, proof.purpose) == ("aff-2", "sign_designation")


def test_the_challenge_and_its_message_are_written_together(backend: Backend) -> None:
    auth = auth_for(backend)
    backend.fail_on_write("outbox")
    with pytest.raises(InjectedFailure):
        auth.start("aff-1", TO, VIEW_DESIGNATION)
    with backend.uow() as uow:
        assert uow.outbox.pending(backend.clock.now()) == []
        assert uow.auth_challenges.created_since("aff-1", backend.clock.now() - dt.timedelta(hours=1)) == []  # type: ignore[attr-defined]


def test_unknown_challenge_and_too_many_requests(backend: Backend) -> None:
    auth = auth_for(backend)
    with pytest.raises(DomainError) as exc:
        auth.confirm("nope", "123456")
    assert code(exc.value) == "strong_auth.unknown_challenge"
    for _ in range(5):
        auth.start("aff-1", TO, VIEW_DESIGNATION)
        backend.clock.advance(minutes=5)
    with pytest.raises(DomainError) as exc:
        auth.start("aff-1", TO, VIEW_DESIGNATION)
    assert code(exc.value) == "strong_auth.too_many_requests"
    assert exc.value.params == {"minutes": 35}
    auth.start("aff-other", TO, VIEW_DESIGNATION)  # another subject is not limited
    backend.clock.advance(minutes=35)
    auth.start("aff-1", TO, VIEW_DESIGNATION)
