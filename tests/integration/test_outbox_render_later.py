"""Messages stored unrendered (bulk) are rendered when the relay reads them; one that can no longer be
rendered is put aside with its error and does not block the messages behind it (SQLite, PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select, update

from mutuelle_adapters.email.relay import OutboxRelay
from mutuelle_adapters.email.rendering import SCRUBBED_BODY
from mutuelle_adapters.email.transport import FolderTransport
from mutuelle_adapters.sql import tables as t
from mutuelle_adapters.sql.uow import RENDER_RETRY_DELAY
from mutuelle_core.ports import OutgoingMessage
from mutuelle_core.values.identity import Email
from tests.conftest import Backend


def message(employee: str) -> OutgoingMessage:
    return OutgoingMessage(
        template="dispense_decided",
        to=Email.parse(f"{employee.lower()}@example.fr"),
        context={
            "accepted": True,
            "employee": employee,
            "contract": "MENJ2026",
            "end_date": None,
            "reason": "",
        },
    )


def test_an_unrenderable_message_is_put_aside_and_the_others_are_sent(
    backend: Backend, tmp_path: Path
) -> None:
    if backend.engine is None:
        pytest.skip("the memory outbox renders every message when it is added")
    with backend.uow() as uow:
        ids = uow.outbox.add_many([message("Anna"), message("Bruno"), message("Chloe")])
        uow.commit()
    with backend.engine.begin() as conn:  # as if the template had changed since: a variable is missing
        conn.execute(
            update(t.outbox).where(t.outbox.c.message_id == ids[1]).values(context={"accepted": True})
        )
        bodies = dict(conn.execute(select(t.outbox.c.message_id, t.outbox.c.body_text)).all())
    assert bodies[ids[2]] is None  # stored unrendered
    relay = OutboxRelay(backend.uow, FolderTransport(tmp_path), backend.clock)
    report = relay.run_once()
    assert report.sent == 2
    with backend.engine.connect() as conn:
        row = conn.execute(select(t.outbox).where(t.outbox.c.message_id == ids[1])).mappings().one()
    assert row["sent_at"] is None and row["attempts"] == 1
    assert row["last_error"].startswith("rendu impossible")
    retry = row["next_attempt_at"]
    retry = retry if retry.tzinfo else retry.replace(tzinfo=dt.UTC)  # SQLite keeps no time zone
    assert retry == backend.clock.now() + RENDER_RETRY_DELAY
    texts = sorted(p.read_text(encoding="utf-8") for p in tmp_path.glob("*.eml"))
    assert len(texts) == 2 and all("MENJ2026" in text for text in texts)
    assert relay.run_once().attempted == 0


def test_a_delivered_link_or_code_is_not_kept_in_the_outbox(backend: Backend, tmp_path: Path) -> None:
    invitation = OutgoingMessage(
        template="correspondent_activation",
        to=Email.parse("jeanne.martin@example.fr"),
        context={
            "first_name": "Jeanne",
            "employer": "Redwater",
            "login": "redwater.rh",
            "link": "https://employeur.example/activation?jeton=SECRET-TOKEN-123",
            "expires_at": "2026-05-05T07:30:00+00:00",
        },
    )
    with backend.uow() as uow:
        [secret_id, plain_id] = uow.outbox.add_many([invitation, message("Anna")])
        uow.commit()
    assert OutboxRelay(backend.uow, FolderTransport(tmp_path), backend.clock).run_once().sent == 2
    delivered = "".join(p.read_text(encoding="utf-8") for p in tmp_path.glob("*.eml"))
    assert "SECRET-TOKEN-123" in delivered  # the person got the link
    with backend.uow() as uow:
        secret, plain = uow.outbox.get(secret_id), uow.outbox.get(plain_id)
    assert secret.sent_at is not None and "SECRET-TOKEN-123" not in secret.body_text
    assert secret.body_text == SCRUBBED_BODY and secret.subject  # the envelope stays as proof of sending
    assert "Anna" in plain.body_text  # other messages are kept whole
