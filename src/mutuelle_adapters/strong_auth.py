"""One-time codes by e-mail: the :class:`~mutuelle_core.ports.StrongAuthentication` adapter.

``start`` draws a 6-digit code, stores a **challenge** holding only its HMAC-SHA256 (keyed by a
per-challenge salt and the adapter's optional secret), and queues the e-mail carrying the code
(template ``strong_auth_code``) in the **same unit of work**: the challenge and its message are
written together or not at all, and the relay sends the message once committed. ``confirm`` checks the
typed code in constant time; a code is valid for 10 minutes, 5 attempts, once.

Where the challenges live: in the unit of work, as a small repository (``uow.auth_challenges``, table
``auth_challenges`` on SQL). They must be transactional with the outbox (a code never mailed must not
be confirmable, a challenge must not exist without its message), they must survive a restart and be
shared by every process of a portal, and a wrong attempt must be counted even under concurrent
attempts: the optimistic ``version`` of the row makes two parallel guesses conflict instead of both
passing the attempt limit. The repository is the adapter's, not the core's: the core only ever sees
proofs (:class:`~mutuelle_core.strong_auth.StrongAuthProof`), so the challenge and its repository
protocol are defined here and the memory and SQL units of work implement them.

>>> import datetime as dt
>>> from mutuelle_adapters.memory import MemoryDatabase
>>> from mutuelle_adapters.memory.fakes import FixedClock, PredictableTokens, SequentialIds
>>> from mutuelle_core.values.identity import Email
>>> clock = FixedClock(dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC))
>>> db = MemoryDatabase(clock=clock)
>>> auth = StrongAuthByEmail(db.unit_of_work, clock, SequentialIds("ch"), PredictableTokens(),
...                          codes=lambda: "123456")
>>> challenge = auth.start("aff-1", Email.parse("benoit@example.fr"), "view_designation")
>>> auth.confirm(challenge, "123456").purpose
'view_designation'
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Protocol, Self

import attrs

from mutuelle_core.ports import Clock, IdGenerator, Outbox, OutgoingMessage, TokenGenerator
from mutuelle_core.strong_auth import (
    ALREADY_USED,
    CODE_EXPIRED,
    TOO_MANY_ATTEMPTS,
    TOO_MANY_REQUESTS,
    UNKNOWN_CHALLENGE,
    WRONG_CODE,
    StrongAuthProof,
    purpose_label,
)
from mutuelle_core.values.identity import Email

__all__ = [
    "CODE_LENGTH",
    "TEMPLATE",
    "AuthChallenge",
    "AuthChallengeRepository",
    "ChallengeUnitOfWork",
    "StrongAuthByEmail",
    "code_hash",
    "random_code",
]

CODE_LENGTH = 6
"""Digits of a one-time code."""
TEMPLATE = "strong_auth_code"
"""The e-mail template carrying the code."""


def random_code() -> str:
    """A uniformly drawn 6-digit code from the operating system's CSPRNG (leading zeros kept)."""
    return f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"


def code_hash(*, secret: bytes, salt: str, challenge_id: str, purpose: str, code: str) -> str:
    """HMAC-SHA256 of the code, bound to its challenge and purpose, keyed by the secret and the salt.

    >>> len(code_hash(secret=b"", salt="s", challenge_id="c1", purpose="p", code="123456"))
    64
    """
    key = secret + salt.encode("utf-8")
    return hmac.new(key, f"{challenge_id}\x1f{purpose}\x1f{code}".encode(), hashlib.sha256).hexdigest()


@attrs.frozen(kw_only=True)
class AuthChallenge:
    """A one-time code sent and awaited: only its hash is kept.

    Attributes:
        challenge_id: the id returned by ``start`` and passed back to ``confirm``.
        subject: who asked (the affiliation id in the member space).
        purpose: what for.
        code_hash: :func:`code_hash` of the code.
        salt: the per-challenge salt of the hash.
        created_at: when the code was sent.
        expires_at: after this instant the code is refused.
        attempts: the codes typed so far (wrong ones and the right one).
        used_at: when the right code was typed (a code works once).
        version: optimistic concurrency.
    """

    challenge_id: str
    subject: str
    purpose: str
    code_hash: str = attrs.field(repr=False)
    salt: str = attrs.field(repr=False)
    created_at: dt.datetime
    expires_at: dt.datetime
    attempts: int = 0
    used_at: dt.datetime | None = None
    version: int = 0


class AuthChallengeRepository(Protocol):
    """Challenges, stored in the unit of work (memory and SQL implement it)."""

    def find(self, challenge_id: str) -> AuthChallenge | None:
        """The challenge, or ``None``."""
        ...

    def add(self, challenge: AuthChallenge) -> AuthChallenge:
        """Store a new challenge (version 1)."""
        ...

    def update(self, challenge: AuthChallenge) -> AuthChallenge:
        """Store a changed challenge if nobody changed it since loaded (``ConcurrencyConflict``)."""
        ...

    def created_since(self, subject: str, since: dt.datetime) -> Sequence[AuthChallenge]:
        """The subject's challenges created after ``since`` (strictly), oldest first."""
        ...


class ChallengeUnitOfWork(Protocol):
    """What this adapter needs from a unit of work: its challenges and the outbox, one transaction."""

    @property
    def auth_challenges(self) -> AuthChallengeRepository:
        """The challenges."""
        ...

    @property
    def outbox(self) -> Outbox:
        """Messages sent once committed."""
        ...

    def __enter__(self) -> Self:
        """Begin."""
        ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """End, rolling back unless committed."""
        ...

    def commit(self) -> None:
        """Make the changes durable."""
        ...


class StrongAuthByEmail:
    """Sends one-time codes by e-mail through the outbox and confirms them (see the module docs).

    Args:
        uow: makes the units of work holding the challenges and the outbox (memory or SQL).
        clock: the time (expiry).
        ids: challenge ids.
        tokens: the per-challenge salts.
        secret: an optional server-side key mixed into every hash (a pepper kept out of the database).
        validity: how long a code is valid (10 minutes).
        max_attempts: codes that may be typed per challenge (5); the 5th wrong one locks it.
        max_per_hour: codes a subject may ask for in an hour (5), against e-mail flooding and guessing
            through many challenges.
        codes: draws the codes (:func:`random_code`; tests may fix it).
    """

    def __init__(
        self,
        uow: Callable[[], ChallengeUnitOfWork],
        clock: Clock,
        ids: IdGenerator,
        tokens: TokenGenerator,
        *,
        secret: bytes = b"",
        validity: dt.timedelta = dt.timedelta(minutes=10),
        max_attempts: int = 5,
        max_per_hour: int = 5,
        codes: Callable[[], str] = random_code,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._ids = ids
        self._tokens = tokens
        self._secret = secret
        self.validity = validity
        self.max_attempts = max_attempts
        self.max_per_hour = max_per_hour
        self._codes = codes

    def start(self, subject: str, email: Email, purpose: str) -> str:
        """See :class:`mutuelle_core.ports.StrongAuthentication`."""
        now = self._clock.now()
        code = self._codes()
        with self._uow() as uow:
            recent = uow.auth_challenges.created_since(subject, now - dt.timedelta(hours=1))
            if len(recent) >= self.max_per_hour:
                wait = recent[0].created_at + dt.timedelta(hours=1) - now
                raise TOO_MANY_REQUESTS(None, minutes=max(1, -(-int(wait.total_seconds()) // 60)))
            challenge_id = self._ids.new_id()
            salt = self._tokens.new_token()
            uow.auth_challenges.add(
                AuthChallenge(
                    challenge_id=challenge_id,
                    subject=subject,
                    purpose=purpose,
                    code_hash=code_hash(
                        secret=self._secret, salt=salt, challenge_id=challenge_id, purpose=purpose, code=code
                    ),
                    salt=salt,
                    created_at=now,
                    expires_at=now + self.validity,
                )
            )
            uow.outbox.add(
                OutgoingMessage(
                    template=TEMPLATE,
                    to=email,
                    context={
                        "code": code,
                        "minutes": int(self.validity.total_seconds() // 60),
                        "purpose": purpose_label(purpose),
                    },
                )
            )
            uow.commit()
        return challenge_id

    def confirm(self, challenge_id: str, code: str) -> StrongAuthProof:
        """See :class:`mutuelle_core.ports.StrongAuthentication`."""
        now = self._clock.now()
        with self._uow() as uow:
            challenge = uow.auth_challenges.find(challenge_id)
            if challenge is None:
                raise UNKNOWN_CHALLENGE("challenge_id")
            if challenge.used_at is not None:
                raise ALREADY_USED("code")
            if challenge.attempts >= self.max_attempts:
                raise TOO_MANY_ATTEMPTS("code")
            if now >= challenge.expires_at:
                raise CODE_EXPIRED("code")
            typed = "".join(code.split())
            expected = code_hash(
                secret=self._secret,
                salt=challenge.salt,
                challenge_id=challenge.challenge_id,
                purpose=challenge.purpose,
                code=typed,
            )
            right = hmac.compare_digest(expected, challenge.code_hash)
            attempts = challenge.attempts + 1
            uow.auth_challenges.update(
                attrs.evolve(challenge, attempts=attempts, used_at=now if right else None)
            )
            uow.commit()  # a wrong attempt is counted even though the call fails
        if right:
            return StrongAuthProof(subject=challenge.subject, purpose=challenge.purpose, confirmed_at=now)
        remaining = self.max_attempts - attempts
        if remaining <= 0:
            raise TOO_MANY_ATTEMPTS("code")
        raise WRONG_CODE("code", remaining=remaining)
