"""In-memory cotisation repositories: tariffs, lines, schedule lines and billing runs.

Lines and schedule lines are keyed by their natural key, so storing one twice fails like the SQL
primary key does (at the write, or at commit when another unit of work committed it first).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from mutuelle_adapters.memory.store import MemoryUnitOfWork, Table, totals_by
from mutuelle_core.cotisations.records import (
    LINE_COLUMNS,
    SCHEDULE_COLUMNS,
    BillingRun,
    BillingRunStatus,
    ContractTariff,
    LineValues,
    RegularisationRun,
    Row,
    ScheduleValues,
    as_row,
)

__all__ = ["MemoryCotisations", "MemoryTariffs"]


class MemoryTariffs:
    """Contract tariffs in memory."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._t: Table[ContractTariff] = Table(uow, "contract_tariffs", "tarif du contrat")

    def find(self, contract_number: str) -> ContractTariff | None:
        """See :class:`mutuelle_core.ports.TariffRepository`."""
        return self._t.find(contract_number)

    def get(self, contract_number: str) -> ContractTariff:
        """See :class:`mutuelle_core.ports.TariffRepository`."""
        return self._t.get(contract_number)

    def put(self, tariff: ContractTariff) -> ContractTariff:
        """See :class:`mutuelle_core.ports.TariffRepository`."""
        if tariff.version == 0:
            return self._t.insert(tariff.contract_number, tariff)
        return self._t.replace(tariff.contract_number, tariff)


def _line_key(row: Row) -> str:
    return "|".join(
        str(row[k]) for k in ("affiliation_id", "month", "person_id", "product", "payer", "channel")
    )


def _added(found: Row, row: Row) -> Row:
    """A due with ``row``'s amount added: the later of the two due dates, ``row``'s run."""
    return {
        **found,
        "amount_cents": found["amount_cents"] + row["amount_cents"],
        "due_date": max(found["due_date"], row["due_date"]),
        "run_id": row["run_id"],
    }


class MemoryCotisations:
    """Cotisation lines, members' schedule lines, employers' dues and billing runs in memory."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._lines: Table[Row] = Table(uow, "cotisation_lines", "ligne de cotisation")
        self._billed: Table[bool] = Table(uow, "cotisation_billed", "facturation")
        self._schedule: Table[Row] = Table(uow, "schedule_lines", "échéance")
        self._employer_dues: Table[Row] = Table(uow, "employer_dues", "échéance employeur")
        self._runs: Table[BillingRun] = Table(uow, "billing_runs", "facturation")
        self._regularisations: Table[Row] = Table(uow, "regularisation_lines", "ligne de régularisation")
        self._regularisation_runs: Table[RegularisationRun] = Table(
            uow, "regularisation_runs", "régularisation"
        )

    def billed_among(self, month: str, affiliation_ids: Collection[str]) -> set[str]:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        rows = self._billed.rows
        return {a for a in affiliation_ids if f"{month}|{a}" in rows}

    def add_lines(self, rows: Sequence[LineValues]) -> None:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        for values in rows:
            row = as_row(LINE_COLUMNS, values)
            self._lines.insert(_line_key(row), row)
            self._billed.put(f"{row['month']}|{row['affiliation_id']}", True)

    def add_schedule_lines(self, rows: Sequence[ScheduleValues]) -> None:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        for values in rows:
            row = as_row(SCHEDULE_COLUMNS, values)
            self._schedule.insert(f"{row['affiliation_id']}|{row['month']}|{row['payer']}", row)

    def add_to_employer_dues(self, rows: Sequence[Row]) -> None:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        for row in rows:
            key = f"{row['contract_number']}|{row['month']}"
            found = self._employer_dues.find(key)
            if found is None:
                self._employer_dues.put(key, dict(row))
            else:
                self._employer_dues.put(key, _added(found, row))

    def employer_dues(self, contract_number: str, month: str | None = None) -> Sequence[Row]:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        found = [
            dict(r)
            for r in self._employer_dues.values()
            if r["contract_number"] == contract_number and (month is None or r["month"] == month)
        ]
        return sorted(found, key=lambda r: r["month"])

    def lines_for(self, affiliation_id: str, month: str | None = None) -> Sequence[Row]:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        found = [
            r
            for r in self._lines.values()
            if r["affiliation_id"] == affiliation_id and (month is None or r["month"] == month)
        ]
        return sorted(
            found, key=lambda r: (r["month"], r["person_id"], r["product"], r["payer"], r["channel"])
        )

    def schedule_for(self, affiliation_id: str, month: str | None = None) -> Sequence[Row]:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        found = [
            r
            for r in self._schedule.values()
            if r["affiliation_id"] == affiliation_id and (month is None or r["month"] == month)
        ]
        return sorted(found, key=lambda r: (r["month"], r["payer"]))

    def count_lines(self, month: str) -> int:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        return sum(1 for r in self._lines.values() if r["month"] == month)

    def latest_run(self, month: str) -> BillingRun | None:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        runs = [r for r in self._runs.values() if r.month == month]
        return max(runs, key=lambda r: (r.started_at, r.run_id)) if runs else None

    def add_run(self, run: BillingRun) -> BillingRun:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        return self._runs.insert(run.run_id, run)

    def update_run(self, run: BillingRun) -> BillingRun:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        return self._runs.replace(run.run_id, run)

    def billed_months(self, up_to: str) -> Sequence[str]:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        return sorted(
            {r.month for r in self._runs.values() if r.status is BillingRunStatus.DONE and r.month <= up_to}
        )

    def earliest_run_start(self) -> dt.datetime | None:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        return min((r.started_at for r in self._runs.values()), default=None)

    def add_to_schedule_lines(self, rows: Sequence[Row]) -> None:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        for row in rows:
            key = f"{row['affiliation_id']}|{row['month']}|{row['payer']}"
            found = self._schedule.find(key)
            if found is None:
                self._schedule.put(key, dict(row))
            else:
                self._schedule.put(key, _added(found, row))

    def add_regularisation_lines(self, rows: Sequence[Row]) -> None:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        for row in rows:
            self._regularisations.insert(f"{_line_key(row)}|{row['run_id']}", dict(row))
            self._billed.put(f"{row['month']}|{row['affiliation_id']}", True)

    def regularisation_lines_for(self, affiliation_id: str, month: str | None = None) -> Sequence[Row]:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        found = [
            r
            for r in self._regularisations.values()
            if r["affiliation_id"] == affiliation_id and (month is None or r["month"] == month)
        ]
        return sorted(
            found,
            key=lambda r: (r["month"], r["person_id"], r["product"], r["payer"], r["channel"], r["run_id"]),
        )

    def regularisation_totals(self, billed_in: str) -> Sequence[Row]:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        keys = ("contract_number", "month", "payer", "channel", "product", "category")
        return totals_by((r for r in self._regularisations.values() if r["billed_in"] == billed_in), keys)

    def latest_regularisation_run(self, month: str | None = None) -> RegularisationRun | None:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        runs = [r for r in self._regularisation_runs.values() if month is None or r.month == month]
        return max(runs, key=lambda r: (r.started_at, r.run_id)) if runs else None

    def add_regularisation_run(self, run: RegularisationRun) -> RegularisationRun:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        return self._regularisation_runs.insert(run.run_id, run)

    def update_regularisation_run(self, run: RegularisationRun) -> RegularisationRun:
        """See :class:`mutuelle_core.ports.CotisationRepository`."""
        return self._regularisation_runs.replace(run.run_id, run)
