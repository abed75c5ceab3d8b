"""The outbox relay and the transports against a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from functools import partial
from pathlib import Path
from typing import Any, cast

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from mutuelle_adapters.email.relay import (
    GIVEN_UP_AT,
    OutboxRelay,
    RelayReport,
    exponential_backoff,
    is_given_up,
)
from mutuelle_adapters.email.transport import (
    FolderTransport,
    SmtpSettings,
    SmtpTransport,
    TransportError,
    build_message,
)
from mutuelle_adapters.memory import MemoryDatabase, MemoryUnitOfWorkImpl
from mutuelle_adapters.memory.fakes import FixedClock, SequentialIds
from mutuelle_core.ports import OutboxEntry, OutgoingMessage, UnitOfWork
from mutuelle_core.values.identity import Email

ADDRESS = "jeanne.martin@example.fr"
MASKED = "j***@example.fr"
T0 = dt.datetime(2026, 5, 1, 8, 0, tzinfo=dt.UTC)
CONTEXT = {
    "first_name": "Jeanne",
    "employer": "CAFÉ DES SPORTS",
    "link": "https://espace.example/activation?t=abc",
    "expires_at": "2026-05-02T08:00:00+00:00",
    "login": "jmartin",
}


# --- an SMTP server that collects what it receives -------------------------------------------------


def free_port() -> int:
    """A port free right now (aiosmtpd's Controller cannot bind port 0 itself)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Collector:
    """An aiosmtpd handler keeping every accepted message; refuses recipients listed in ``refuse``."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[Any] = []
        self.sessions: list[dict[str, Any]] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        self.sessions.append(
            {
                "tls": session.ssl is not None,
                "authenticated": session.authenticated,
                "login": getattr(session.auth_data, "login", None),
            }
        )
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"


class SmtpServer:
    """A stoppable, restartable aiosmtpd server on a fixed loopback port."""

    def __init__(self, handler: Collector, **smtp_parameters: Any) -> None:
        self.handler = handler
        self.port = free_port()
        self.smtp_parameters = smtp_parameters
        self.controller: Controller | None = None

    def start(self) -> SmtpServer:
        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, **self.smtp_parameters
        )
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def settings(self, **changes: Any) -> SmtpSettings:
        values: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self.port,
            "starttls": False,
            "timeout": 5.0,
            "sender_address": "ne-pas-repondre@mutuelle.example",
            "sender_name": "Mutuelle Santé Pro",
        }
        values.update(changes)
        return SmtpSettings(**values)


@pytest.fixture
def collector() -> Collector:
    return Collector()


@pytest.fixture
def server(collector: Collector) -> Iterator[SmtpServer]:
    smtp = SmtpServer(collector).start()
    yield smtp
    smtp.stop()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def db(clock: FixedClock) -> MemoryDatabase:
    return MemoryDatabase(clock=clock, ids=SequentialIds("msg"))


def new_uow(db: MemoryDatabase) -> UnitOfWork:
    """A memory unit of work, typed as the port: the relay relies on nothing else."""
    # cast: the port declares its repositories as plain (hence invariant) attributes, which mypy does
    # not let MemoryUnitOfWorkImpl's more precise attribute types satisfy.
    return cast(UnitOfWork, MemoryUnitOfWorkImpl(db))


def relay_for(db: MemoryDatabase, server: SmtpServer, clock: FixedClock, **kwargs: Any) -> OutboxRelay:
    return OutboxRelay(partial(new_uow, db), SmtpTransport(server.settings()), clock, **kwargs)


def add_message(db: MemoryDatabase, to: str = ADDRESS, *, commit: bool = True) -> str:
    with new_uow(db) as uow:
        message_id = uow.outbox.add(
            OutgoingMessage(template="correspondent_activation", to=Email.parse(to), context=CONTEXT)
        )
        if commit:
            uow.commit()
    return message_id


def entry_of(db: MemoryDatabase, message_id: str) -> OutboxEntry:
    with new_uow(db) as uow:
        return uow.outbox.get(message_id)


def make_entry(**changes: Any) -> OutboxEntry:
    values: dict[str, Any] = {
        "message_id": "msg-42",
        "template": "test",
        "recipient": ADDRESS,
        "subject": "Votre adhésion est validée",
        "body_text": "Bonjour Jeanne,\n\nVotre adhésion est enregistrée à compter du 1er mai.\n",
        "created_at": T0,
    }
    values.update(changes)
    return OutboxEntry(**values)


# --- delivery through the relay ---------------------------------------------------------------------


def test_a_committed_message_is_delivered_once_in_french(
    db: MemoryDatabase, server: SmtpServer, collector: Collector, clock: FixedClock
) -> None:
    message_id = add_message(db)
    relay = relay_for(db, server, clock)

    assert relay.run_once() == RelayReport(sent=1)

    assert len(collector.messages) == 1
    received = collector.messages[0]
    assert collector.envelopes[0].rcpt_tos == [ADDRESS]
    assert collector.envelopes[0].mail_from == "ne-pas-repondre@mutuelle.example"
    assert received["Subject"] == "Activez votre accès à l’espace entreprise CAFÉ DES SPORTS"
    assert received["Message-ID"] == f"<{message_id}@mutuelle>"
    assert received["To"] == ADDRESS
    assert received["From"].addresses[0].display_name == "Mutuelle Santé Pro"
    assert received["Date"].datetime == T0
    body = received.get_body(("plain",))
    assert body is not None
    assert body.get_content_charset() == "utf-8"
    text = body.get_content()
    assert "Un accès à l’espace entreprise CAFÉ DES SPORTS vient d’être créé pour vous." in text
    assert "valable jusqu’au 02/05/2026" in text

    stored = entry_of(db, message_id)
    assert stored.sent_at == T0
    assert relay.run_once() == RelayReport()
    assert len(collector.messages) == 1


def test_a_rolled_back_message_is_never_sent(
    db: MemoryDatabase, server: SmtpServer, collector: Collector, clock: FixedClock
) -> None:
    add_message(db, commit=False)

    def failing_use_case() -> None:
        with new_uow(db) as uow:
            uow.outbox.add(
                OutgoingMessage(template="correspondent_activation", to=Email.parse(ADDRESS), context=CONTEXT)
            )
            raise RuntimeError("the use case failed before committing")

    with pytest.raises(RuntimeError):
        failing_use_case()

    assert relay_for(db, server, clock).run_once() == RelayReport()
    assert collector.messages == []


def test_a_message_waits_while_the_server_is_down_and_is_delivered_exactly_once_after(
    db: MemoryDatabase, collector: Collector, clock: FixedClock
) -> None:
    server = SmtpServer(collector)  # not started: connections are refused
    message_id = add_message(db)
    relay = relay_for(db, server, clock)

    assert relay.run_once() == RelayReport(failed=1)
    pending = entry_of(db, message_id)
    assert pending.sent_at is None
    assert pending.attempts == 1
    assert pending.next_attempt_at == T0 + dt.timedelta(minutes=1)
    assert pending.last_error is not None
    assert ADDRESS not in pending.last_error
    assert MASKED in pending.last_error

    server.start()
    try:
        assert relay.run_once() == RelayReport()  # not due yet
        clock.advance(seconds=61)
        assert relay.run_once() == RelayReport(sent=1)
        assert relay.run_once() == RelayReport()
        clock.advance(hours=2)
        assert relay.run_once() == RelayReport()
    finally:
        server.stop()

    assert len(collector.messages) == 1
    assert collector.messages[0]["Message-ID"] == f"<{message_id}@mutuelle>"
    assert entry_of(db, message_id).sent_at == T0 + dt.timedelta(seconds=61)


def test_a_message_is_given_up_after_max_attempts(
    db: MemoryDatabase, collector: Collector, clock: FixedClock
) -> None:
    server = SmtpServer(collector)  # never started
    message_id = add_message(db)
    relay = relay_for(db, server, clock, max_attempts=3)

    reports = []
    for _ in range(3):
        reports.append(relay.run_once())
        clock.advance(hours=1, seconds=1)
    assert reports == [RelayReport(failed=1), RelayReport(failed=1), RelayReport(given_up=1)]

    entry = entry_of(db, message_id)
    assert entry.attempts == 3
    assert entry.sent_at is None
    assert entry.next_attempt_at == GIVEN_UP_AT
    assert entry.last_error is not None
    assert entry.last_error.startswith("given up: ")
    assert is_given_up(entry)
    clock.advance(days=3650)
    assert relay.run_once() == RelayReport()


def test_the_retry_delays_double_from_one_minute_up_to_one_hour(
    db: MemoryDatabase, collector: Collector, clock: FixedClock
) -> None:
    server = SmtpServer(collector)  # never started
    message_id = add_message(db)
    relay = relay_for(db, server, clock)
    delays = []
    for _ in range(7):
        assert relay.run_once() == RelayReport(failed=1)
        entry = entry_of(db, message_id)
        assert entry.next_attempt_at is not None
        delays.append(entry.next_attempt_at - clock.now())
        clock.set(entry.next_attempt_at)
    assert [d // dt.timedelta(minutes=1) for d in delays] == [1, 2, 4, 8, 16, 32, 60]
    assert relay.run_once() == RelayReport(given_up=1)
    assert exponential_backoff(30) == dt.timedelta(hours=1)


def test_a_recipient_refused_for_good_is_given_up_at_once_and_the_others_are_sent(
    db: MemoryDatabase, server: SmtpServer, collector: Collector, clock: FixedClock
) -> None:
    collector.refuse.add("inconnu@example.fr")
    refused = add_message(db, "inconnu@example.fr")
    accepted = add_message(db)

    assert relay_for(db, server, clock).run_once() == RelayReport(sent=1, given_up=1)

    entry = entry_of(db, refused)
    assert is_given_up(entry)
    assert entry.last_error is not None
    assert "550" in entry.last_error
    assert "inconnu@example.fr" not in entry.last_error
    assert entry_of(db, accepted).sent_at is not None
    assert [m["To"] for m in collector.messages] == [ADDRESS]


def test_messages_go_in_batches_oldest_first(
    db: MemoryDatabase, server: SmtpServer, collector: Collector, clock: FixedClock
) -> None:
    ids = []
    for n in range(5):
        ids.append(add_message(db, f"salarie{n}@example.fr"))
        clock.advance(seconds=1)
    relay = relay_for(db, server, clock, batch_size=2)
    assert [relay.run_once().sent for _ in range(4)] == [2, 2, 1, 0]
    assert [m["Message-ID"] for m in collector.messages] == [f"<{i}@mutuelle>" for i in ids]


class _ConcurrentRelayTransport:
    """Sends, and meanwhile another relay marks the same message sent."""

    def __init__(self, db: MemoryDatabase, clock: FixedClock) -> None:
        self.db = db
        self.clock = clock

    def send(self, entry: OutboxEntry) -> None:
        with new_uow(self.db) as uow:
            uow.outbox.mark_sent(entry.message_id, self.clock.now())
            uow.commit()


def test_a_message_marked_sent_meanwhile_by_another_relay_is_counted_as_skipped(
    db: MemoryDatabase, clock: FixedClock
) -> None:
    add_message(db)
    relay = OutboxRelay(partial(new_uow, db), _ConcurrentRelayTransport(db, clock), clock)
    assert relay.run_once() == RelayReport(skipped=1)


class _BrokenTransport:
    def send(self, entry: OutboxEntry) -> None:
        raise KeyError(entry.recipient)


def test_an_unexpected_transport_error_is_retried_and_logged_without_the_address(
    db: MemoryDatabase, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    message_id = add_message(db)
    relay = OutboxRelay(partial(new_uow, db), _BrokenTransport(), clock)
    with caplog.at_level(logging.INFO, logger="mutuelle_adapters.email.relay"):
        assert relay.run_once() == RelayReport(failed=1)
    entry = entry_of(db, message_id)
    assert entry.last_error is not None
    assert entry.last_error.startswith("KeyError")
    assert ADDRESS not in entry.last_error
    assert ADDRESS not in caplog.text
    assert "Traceback" in caplog.text
    assert MASKED in caplog.text


def test_the_relay_logs_masked_addresses_only(
    db: MemoryDatabase, server: SmtpServer, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    add_message(db)
    with caplog.at_level(logging.INFO, logger="mutuelle_adapters.email.relay"):
        relay_for(db, server, clock).run_once()
        server.stop()
        add_message(db, "marc.durand@example.fr")
        relay_for(db, server, clock).run_once()
    assert "sent to j***@example.fr" in caplog.text
    assert "m***@example.fr failed (attempt 1 of 8)" in caplog.text
    assert ADDRESS not in caplog.text
    assert "marc.durand@example.fr" not in caplog.text


# --- the SMTP transport -----------------------------------------------------------------------------


def test_an_html_alternative_is_sent_with_the_text(server: SmtpServer, collector: Collector) -> None:
    entry = make_entry(body_html="<p>Bonjour <strong>Jeanne</strong>, votre adhésion est validée.</p>")
    SmtpTransport(server.settings()).send(entry)
    received = collector.messages[0]
    assert received.get_content_type() == "multipart/alternative"
    html = received.get_body(("html",))
    plain = received.get_body(("plain",))
    assert html is not None
    assert plain is not None
    assert "votre adhésion est validée" in html.get_content()
    assert "Votre adhésion est enregistrée" in plain.get_content()


def test_a_resent_message_is_the_same_message(server: SmtpServer, collector: Collector) -> None:
    transport = SmtpTransport(server.settings())
    entry = make_entry()
    transport.send(entry)
    transport.send(entry)
    first, second = collector.messages
    assert first["Message-ID"] == second["Message-ID"] == "<msg-42@mutuelle>"
    assert first["Date"] == second["Date"]


def test_a_connection_failure_raises_a_transport_error_without_the_address(collector: Collector) -> None:
    settings = SmtpServer(collector).settings()  # nobody listens on that port
    with pytest.raises(TransportError) as exc:
        SmtpTransport(settings).send(make_entry())
    assert not exc.value.permanent
    assert ADDRESS not in str(exc.value)
    assert MASKED in str(exc.value)


def _password_authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"relay",
        b"s3cret-42",
    )
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_login_is_performed_when_credentials_are_set(collector: Collector) -> None:
    server = SmtpServer(
        collector, authenticator=_password_authenticator, auth_required=True, auth_require_tls=False
    ).start()
    try:
        SmtpTransport(server.settings(username="relay", password="s3cret-42")).send(make_entry())
        assert collector.sessions == [{"tls": False, "authenticated": True, "login": b"relay"}]

        with pytest.raises(TransportError) as wrong:
            SmtpTransport(server.settings(username="relay", password="wrong")).send(make_entry())
        assert "SMTPAuthenticationError 535" in str(wrong.value)
        assert "wrong" not in str(wrong.value)

        with pytest.raises(TransportError) as anonymous:
            SmtpTransport(server.settings()).send(make_entry())
        assert "530" in str(anonymous.value)
    finally:
        server.stop()
    assert len(collector.messages) == 1


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def test_starttls_then_login(collector: Collector, certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    client_tls = ssl.create_default_context(cafile=str(cert))
    server = SmtpServer(
        collector,
        tls_context=server_tls,
        require_starttls=True,
        authenticator=_password_authenticator,
        auth_required=True,
        auth_require_tls=True,
    ).start()
    try:
        settings = server.settings(starttls=True, username="relay", password="s3cret-42")
        SmtpTransport(settings, ssl_context=client_tls).send(make_entry())
        assert collector.sessions == [{"tls": True, "authenticated": True, "login": b"relay"}]

        with pytest.raises(TransportError) as plain:  # STARTTLS required by the server
            SmtpTransport(server.settings(username="relay", password="s3cret-42")).send(make_entry())
        assert "AUTH extension not supported" in str(plain.value)

        with pytest.raises(TransportError) as untrusted:  # the system CAs do not trust our certificate
            SmtpTransport(settings).send(make_entry())
        assert "CERTIFICATE_VERIFY_FAILED" in str(untrusted.value)
    finally:
        server.stop()
    assert len(collector.messages) == 1


def test_smtp_settings_hide_the_password_and_refuse_nonsense() -> None:
    settings = SmtpSettings(
        host="smtp.example", sender_address="a@mutuelle.example", username="u", password="pw"
    )
    assert "pw" not in repr(settings)
    assert "password='***'" in repr(settings)
    with pytest.raises(ValueError, match="exclusive"):
        SmtpSettings(host="h", sender_address="a@b.fr", starttls=True, use_ssl=True)
    with pytest.raises(ValueError, match="together"):
        SmtpSettings(host="h", sender_address="a@b.fr", username="u")
    with pytest.raises(ValueError, match="port"):
        SmtpSettings(host="h", sender_address="a@b.fr", port=0)
    with pytest.raises(ValueError, match="ASCII"):
        SmtpSettings(host="h", sender_address="a@b.fr", username="u", password="mot-de-passe-é")
    with pytest.raises(ValueError, match="e-mail"):
        SmtpSettings(host="h", sender_address="nobody")


# --- the folder transport ---------------------------------------------------------------------------


def test_the_folder_transport_writes_a_parseable_eml_once(tmp_path: Path) -> None:
    transport = FolderTransport(tmp_path / "outbox")
    entry = make_entry(body_html="<p>Bonjour</p>")
    transport.send(entry)
    transport.send(entry)

    files = list((tmp_path / "outbox").iterdir())
    assert [f.name for f in files] == ["20260501T080000Z-msg-42.eml"]
    parsed = BytesParser(policy=policy.default).parsebytes(files[0].read_bytes())
    assert isinstance(parsed, EmailMessage)
    assert parsed["Subject"] == "Votre adhésion est validée"
    assert parsed["To"] == ADDRESS
    assert parsed["Message-ID"] == "<msg-42@mutuelle>"
    plain = parsed.get_body(("plain",))
    assert plain is not None
    assert "Votre adhésion est enregistrée à compter du 1er mai." in plain.get_content()
    sender = "Votre mutuelle <ne-pas-repondre@mutuelle.invalid>"
    assert (
        files[0].read_bytes()
        == build_message(
            entry, sender_address="ne-pas-repondre@mutuelle.invalid", sender_name="Votre mutuelle"
        ).as_bytes()
    )
    assert parsed["From"] == sender


def test_the_relay_drives_the_folder_transport(db: MemoryDatabase, clock: FixedClock, tmp_path: Path) -> None:
    message_id = add_message(db)
    relay = OutboxRelay(partial(new_uow, db), FolderTransport(tmp_path), clock)
    assert relay.run_once() == RelayReport(sent=1)
    assert relay.run_once() == RelayReport()
    (eml,) = tmp_path.glob("*.eml")
    assert eml.name == f"20260501T080000Z-{message_id}.eml"


def test_a_folder_that_cannot_be_written_is_a_transport_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(TransportError) as exc:
        FolderTransport(blocker / "outbox").send(make_entry())
    assert ADDRESS not in str(exc.value)
