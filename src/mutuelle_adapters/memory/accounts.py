"""In-memory mandates, payer ledgers, SEPA files and dunning cases.

A payer's dues are read from the schedule lines the billing run stored (see
:mod:`mutuelle_core.cotisations.account_records`), exactly as the SQL adapter does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

import attrs

from mutuelle_adapters.memory.store import MemoryUnitOfWork, Table, totals_by
from mutuelle_core.cotisations.account_records import (
    CollectionRecord,
    PayerKey,
    StoredDunning,
    StoredLedger,
    StoredMandate,
    UncollectedDue,
    dues_from_schedule,
    employer_due_id,
    member_due_id,
)
from mutuelle_core.cotisations.dunning import DunningStatus
from mutuelle_core.cotisations.mandates import MandateStatus
from mutuelle_core.cotisations.payments import Ledger
from mutuelle_core.cotisations.records import Row
from mutuelle_core.cotisations.rules import Payer
from mutuelle_core.errors import CONCURRENCY_CONFLICT

__all__ = ["MemoryAccounts", "MemoryDunning", "MemoryMandates"]

_FINISHED = frozenset({DunningStatus.SETTLED, DunningStatus.TERMINATED, DunningStatus.EXCLUDED})


class MemoryMandates:
    """SEPA mandates in memory."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._t: Table[StoredMandate] = Table(uow, "mandates", "mandat")

    def find(self, rum: str) -> StoredMandate | None:
        """See :class:`mutuelle_core.ports.MandateRepository`."""
        return self._t.find(rum)

    def active_for(self, affiliation_ids: Collection[str]) -> dict[str, StoredMandate]:
        """See :class:`mutuelle_core.ports.MandateRepository`."""
        wanted = set(affiliation_ids)
        found: dict[str, StoredMandate] = {}
        for stored in self._t.values():
            if stored.affiliation_id in wanted and stored.mandate.status is MandateStatus.ACTIVE:
                found[stored.affiliation_id] = stored
        return found

    def add(self, stored: StoredMandate) -> StoredMandate:
        """See :class:`mutuelle_core.ports.MandateRepository`."""
        return self._t.insert(str(stored.mandate.rum), stored)

    def update(self, stored: StoredMandate) -> StoredMandate:
        """See :class:`mutuelle_core.ports.MandateRepository`."""
        return self._t.replace(str(stored.mandate.rum), stored)

    def update_many(self, changed: Sequence[StoredMandate]) -> None:
        """See :class:`mutuelle_core.ports.MandateRepository`."""
        for stored in changed:
            self.update(stored)


class MemoryAccounts:
    """Payer ledgers and SEPA files in memory."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._ledgers: Table[StoredLedger] = Table(uow, "payer_accounts", "compte payeur")
        self._payments: Table[PayerKey] = Table(uow, "payments", "règlement")
        self._schedule: Table[Row] = Table(uow, "schedule_lines", "échéance")
        self._employer_dues: Table[Row] = Table(uow, "employer_dues", "échéance employeur")
        self._collections: Table[CollectionRecord] = Table(uow, "sepa_collections", "remise SEPA")
        self._lines: Table[Row] = Table(uow, "cotisation_lines", "ligne de cotisation")

    def _schedule_of(self, key: PayerKey) -> list[Row]:
        if key.payer is Payer.EMPLOYER:
            return [
                {**r, "payer": key.payer.value, "payer_id": r["contract_number"], "affiliation_id": ""}
                for r in self._employer_dues.values()
                if r["contract_number"] == key.payer_id
            ]
        payer = key.payer.value
        return [r for r in self._schedule.values() if r["payer"] == payer and r["payer_id"] == key.payer_id]

    def ledger(self, key: PayerKey) -> StoredLedger:
        """See :class:`mutuelle_core.ports.AccountRepository`."""
        dues = dues_from_schedule(key, self._schedule_of(key))
        stored = self._ledgers.find(str(key))
        if stored is None:
            return StoredLedger(key, Ledger(key.payer_id, dues=dues))
        return attrs.evolve(stored, ledger=attrs.evolve(stored.ledger, dues=dues))

    def ledgers(self, keys: Sequence[PayerKey]) -> dict[PayerKey, StoredLedger]:
        """See :class:`mutuelle_core.ports.AccountRepository`."""
        return {key: self.ledger(key) for key in keys}

    def save_many(self, changes: Sequence[tuple[StoredLedger, Ledger]]) -> None:
        """See :class:`mutuelle_core.ports.AccountRepository`."""
        if len({stored.key for stored, _ in changes}) != len(changes):
            raise CONCURRENCY_CONFLICT(None, what="compte payeur enregistré deux fois")
        for stored, ledger in changes:
            self.save(stored, ledger)

    def save(self, stored: StoredLedger, ledger: Ledger) -> StoredLedger:
        """See :class:`mutuelle_core.ports.AccountRepository`."""
        key = stored.key
        current = self._ledgers.find(str(key))
        if (0 if current is None else current.version) != stored.version:
            raise CONCURRENCY_CONFLICT(None, what=f"compte payeur {key}")
        for payment in ledger.payments:
            owner = self._payments.find(payment.payment_id)
            if owner is None:
                self._payments.put(payment.payment_id, key)
            elif owner != key:
                raise CONCURRENCY_CONFLICT(None, what=f"règlement {payment.payment_id}")
        kept = StoredLedger(key, attrs.evolve(ledger, dues=()), stored.version)
        if current is None:
            saved = self._ledgers.insert(str(key), kept)
        else:
            saved = self._ledgers.replace(str(key), kept)
        return attrs.evolve(saved, ledger=ledger)

    def payer_of(self, payment_id: str) -> PayerKey | None:
        """See :class:`mutuelle_core.ports.AccountRepository`."""
        return self._payments.find(payment_id)

    def _paid(self) -> dict[tuple[str, str, str], int]:
        paid: dict[tuple[str, str, str], int] = {}
        for stored in self._ledgers.values():
            for imputation in stored.ledger.imputations:
                k = (stored.key.payer.value, stored.key.payer_id, imputation.due_id)
                paid[k] = paid.get(k, 0) + imputation.amount.to_cents()
        return paid

    def _dues(self, due_on_or_before: dt.date) -> dict[tuple[str, str, str], tuple[int, Row]]:
        dues: dict[tuple[str, str, str], tuple[int, Row]] = {}
        employers = [
            {**r, "payer": Payer.EMPLOYER.value, "payer_id": r["contract_number"], "affiliation_id": ""}
            for r in self._employer_dues.values()
        ]
        for row in [*self._schedule.values(), *employers]:
            if row["due_date"] > due_on_or_before:
                continue
            month = row["month"]
            employer = row["payer"] == Payer.EMPLOYER.value
            due_id = employer_due_id(month) if employer else member_due_id(month, row["affiliation_id"])
            k = (row["payer"], row["payer_id"], due_id)
            before = dues.get(k)
            dues[k] = ((before[0] if before else 0) + row["amount_cents"], before[1] if before else row)
        return dues

    def in_arrears(self, due_on_or_before: dt.date) -> Sequence[PayerKey]:
        """See :class:`mutuelle_core.ports.AccountRepository`."""
        paid = self._paid()
        found = {
            PayerKey(Payer(k[0]), k[1])
            for k, (cents, _row) in self._dues(due_on_or_before).items()
            if paid.get(k, 0) < cents
        }
        return sorted(found, key=lambda p: (p.payer.value, p.payer_id))

    def uncollected(
        self, due_on_or_before: dt.date, *, after_member: str | None = None, members: int | None = None
    ) -> Sequence[UncollectedDue]:
        """See :class:`mutuelle_core.ports.AccountRepository`."""
        paid = self._paid()
        out = []
        for k, (cents, row) in self._dues(due_on_or_before).items():
            left = cents - paid.get(k, 0)
            if after_member is not None and k[1] <= after_member:
                continue
            if k[0] == Payer.MEMBER.value and left > 0:
                out.append(
                    UncollectedDue(
                        affiliation_id=row["affiliation_id"],
                        contract_number=row["contract_number"],
                        member_id=row["payer_id"],
                        month=row["month"],
                        due_date=row["due_date"],
                        outstanding_cents=left,
                    )
                )
        out.sort(key=lambda u: (u.member_id, u.due_date, u.affiliation_id))
        if members is not None:
            kept = sorted({u.member_id for u in out})[:members]
            out = [u for u in out if u.member_id in set(kept)]
        return out

    def month_totals(self, month: str) -> Sequence[Row]:
        """See :class:`mutuelle_core.ports.AccountRepository`."""
        keys = ("contract_number", "payer", "channel", "product", "category")
        return totals_by((r for r in self._lines.values() if r["month"] == month), keys)

    def add_collection(self, record: CollectionRecord) -> None:
        """See :class:`mutuelle_core.ports.AccountRepository`."""
        self._collections.insert(record.collection_id, record)

    def collections(self) -> Sequence[CollectionRecord]:
        """See :class:`mutuelle_core.ports.AccountRepository`."""
        return sorted(self._collections.values(), key=lambda c: (c.created_at, c.collection_id))


class MemoryDunning:
    """Dunning cases in memory."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._t: Table[StoredDunning] = Table(uow, "dunning_cases", "pré-contentieux")

    @staticmethod
    def _key(stored: StoredDunning) -> str:
        return f"{stored.key}|{stored.state.due_id}"

    def for_payer(self, key: PayerKey) -> Sequence[StoredDunning]:
        """See :class:`mutuelle_core.ports.DunningRepository`."""
        found = [s for s in self._t.values() if s.key == key]
        return sorted(found, key=lambda s: (s.state.due_date, s.state.due_id))

    def open_payers(self) -> Sequence[PayerKey]:
        """See :class:`mutuelle_core.ports.DunningRepository`."""
        found = {s.key for s in self._t.values() if s.state.status not in _FINISHED}
        return sorted(found, key=lambda p: (p.payer.value, p.payer_id))

    def put(self, stored: StoredDunning) -> StoredDunning:
        """See :class:`mutuelle_core.ports.DunningRepository`."""
        if stored.version == 0:
            return self._t.insert(self._key(stored), stored)
        return self._t.replace(self._key(stored), stored)
