"""Bulk inserts through the driver: one ``executemany`` of tuples already in the driver's terms.

``conn.execute(insert(table), rows)`` converts every value of every row through SQLAlchemy's type
processors (instants and dates to text on SQLite, JSON to text) and builds a parameter dictionary per
row. For the bulk invitation path, where most values repeat from row to row, :class:`DriverInsert`
converts each distinct instant or date once, takes JSON already serialised, and hands plain tuples to
the DBAPI's ``executemany`` (SQLite's ``?`` or psycopg's ``%s``, JSON columns cast on PostgreSQL).
What is stored is exactly what the SQLAlchemy insert would store, as the contract tests check by
reading every row back through the ordinary repositories.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import JSON, Connection, Date, DateTime, Table

__all__ = ["DriverInsert", "json_text"]


def json_text(value: Any) -> str:
    """A JSON column's value as SQLAlchemy's default serialiser writes it (``json.dumps``)."""
    return json.dumps(value)


def _memo(process: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    """``process`` applied once per distinct value (``None`` stays ``None``)."""
    if process is None:
        return lambda value: value
    seen: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        if value is None:
            return None
        try:
            return seen[value]
        except KeyError:
            seen[value] = converted = process(value)
            return converted

    return convert


class DriverInsert:
    """``INSERT INTO table (columns) VALUES (...)`` for ``executemany`` through the driver.

    Rows are tuples in ``columns`` order: JSON columns already serialised (:func:`json_text`),
    instants and dates passed through :attr:`instant` and :attr:`day`, everything else as is.
    """

    def __init__(self, conn: Connection, table: Table, columns: Sequence[str]) -> None:
        dialect = conn.dialect
        self._conn = conn
        quote = dialect.identifier_preparer.quote
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        postgres = dialect.name == "postgresql"
        marks = [
            f"{mark}::json" if postgres and isinstance(table.c[name].type, JSON) else mark for name in columns
        ]
        # Identifiers come from the table's metadata (quoted), values are bound: nothing from input.
        self.sql = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
            f"VALUES ({', '.join(marks)})"
        )
        self.instant: Callable[[dt.datetime | None], Any] = _memo(
            DateTime(timezone=True).dialect_impl(dialect).bind_processor(dialect)
        )
        """An instant as the driver takes it (text on SQLite, as SQLAlchemy writes it)."""
        self.day: Callable[[dt.date | None], Any] = _memo(
            Date().dialect_impl(dialect).bind_processor(dialect)
        )
        """A date as the driver takes it."""

    def execute(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """One ``executemany`` in the connection's transaction (nothing for no rows)."""
        rows = list(rows)
        if rows:
            self._conn.exec_driver_sql(self.sql, rows)
