"""SQL repositories of the cotisations: tariffs, lines, schedule lines, billing runs, billable pages.

The billing run's reads and writes are made for volume:

* :func:`billable_page` reads one keyset page of affiliations with a narrow ``SELECT`` (ids, status,
  group, formula, dates and the ``covered``, ``departure``, ``continuation`` and ``journey`` JSON) and
  turns each row into a :class:`~mutuelle_core.cotisations.records.BillableAffiliation` without
  building the aggregate (no cattrs, no history): that is what makes 1M members affordable;
* lines and schedule lines are written with one ``execute(insert(table), rows)`` per batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

import attrs
from sqlalchemy import Connection, Table, and_, func, insert, select, update

from mutuelle_adapters.sql import tables as t
from mutuelle_core.affiliation.transitions import AffiliationStatus
from mutuelle_core.contracts.contract import ProductLevel
from mutuelle_core.cotisations.engine import CoveredPerson
from mutuelle_core.cotisations.records import (
    BILLABLE_STATUSES,
    BillableAffiliation,
    BillingRun,
    BillingRunStatus,
    ContractTariff,
    Row,
)
from mutuelle_core.cotisations.rules import CotisationRules
from mutuelle_core.cotisations.tariff import PersonCategory, TariffGrid
from mutuelle_core.departures.departure import ContinuationKind
from mutuelle_core.errors import CONCURRENCY_CONFLICT, NOT_FOUND
from mutuelle_core.serialization import converter
from mutuelle_core.values.dates import DateRange

if TYPE_CHECKING:
    from mutuelle_adapters.sql.uow import SqlUnitOfWork

__all__ = ["SqlCotisations", "SqlTariffs", "billable_page", "bulk_insert"]

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


def _range(data: dict[str, Any]) -> DateRange:
    start = _date(data["start"])
    assert start is not None
    return DateRange(start, _date(data.get("end")))


def _people(covered: list[dict[str, Any]]) -> tuple[CoveredPerson, ...]:
    return tuple(
        CoveredPerson(
            person_id=b["beneficiary_id"],
            category=_CATEGORY[b["details"]["kind"]],
            period=_range(b["period"]),
            birth_date=_date(b["details"].get("birth_date")),
            birth_rank=b["details"].get("birth_rank"),
        )
        for b in covered
    )


def billable_page(conn: Connection, cursor: str | None, limit: int) -> list[BillableAffiliation]:
    """One keyset page of billable affiliations as lean projections (see the module docstring).

    The status is filtered here rather than in SQL: with ``status IN (...)`` SQLite picks the status
    index and sorts every match for each page (quadratic over a run); walking the primary key keeps
    each page's cost proportional to its size.
    """
    a = t.affiliations.c
    out: list[BillableAffiliation] = []
    while len(out) < limit:
        query = select(
            a.affiliation_id,
            a.contract_number,
            a.status,
            a.group_code,
            a.adhesion_number,
            a.product_level,
            a.effective_date,
            a.journey,
            a.covered,
            a.departure,
            a.continuation,
        )
        if cursor is not None:
            query = query.where(a.affiliation_id > cursor)
        rows = conn.execute(query.order_by(a.affiliation_id).limit(limit - len(out))).all()
        if not rows:
            break
        cursor = rows[-1][0]
        _project(rows, out)
    return out


def _project(rows: Sequence[Any], out: list[BillableAffiliation]) -> None:
    append = out.append
    for row in rows:
        if row[2] not in _BILLABLE_SET:
            continue
        aff_id, number, status, group, adhesion, level, effective, journey, covered, departure, cont = row
        personal = journey.get("personal") if journey else None
        append(
            BillableAffiliation(
                affiliation_id=aff_id,
                contract_number=number,
                status=_STATUS[status],
                group_code=group,
                member_id=adhesion or aff_id,
                level=None if level is None else _LEVEL[level],
                effective_date=effective,
                birth_date=_date(personal.get("birth_date")) if personal else None,
                alsace_moselle=bool(journey) and journey.get("regime") == "alsace_moselle",
                beneficiaries=_people(covered) if covered else (),
                departure_last_day=_date(departure["last_day"]) if departure else None,
                continuation_kind=_KIND[cont["kind"]] if cont else None,
                continuation_period=_range(cont["period"]) if cont else None,
            )
        )


def bulk_insert(conn: Connection, table: Table, rows: Sequence[Row]) -> None:
    """Insert many rows of plain values fast, in the connection's transaction.

    PostgreSQL with psycopg: ``COPY ... FROM STDIN`` (several times faster than any ``INSERT``).
    SQLite: the driver's own ``executemany`` with named parameters, which skips SQLAlchemy's
    per-row parameter processing (the values are already ``str``, ``int`` and ``date``). Elsewhere:
    ``conn.execute(insert(table), rows)``. Constraints are checked all the same.
    """
    if not rows:
        return
    columns = list(rows[0])
    dialect = conn.dialect
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        driver = conn.connection.driver_connection
        assert driver is not None
        names = ", ".join(f'"{c}"' for c in columns)
        with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])
    elif dialect.name == "sqlite":
        names = ", ".join(f'"{c}"' for c in columns)
        params = ", ".join(f":{c}" for c in columns)
        conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({params})", list(rows))  # noqa: S608 (table and column names from our schema)
    else:
        conn.execute(insert(table), rows)


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


class SqlCotisations(_Repo):
    """Cotisation lines, schedule lines and billing runs in SQL."""

    def billed_among(self, month: str, affiliation_ids: Collection[str]) -> set[str]:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        c = t.cotisation_lines.c
        ids = list(affiliation_ids)
        found: set[str] = set()
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            rows = self.conn.execute(
                select(c.affiliation_id).distinct().where(c.month == month, c.affiliation_id.in_(chunk))
            )
            found.update(r[0] for r in rows)
        return found

    def add_lines(self, rows: Sequence[Row]) -> None:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        bulk_insert(self.conn, t.cotisation_lines, rows)

    def add_schedule_lines(self, rows: Sequence[Row]) -> None:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        bulk_insert(self.conn, t.schedule_lines, rows)

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
        query = select(t.schedule_lines).where(c.affiliation_id == affiliation_id)
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
        c = t.billing_runs.c
        stored = attrs.evolve(run, version=run.version + 1)
        values = _run_row(stored)
        del values["run_id"]
        done = self.conn.execute(
            update(t.billing_runs)
            .where(and_(c.run_id == run.run_id, c.version == run.version))
            .values(values)
        )
        if done.rowcount != 1:
            raise CONCURRENCY_CONFLICT(None, what=f"facturation {run.run_id}")
        return stored
