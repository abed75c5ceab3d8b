"""Bulk inserts through the driver: tuples already in the driver's terms, COPY or multi-row INSERTs.

``conn.execute(insert(table), rows)`` converts every value of every row through SQLAlchemy's type
processors (instants and dates to text on SQLite, JSON to text) and builds a parameter dictionary per
row. For the bulk invitation path, where most values repeat from row to row, :class:`DriverInsert`
converts each distinct instant or date once, takes JSON already serialised, and hands plain tuples to
the driver: ``COPY ... FROM STDIN`` with psycopg (from :data:`COPY_MIN_ROWS` rows), multi-row ``INSERT`` statements on SQLite (below),
the DBAPI's ``executemany`` elsewhere (JSON columns cast on PostgreSQL).
What is stored is exactly what the SQLAlchemy insert would store, as the contract tests check by
reading every row back through the ordinary repositories.

On SQLite the rows go as multi-row ``INSERT ... VALUES (...), (...)`` statements of up to
:data:`SQLITE_ROWS_PER_STATEMENT` rows, with numbered parameters: a column whose value is the very
same object in every row of the batch (the contract, the status, the instants, the empty JSON
documents, the ``NULL``s of a new invitation) is bound once per statement and referred to by every
row, the others once per row. A bulk invitation binds 7 values a row instead of 29, and SQLite runs
one statement per 500 rows instead of one per row (a quarter less time for its 300,000 rows).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from itertools import chain, repeat
from operator import is_
from typing import Any

from sqlalchemy import JSON, Connection, Date, DateTime, Table
from sqlalchemy.exc import DBAPIError

__all__ = ["COPY_MIN_ROWS", "SQLITE_MAX_VARIABLES", "SQLITE_ROWS_PER_STATEMENT", "DriverInsert", "json_text"]

SQLITE_MAX_VARIABLES = 32_766
"""SQLite's default limit on the parameters of one statement (since 3.32; builds may raise it)."""

COPY_MIN_ROWS = 100
"""Fewer rows go through SQLAlchemy's ``executemany`` even on PostgreSQL (seen by its events, e.g.
the tests' injected failures); COPY, which the driver runs alone, pays off from about this many."""

SQLITE_ROWS_PER_STATEMENT = 500
"""Rows of one multi-row ``INSERT`` on SQLite, fewer when they would need too many parameters."""


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
        self._head = f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) VALUES "  # noqa: S608
        self.sql = f"{self._head}({', '.join(marks)})"
        """The one-row statement (``executemany``)."""
        self._sqlite = dialect.name == "sqlite"
        self._copy = (
            f"COPY {quote(table.name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
            if postgres and dialect.driver == "psycopg"
            else None
        )
        self._width = len(columns)
        self.instant: Callable[[dt.datetime | None], Any] = _memo(
            DateTime(timezone=True).dialect_impl(dialect).bind_processor(dialect)
        )
        """An instant as the driver takes it (text on SQLite, as SQLAlchemy writes it)."""
        self.day: Callable[[dt.date | None], Any] = _memo(
            Date().dialect_impl(dialect).bind_processor(dialect)
        )
        """A date as the driver takes it."""

    def execute(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Insert the rows in the connection's transaction (nothing for no rows).

        SQLite: multi-row statements, values common to every row bound once (see the module's
        docstring); elsewhere one ``executemany`` of :attr:`sql`.
        """
        rows = list(rows)
        if not rows:
            return
        if self._copy is not None and len(rows) >= COPY_MIN_ROWS:
            self._copy_rows(rows)
            return
        if not self._sqlite or len(rows) == 1:
            self._conn.exec_driver_sql(self.sql, rows)
            return
        first = rows[0]
        columns = list(zip(*rows, strict=True))
        shared = [i for i, column in enumerate(columns) if all(map(is_, column, repeat(first[i])))]
        varying = [i for i in range(self._width) if i not in shared]
        if not varying:  # every row the same object by object: the constraints will refuse them
            self._conn.exec_driver_sql(self.sql, rows)
            return
        shared_values = [first[i] for i in shared]
        per_statement = max(
            1, min(SQLITE_ROWS_PER_STATEMENT, (SQLITE_MAX_VARIABLES - len(shared)) // len(varying))
        )
        flat = list(chain.from_iterable(zip(*[columns[i] for i in varying], strict=True)))
        size = per_statement * len(varying)
        full = len(rows) // per_statement * per_statement
        if full:
            self._conn.exec_driver_sql(
                self._multi_row_sql(shared, varying, per_statement),
                [
                    (*shared_values, *flat[start : start + size])
                    for start in range(0, full * len(varying), size)
                ],
            )
        if full < len(rows):
            self._conn.exec_driver_sql(
                self._multi_row_sql(shared, varying, len(rows) - full),
                (*shared_values, *flat[full * len(varying) :]),
            )

    def _copy_rows(self, rows: list[tuple[Any, ...]]) -> None:
        """PostgreSQL: ``COPY ... FROM STDIN``, each row written by psycopg (its text format, ``NULL``s)."""
        conn = self._conn
        if not conn.in_transaction():  # the driver's COPY alone would not begin SQLAlchemy's transaction,
            conn.begin()  # whose commit would then do nothing (the rows would be lost)
        driver = conn.connection.driver_connection
        assert driver is not None
        dbapi_error = conn.dialect.loaded_dbapi.Error
        try:
            with driver.cursor() as cursor, cursor.copy(self._copy) as copy:
                write = copy.write_row
                for row in rows:
                    write(row)
        except dbapi_error as exc:  # as SQLAlchemy raises it for a statement (IntegrityError, ...)
            raise DBAPIError.instance(self._copy, None, exc, dbapi_error, dialect=conn.dialect) from exc

    def _multi_row_sql(self, shared: list[int], varying: list[int], count: int) -> str:
        """``INSERT ... VALUES`` of ``count`` rows: ``?1..?k`` the shared values, then each row's."""
        slots: list[str] = [""] * self._width
        for number, i in enumerate(shared, start=1):
            slots[i] = f"?{number}"
        groups = []
        base = len(shared) + 1
        for _ in range(count):
            for number, i in enumerate(varying, start=base):
                slots[i] = f"?{number}"
            groups.append(f"({', '.join(slots)})")
            base += len(varying)
        return self._head + ", ".join(groups)
