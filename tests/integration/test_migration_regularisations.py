"""Migration 0009 adds ``affiliations.changed_at`` (backfilled from ``last_activity_at``) and the
regularisation tables, and back, on a SQLite file and on PostgreSQL, with affiliations, their history
and their cotisation lines in the tables (nothing else is touched)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, inspect, text, update

from mutuelle_adapters.memory.fakes import FixedClock, PredictableTokens, SequentialIds
from mutuelle_adapters.sql import tables
from mutuelle_adapters.sql.database import downgrade, make_engine, sqlite_url, upgrade
from mutuelle_adapters.sql.uow import SqlUnitOfWorkFactory
from mutuelle_core.cotisations.billing import bill
from mutuelle_core.values.dates import Month
from tests.conftest import START, Backend, scratch_postgres
from tests.unit.test_billing import affiliated

LATER = dt.datetime(2026, 5, 20, 9, 0, tzinfo=dt.UTC)


def _counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
            for table in ("affiliations", "affiliation_history", "cotisation_lines")
        )


def _round_trip(engine: Engine) -> None:
    upgrade(engine)
    clock = FixedClock(START)
    factory = SqlUnitOfWorkFactory(engine, clock=clock, ids=SequentialIds())
    backend = Backend("sql", factory, clock, SequentialIds("x"), PredictableTokens(), lambda _t: None)
    _, aff_id = affiliated(backend)
    bill(backend.services(), Month(2026, 5))
    before = _counts(engine)
    assert before[0] == 1 and before[1] > 0 and before[2] > 0
    downgrade(engine, "0008")
    columns = {c["name"] for c in inspect(engine).get_columns("affiliations")}
    assert "changed_at" not in columns
    assert not {"regularisation_lines", "regularisation_runs"} & set(inspect(engine).get_table_names())
    with engine.begin() as conn:
        # through the table's type, which writes instants as the adapter does
        conn.execute(update(tables.affiliations).values(last_activity_at=LATER))
    upgrade(engine)
    assert _counts(engine) == before  # the history and the lines stay where they were
    with factory() as uow:
        assert [a.affiliation_id for a in uow.affiliations.changed_since(LATER, None, 10)] == [aff_id]
        assert uow.affiliations.changed_since(LATER + dt.timedelta(seconds=1), None, 10) == []
        uow.affiliations.update(uow.affiliations.get(aff_id))  # stamped by the adapter from now on
        uow.commit()
    with factory() as uow:
        assert [a.affiliation_id for a in uow.affiliations.changed_since(START, None, 10)] == [aff_id]


def test_regularisations_migration_round_trip_on_sqlite(tmp_path: object) -> None:
    engine = make_engine(sqlite_url(f"{tmp_path}/migrate.db"))
    _round_trip(engine)
    engine.dispose()


@pytest.mark.postgres
def test_regularisations_migration_round_trip_on_postgres() -> None:
    with scratch_postgres("mutuelle_migrate") as engine:
        _round_trip(engine)
