"""Deterministic doubles for the small ports: a settable clock, sequential ids, predictable tokens.

>>> import datetime as dt
>>> from mutuelle_adapters.memory.fakes import FixedClock, SequentialIds
>>> clock = FixedClock(dt.datetime(2026, 5, 1, 8, 0, tzinfo=dt.UTC))
>>> clock.advance(days=21).today()
datetime.date(2026, 5, 22)
>>> SequentialIds("aff").new_id()
'aff-000001'
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools

from mutuelle_adapters.system import PARIS

__all__ = ["FixedClock", "PredictableTokens", "SequentialIds"]


class FixedClock:
    """A clock that only moves when told to."""

    def __init__(self, now: dt.datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._now = now

    def now(self) -> dt.datetime:
        """The instant set."""
        return self._now

    def today(self) -> dt.date:
        """The date in Europe/Paris at the instant set."""
        return self._now.astimezone(PARIS).date()

    def set(self, now: dt.datetime) -> FixedClock:
        """Move to ``now``."""
        self._now = now
        return self

    def advance(self, **delta: float) -> FixedClock:
        """Move forward by a :class:`datetime.timedelta`'s keyword arguments."""
        self._now += dt.timedelta(**delta)
        return self


class SequentialIds:
    """Ids ``prefix-000001``, ``prefix-000002``..."""

    def __init__(self, prefix: str = "id") -> None:
        self.prefix = prefix
        self._counter = itertools.count(1)

    def new_id(self) -> str:
        """The next id."""
        return f"{self.prefix}-{next(self._counter):06d}"


class PredictableTokens:
    """Tokens derived from a seed and a counter: long and distinct, but reproducible in tests."""

    def __init__(self, seed: str = "test") -> None:
        self.seed = seed
        self._counter = itertools.count(1)
        self.issued: list[str] = []

    def new_token(self) -> str:
        """The next token (also kept in ``issued`` so tests can follow links)."""
        token = hashlib.sha256(f"{self.seed}:{next(self._counter)}".encode()).hexdigest()
        self.issued.append(token)
        return token
