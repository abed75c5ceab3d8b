"""Production implementations of the small ports: the system clock, UUIDs and secret tokens.

Test doubles with the same surface (a settable clock, sequential ids, predictable tokens) live in
:mod:`mutuelle_adapters.memory.fakes`.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from zoneinfo import ZoneInfo

__all__ = ["PARIS", "SecretTokens", "SystemClock", "UuidGenerator"]

PARIS = ZoneInfo("Europe/Paris")


class SystemClock:
    """The machine's clock: UTC instants, dates in Europe/Paris."""

    def now(self) -> dt.datetime:
        """The current instant (UTC)."""
        return dt.datetime.now(dt.UTC)

    def today(self) -> dt.date:
        """Today in metropolitan France."""
        return dt.datetime.now(PARIS).date()


class UuidGenerator:
    """Random UUID4 identifiers."""

    def new_id(self) -> str:
        """A fresh UUID4, as text."""
        return str(uuid.uuid4())


class SecretTokens:
    """256-bit URL-safe secrets from the operating system's CSPRNG."""

    def new_token(self) -> str:
        """A fresh secret."""
        return secrets.token_urlsafe(32)
