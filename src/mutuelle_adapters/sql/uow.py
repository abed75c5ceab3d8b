"""The SQL unit of work: one connection, one transaction, every repository of the core's ports.

Optimistic concurrency: ``update`` runs ``UPDATE ... SET version = version + 1 WHERE key = :key AND
version = :loaded``; when no row matches, someone else committed a change since the aggregate was
loaded, and ``ConcurrencyConflict`` is raised before anything of this aggregate is written (the unit of
work then rolls back as a whole).

Write-behind of bulk inserts: ``add_many`` of many affiliations or messages hands its rows, converted,
to a writer thread of the unit of work, which inserts them on the unit of work's connection, in the
order given, while the caller prepares the next batch (the drivers release the GIL while the database
works: SQLite inserting into its indexes, PostgreSQL receiving a COPY). Any other use of the
connection (:attr:`SqlUnitOfWork.connection`: every query, ``commit``, ``rollback``) first waits for
these writes; the first one that failed is raised there (the writes queued after it are skipped), so
nothing is committed after a failed write and the caller's transaction stays the only one.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any, Self

import attrs
from sqlalchemy import Connection, Engine, and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from mutuelle_adapters.email.rendering import CARRY_SECRETS, SCRUBBED_BODY, MessageRenderer, default_renderer
from mutuelle_adapters.sql import mapping
from mutuelle_adapters.sql import tables as t
from mutuelle_adapters.sql.accounts import SqlAccounts, SqlDunning, SqlMandates
from mutuelle_adapters.sql.bulk import COPY_MIN_ROWS, DriverInsert, json_text
from mutuelle_adapters.sql.cotisations import SqlCotisations, SqlTariffs, billable_page, projections_of
from mutuelle_adapters.strong_auth import AuthChallenge
from mutuelle_core.affiliation.affiliation import Affiliation
from mutuelle_core.affiliation.transitions import AffiliationStatus
from mutuelle_core.contracts.contract import CollectiveContract
from mutuelle_core.contracts.correspondent import DUPLICATE_LOGIN, Correspondent, CorrespondentStatus
from mutuelle_core.contracts.employer import Employer
from mutuelle_core.cotisations.records import BillableAffiliation
from mutuelle_core.designation.designation import Designation, DesignationStatus
from mutuelle_core.errors import ALREADY_EXISTS, CONCURRENCY_CONFLICT, NOT_FOUND
from mutuelle_core.events import DomainEvent
from mutuelle_core.ports import Clock, Document, IdGenerator, OutboxEntry, OutgoingMessage
from mutuelle_core.values.identity import Email

logger = logging.getLogger(__name__)

WRITES_BEHIND = 2
"""Batches a unit of work lets wait for its writer thread; the next one waits for the oldest."""

RENDER_RETRY_DELAY = dt.timedelta(days=1)
"""A stored message that cannot be rendered (a template changed since) is put aside this long, with
its error recorded, so that the messages behind it are still sent."""

__all__ = ["SqlUnitOfWork", "SqlUnitOfWorkFactory"]

DUPLICATE = ALREADY_EXISTS


class _Repo:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    @property
    def conn(self) -> Connection:
        return self._uow.connection

    def _versioned_update(self, table: Any, key_col: Any, key: str, row: dict[str, Any], what: str) -> int:
        loaded = row["version"]
        new_version = loaded + 1
        values = {k: v for k, v in row.items() if k != key_col.name}
        values["version"] = new_version
        result = self.conn.execute(
            update(table).where(and_(key_col == key, table.c.version == loaded)).values(values)
        )
        if result.rowcount != 1:
            exists = self.conn.execute(select(key_col).where(key_col == key)).first()
            if exists is None:
                raise NOT_FOUND(None, what=f"{what} {key}")
            raise CONCURRENCY_CONFLICT(None, what=f"{what} {key}")
        return int(new_version)

    def _insert(self, table: Any, key_col: Any, key: str, row: dict[str, Any], what: str) -> None:
        if self.conn.execute(select(key_col).where(key_col == key)).first() is not None:
            raise DUPLICATE(None, what=f"{what} {key}")
        self.conn.execute(insert(table).values(row))


def _stored(aggregate: Any, uow: SqlUnitOfWork, version: int) -> Any:
    uow._record(aggregate.pending_events)
    return attrs.evolve(aggregate, version=version, pending_events=())


class SqlEmployers(_Repo):
    """Employers in SQL."""

    def find(self, employer_id: str) -> Employer | None:
        """See :class:`mutuelle_core.ports.EmployerRepository`."""
        row = (
            self.conn.execute(select(t.employers).where(t.employers.c.employer_id == employer_id))
            .mappings()
            .first()
        )
        return None if row is None else mapping.employer_from_row(row)

    def get(self, employer_id: str) -> Employer:
        """See :class:`mutuelle_core.ports.EmployerRepository`."""
        found = self.find(employer_id)
        if found is None:
            raise NOT_FOUND(None, what=f"entreprise {employer_id}")
        return found

    def add(self, employer: Employer) -> Employer:
        """See :class:`mutuelle_core.ports.EmployerRepository`."""
        row = mapping.employer_to_row(attrs.evolve(employer, version=1))
        self._insert(t.employers, t.employers.c.employer_id, employer.employer_id, row, "entreprise")
        return _stored(employer, self._uow, 1)  # type: ignore[no-any-return]

    def update(self, employer: Employer) -> Employer:
        """See :class:`mutuelle_core.ports.EmployerRepository`."""
        row = mapping.employer_to_row(employer)
        version = self._versioned_update(
            t.employers, t.employers.c.employer_id, employer.employer_id, row, "entreprise"
        )
        return _stored(employer, self._uow, version)  # type: ignore[no-any-return]

    def list(self) -> Sequence[Employer]:
        """See :class:`mutuelle_core.ports.EmployerRepository`."""
        rows = self.conn.execute(select(t.employers).order_by(t.employers.c.name, t.employers.c.employer_id))
        return [mapping.employer_from_row(r) for r in rows.mappings()]


class SqlContracts(_Repo):
    """Contracts, their groups and products in SQL."""

    def find(self, number: str) -> CollectiveContract | None:
        """See :class:`mutuelle_core.ports.ContractRepository`."""
        head = self.conn.execute(select(t.contracts).where(t.contracts.c.number == number)).mappings().first()
        if head is None:
            return None
        return self._load(head)

    def _load(self, head: Any) -> CollectiveContract:
        number = head["number"]
        groups = self.conn.execute(
            select(t.assured_groups).where(t.assured_groups.c.contract_number == number)
        ).mappings()
        products = self.conn.execute(
            select(t.products).where(t.products.c.contract_number == number)
        ).mappings()
        return mapping.contract_from_rows(head, list(groups), list(products))

    def get(self, number: str) -> CollectiveContract:
        """See :class:`mutuelle_core.ports.ContractRepository`."""
        found = self.find(number)
        if found is None:
            raise NOT_FOUND(None, what=f"contrat {number}")
        return found

    def add(self, contract: CollectiveContract) -> CollectiveContract:
        """See :class:`mutuelle_core.ports.ContractRepository`."""
        head, groups, products = mapping.contract_to_rows(attrs.evolve(contract, version=1))
        self._insert(t.contracts, t.contracts.c.number, contract.number, head, "contrat")
        self._write_children(groups, products)
        return _stored(contract, self._uow, 1)  # type: ignore[no-any-return]

    def update(self, contract: CollectiveContract) -> CollectiveContract:
        """See :class:`mutuelle_core.ports.ContractRepository`."""
        head, groups, products = mapping.contract_to_rows(contract)
        version = self._versioned_update(t.contracts, t.contracts.c.number, contract.number, head, "contrat")
        self.conn.execute(delete(t.products).where(t.products.c.contract_number == contract.number))
        self.conn.execute(
            delete(t.assured_groups).where(t.assured_groups.c.contract_number == contract.number)
        )
        self._write_children(groups, products)
        return _stored(contract, self._uow, version)  # type: ignore[no-any-return]

    def _write_children(self, groups: list[dict[str, Any]], products: list[dict[str, Any]]) -> None:
        if groups:
            self.conn.execute(insert(t.assured_groups), groups)
        if products:
            self.conn.execute(insert(t.products), products)

    def list_for_employer(self, employer_id: str) -> Sequence[CollectiveContract]:
        """See :class:`mutuelle_core.ports.ContractRepository`."""
        heads = self.conn.execute(
            select(t.contracts).where(t.contracts.c.employer_id == employer_id).order_by(t.contracts.c.number)
        ).mappings()
        return [self._load(h) for h in list(heads)]


class SqlCorrespondents(_Repo):
    """Correspondents and their scopes in SQL."""

    def _one(self, condition: Any) -> Correspondent | None:
        row = self.conn.execute(select(t.correspondents).where(condition)).mappings().first()
        if row is None:
            return None
        scopes = self.conn.execute(
            select(t.correspondent_scopes).where(
                t.correspondent_scopes.c.correspondent_id == row["correspondent_id"]
            )
        ).mappings()
        return mapping.correspondent_from_rows(row, list(scopes))

    def find(self, correspondent_id: str) -> Correspondent | None:
        """See :class:`mutuelle_core.ports.CorrespondentRepository`."""
        return self._one(t.correspondents.c.correspondent_id == correspondent_id)

    def get(self, correspondent_id: str) -> Correspondent:
        """See :class:`mutuelle_core.ports.CorrespondentRepository`."""
        found = self.find(correspondent_id)
        if found is None:
            raise NOT_FOUND(None, what=f"correspondant {correspondent_id}")
        return found

    def find_by_login(self, login: str) -> Correspondent | None:
        """See :class:`mutuelle_core.ports.CorrespondentRepository`."""
        return self._one(t.correspondents.c.login_key == login.lower())

    def find_by_activation(self, token_hash: str) -> Correspondent | None:
        """See :class:`mutuelle_core.ports.CorrespondentRepository`."""
        return self._one(
            and_(
                t.correspondents.c.activation_token_hash == token_hash,
                t.correspondents.c.status != CorrespondentStatus.DELETED.value,
            )
        )

    def add(self, correspondent: Correspondent) -> Correspondent:
        """See :class:`mutuelle_core.ports.CorrespondentRepository`."""
        if self.find_by_login(correspondent.login) is not None:
            raise DUPLICATE_LOGIN("login", login=correspondent.login)
        head, scopes = mapping.correspondent_to_rows(attrs.evolve(correspondent, version=1))
        self._insert(
            t.correspondents,
            t.correspondents.c.correspondent_id,
            correspondent.correspondent_id,
            head,
            "correspondant",
        )
        self.conn.execute(insert(t.correspondent_scopes), scopes)
        return _stored(correspondent, self._uow, 1)  # type: ignore[no-any-return]

    def update(self, correspondent: Correspondent) -> Correspondent:
        """See :class:`mutuelle_core.ports.CorrespondentRepository`."""
        head, scopes = mapping.correspondent_to_rows(correspondent)
        version = self._versioned_update(
            t.correspondents,
            t.correspondents.c.correspondent_id,
            correspondent.correspondent_id,
            head,
            "correspondant",
        )
        self.conn.execute(
            delete(t.correspondent_scopes).where(
                t.correspondent_scopes.c.correspondent_id == correspondent.correspondent_id
            )
        )
        self.conn.execute(insert(t.correspondent_scopes), scopes)
        return _stored(correspondent, self._uow, version)  # type: ignore[no-any-return]

    def list_for_employer(self, employer_id: str) -> Sequence[Correspondent]:
        """See :class:`mutuelle_core.ports.CorrespondentRepository`."""
        rows = list(
            self.conn.execute(
                select(t.correspondents)
                .where(t.correspondents.c.employer_id == employer_id)
                .order_by(t.correspondents.c.login_key)
            ).mappings()
        )
        ids = [r["correspondent_id"] for r in rows]
        scopes: dict[str, list[Any]] = {i: [] for i in ids}
        if ids:
            for s in self.conn.execute(
                select(t.correspondent_scopes).where(t.correspondent_scopes.c.correspondent_id.in_(ids))
            ).mappings():
                scopes[s["correspondent_id"]].append(s)
        return [mapping.correspondent_from_rows(r, scopes[r["correspondent_id"]]) for r in rows]


class SqlAffiliations(_Repo):
    """Affiliation files and their history in SQL."""

    def _load_many(self, rows: list[Any]) -> list[Affiliation]:
        if not rows:
            return []
        ids = [r["affiliation_id"] for r in rows]
        history: dict[str, list[Any]] = {i: [] for i in ids}
        h = t.affiliation_history
        for chunk_start in range(0, len(ids), 500):
            chunk = ids[chunk_start : chunk_start + 500]
            for row in self.conn.execute(
                select(h).where(h.c.affiliation_id.in_(chunk)).order_by(h.c.affiliation_id, h.c.seq)
            ).mappings():
                history[row["affiliation_id"]].append(row)
        return [mapping.affiliation_from_rows(r, history[r["affiliation_id"]]) for r in rows]

    def _where(self, condition: Any) -> list[Affiliation]:
        rows = list(self.conn.execute(select(t.affiliations).where(condition)).mappings())
        return self._load_many(rows)

    def find(self, affiliation_id: str) -> Affiliation | None:
        """See :class:`mutuelle_core.ports.AffiliationRepository`."""
        found = self._where(t.affiliations.c.affiliation_id == affiliation_id)
        return found[0] if found else None

    def get(self, affiliation_id: str) -> Affiliation:
        """See :class:`mutuelle_core.ports.AffiliationRepository`."""
        found = self.find(affiliation_id)
        if found is None:
            raise NOT_FOUND(None, what=f"dossier {affiliation_id}")
        return found

    def add(self, affiliation: Affiliation) -> Affiliation:
        """See :class:`mutuelle_core.ports.AffiliationRepository`."""
        row = mapping.affiliation_to_rows(attrs.evolve(affiliation, version=1))
        row["changed_at"] = self._uow.clock.now()
        self._insert(
            t.affiliations, t.affiliations.c.affiliation_id, affiliation.affiliation_id, row, "dossier"
        )
        if affiliation.history:
            self.conn.execute(
                insert(t.affiliation_history),
                mapping.history_to_rows(affiliation.affiliation_id, affiliation.history, 0),
            )
        return _stored(affiliation, self._uow, 1)  # type: ignore[no-any-return]

    def add_many(self, affiliations: Sequence[Affiliation]) -> None:
        """See :class:`mutuelle_core.ports.AffiliationRepository` (written behind from 100 files)."""
        if not affiliations:
            return
        behind = len(affiliations) >= COPY_MIN_ROWS
        conn = self._uow.bulk_connection if behind else self.conn
        heads = DriverInsert(conn, t.affiliations, (*mapping.AFFILIATION_COLUMNS, "changed_at"))
        history = DriverInsert(conn, t.affiliation_history, mapping.HISTORY_COLUMNS)
        instant, day = heads.instant, heads.day
        changed = instant(self._uow.clock.now())
        head_rows, history_rows = [], []
        values, record = mapping.affiliation_values, self._uow._record
        single_entries: dict[int, tuple[Any, ...]] = {}  # a history shared by the batch: converted once
        for a in affiliations:
            head_rows.append((*values(a, instant, day, 1), changed))
            entries = a.history
            if len(entries) == 1:
                row = single_entries.get(id(entries))
                if row is None:
                    row = single_entries[id(entries)] = mapping.history_values("", entries, 0, instant)[0]
                history_rows.append((a.affiliation_id, *row[1:]))
            else:
                history_rows.extend(mapping.history_values(a.affiliation_id, entries, 0, instant))
            record(a.pending_events)

        def write() -> None:
            heads.execute(head_rows)
            history.execute(history_rows)

        if behind:
            self._uow.write_behind(write)
        else:
            write()

    def update(self, affiliation: Affiliation) -> Affiliation:
        """See :class:`mutuelle_core.ports.AffiliationRepository` (history is append-only)."""
        row = mapping.affiliation_to_rows(affiliation)
        row["changed_at"] = self._uow.clock.now()
        version = self._versioned_update(
            t.affiliations, t.affiliations.c.affiliation_id, affiliation.affiliation_id, row, "dossier"
        )
        h = t.affiliation_history
        stored = self.conn.execute(
            select(func.count()).select_from(h).where(h.c.affiliation_id == affiliation.affiliation_id)
        ).scalar_one()
        new_entries = affiliation.history[stored:]
        if new_entries:
            self.conn.execute(
                insert(h), mapping.history_to_rows(affiliation.affiliation_id, new_entries, stored)
            )
        return _stored(affiliation, self._uow, version)  # type: ignore[no-any-return]

    def find_by_link(self, token_hash: str) -> Affiliation | None:
        """See :class:`mutuelle_core.ports.AffiliationRepository`."""
        found = self._where(t.affiliations.c.link_token_hash == token_hash)
        return found[0] if found else None

    def existing_keys(self, contract_number: str, keys: Collection[str]) -> set[str]:
        """See :class:`mutuelle_core.ports.AffiliationRepository`."""
        c = t.affiliations.c
        counted = [s.value for s in AffiliationStatus if s.counts_as_existing]
        wanted = list(keys)
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = self.conn.execute(
                select(c.person_key).where(
                    c.contract_number == contract_number, c.person_key.in_(chunk), c.status.in_(counted)
                )
            )
            found.update(r[0] for r in rows)
        return found

    def list_for_contract(
        self, contract_number: str, statuses: Collection[AffiliationStatus] | None = None
    ) -> Sequence[Affiliation]:
        """See :class:`mutuelle_core.ports.AffiliationRepository`."""
        c = t.affiliations.c
        query = select(t.affiliations).where(c.contract_number == contract_number)
        if statuses is not None:
            query = query.where(c.status.in_([s.value for s in statuses]))
        rows = list(
            self.conn.execute(query.order_by(c.birth_name, c.first_names, c.affiliation_id)).mappings()
        )
        return self._load_many(rows)

    def list_in_status(self, statuses: Collection[AffiliationStatus]) -> Sequence[Affiliation]:
        """See :class:`mutuelle_core.ports.AffiliationRepository`."""
        c = t.affiliations.c
        rows = list(
            self.conn.execute(
                select(t.affiliations)
                .where(c.status.in_([s.value for s in statuses]))
                .order_by(c.affiliation_id)
            ).mappings()
        )
        return self._load_many(rows)

    def billable_after(self, cursor: str | None, limit: int) -> Sequence[BillableAffiliation]:
        """See :class:`mutuelle_core.ports.AffiliationRepository` (a narrow projection, no aggregate)."""
        return billable_page(self._uow.bulk_connection, cursor, limit, reader=lambda: self.conn)

    def changed_since(
        self, since: dt.datetime, cursor: str | None, limit: int
    ) -> Sequence[BillableAffiliation]:
        """See :class:`mutuelle_core.ports.AffiliationRepository` (the billing run's projection)."""
        c = t.affiliations.c
        query = select(c.affiliation_id).where(c.changed_at >= since)
        if cursor is not None:
            query = query.where(c.affiliation_id > cursor)
        ids = [r[0] for r in self.conn.execute(query.order_by(c.affiliation_id).limit(limit))]
        return projections_of(self.conn, ids)


class SqlDesignations(_Repo):
    """Beneficiary designations in SQL, every version kept.

    The partial unique index ``uq_designations_in_force`` allows one designation in force per
    affiliation; a write that would make a second one (two first designations signed concurrently)
    fails with ``ConcurrencyConflict``.
    """

    def _where(self, condition: Any) -> list[Designation]:
        d = t.designations
        rows = self.conn.execute(
            select(d).where(condition).order_by(d.c.created_at, d.c.designation_id)
        ).mappings()
        return [mapping.designation_from_row(r) for r in rows]

    def find(self, designation_id: str) -> Designation | None:
        """See :class:`mutuelle_core.ports.DesignationRepository`."""
        found = self._where(t.designations.c.designation_id == designation_id)
        return found[0] if found else None

    def get(self, designation_id: str) -> Designation:
        """See :class:`mutuelle_core.ports.DesignationRepository`."""
        found = self.find(designation_id)
        if found is None:
            raise NOT_FOUND(None, what=f"désignation {designation_id}")
        return found

    def add(self, designation: Designation) -> Designation:
        """See :class:`mutuelle_core.ports.DesignationRepository`."""
        row = mapping.designation_to_row(attrs.evolve(designation, version=1))
        try:
            self._insert(
                t.designations,
                t.designations.c.designation_id,
                designation.designation_id,
                row,
                "désignation",
            )
        except IntegrityError:
            raise CONCURRENCY_CONFLICT(None, what=f"désignation {designation.designation_id}") from None
        return _stored(designation, self._uow, 1)  # type: ignore[no-any-return]

    def update(self, designation: Designation) -> Designation:
        """See :class:`mutuelle_core.ports.DesignationRepository`."""
        row = mapping.designation_to_row(designation)
        try:
            version = self._versioned_update(
                t.designations,
                t.designations.c.designation_id,
                designation.designation_id,
                row,
                "désignation",
            )
        except IntegrityError:
            raise CONCURRENCY_CONFLICT(None, what=f"désignation {designation.designation_id}") from None
        return _stored(designation, self._uow, version)  # type: ignore[no-any-return]

    def list_for_affiliation(self, affiliation_id: str) -> Sequence[Designation]:
        """See :class:`mutuelle_core.ports.DesignationRepository`."""
        return self._where(t.designations.c.affiliation_id == affiliation_id)

    def in_force_for(self, affiliation_id: str) -> Designation | None:
        """See :class:`mutuelle_core.ports.DesignationRepository`."""
        c = t.designations.c
        found = self._where(
            and_(c.affiliation_id == affiliation_id, c.status == DesignationStatus.IN_FORCE.value)
        )
        return found[0] if found else None


class SqlAuthChallenges(_Repo):
    """One-time code challenges in SQL (see :mod:`mutuelle_adapters.strong_auth`)."""

    def find(self, challenge_id: str) -> AuthChallenge | None:
        """See :class:`mutuelle_adapters.strong_auth.AuthChallengeRepository`."""
        c = t.auth_challenges.c
        row = (
            self.conn.execute(select(t.auth_challenges).where(c.challenge_id == challenge_id))
            .mappings()
            .first()
        )
        return None if row is None else mapping.challenge_from_row(row)

    def add(self, challenge: AuthChallenge) -> AuthChallenge:
        """See :class:`mutuelle_adapters.strong_auth.AuthChallengeRepository`."""
        stored = attrs.evolve(challenge, version=1)
        self._insert(
            t.auth_challenges,
            t.auth_challenges.c.challenge_id,
            challenge.challenge_id,
            mapping.challenge_to_row(stored),
            "code",
        )
        return stored

    def update(self, challenge: AuthChallenge) -> AuthChallenge:
        """See :class:`mutuelle_adapters.strong_auth.AuthChallengeRepository`."""
        version = self._versioned_update(
            t.auth_challenges,
            t.auth_challenges.c.challenge_id,
            challenge.challenge_id,
            mapping.challenge_to_row(challenge),
            "code",
        )
        return attrs.evolve(challenge, version=version)

    def created_since(self, subject: str, since: dt.datetime) -> Sequence[AuthChallenge]:
        """See :class:`mutuelle_adapters.strong_auth.AuthChallengeRepository`."""
        c = t.auth_challenges.c
        rows = self.conn.execute(
            select(t.auth_challenges)
            .where(c.subject == subject, c.created_at > since)
            .order_by(c.created_at, c.challenge_id)
        ).mappings()
        return [mapping.challenge_from_row(r) for r in rows]


_OUTBOX_COLUMNS = ("message_id", "template", "recipient", "locale", "context", "created_at", "attempts")


class SqlOutbox(_Repo):
    """The outbox table: messages rendered and written in the caller's transaction."""

    def add(self, message: OutgoingMessage) -> str:
        """See :class:`mutuelle_core.ports.Outbox`."""
        return self.add_many([message])[0]

    def add_many(self, messages: Sequence[OutgoingMessage]) -> list[str]:
        """See :class:`mutuelle_core.ports.Outbox` (bulk insert, written behind from 100 messages).

        Messages are stored as template, locale and context, and rendered when read (:meth:`pending`,
        :meth:`get`); the renderer checks each shape of message here, so that a missing template or
        variable fails in the caller's transaction.
        """
        if not messages:
            return []
        behind = len(messages) >= COPY_MIN_ROWS
        insert_ = DriverInsert(self._uow.bulk_connection if behind else self.conn, t.outbox, _OUTBOX_COLUMNS)
        created = insert_.instant(self._uow.clock.now())
        check, new_id = self._uow.renderer.check, self._uow.ids.new_id
        rows: list[tuple[Any, ...]] = []
        ids: list[str] = []
        for message in messages:
            check(message)
            message_id = new_id()
            ids.append(message_id)
            rows.append(
                (
                    message_id,
                    message.template,
                    message.to.value,
                    message.locale,
                    json_text(message.context),
                    created,
                    0,
                )
            )
        if behind:
            self._uow.write_behind(lambda: insert_.execute(rows))
        else:
            insert_.execute(rows)
        return ids

    def _require(self, message_id: str) -> None:
        """``not_found`` unless the message exists (without rendering it)."""
        c = t.outbox.c
        if self.conn.execute(select(c.message_id).where(c.message_id == message_id)).first() is None:
            raise NOT_FOUND(None, what=f"message {message_id}")

    def _entry(self, row: Any) -> OutboxEntry:
        """The entry of a row, rendered now when it was stored unrendered."""
        entry = mapping.outbox_from_row(row)
        if row["body_text"] is not None:
            return entry
        rendered = self._uow.renderer.render(
            OutgoingMessage(
                template=row["template"],
                to=Email(row["recipient"]),
                context=row["context"],
                locale=row["locale"] or "fr",
            )
        )
        return attrs.evolve(entry, subject=rendered.subject, body_text=rendered.text, body_html=rendered.html)

    def pending(self, now: dt.datetime, limit: int = 100) -> Sequence[OutboxEntry]:
        """See :class:`mutuelle_core.ports.Outbox`."""
        c = t.outbox.c
        rows = self.conn.execute(
            select(t.outbox)
            .where(c.sent_at.is_(None), (c.next_attempt_at.is_(None)) | (c.next_attempt_at <= now))
            .order_by(c.created_at, c.message_id)
            .limit(limit)
        ).mappings()
        entries = []
        for row in rows.all():
            try:
                entries.append(self._entry(row))
            except Exception as exc:  # one message that cannot be rendered must not block the queue
                logger.exception("outbox message %s cannot be rendered", row["message_id"])
                self.conn.execute(
                    update(t.outbox)
                    .where(c.message_id == row["message_id"])
                    .values(
                        attempts=c.attempts + 1,
                        last_error=f"rendu impossible : {type(exc).__name__}: {exc}"[:500],
                        next_attempt_at=now + RENDER_RETRY_DELAY,
                    )
                )
        return entries

    def mark_sent(self, message_id: str, at: dt.datetime) -> bool:
        """See :class:`mutuelle_core.ports.Outbox`."""
        self._require(message_id)
        c = t.outbox.c
        result = self.conn.execute(
            update(t.outbox)
            .where(c.message_id == message_id, c.sent_at.is_(None))
            .values(sent_at=at, attempts=c.attempts + 1)
        )
        if result.rowcount != 1:
            return False
        row = self.conn.execute(select(t.outbox).where(c.message_id == message_id)).mappings().one()
        if row["template"] in CARRY_SECRETS:  # a delivered secret (link token, one-time code) is not kept
            subject = row["subject"] or self._entry(row).subject
            self.conn.execute(
                update(t.outbox)
                .where(c.message_id == message_id)
                .values(subject=subject, body_text=SCRUBBED_BODY, body_html=None, context=None)
            )
        return True

    def mark_failed(self, message_id: str, error: str, retry_at: dt.datetime) -> None:
        """See :class:`mutuelle_core.ports.Outbox`."""
        self._require(message_id)
        c = t.outbox.c
        self.conn.execute(
            update(t.outbox)
            .where(c.message_id == message_id)
            .values(attempts=c.attempts + 1, last_error=error[:500], next_attempt_at=retry_at)
        )

    def get(self, message_id: str) -> OutboxEntry:
        """See :class:`mutuelle_core.ports.Outbox`."""
        row = (
            self.conn.execute(select(t.outbox).where(t.outbox.c.message_id == message_id)).mappings().first()
        )
        if row is None:
            raise NOT_FOUND(None, what=f"message {message_id}")
        return self._entry(row)

    def all(self) -> list[OutboxEntry]:
        """Every message, oldest first (for tests and the demo)."""
        rows = self.conn.execute(select(t.outbox).order_by(t.outbox.c.created_at, t.outbox.c.message_id))
        return [self._entry(r) for r in rows.mappings()]


class SqlDocuments(_Repo):
    """Documents stored in the database, in the caller's transaction."""

    def put(self, document: Document) -> None:
        """See :class:`mutuelle_core.ports.DocumentStore`."""
        self._insert(
            t.documents,
            t.documents.c.document_id,
            document.document_id,
            mapping.document_to_row(document),
            "document",
        )

    def get(self, document_id: str) -> Document:
        """See :class:`mutuelle_core.ports.DocumentStore`."""
        row = (
            self.conn.execute(select(t.documents).where(t.documents.c.document_id == document_id))
            .mappings()
            .first()
        )
        if row is None:
            raise NOT_FOUND(None, what=f"document {document_id}")
        return mapping.document_from_row(row)

    def list_for_owner(self, owner: str) -> Sequence[Document]:
        """See :class:`mutuelle_core.ports.DocumentStore`."""
        rows = self.conn.execute(
            select(t.documents)
            .where(t.documents.c.owner == owner)
            .order_by(t.documents.c.created_at, t.documents.c.document_id)
        ).mappings()
        return [mapping.document_from_row(r) for r in rows]


class SqlReferences(_Repo):
    """Reference counters, incremented in the caller's transaction (row-locked on PostgreSQL)."""

    def next_reference(self, kind: str, prefix: str = "") -> str:
        """See :class:`mutuelle_core.ports.ReferenceGenerator`."""
        c = t.reference_counters.c
        row = self.conn.execute(
            update(t.reference_counters).where(c.kind == kind).values(value=c.value + 1).returning(c.value)
        ).first()
        if row is None:
            try:
                with self.conn.begin_nested():
                    self.conn.execute(insert(t.reference_counters).values(kind=kind, value=1))
                value = 1
            except IntegrityError:  # another transaction created the counter first
                return self.next_reference(kind, prefix)
        else:
            value = int(row[0])
        return f"{prefix}{value:07d}"


class SqlUnitOfWork:
    """One transaction over one connection (see the module docstring)."""

    def __init__(self, engine: Engine, *, clock: Clock, ids: IdGenerator, renderer: MessageRenderer) -> None:
        self.engine = engine
        self.clock = clock
        self.ids = ids
        self.renderer = renderer
        self._connection: Connection | None = None
        self._writer: ThreadPoolExecutor | None = None
        self._writes: list[Future[None]] = []
        self._write_error: BaseException | None = None
        self._failed_write: BaseException | None = None
        self._events: list[DomainEvent] = []
        self._committed: list[DomainEvent] = []
        self.employers = SqlEmployers(self)
        self.contracts = SqlContracts(self)
        self.correspondents = SqlCorrespondents(self)
        self.affiliations = SqlAffiliations(self)
        self.designations = SqlDesignations(self)
        self.auth_challenges = SqlAuthChallenges(self)
        self.outbox = SqlOutbox(self)
        self.documents = SqlDocuments(self)
        self.references = SqlReferences(self)
        self.tariffs = SqlTariffs(self)
        self.cotisations = SqlCotisations(self)
        self.mandates = SqlMandates(self)
        self.accounts = SqlAccounts(self)
        self.dunning = SqlDunning(self)

    @property
    def connection(self) -> Connection:
        """The open connection (only inside ``with``)."""
        if self._connection is None:
            raise RuntimeError("use the unit of work as a context manager")
        if self._writes or self._write_error is not None:
            self._wait_for_writes(raise_error=True)
        return self._connection

    @property
    def bulk_connection(self) -> Connection:
        """The open connection, for a statement given to :meth:`write_behind` (no waiting)."""
        if self._connection is None:
            raise RuntimeError("use the unit of work as a context manager")
        return self._connection

    @property
    def writing_behind(self) -> bool:
        """Writes given to :meth:`write_behind` may still be running (or failed unreported)."""
        return bool(self._writes) or self._write_error is not None

    def write_behind(self, write: Callable[[], None]) -> None:
        """Run ``write`` (inserts on :attr:`bulk_connection`) in the writer thread, after those before.

        See the module's docstring: its error, if any, is raised by the next use of the connection.
        """
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="uow-write-behind")

        def run() -> None:
            if self._write_error is not None:
                return  # a write before failed: the transaction will not be committed
            try:
                write()
            except BaseException as exc:
                self._write_error = exc

        while len(self._writes) >= WRITES_BEHIND:  # bounded: memory does not grow with a slow database
            self._writes.pop(0).result()
        self._writes.append(self._writer.submit(run))

    def _wait_for_writes(self, *, raise_error: bool) -> None:
        """Wait until the writer thread is idle; raise the first write's error (once) if asked."""
        writes, self._writes = self._writes, []
        for future in writes:
            future.result()
        error, self._write_error = self._write_error, None
        if error is not None:
            self._failed_write = error  # remembered until rollback: such a transaction never commits
            if raise_error:
                raise error

    def __enter__(self) -> Self:
        self._connection = self.engine.connect()
        self._events = []
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self.rollback()
        finally:
            if self._writer is not None:
                self._writer.shutdown(wait=True)
                self._writer = None
            if self._connection is not None:
                self._connection.close()
            self._connection = None

    def _record(self, events: tuple[DomainEvent, ...]) -> None:
        self._events.extend(events)

    def commit(self) -> None:
        """Commit the transaction; a new one begins with any further work in the block.

        Raises the error of a bulk write that failed in this transaction, even one already raised
        (and caught) by an earlier operation: part of the transaction's writes are missing.
        """
        connection = self.connection
        if self._failed_write is not None:
            raise self._failed_write
        connection.commit()
        self._committed.extend(self._events)
        self._events = []

    def rollback(self) -> None:
        """Roll the transaction back (a new one begins)."""
        self._wait_for_writes(raise_error=False)  # their error goes with the work rolled back
        self._failed_write = None
        if self._connection is not None:
            self._connection.rollback()
        self._events = []

    def collect_events(self) -> list[DomainEvent]:
        """Events of the aggregates stored and committed, then forgotten."""
        events, self._committed = self._committed, []
        return events


class SqlUnitOfWorkFactory:
    """Makes :class:`SqlUnitOfWork`s over one engine (the composition root holds one)."""

    def __init__(
        self, engine: Engine, *, clock: Clock, ids: IdGenerator, renderer: MessageRenderer | None = None
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.ids = ids
        self.renderer = renderer or default_renderer()

    def __call__(self) -> SqlUnitOfWork:
        """A fresh unit of work."""
        return SqlUnitOfWork(self.engine, clock=self.clock, ids=self.ids, renderer=self.renderer)
