"""Migration 0010 adds what is paid of each due (``paid_cents``, backfilled from the imputations) and
the index of the open dues, and back, on a SQLite file and on PostgreSQL, with dues, payments and
imputations in the tables."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, inspect, text

from mutuelle_adapters.memory.fakes import FixedClock, PredictableTokens, SequentialIds
from mutuelle_adapters.sql.database import downgrade, make_engine, sqlite_url, upgrade
from mutuelle_adapters.sql.uow import SqlUnitOfWorkFactory
from mutuelle_core.cotisations.account_records import PayerKey
from mutuelle_core.cotisations.accounts import receive_payment
from mutuelle_core.cotisations.billing import bill
from mutuelle_core.cotisations.rules import CollectionChannel, Payer
from mutuelle_core.values.dates import Month
from mutuelle_core.values.money import Money
from tests.conftest import START, Backend, scratch_postgres
from tests.integration.test_dues_paid import EMPLOYER, mismatches
from tests.unit.test_billing import affiliated


def _paid(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [
            *conn.execute(text("SELECT affiliation_id, month, paid_cents FROM schedule_lines ORDER BY 1, 2")),
            *conn.execute(text("SELECT contract_number, month, paid_cents FROM employer_dues ORDER BY 1, 2")),
        ]


def _round_trip(engine: Engine) -> None:
    upgrade(engine)
    clock = FixedClock(START)
    factory = SqlUnitOfWorkFactory(engine, clock=clock, ids=SequentialIds())
    backend = Backend("sql", factory, clock, SequentialIds("x"), PredictableTokens(), lambda _t: None, engine)
    affiliated(backend, 2)
    svc = backend.services()
    bill(svc, Month(2026, 5))
    bill(svc, Month(2026, 6))
    receive_payment(  # May in full, part of June
        svc,
        EMPLOYER,
        payment_id="VIR-1",
        received_on=dt.date(2026, 5, 20),
        amount=Money("80.00"),
        channel=CollectionChannel.TRANSFER,
    )
    before = _paid(engine)
    assert [p for *_, p in before if p] and mismatches(backend) == []
    downgrade(engine, "0009")
    assert "paid_cents" not in {c["name"] for c in inspect(engine).get_columns("schedule_lines")}
    assert "paid_cents" not in {c["name"] for c in inspect(engine).get_columns("employer_dues")}
    assert "ix_schedule_lines_due_payer" in {i["name"] for i in inspect(engine).get_indexes("schedule_lines")}
    upgrade(engine)
    assert _paid(engine) == before and mismatches(backend) == []  # backfilled from the imputations
    with factory() as uow:
        assert EMPLOYER in uow.accounts.in_arrears(dt.date(2026, 6, 30))  # June is partly paid
        assert EMPLOYER not in uow.accounts.in_arrears(dt.date(2026, 5, 31))  # May is paid
        assert PayerKey(Payer.EMPLOYER, "nobody") not in uow.accounts.in_arrears(dt.date(2026, 6, 30))


def test_dues_paid_migration_round_trip_on_sqlite(tmp_path: object) -> None:
    engine = make_engine(sqlite_url(f"{tmp_path}/migrate.db"))
    _round_trip(engine)
    engine.dispose()


@pytest.mark.postgres
def test_dues_paid_migration_round_trip_on_postgres() -> None:
    with scratch_postgres("mutuelle_migrate") as engine:
        _round_trip(engine)
