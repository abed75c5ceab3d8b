"""Production implementations of the small ports: the system clock, UUIDs and secret tokens.

Test doubles with the same surface (a settable clock, sequential ids, predictable tokens) live in
:mod:`mutuelle_adapters.memory.fakes`.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import time
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
    """Time-ordered UUIDs (RFC 9562 version 7): 48 bits of Unix milliseconds, then 74 random bits.

    Rows created one after the other get neighbouring keys, so inserting them appends to the primary
    key's index instead of touching a random page of it (bulk invitations write 100,000 at once).
    """

    def new_id(self) -> str:
        """A fresh UUID7, as text (``xxxxxxxx-xxxx-7xxx-yxxx-xxxxxxxxxxxx``)."""
        value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10))
        value = value & _UUID7_CLEAR | _UUID7_SET
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_UUID7_CLEAR = ~(0xF << 76 | 0x3 << 62)
_UUID7_SET = 0x7 << 76 | 0x2 << 62


class SecretTokens:
    """256-bit URL-safe secrets from the operating system's CSPRNG."""

    def new_token(self) -> str:
        """A fresh secret."""
        return secrets.token_urlsafe(32)
