"""Domain events: facts the aggregates record, collected by the unit of work.

An aggregate method that changes state returns the new version of the aggregate with the event it
raised appended to ``pending_events``. When the aggregate is handed to a repository (``add`` or
``update``), the unit of work collects those events; after ``commit`` they are available through
``UnitOfWork.collect_events()`` (for request history, notifications, analytics).

>>> import datetime as dt
>>> from mutuelle_core.events import DomainEvent
>>> import attrs
>>> @attrs.frozen
... class Demo(DomainEvent):
...     what: str
>>> Demo(occurred_at=dt.datetime(2026, 5, 1, tzinfo=dt.UTC), what="x").name
'Demo'
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import attrs

__all__ = ["DomainEvent", "HasEvents", "drain"]


@attrs.frozen(kw_only=True)
class DomainEvent:
    """Base of every domain event: when it happened (from the clock port)."""

    occurred_at: dt.datetime

    @property
    def name(self) -> str:
        """The event's type name, stable across versions (used in the request history)."""
        return type(self).__name__


class HasEvents(Protocol):
    """An aggregate that carries events raised since it was loaded."""

    @property
    def pending_events(self) -> tuple[DomainEvent, ...]:
        """Events raised and not yet collected."""
        ...


def drain(aggregate: HasEvents) -> tuple[DomainEvent, ...]:
    """Return the events an aggregate carries (repositories call this on add/update)."""
    return tuple(aggregate.pending_events)
