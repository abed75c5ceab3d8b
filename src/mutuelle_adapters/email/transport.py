"""Transports: how a rendered outbox message leaves the system.

:class:`SmtpTransport` delivers through an SMTP server (STARTTLS or implicit TLS, optional login);
:class:`FolderTransport` writes ``.eml`` files into a folder, for the demo and dry runs. Both build the
same MIME message with :func:`build_message`: ``From``, ``To``, ``Subject``, a ``Date`` taken from the
message's creation time and a ``Message-ID`` derived from the outbox id, so a resend after a crash is
byte-for-byte the same message and a receiver can recognise it as a duplicate.

Failures raise :class:`TransportError`, whose text never holds the recipient in clear.

>>> import datetime as dt
>>> from mutuelle_core.ports import OutboxEntry
>>> entry = OutboxEntry(message_id="m-1", template="t", recipient="jeanne@example.fr",
...     subject="Votre accès", body_text="Bonjour Jeanne,\\n",
...     created_at=dt.datetime(2026, 5, 1, 8, 0, tzinfo=dt.UTC))
>>> msg = build_message(entry, sender_address="contact@mutuelle.example", sender_name="Mutuelle Santé")
>>> msg["Message-ID"], msg["Subject"], msg["Date"]
('<m-1@mutuelle>', 'Votre accès', 'Fri, 01 May 2026 08:00:00 +0000')
>>> settings = SmtpSettings(host="smtp.example", sender_address="contact@mutuelle.example",
...     username="u", password="s3cret")
>>> settings  # doctest: +ELLIPSIS
SmtpSettings(host='smtp.example', port=587, starttls=True, use_ssl=False, username='u', password='***', ...)
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import os
import smtplib
import ssl
import tempfile
import urllib.parse
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import attrs

from mutuelle_adapters.logging import mask_personal_data
from mutuelle_core.masking import mask_email
from mutuelle_core.ports import OutboxEntry

__all__ = [
    "MESSAGE_ID_DOMAIN",
    "FolderTransport",
    "SmtpSettings",
    "SmtpTransport",
    "Transport",
    "TransportError",
    "build_message",
    "message_id_header",
]

MESSAGE_ID_DOMAIN = "mutuelle"
"""The right-hand side of generated ``Message-ID`` headers."""


class TransportError(Exception):
    """A message could not be handed over; its text holds no address in clear.

    ``permanent`` is true when trying again cannot help (the server refused the recipient with a 5xx
    reply, the message cannot be encoded): the relay then gives the message up at once.
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Transport(Protocol):
    """Delivers one rendered outbox message, or raises :class:`TransportError`."""

    def send(self, entry: OutboxEntry) -> None:
        """Hand ``entry`` over for delivery; return only once it was accepted."""
        ...


def _mask_secret(value: object) -> str:
    return "None" if value is None else "'***'"


def _check_port(_instance: object, _attribute: object, value: int) -> None:
    if not 0 < value < 65536:
        raise ValueError(f"port must be between 1 and 65535, not {value}")


def _check_ascii(_instance: object, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is not None and not value.isascii():
        raise ValueError(f"{attribute.name} must be ASCII (smtplib sends credentials as ASCII)")


def _check_address(_instance: object, _attribute: object, value: str) -> None:
    if "@" not in value or any(c in value for c in "\r\n<> "):
        raise ValueError(f"not an e-mail address: {mask_email(value)!r}")


@attrs.frozen(kw_only=True)
class SmtpSettings:
    """How to reach the SMTP server and whom messages come from.

    ``starttls`` upgrades a plain connection (port 587); ``use_ssl`` opens an implicit TLS connection
    (port 465) instead; both cannot be set. ``username`` and ``password`` go together and must be
    ASCII (``smtplib`` encodes them so); login happens after TLS when TLS is configured. The password
    never appears in the ``repr``.
    """

    host: str
    port: int = attrs.field(default=587, validator=_check_port)
    starttls: bool = True
    use_ssl: bool = False
    username: str | None = attrs.field(default=None, validator=_check_ascii)
    password: str | None = attrs.field(default=None, repr=_mask_secret, validator=_check_ascii)
    timeout: float = 30.0
    """Seconds to wait for the connection and for each server reply."""
    sender_address: str = attrs.field(validator=_check_address)
    sender_name: str = ""
    message_id_domain: str = MESSAGE_ID_DOMAIN

    def __attrs_post_init__(self) -> None:
        if self.starttls and self.use_ssl:
            raise ValueError("starttls and use_ssl are exclusive: STARTTLS upgrades a plain connection")
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")


def message_id_header(message_id: str, domain: str = MESSAGE_ID_DOMAIN) -> str:
    """The ``Message-ID`` of an outbox message: the same id always gives the same header.

    Characters other than letters, digits and a few symbols are percent-encoded (``%`` included), which
    keeps distinct ids distinct.

    >>> message_id_header("8c1d-42"), message_id_header("a b/c", "mutuelle.example")
    ('<8c1d-42@mutuelle>', '<a%20b%2Fc@mutuelle.example>')
    """
    return f"<{urllib.parse.quote(message_id, safe='-._~!$&*+=^')}@{domain}>"


def build_message(
    entry: OutboxEntry,
    *,
    sender_address: str,
    sender_name: str = "",
    message_id_domain: str = MESSAGE_ID_DOMAIN,
) -> EmailMessage:
    """The MIME message of an outbox entry, in UTF-8: text body, plus an HTML alternative if any.

    Deterministic: ``Date`` is the entry's creation time, ``Message-ID`` derives from its id and the
    MIME boundary from the content, so the same entry always gives the same bytes.
    Raises :class:`TransportError` (permanent) when a header cannot be built, e.g. a malformed address.
    """
    msg = EmailMessage()
    try:
        local, _, domain = sender_address.rpartition("@")
        msg["From"] = Address(display_name=sender_name, username=local, domain=domain)
        msg["To"] = entry.recipient
        msg["Subject"] = entry.subject
        msg["Date"] = email.utils.format_datetime(_aware(entry.created_at))
        msg["Message-ID"] = message_id_header(entry.message_id, message_id_domain)
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(entry.body_text, charset="utf-8")
        if entry.body_html is not None:
            msg.add_alternative(entry.body_html, subtype="html", charset="utf-8")
            # A boundary derived from the content, not random, so the same entry gives the same bytes.
            digest = hashlib.sha256(f"{entry.message_id}\0{entry.body_text}\0{entry.body_html}".encode())
            msg.set_boundary(f"=_mutuelle_{digest.hexdigest()[:32]}")
    except (ValueError, TypeError, IndexError) as exc:
        raise TransportError(
            f"message {entry.message_id} to {mask_email(entry.recipient)} cannot be built: "
            f"{_safe_text(exc, entry.recipient)}",
            permanent=True,
        ) from exc
    return msg


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _safe_text(exc: BaseException, recipient: str) -> str:
    """An exception's text with the recipient and any other personal data masked."""
    text = f"{type(exc).__name__}: {exc}".replace(recipient, mask_email(recipient))
    return mask_personal_data(text)[:300]


class SmtpTransport:
    """Sends each message over its own SMTP connection (STARTTLS and login when configured).

    One connection per message keeps failures independent: a dropped connection fails one message,
    not the rest of the batch. ``ssl_context`` defaults to the system's trusted certificates with
    hostname checking.
    """

    def __init__(self, settings: SmtpSettings, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.settings = settings
        self._ssl_context = ssl_context

    @property
    def ssl_context(self) -> ssl.SSLContext:
        """The TLS context used for STARTTLS and implicit TLS."""
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context

    def send(self, entry: OutboxEntry) -> None:
        """Deliver ``entry`` to the server; raise :class:`TransportError` unless it was accepted."""
        s = self.settings
        msg = build_message(
            entry,
            sender_address=s.sender_address,
            sender_name=s.sender_name,
            message_id_domain=s.message_id_domain,
        )
        where = f"message {entry.message_id} to {mask_email(entry.recipient)} via {s.host}:{s.port}"
        try:
            smtp = self._connect()
            try:
                if s.starttls:
                    smtp.starttls(context=self.ssl_context)
                    smtp.ehlo()
                if s.username is not None and s.password is not None:
                    smtp.login(s.username, s.password)
                smtp.send_message(msg, from_addr=s.sender_address, to_addrs=[entry.recipient])
            finally:
                _quit_quietly(smtp)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise TransportError(
                f"{where}: recipient refused ({', '.join(map(str, codes))})",
                permanent=bool(codes) and all(code >= 500 for code in codes),
            ) from exc
        except smtplib.SMTPResponseException as exc:
            reply = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else ""
            reply = mask_personal_data(reply.replace(entry.recipient, mask_email(entry.recipient)))
            raise TransportError(f"{where}: {type(exc).__name__} {exc.smtp_code} {reply[:200]}") from exc
        except (smtplib.SMTPException, OSError) as exc:  # refused, reset, timeout, TLS, not supported
            raise TransportError(f"{where}: {_safe_text(exc, entry.recipient)}") from exc

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.use_ssl:
            return smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self.ssl_context)
        return smtplib.SMTP(s.host, s.port, timeout=s.timeout)


def _quit_quietly(smtp: smtplib.SMTP) -> None:
    """Say goodbye; once the message was accepted, a failing QUIT must not turn it into a failure."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


class FolderTransport:
    """Writes each message as ``<created_at>-<message_id>.eml`` in a folder (demo, dry runs).

    Writing is atomic (a temporary file renamed into place) and idempotent: a message already written
    is not written again, and since the message is deterministic the file would be the same anyway.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        sender_address: str = "ne-pas-repondre@mutuelle.invalid",
        sender_name: str = "Votre mutuelle",
    ) -> None:
        self.path = Path(path)
        self.sender_address = sender_address
        self.sender_name = sender_name

    def file_for(self, entry: OutboxEntry) -> Path:
        """Where ``entry`` is (or would be) written."""
        stamp = _aware(entry.created_at).astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        name = urllib.parse.quote(entry.message_id, safe="-_.")
        return self.path / f"{stamp}-{name}.eml"

    def send(self, entry: OutboxEntry) -> None:
        """Write ``entry`` unless its file exists; raise :class:`TransportError` on I/O errors."""
        target = self.file_for(entry)
        if target.exists():
            return
        data = build_message(
            entry, sender_address=self.sender_address, sender_name=self.sender_name
        ).as_bytes()
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path, prefix=".tmp-", suffix=".eml")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise TransportError(
                f"message {entry.message_id} to {mask_email(entry.recipient)} not written to {target}: "
                f"{_safe_text(exc, entry.recipient)}"
            ) from exc
