"""Migration 0008 moves employers' schedule lines (one per affiliation) into ``employer_dues`` (one per
contract and month) and back, on a SQLite file and on PostgreSQL, with data in the tables."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, text

from mutuelle_adapters.sql.database import downgrade, make_engine, sqlite_url, upgrade
from tests.conftest import scratch_postgres

D = dt.date


def _line(aff: str, person: str, payer: str, channel: str, cents: int) -> dict[str, object]:
    return {
        "affiliation_id": aff,
        "month": "2026-05",
        "person_id": person,
        "product": 0,
        "payer": payer,
        "channel": channel,
        "run_id": "run-1",
        "contract_number": "MENJ2026",
        "member_id": f"M-{aff}",
        "category": "insured",
        "amount_cents": cents,
    }


def _schedule(aff: str, payer: str, payer_id: str, cents: int) -> dict[str, object]:
    return {
        "affiliation_id": aff,
        "month": "2026-05",
        "payer": payer,
        "run_id": "run-1",
        "contract_number": "MENJ2026",
        "payer_id": payer_id,
        "due_date": D(2026, 5, 5),
        "amount_cents": cents,
    }


def _insert(engine: Engine, table: str, rows: list[dict[str, object]]) -> None:
    columns = list(rows[0])
    with engine.begin() as conn:
        conn.execute(
            text(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"
            ),
            rows,
        )


def _round_trip(engine: Engine) -> None:
    upgrade(engine, "0007")
    _insert(
        engine,
        "cotisation_lines",
        [
            _line("a1", "a1", "employer", "transfer", 2926),
            _line("a1", "a1", "member", "payroll_deduction", 2925),
            _line("a1", "c1", "member", "direct_debit", 1000),
            _line("a2", "a2", "employer", "transfer", 2926),
            _line("a2", "a2", "member", "payroll_deduction", 2925),
        ],
    )
    _insert(
        engine,
        "schedule_lines",
        [
            _schedule("a1", "employer", "MENJ2026", 5851),
            _schedule("a1", "member", "M-a1", 1000),
            _schedule("a2", "employer", "MENJ2026", 5851),
        ],
    )
    upgrade(engine)
    with engine.connect() as conn:
        dues = conn.execute(text("SELECT contract_number, month, amount_cents FROM employer_dues")).all()
        left = conn.execute(text("SELECT affiliation_id, payer, amount_cents FROM schedule_lines")).all()
    assert [tuple(r) for r in dues] == [("MENJ2026", "2026-05", 11702)]
    assert [tuple(r) for r in left] == [("a1", "member", 1000)]
    downgrade(engine, "0007")
    with engine.connect() as conn:
        back = conn.execute(
            text("SELECT affiliation_id, payer, payer_id, amount_cents FROM schedule_lines ORDER BY 1, 2")
        ).all()
    assert [tuple(r) for r in back] == [
        ("a1", "employer", "MENJ2026", 5851),
        ("a1", "member", "M-a1", 1000),
        ("a2", "employer", "MENJ2026", 5851),
    ]
    upgrade(engine)


def test_employer_dues_migration_round_trip_on_sqlite(tmp_path: object) -> None:
    engine = make_engine(sqlite_url(f"{tmp_path}/migrate.db"))
    _round_trip(engine)
    engine.dispose()


@pytest.mark.postgres
def test_employer_dues_migration_round_trip_on_postgres() -> None:
    with scratch_postgres("mutuelle_migrate") as engine:
        _round_trip(engine)
