"""In-memory implementation of every port: for unit tests and for users' own suites.

It behaves like the SQL adapter, which the shared contract tests check: a unit of work sees a snapshot
taken when it begins, writes become visible to others only on ``commit``, a stale ``update`` raises
``ConcurrencyConflict`` (at the write, or at commit when another unit of work committed first), and
leaving without committing discards everything, outbox and documents included.

>>> from mutuelle_adapters.memory import MemoryDatabase
>>> db = MemoryDatabase()
>>> with db.unit_of_work() as uow:
...     uow.references.next_reference("adhesion", "M")
'M0000001'
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

import attrs

from mutuelle_core.errors import ALREADY_EXISTS, CONCURRENCY_CONFLICT, NOT_FOUND
from mutuelle_core.events import DomainEvent
from mutuelle_core.ports import Clock, IdGenerator

if TYPE_CHECKING:
    from mutuelle_adapters.email.rendering import MessageRenderer
    from mutuelle_adapters.memory.uow import MemoryUnitOfWorkImpl

__all__ = ["MemoryDatabase", "MemoryUnitOfWork", "Table", "totals_by"]

K = TypeVar("K")
V = TypeVar("V")

DUPLICATE_KEY = ALREADY_EXISTS


class Table(Generic[V]):
    """A keyed collection of frozen aggregates with versions, inside one unit of work."""

    def __init__(self, uow: MemoryUnitOfWork, name: str, what: str) -> None:
        self._uow = uow
        self.name = name
        self.what = what

    @property
    def rows(self) -> dict[str, V]:
        """The rows as this unit of work sees them."""
        return self._uow._view(self.name)

    def find(self, key: str) -> V | None:
        """The row with this key, or ``None``."""
        return self.rows.get(key)

    def get(self, key: str) -> V:
        """The row with this key (``not_found`` otherwise)."""
        row = self.rows.get(key)
        if row is None:
            raise NOT_FOUND(None, what=f"{self.what} {key}")
        return row

    def insert(self, key: str, value: V) -> V:
        """Insert a new row with version 1."""
        if key in self.rows:
            raise DUPLICATE_KEY(None, what=f"{self.what} {key}")
        stored = self._versioned(value, 1)
        self._uow._write(self.name, key, None, stored)
        return stored

    def replace(self, key: str, value: V) -> V:
        """Replace a row if its version is the one loaded; bump the version."""
        current = self.rows.get(key)
        expected = getattr(value, "version", None)
        if current is None:
            raise NOT_FOUND(None, what=f"{self.what} {key}")
        if getattr(current, "version", None) != expected:
            raise CONCURRENCY_CONFLICT(None, what=f"{self.what} {key}")
        assert isinstance(expected, int)
        stored = self._versioned(value, expected + 1)
        self._uow._write(self.name, key, expected, stored)
        return stored

    def put(self, key: str, value: V) -> None:
        """Write a row without version control (outbox, documents, counters)."""
        self._uow._write(self.name, key, None, value, versioned=False)

    def values(self) -> list[V]:
        """Every row."""
        return list(self.rows.values())

    def _versioned(self, value: V, version: int) -> V:
        if attrs.has(type(value)) and hasattr(value, "version"):
            changes: dict[str, Any] = {"version": version}
            if hasattr(value, "pending_events"):
                self._uow._record(getattr(value, "pending_events", ()))
                changes["pending_events"] = ()
            return attrs.evolve(value, **changes)  # type: ignore[misc]
        return value


@attrs.define
class _Write:
    table: str
    key: str
    expected_version: int | None
    value: Any
    versioned: bool


class MemoryDatabase:
    """The shared state behind memory units of work (one per test, or per process for a demo)."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        ids: IdGenerator | None = None,
        renderer: MessageRenderer | None = None,
    ) -> None:
        from mutuelle_adapters.email.rendering import default_renderer
        from mutuelle_adapters.system import SystemClock, UuidGenerator

        self.tables: dict[str, dict[str, Any]] = {}
        self.lock = threading.RLock()
        self.clock: Clock = clock or SystemClock()
        self.ids: IdGenerator = ids or UuidGenerator()
        self.renderer: MessageRenderer = renderer or default_renderer()
        self.failure_hook: Callable[[str], None] | None = None
        """Called with the table name before each write: tests use it to inject failures."""

    def unit_of_work(self) -> MemoryUnitOfWorkImpl:
        """A new unit of work over this database."""
        from mutuelle_adapters.memory.uow import MemoryUnitOfWorkImpl

        return MemoryUnitOfWorkImpl(self)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """A copy of every table (rows are immutable, so a shallow copy per table is enough)."""
        with self.lock:
            return {name: dict(rows) for name, rows in self.tables.items()}


class MemoryUnitOfWork:
    """Transaction mechanics shared by the memory unit of work: snapshot, buffered writes, commit."""

    def __init__(self, db: MemoryDatabase) -> None:
        self.db = db
        self._snapshot: dict[str, dict[str, Any]] | None = None
        self._writes: list[_Write] = []
        self._events: list[DomainEvent] = []
        self._committed_events: list[DomainEvent] = []

    def __enter__(self) -> Self:
        self._snapshot = self.db.snapshot()
        self._writes = []
        self._events = []
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.rollback()
        self._snapshot = None

    def _view(self, table: str) -> dict[str, Any]:
        if self._snapshot is None:
            raise RuntimeError("use the unit of work as a context manager")
        return self._snapshot.setdefault(table, {})

    def _write(
        self, table: str, key: str, expected: int | None, value: Any, *, versioned: bool = True
    ) -> None:
        if self.db.failure_hook is not None:
            self.db.failure_hook(table)
        self._view(table)[key] = value
        self._writes.append(_Write(table, key, expected, value, versioned))

    def _record(self, events: tuple[DomainEvent, ...]) -> None:
        self._events.extend(events)

    def commit(self) -> None:
        """Apply the buffered writes if no row written was changed by someone else meanwhile."""
        with self.db.lock:
            for w in self._writes:
                if not w.versioned:
                    continue
                current = self.db.tables.get(w.table, {}).get(w.key)
                if w.expected_version is None:
                    if current is not None and self._first_write(w):
                        raise DUPLICATE_KEY(None, what=f"{w.table} {w.key}")
                elif getattr(current, "version", None) != w.expected_version and self._first_write(w):
                    raise CONCURRENCY_CONFLICT(None, what=f"{w.table} {w.key}")
            for w in self._writes:
                self.db.tables.setdefault(w.table, {})[w.key] = w.value
        self._writes = []
        self._committed_events.extend(self._events)
        self._events = []
        self._snapshot = self.db.snapshot()

    def _first_write(self, w: _Write) -> bool:
        return next(x for x in self._writes if x.table == w.table and x.key == w.key) is w

    def rollback(self) -> None:
        """Forget the buffered writes and events."""
        self._writes = []
        self._events = []
        if self._snapshot is not None:
            self._snapshot = self.db.snapshot()

    def collect_events(self) -> list[DomainEvent]:
        """Events of the aggregates stored and committed, then forgotten."""
        events, self._committed_events = self._committed_events, []
        return events

    def iter_table(self, name: str) -> Iterator[Any]:
        """Every row of a table as this unit of work sees it."""
        yield from self._view(name).values()


def totals_by(rows: Iterable[dict[str, Any]], keys: Sequence[str]) -> list[dict[str, Any]]:
    """Rows grouped by ``keys``: each group's key values, its distinct ``member_id`` count
    (``members``) and its ``amount_cents`` sum, sorted by key (as the SQL adapters' ``GROUP BY``)."""
    totals: dict[tuple[object, ...], tuple[set[str], int]] = {}
    for row in rows:
        k = tuple(row[name] for name in keys)
        members, cents = totals.get(k, (set(), 0))
        members.add(row["member_id"])
        totals[k] = (members, cents + row["amount_cents"])
    return [
        {**dict(zip(keys, k, strict=True)), "members": len(members), "amount_cents": cents}
        for k, (members, cents) in sorted(totals.items(), key=lambda item: tuple(map(str, item[0])))
    ]
