"""Migrations build the schema the code uses; two real PostgreSQL connections race on one contract."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from mutuelle_adapters.memory.fakes import FixedClock, SequentialIds
from mutuelle_adapters.sql import tables
from mutuelle_adapters.sql.database import current_revision, head_revision, make_engine, sqlite_url, upgrade
from mutuelle_adapters.sql.uow import SqlUnitOfWorkFactory
from mutuelle_core.errors import ConcurrencyConflict
from tests.conftest import START
from tests.contract.test_backbone_ports import contract, employer


def assert_schema_matches(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), tables.metadata
        )
    assert diff == []
    assert set(inspect(engine).get_table_names()) >= {t.name for t in tables.metadata.sorted_tables}


def test_migrations_build_the_schema_from_empty_on_sqlite(tmp_path: object) -> None:
    engine = make_engine(sqlite_url(f"{tmp_path}/fresh.db"))
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert_schema_matches(engine)
    upgrade(engine)  # idempotent
    engine.dispose()


def test_sqlite_enforces_foreign_keys(tmp_path: object) -> None:
    engine = make_engine(sqlite_url(f"{tmp_path}/fk.db"))
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


@pytest.mark.postgres
def test_migrations_build_the_schema_from_empty_on_postgres(postgres_engine: Engine) -> None:
    assert current_revision(postgres_engine) == head_revision()
    assert_schema_matches(postgres_engine)


@pytest.mark.postgres
def test_two_postgres_connections_second_commit_conflicts(postgres_engine: Engine) -> None:
    with postgres_engine.begin() as conn:
        for t in reversed(tables.metadata.sorted_tables):
            conn.execute(t.delete())
    factory = SqlUnitOfWorkFactory(postgres_engine, clock=FixedClock(START), ids=SequentialIds())
    with factory() as uow:
        uow.employers.add(employer())
        uow.contracts.add(contract())
        uow.commit()

    first, second = factory(), factory()
    with first, second:
        a = first.contracts.get("M1000304")
        b = second.contracts.get("M1000304")
        assert first.connection is not second.connection
        first.contracts.update(a.radiate_product("ADMR61-2", dt.date(2026, 6, 30)))
        # The second connection's UPDATE blocks on the first one's row lock until it commits.
        outcome: list[BaseException | None] = []

        def second_writer() -> None:
            try:
                second.contracts.update(b.radiate_product("ADMR61-1", dt.date(2026, 7, 31)))
                second.commit()
                outcome.append(None)
            except BaseException as exc:
                outcome.append(exc)

        thread = threading.Thread(target=second_writer)
        thread.start()
        thread.join(timeout=0.5)
        assert thread.is_alive(), "the second writer should wait for the first one's lock"
        first.commit()
        thread.join(timeout=10)
        assert len(outcome) == 1 and isinstance(outcome[0], ConcurrencyConflict)

    with factory() as uow:
        final = uow.contracts.get("M1000304")
        assert final.version == 2
        assert final.product("ADMR61-2").radiation_date == dt.date(2026, 6, 30)
        assert final.product("ADMR61-1").radiation_date is None
