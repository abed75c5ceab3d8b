"""Shared fixtures: the same tests run on the memory, SQLite and PostgreSQL adapters.

PostgreSQL runs when ``MUTUELLE_TEST_POSTGRES_URL`` is set (``.ci/run`` sets it): the session creates
its own database on that server, migrates it once, empties its tables between tests and drops it at
the end. SQLite tests get a copy of a migrated database file each.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url

from mutuelle_adapters.memory import MemoryDatabase
from mutuelle_adapters.memory.fakes import FixedClock, PredictableTokens, SequentialIds
from mutuelle_adapters.signature import LocalSignatureService
from mutuelle_adapters.sql import tables
from mutuelle_adapters.sql.database import make_engine, sqlite_url, upgrade
from mutuelle_adapters.sql.uow import SqlUnitOfWorkFactory
from mutuelle_core.ports import UnitOfWork
from mutuelle_core.services import Services

settings.register_profile("ci", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

POSTGRES_URL = os.environ.get("MUTUELLE_TEST_POSTGRES_URL")
START = dt.datetime(2026, 5, 4, 7, 30, tzinfo=dt.UTC)

BACKENDS = ["memory", "sqlite", "postgres"]


class InjectedFailure(RuntimeError):
    """Raised by a test to simulate a crash in the middle of a use case."""


@attrs.define
class Backend:
    """One adapter set under test, with deterministic clock, ids and tokens."""

    name: str
    uow_factory: Callable[[], UnitOfWork]
    clock: FixedClock
    ids: SequentialIds
    tokens: PredictableTokens
    fail_on_write: Callable[[str], None]
    """Make the next write to this table raise :class:`InjectedFailure`."""
    engine: Engine | None = None
    memory: MemoryDatabase | None = None

    def uow(self) -> UnitOfWork:
        return self.uow_factory()

    def services(self) -> Services:
        return Services(
            uow=self.uow_factory,
            clock=self.clock,
            ids=self.ids,
            tokens=self.tokens,
            signature=LocalSignatureService(),
        )


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    engine = make_engine(sqlite_url(path))
    upgrade(engine)
    engine.dispose()
    return path


@contextmanager
def scratch_postgres(prefix: str = "mutuelle_test") -> Iterator[Engine]:
    """An engine on a new, empty PostgreSQL database (no schema), dropped afterwards; skips the test
    without ``MUTUELLE_TEST_POSTGRES_URL``."""
    if not POSTGRES_URL:
        pytest.skip("MUTUELLE_TEST_POSTGRES_URL is not set")
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    with scratch_postgres() as engine:
        upgrade(engine)
        yield engine


def _sql_failure_injector(armed: set[str]) -> Callable[..., None]:
    def _maybe_fail(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        head = statement.lstrip().upper()
        for table in list(armed):
            if head.startswith(("INSERT INTO " + table.upper(), "UPDATE " + table.upper())):
                armed.discard(table)
                raise InjectedFailure(f"injected failure writing {table}")

    return _maybe_fail


def _truncate(engine: Engine) -> None:
    with engine.begin() as conn:
        names = ", ".join(t.name for t in tables.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} CASCADE"))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    clock, ids, tokens = FixedClock(START), SequentialIds(), PredictableTokens()
    name: str = request.param
    if name == "memory":
        db = MemoryDatabase(clock=clock, ids=ids)
        armed: set[str] = set()

        def hook(table: str) -> None:
            if table in armed:
                armed.discard(table)
                raise InjectedFailure(f"injected failure writing {table}")

        db.failure_hook = hook
        yield Backend(name, db.unit_of_work, clock, ids, tokens, armed.add, memory=db)
        return
    if name == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        engine = make_engine(sqlite_url(path))
    else:
        engine = request.getfixturevalue("postgres_engine")
        _truncate(engine)
    factory = SqlUnitOfWorkFactory(engine, clock=clock, ids=ids)
    armed_sql: set[str] = set()
    listener = _sql_failure_injector(armed_sql)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield Backend(name, factory, clock, ids, tokens, armed_sql.add, engine=engine)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
        if name == "sqlite":
            engine.dispose()
