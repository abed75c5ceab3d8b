"""SQL repositories of the cotisations: tariffs, lines, schedule lines, billing runs, billable pages.

The billing run's reads and writes are made for volume:

* :func:`billable_page` reads one keyset page of affiliations with a narrow ``SELECT`` run through
  the driver (ids, status, group, formula, dates, and only the fields billing needs of the
  ``journey``, ``departure``, ``continuation`` and ``covered`` JSON, extracted by the database) and
  turns each row into a :class:`~mutuelle_core.cotisations.records.BillableAffiliation` without
  building the aggregate (no cattrs, no history): that is what makes 1M members affordable. On
  PostgreSQL the rows of the next page are read ahead on another connection while the caller bills
  the current one;
* lines and schedule lines are written by :func:`bulk_insert`, one call per table and batch, through
  :class:`~mutuelle_adapters.sql.bulk.DriverInsert` (the bulk invitations' writer): multi-row
  ``INSERT`` statements on SQLite, ``COPY`` on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
import weakref
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import attrs
from sqlalchemy import Connection, Date, Engine, Table, and_, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from mutuelle_adapters.sql import tables as t
from mutuelle_adapters.sql.bulk import DriverInsert
from mutuelle_core.affiliation.transitions import AffiliationStatus
from mutuelle_core.contracts.contract import ProductLevel
from mutuelle_core.cotisations.engine import CoveredPerson
from mutuelle_core.cotisations.records import (
    BILLABLE_STATUSES,
    LINE_COLUMNS,
    SCHEDULE_COLUMNS,
    BillableAffiliation,
    BillingRun,
    BillingRunStatus,
    ContractTariff,
    LineValues,
    RegularisationRun,
    Row,
    ScheduleValues,
)
from mutuelle_core.cotisations.rules import CotisationRules
from mutuelle_core.cotisations.tariff import PersonCategory, TariffGrid
from mutuelle_core.departures.departure import ContinuationKind
from mutuelle_core.errors import CONCURRENCY_CONFLICT, NOT_FOUND
from mutuelle_core.serialization import converter
from mutuelle_core.values.dates import DateRange

if TYPE_CHECKING:
    from mutuelle_adapters.sql.uow import SqlUnitOfWork

__all__ = [
    "WRITE_BEHIND_ROWS",
    "SqlCotisations",
    "SqlTariffs",
    "add_amounts",
    "billable_page",
    "bulk_insert",
    "forget_read_ahead",
    "projections_of",
]

_BILLABLE = sorted(s.value for s in BILLABLE_STATUSES)
_BILLABLE_SET = frozenset(_BILLABLE)
_STATUS = {s.value: s for s in AffiliationStatus}
_LEVEL = {p.value: p for p in ProductLevel}
_CATEGORY = {
    "spouse": PersonCategory.SPOUSE,
    "child": PersonCategory.CHILD,
    "other_adult": PersonCategory.OTHER_ADULT,
}
_KIND = {k.value: k for k in ContinuationKind}
_DATES: dict[str, dt.date] = {}


def _date(text: str | None) -> dt.date | None:
    """ISO dates repeat a lot: parse each once."""
    if text is None:
        return None
    found = _DATES.get(text)
    if found is None:
        if len(_DATES) > 100_000:
            _DATES.clear()
        found = _DATES[text] = dt.date.fromisoformat(text)
    return found


_RANGES: dict[tuple[str, str | None], DateRange] = {}


def _range(start: str, end: str | None) -> DateRange:
    """Periods repeat a lot too (and ``DateRange`` is immutable): build each once."""
    found = _RANGES.get((start, end))
    if found is None:
        if len(_RANGES) > 100_000:
            _RANGES.clear()
        first = _date(start)
        assert first is not None
        found = _RANGES[(start, end)] = DateRange(first, _date(end))
    return found


def _people(covered: list[Any]) -> tuple[CoveredPerson, ...]:
    if covered and type(covered[0]) is not dict:
        return _flat_people(covered)
    out = []
    for b in covered:
        details, period = b["details"], b["period"]
        out.append(
            CoveredPerson(
                person_id=b["beneficiary_id"],
                category=_CATEGORY[details["kind"]],
                period=_range(period["start"], period.get("end")),
                birth_date=_date(details.get("birth_date")),
                birth_rank=details.get("birth_rank"),
            )
        )
    return tuple(out)


def _flat_people(flat: list[Any]) -> tuple[CoveredPerson, ...]:
    """The people of ``_FLAT_FIELDS`` values, beneficiary after beneficiary."""
    out = []
    for i in range(0, len(flat), 6):
        person_id, kind, start, end, birth_date, birth_rank = flat[i : i + 6]
        out.append(
            CoveredPerson(
                person_id=person_id,
                category=_CATEGORY[kind],
                period=_range(start, end),
                birth_date=_date(birth_date),
                birth_rank=birth_rank,
            )
        )
    return tuple(out)


_FLAT_FIELDS = (
    "beneficiary_id",
    "details.kind",
    "period.start",
    "period.end",
    "details.birth_date",
    "details.birth_rank",
)
_FLAT_UP_TO = 4
"""SQLite flattens the fields billing reads of up to this many beneficiaries (a larger household comes
whole): decoding those few values costs a fraction of decoding the whole ``covered`` JSON."""


def _sqlite_covered() -> str:
    def paths(count: int) -> str:
        return ", ".join(f"'$[{i}].{field}'" for i in range(count) for field in _FLAT_FIELDS)

    flat = " ".join(f"WHEN {n} THEN json_extract(covered, {paths(n)})" for n in range(1, _FLAT_UP_TO + 1))
    return f"CASE json_array_length(covered) WHEN 0 THEN NULL {flat} ELSE covered END"


# One narrow SELECT per dialect, run through the driver (no SQLAlchemy result processing): the JSON
# fields billing needs are extracted by the database; ``covered`` (a list) is decoded here, flattened
# first on SQLite (on PostgreSQL, whose ``json`` operators parse the text again at each step, that
# costs more than it saves). Dates come back as ISO text on both (parsed once each by ``_date``).
_PAGE_COLUMNS = (
    "affiliation_id, contract_number, status, group_code, adhesion_number, product_level, {effective}, "
    "{birth_date}, {regime}, {covered}, {last_day}, {kind}, {cont_start}, {cont_end} FROM affiliations"
)
_SQLITE_PAGE = "SELECT " + _PAGE_COLUMNS.format(
    effective="effective_date",
    birth_date="json_extract(journey, '$.personal.birth_date')",
    regime="json_extract(journey, '$.regime')",
    covered=_sqlite_covered(),
    last_day="json_extract(departure, '$.last_day')",
    kind="json_extract(continuation, '$.kind')",
    cont_start="json_extract(continuation, '$.period.start')",
    cont_end="json_extract(continuation, '$.period.end')",
)
_POSTGRES_PAGE = "SELECT " + _PAGE_COLUMNS.format(
    effective="effective_date::text",
    birth_date="json_extract_path_text(journey, 'personal', 'birth_date')",
    regime="json_extract_path_text(journey, 'regime')",
    covered="covered::text",
    last_day="json_extract_path_text(departure, 'last_day')",
    kind="json_extract_path_text(continuation, 'kind')",
    cont_start="json_extract_path_text(continuation, 'period', 'start')",
    cont_end="json_extract_path_text(continuation, 'period', 'end')",
)
_PAGE_QUERIES = {
    # (first page, next pages): pysqlite's qmark, psycopg's format parameters
    "sqlite": (
        _SQLITE_PAGE + " ORDER BY affiliation_id LIMIT ?",
        _SQLITE_PAGE + " WHERE affiliation_id > ? ORDER BY affiliation_id LIMIT ?",
    ),
    "postgresql": (
        _POSTGRES_PAGE + " ORDER BY affiliation_id LIMIT %s",
        _POSTGRES_PAGE + " WHERE affiliation_id > %s ORDER BY affiliation_id LIMIT %s",
    ),
}


def billable_page(
    conn: Connection, cursor: str | None, limit: int, *, reader: Callable[[], Connection] | None = None
) -> list[BillableAffiliation]:
    """One keyset page of billable affiliations as lean projections (see the module docstring).

    The status is filtered here rather than in SQL: with ``status IN (...)`` SQLite picks the status
    index and sorts every match for each page (quadratic over a run); walking the primary key keeps
    each page's cost proportional to its size.

    On PostgreSQL a full page also starts reading the rows of the next one (after its last id, same
    limit) on another connection, in a background thread, while the caller bills this one: the next
    call with that cursor and limit on the same connection takes them (and projects them itself).
    Those rows are what was committed when they were read, which is what a billing run reads anyway
    (it commits each page before asking for the next, and writes no affiliation); a call with another
    cursor reads for itself. ``reader``, when given, returns the connection to read on when nothing was
    read ahead (the unit of work's, once its writes behind are done): rows read ahead are taken
    without waiting for them.
    """
    out: list[BillableAffiliation] = []
    first, after = _PAGE_QUERIES[conn.dialect.name]
    rows = _rows_read_ahead(conn, cursor, limit)
    while len(out) < limit:
        if rows is None:
            live = conn if reader is None else reader()
            if cursor is None:
                rows = live.exec_driver_sql(first, (limit - len(out),)).fetchall()
            else:
                rows = live.exec_driver_sql(after, (cursor, limit - len(out))).fetchall()
        if not rows:
            break
        cursor = rows[-1][0]
        _project(rows, out)
        rows = None
    if len(out) == limit and conn.dialect.name == "postgresql":
        _read_ahead(conn, out[-1].affiliation_id, limit)
    return out


_AHEAD: weakref.WeakKeyDictionary[Connection, tuple[str, int, Future[Sequence[Any]]]] = (
    weakref.WeakKeyDictionary()
)
_READERS: list[ThreadPoolExecutor] = []


def _read_ahead(conn: Connection, cursor: str, limit: int) -> None:
    """Start reading the rows of the page after ``cursor`` on another connection (see above)."""
    if not _READERS:
        _READERS.append(ThreadPoolExecutor(max_workers=1, thread_name_prefix="billable-read-ahead"))
    _AHEAD[conn] = (cursor, limit, _READERS[0].submit(_read_rows, conn.engine, cursor, limit))


def forget_read_ahead() -> None:
    """Forget the pages being read ahead and the thread reading them: for a forked child process,
    which has the parent's memory but not its threads (see :mod:`mutuelle_adapters.sql.billing_worker`)."""
    _AHEAD.clear()
    _READERS.clear()


def _read_rows(engine: Engine, cursor: str, limit: int) -> Sequence[Any]:
    with engine.connect() as other:
        return other.exec_driver_sql(_PAGE_QUERIES[engine.dialect.name][1], (cursor, limit)).fetchall()


def _rows_read_ahead(conn: Connection, cursor: str | None, limit: int) -> Sequence[Any] | None:
    """The rows read ahead for this call, or ``None`` (none, for another page, or the read failed)."""
    ahead = _AHEAD.pop(conn, None)
    if ahead is None or (ahead[0], ahead[1]) != (cursor, limit):
        return None
    try:
        return ahead[2].result()
    except Exception:  # read again on the caller's connection, which reports any error
        return None


def _project(
    rows: Sequence[Any], out: list[BillableAffiliation], statuses: Collection[str] = _BILLABLE_SET
) -> None:
    append, loads, date = out.append, json.loads, _date
    for row in rows:
        (
            aff_id,
            number,
            status,
            group,
            adhesion,
            level,
            effective,
            birth,
            regime,
            covered,
            last_day,
            kind,
            cont_start,
            cont_end,
        ) = row
        if status not in statuses:
            continue
        append(
            BillableAffiliation(
                aff_id,
                number,
                _STATUS[status],
                group,
                adhesion or aff_id,
                None if level is None else _LEVEL[level],
                date(effective),
                date(birth),
                regime == "alsace_moselle",
                _people(loads(covered) or []) if covered and covered != "[]" else (),
                date(last_day),
                None if kind is None else _KIND[kind],
                None if cont_start is None else _range(cont_start, cont_end),
            )
        )


_EVERY_STATUS = frozenset(_STATUS)


def projections_of(conn: Connection, affiliation_ids: Sequence[str]) -> list[BillableAffiliation]:
    """The lean projections of these affiliations (any status), by id: the billing run's narrow
    ``SELECT`` (see :func:`billable_page`), filtered on the ids instead of a keyset page."""
    out: list[BillableAffiliation] = []
    dialect = conn.dialect.name
    select_ = _SQLITE_PAGE if dialect == "sqlite" else _POSTGRES_PAGE
    mark = "?" if dialect == "sqlite" else "%s"
    ids = sorted(affiliation_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        # the statement is built from constants and placeholders only: the ids are bound
        query = (
            f"{select_} WHERE affiliation_id IN ({', '.join([mark] * len(chunk))}) ORDER BY affiliation_id"
        )
        _project(conn.exec_driver_sql(query, tuple(chunk)).fetchall(), out, _EVERY_STATUS)
    return out


WRITE_BEHIND_ROWS = 100
"""Lines and schedule lines from this many are written behind (fewer: at once)."""


def bulk_insert(
    conn: Connection, table: Table, columns: Sequence[str], values: Sequence[tuple[Any, ...]]
) -> None:
    """Insert many new rows, tuples of plain values in ``columns`` order, in the connection's transaction.

    Through :class:`~mutuelle_adapters.sql.bulk.DriverInsert` (``COPY`` on PostgreSQL, multi-row
    ``INSERT`` statements binding once the values every row shares on SQLite); dates are converted
    as SQLAlchemy's ``Date`` stores them. Constraints are checked all the same: a key stored twice
    raises SQLAlchemy's ``IntegrityError``.
    """
    if not values:
        return
    insert_ = DriverInsert(conn, table, columns)
    days = [i for i, name in enumerate(columns) if isinstance(table.c[name].type, Date)]
    if days:
        day = insert_.day
        rows = [list(row) for row in values]
        for row in rows:
            for i in days:
                row[i] = day(row[i])
        values = [tuple(row) for row in rows]
    insert_.execute(values)


def add_amounts(conn: Connection, table: Table, key: Sequence[str], rows: Sequence[Row]) -> None:
    """Add each row's ``amount_cents`` to the row of ``table`` with the same ``key`` columns, creating it
    from the row when there is none (its ``run_id`` then records the last run that added to it, its
    ``due_date`` becomes the later of the two): one ``INSERT ... ON CONFLICT (key) DO UPDATE`` on
    SQLite or PostgreSQL, in the connection's transaction. Rows of the same key are summed first
    (``ON CONFLICT`` updates a row once per statement), the latest due date kept.

    Raises:
        ValueError: on another database (the adapter supports SQLite and PostgreSQL).
    """
    if not rows:
        return
    dialect = conn.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        raise ValueError(f"base de données non prise en charge : {dialect}")
    merged: dict[tuple[object, ...], dict[str, Any]] = {}
    for row in rows:
        at = tuple(row[name] for name in key)
        before = merged.get(at)
        merged[at] = (
            dict(row)
            if before is None
            else {
                **row,
                "amount_cents": before["amount_cents"] + row["amount_cents"],
                "due_date": max(before["due_date"], row["due_date"]),
            }
        )
    statement = (sqlite.insert(table) if dialect == "sqlite" else postgresql.insert(table)).values(
        list(merged.values())
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c[name] for name in key],
            set_={
                "amount_cents": table.c.amount_cents + statement.excluded.amount_cents,
                "run_id": statement.excluded.run_id,
                # the later date: SQLite's max() of two values is scalar (ISO dates compare as text)
                "due_date": (func.max if dialect == "sqlite" else func.greatest)(
                    table.c.due_date, statement.excluded.due_date
                ),
            },
        )
    )


_EMPLOYER_DUE_KEY = ("contract_number", "month")
_SCHEDULE_KEY = ("affiliation_id", "month", "payer")


class _Repo:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    @property
    def conn(self) -> Connection:
        return self._uow.connection


class SqlTariffs(_Repo):
    """Contract tariffs in SQL (the grid and the rules as JSON through the core's converter)."""

    def find(self, contract_number: str) -> ContractTariff | None:
        """See :class:`mutuelle_core.ports.TariffRepository`."""
        c = t.contract_tariffs.c
        row = self.conn.execute(
            select(c.grid, c.rules, c.version).where(c.contract_number == contract_number)
        ).first()
        if row is None:
            return None
        return ContractTariff(
            converter.structure(row[0], TariffGrid), converter.structure(row[1], CotisationRules), row[2]
        )

    def get(self, contract_number: str) -> ContractTariff:
        """See :class:`mutuelle_core.ports.TariffRepository`."""
        found = self.find(contract_number)
        if found is None:
            raise NOT_FOUND(None, what=f"tarif du contrat {contract_number}")
        return found

    def put(self, tariff: ContractTariff) -> ContractTariff:
        """See :class:`mutuelle_core.ports.TariffRepository`."""
        c = t.contract_tariffs.c
        values = {
            "grid": converter.unstructure(tariff.grid, TariffGrid),
            "rules": converter.unstructure(tariff.rules, CotisationRules),
            "version": tariff.version + 1,
        }
        if tariff.version == 0:
            if self.find(tariff.contract_number) is not None:
                raise CONCURRENCY_CONFLICT(None, what=f"tarif du contrat {tariff.contract_number}")
            self.conn.execute(
                insert(t.contract_tariffs).values(contract_number=tariff.contract_number, **values)
            )
        else:
            done = self.conn.execute(
                update(t.contract_tariffs)
                .where(and_(c.contract_number == tariff.contract_number, c.version == tariff.version))
                .values(values)
            )
            if done.rowcount != 1:
                raise CONCURRENCY_CONFLICT(None, what=f"tarif du contrat {tariff.contract_number}")
        return ContractTariff(tariff.grid, tariff.rules, tariff.version + 1)


def _run_row(run: BillingRun) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "month": run.month,
        "status": run.status.value,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "cursor": run.cursor,
        "affiliations": run.affiliations,
        "billed": run.billed,
        "lines": run.lines,
        "amount_cents": run.amount_cents,
        "version": run.version,
    }


def _regularisation_run_row(run: RegularisationRun) -> dict[str, Any]:
    row = attrs.asdict(run, recurse=False)
    row["status"] = run.status.value
    return row


def _regularisation_run(row: Any) -> RegularisationRun:
    values = dict(row)
    values["status"] = BillingRunStatus(values["status"])
    for name in ("since", "started_at", "finished_at"):
        values[name] = _utc(values[name])
    return RegularisationRun(**values)


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _run(row: Any) -> BillingRun:
    started = _utc(row["started_at"])
    assert started is not None
    return BillingRun(
        run_id=row["run_id"],
        month=row["month"],
        status=BillingRunStatus(row["status"]),
        started_at=started,
        finished_at=_utc(row["finished_at"]),
        cursor=row["cursor"],
        affiliations=row["affiliations"],
        billed=row["billed"],
        lines=row["lines"],
        amount_cents=row["amount_cents"],
        version=row["version"],
    )


def _without_paid(table: Table) -> list[Any]:
    """A due table's columns but ``paid_cents``, the accounts adapter's own bookkeeping (what is paid
    of a due is read from the payer's ledger)."""
    return [c for c in table.c if c.name != "paid_cents"]


class SqlCotisations(_Repo):
    """Cotisation lines, schedule lines and billing runs in SQL."""

    def billed_among(self, month: str, affiliation_ids: Collection[str]) -> set[str]:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        c, r = t.cotisation_lines.c, t.regularisation_lines.c
        ids = list(affiliation_ids)
        found: set[str] = set()
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            rows = self.conn.execute(
                select(c.affiliation_id)
                .where(c.month == month, c.affiliation_id.in_(chunk))
                .union(select(r.affiliation_id).where(r.month == month, r.affiliation_id.in_(chunk)))
            )
            found.update(row[0] for row in rows)
        return found

    def add_lines(self, rows: Sequence[LineValues]) -> None:
        """See :class:`mutuelle_core.ports.CotisationRepository` (written behind from 100 rows)."""
        self._insert(t.cotisation_lines, LINE_COLUMNS, rows)

    def add_schedule_lines(self, rows: Sequence[ScheduleValues]) -> None:
        """See :class:`mutuelle_core.ports.CotisationRepository` (written behind from 100 rows)."""
        self._insert(t.schedule_lines, SCHEDULE_COLUMNS, rows)

    def _insert(self, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        """Many rows go to the unit of work's writer thread (see :mod:`mutuelle_adapters.sql.uow`):
        the caller prepares the next batch while the database stores these; an error (a line billed
        twice) is raised by the next use of the connection, at the latest by ``commit``."""
        if len(rows) < WRITE_BEHIND_ROWS:
            bulk_insert(self.conn, table, columns, rows)
            return
        conn, batch = self._uow.bulk_connection, list(rows)
        self._uow.write_behind(lambda: bulk_insert(conn, table, columns, batch))

    def add_to_employer_dues(self, rows: Sequence[Row]) -> None:
        """See :class:`mutuelle_core.ports.CotisationRepository` (written behind, after the lines,
        when they are)."""
        if not rows:
            return
        batch = [dict(r) for r in rows]
        if not self._uow.writing_behind:
            add_amounts(self.conn, t.employer_dues, _EMPLOYER_DUE_KEY, batch)
            return
        conn = self._uow.bulk_connection
        self._uow.write_behind(lambda: add_amounts(conn, t.employer_dues, _EMPLOYER_DUE_KEY, batch))

    def employer_dues(self, contract_number: str, month: str | None = None) -> Sequence[Row]:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        c = t.employer_dues.c
        query = select(*_without_paid(t.employer_dues)).where(c.contract_number == contract_number)
        if month is not None:
            query = query.where(c.month == month)
        return [dict(r) for r in self.conn.execute(query.order_by(c.month)).mappings()]

    def lines_for(self, affiliation_id: str, month: str | None = None) -> Sequence[Row]:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        c = t.cotisation_lines.c
        query = select(t.cotisation_lines).where(c.affiliation_id == affiliation_id)
        if month is not None:
            query = query.where(c.month == month)
        order = (c.month, c.person_id, c.product, c.payer, c.channel)
        return [dict(r) for r in self.conn.execute(query.order_by(*order)).mappings()]

    def schedule_for(self, affiliation_id: str, month: str | None = None) -> Sequence[Row]:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        c = t.schedule_lines.c
        query = select(*_without_paid(t.schedule_lines)).where(c.affiliation_id == affiliation_id)
        if month is not None:
            query = query.where(c.month == month)
        return [dict(r) for r in self.conn.execute(query.order_by(c.month, c.payer)).mappings()]

    def count_lines(self, month: str) -> int:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        c = t.cotisation_lines.c
        return int(self.conn.execute(select(func.count()).where(c.month == month)).scalar_one())

    def latest_run(self, month: str) -> BillingRun | None:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        c = t.billing_runs.c
        row = (
            self.conn.execute(
                select(t.billing_runs).where(c.month == month).order_by(c.started_at.desc(), c.run_id.desc())
            )
            .mappings()
            .first()
        )
        return None if row is None else _run(row)

    def add_run(self, run: BillingRun) -> BillingRun:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        stored = attrs.evolve(run, version=1)
        self.conn.execute(insert(t.billing_runs).values(_run_row(stored)))
        return stored

    def update_run(self, run: BillingRun) -> BillingRun:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        stored = attrs.evolve(run, version=run.version + 1)
        self._update_versioned(t.billing_runs, _run_row(stored), run.version, f"facturation {run.run_id}")
        return stored

    def _update_versioned(self, table: Table, values: dict[str, Any], version: int, what: str) -> None:
        """Replace the run row ``values["run_id"]`` stored at ``version`` by ``values`` (optimistic
        concurrency: ``concurrency_conflict`` when another unit of work changed it first)."""
        c = table.c
        run_id = values.pop("run_id")
        done = self.conn.execute(
            update(table).where(and_(c.run_id == run_id, c.version == version)).values(values)
        )
        if done.rowcount != 1:
            raise CONCURRENCY_CONFLICT(None, what=what)

    def billed_months(self, up_to: str) -> Sequence[str]:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        c = t.billing_runs.c
        query = (
            select(c.month)
            .distinct()
            .where(c.status == BillingRunStatus.DONE.value, c.month <= up_to)
            .order_by(c.month)
        )
        return [r[0] for r in self.conn.execute(query)]

    def earliest_run_start(self) -> dt.datetime | None:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        return _utc(self.conn.execute(select(func.min(t.billing_runs.c.started_at))).scalar_one())

    def add_to_schedule_lines(self, rows: Sequence[Row]) -> None:
        """See :class:`mutuelle_core.ports.CotisationRepository` (one ``INSERT ... ON CONFLICT``)."""
        add_amounts(self.conn, t.schedule_lines, _SCHEDULE_KEY, rows)

    def add_regularisation_lines(self, rows: Sequence[Row]) -> None:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        if rows:
            self.conn.execute(insert(t.regularisation_lines), [dict(r) for r in rows])

    def regularisation_lines_for(self, affiliation_id: str, month: str | None = None) -> Sequence[Row]:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        c = t.regularisation_lines.c
        query = select(t.regularisation_lines).where(c.affiliation_id == affiliation_id)
        if month is not None:
            query = query.where(c.month == month)
        order = (c.month, c.person_id, c.product, c.payer, c.channel, c.run_id)
        return [dict(r) for r in self.conn.execute(query.order_by(*order)).mappings()]

    def regularisation_totals(self, billed_in: str) -> Sequence[Row]:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        c = t.regularisation_lines.c
        keys = (c.contract_number, c.month, c.payer, c.channel, c.product, c.category)
        rows = self.conn.execute(
            select(
                *keys,
                func.count(func.distinct(c.member_id)).label("members"),
                func.sum(c.amount_cents).label("amount_cents"),
            )
            .where(c.billed_in == billed_in)
            .group_by(*keys)
            .order_by(*keys)
        ).mappings()
        return [
            {**dict(r), "members": int(r["members"]), "amount_cents": int(r["amount_cents"])} for r in rows
        ]

    def latest_regularisation_run(self, month: str | None = None) -> RegularisationRun | None:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        c = t.regularisation_runs.c
        query = select(t.regularisation_runs)
        if month is not None:
            query = query.where(c.month == month)
        row = self.conn.execute(query.order_by(c.started_at.desc(), c.run_id.desc())).mappings().first()
        return None if row is None else _regularisation_run(row)

    def add_regularisation_run(self, run: RegularisationRun) -> RegularisationRun:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        stored = attrs.evolve(run, version=1)
        self.conn.execute(insert(t.regularisation_runs).values(_regularisation_run_row(stored)))
        return stored

    def update_regularisation_run(self, run: RegularisationRun) -> RegularisationRun:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        stored = attrs.evolve(run, version=run.version + 1)
        self._update_versioned(
            t.regularisation_runs,
            _regularisation_run_row(stored),
            run.version,
            f"régularisation {run.run_id}",
        )
        return stored
