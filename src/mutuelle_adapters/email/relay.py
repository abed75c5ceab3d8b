"""The outbox relay: sends the messages use cases wrote into the outbox, and records the outcome.

A use case adds a message to ``uow.outbox`` in the same transaction as the change that causes it, so
a message exists if and only if the change was committed. The relay reads the due messages, hands each
to a :class:`~mutuelle_adapters.email.transport.Transport` and records the delivery in its own unit of
work right after the transport accepted it.

**Delivery guarantee.** At least once, and at most one duplicate per crash: a message is marked sent
(and committed) before the next one is sent, so a crash (or a failing database) between a send and
its mark re-sends only the message that was in flight. That duplicate carries the same
``Message-ID`` (see :func:`~mutuelle_adapters.email.transport.message_id_header`), so a receiver can
drop it. If the database fails while marking, :meth:`OutboxRelay.run_once` stops and lets the error
propagate rather than send more messages it could not mark. Run one relay at a time: two relays
reading the same due message would both send it (the second ``mark_sent`` returns ``False`` and is
counted as skipped, the receiver sees the same ``Message-ID`` twice).

**Retry policy.** A failed attempt is recorded with ``mark_failed`` and a retry time from
``backoff(attempts)``, by default :func:`exponential_backoff`: 1, 2, 4, 8, 16, 32 minutes, then
every hour. After ``max_attempts`` failed attempts (8 by default, about two hours of trying), or at
once for a permanent failure (a recipient refused with a 5xx reply), the message is **given up**: it
stays unsent with its last error, and its retry time is :data:`GIVEN_UP_AT` (year 9999), so ``pending``
never returns it again; :func:`is_given_up` tells such messages apart for operators.

>>> import datetime as dt
>>> [int(exponential_backoff(n).total_seconds() // 60) for n in range(1, 9)]
[1, 2, 4, 8, 16, 32, 60, 60]
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import attrs

from mutuelle_adapters.email.transport import Transport, TransportError
from mutuelle_adapters.logging import PersonalDataFilter, mask_personal_data
from mutuelle_core.masking import mask_email
from mutuelle_core.ports import Clock, OutboxEntry, UnitOfWorkFactory

__all__ = [
    "GIVEN_UP_AT",
    "GIVEN_UP_PREFIX",
    "OutboxRelay",
    "RelayReport",
    "exponential_backoff",
    "is_given_up",
]

logger = logging.getLogger(__name__)
logger.addFilter(PersonalDataFilter())  # tracebacks of unexpected errors may quote an address

GIVEN_UP_AT = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)
"""The retry time of a message given up: far enough never to be due, safe to store in any database."""

GIVEN_UP_PREFIX = "given up: "
"""Prefix of the ``last_error`` of a message given up."""


def exponential_backoff(
    attempts: int,
    *,
    base: dt.timedelta = dt.timedelta(minutes=1),
    cap: dt.timedelta = dt.timedelta(hours=1),
) -> dt.timedelta:
    """The delay before the next try after ``attempts`` failed attempts: ``base × 2^(attempts-1)``, capped.

    >>> exponential_backoff(3)
    datetime.timedelta(seconds=240)
    """
    if attempts < 1:
        return base
    return min(base * (1 << min(attempts - 1, 32)), cap)


def is_given_up(entry: OutboxEntry) -> bool:
    """Whether the relay gave ``entry`` up (unsent and never due again)."""
    return (
        entry.sent_at is None and entry.next_attempt_at is not None and entry.next_attempt_at >= GIVEN_UP_AT
    )


@attrs.frozen
class RelayReport:
    """What one pass of the relay did.

    Attributes:
        sent: messages the transport accepted and the relay marked sent.
        failed: failed attempts that will be retried later.
        given_up: failed attempts after which the message will not be tried again.
        skipped: messages sent but already marked sent by someone else meanwhile (a concurrent relay).
    """

    sent: int = 0
    failed: int = 0
    given_up: int = 0
    skipped: int = 0

    @property
    def attempted(self) -> int:
        """Messages handed to the transport in this pass."""
        return self.sent + self.failed + self.given_up + self.skipped


class OutboxRelay:
    """Sends due outbox messages through a transport, one unit of work per outcome.

    Args:
        uow_factory: makes the units of work (memory or SQL: only the ports are used).
        transport: delivers one message or raises :class:`TransportError`.
        clock: the time used to pick due messages and to stamp sends and retries.
        batch_size: at most this many messages per :meth:`run_once`.
        max_attempts: failed attempts after which a message is given up.
        backoff: the delay before the next try, given the number of failed attempts so far.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        transport: Transport,
        clock: Clock,
        *,
        batch_size: int = 100,
        max_attempts: int = 8,
        backoff: Callable[[int], dt.timedelta] = exponential_backoff,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.uow_factory = uow_factory
        self.transport = transport
        self.clock = clock
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.backoff = backoff

    def run_once(self) -> RelayReport:
        """Try every message due now (up to ``batch_size``), oldest first, and record each outcome.

        Errors of the unit of work (the database) propagate and stop the pass: the message being
        recorded will be sent again by a later pass (same ``Message-ID``), the others stay pending.
        """
        with self.uow_factory() as uow:
            due = list(uow.outbox.pending(self.clock.now(), self.batch_size))
            uow.commit()  # keeps what reading recorded (a message put aside because it cannot be rendered)
        sent = failed = given_up = skipped = 0
        for entry in due:
            try:
                self.transport.send(entry)
            except TransportError as exc:
                if self._record_failure(entry, str(exc), permanent=exc.permanent):
                    given_up += 1
                else:
                    failed += 1
                continue
            except Exception as exc:  # a bug in a transport must not block the queue behind one message
                logger.exception("unexpected error sending message %s", entry.message_id)
                if self._record_failure(entry, f"{type(exc).__name__}: {exc}", permanent=False):
                    given_up += 1
                else:
                    failed += 1
                continue
            if self._record_sent(entry):
                sent += 1
            else:
                skipped += 1
        report = RelayReport(sent=sent, failed=failed, given_up=given_up, skipped=skipped)
        if report.attempted:
            logger.info(
                "outbox relay: %d sent, %d to retry, %d given up, %d skipped",
                report.sent,
                report.failed,
                report.given_up,
                report.skipped,
            )
        return report

    def _record_sent(self, entry: OutboxEntry) -> bool:
        with self.uow_factory() as uow:
            marked = uow.outbox.mark_sent(entry.message_id, self.clock.now())
            uow.commit()
        if marked:
            logger.info(
                "message %s (%s) sent to %s",
                entry.message_id,
                entry.template,
                mask_email(entry.recipient),
            )
        else:
            logger.warning(
                "message %s (%s) was already marked sent by someone else: sent twice to %s",
                entry.message_id,
                entry.template,
                mask_email(entry.recipient),
            )
        return marked

    def _record_failure(self, entry: OutboxEntry, error: str, *, permanent: bool) -> bool:
        """Record a failed attempt; returns whether the message is now given up."""
        attempts = entry.attempts + 1
        error = mask_personal_data(error.replace(entry.recipient, mask_email(entry.recipient)))
        give_up = permanent or attempts >= self.max_attempts
        retry_at = GIVEN_UP_AT if give_up else self.clock.now() + self.backoff(attempts)
        with self.uow_factory() as uow:
            uow.outbox.mark_failed(
                entry.message_id, f"{GIVEN_UP_PREFIX}{error}" if give_up else error, retry_at
            )
            uow.commit()
        if give_up:
            logger.error(
                "message %s (%s) to %s given up after %d attempt(s): %s",
                entry.message_id,
                entry.template,
                mask_email(entry.recipient),
                attempts,
                error,
            )
        else:
            logger.warning(
                "message %s (%s) to %s failed (attempt %d of %d), next try at %s: %s",
                entry.message_id,
                entry.template,
                mask_email(entry.recipient),
                attempts,
                self.max_attempts,
                retry_at.isoformat(),
                error,
            )
        return give_up
