"""The in-memory unit of work and its repositories (see :mod:`mutuelle_adapters.memory.store`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

import attrs

from mutuelle_adapters.email.rendering import CARRY_SECRETS, SCRUBBED_BODY, MessageRenderer
from mutuelle_adapters.memory.accounts import MemoryAccounts, MemoryDunning, MemoryMandates
from mutuelle_adapters.memory.cotisations import MemoryCotisations, MemoryTariffs
from mutuelle_adapters.memory.store import MemoryDatabase, MemoryUnitOfWork, Table
from mutuelle_adapters.strong_auth import AuthChallenge
from mutuelle_core.affiliation.affiliation import Affiliation
from mutuelle_core.affiliation.transitions import AffiliationStatus
from mutuelle_core.contracts.contract import CollectiveContract
from mutuelle_core.contracts.correspondent import DUPLICATE_LOGIN, Correspondent, CorrespondentStatus
from mutuelle_core.contracts.employer import Employer
from mutuelle_core.cotisations.records import BILLABLE_STATUSES, BillableAffiliation
from mutuelle_core.designation.designation import Designation
from mutuelle_core.errors import ALREADY_EXISTS, CONCURRENCY_CONFLICT, NOT_FOUND
from mutuelle_core.ports import Document, OutboxEntry, OutgoingMessage

__all__ = ["MemoryUnitOfWorkImpl"]


class MemoryEmployers:
    """Employers in memory."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._t: Table[Employer] = Table(uow, "employers", "entreprise")

    def find(self, employer_id: str) -> Employer | None:
        """See :class:`mutuelle_core.ports.EmployerRepository`."""
        return self._t.find(employer_id)

    def get(self, employer_id: str) -> Employer:
        """See :class:`mutuelle_core.ports.EmployerRepository`."""
        return self._t.get(employer_id)

    def add(self, employer: Employer) -> Employer:
        """See :class:`mutuelle_core.ports.EmployerRepository`."""
        return self._t.insert(employer.employer_id, employer)

    def update(self, employer: Employer) -> Employer:
        """See :class:`mutuelle_core.ports.EmployerRepository`."""
        return self._t.replace(employer.employer_id, employer)

    def list(self) -> Sequence[Employer]:
        """See :class:`mutuelle_core.ports.EmployerRepository`."""
        return sorted(self._t.values(), key=lambda e: (e.name, e.employer_id))


class MemoryContracts:
    """Contracts in memory."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._t: Table[CollectiveContract] = Table(uow, "contracts", "contrat")

    def find(self, number: str) -> CollectiveContract | None:
        """See :class:`mutuelle_core.ports.ContractRepository`."""
        return self._t.find(number)

    def get(self, number: str) -> CollectiveContract:
        """See :class:`mutuelle_core.ports.ContractRepository`."""
        return self._t.get(number)

    def add(self, contract: CollectiveContract) -> CollectiveContract:
        """See :class:`mutuelle_core.ports.ContractRepository`."""
        return self._t.insert(contract.number, contract)

    def update(self, contract: CollectiveContract) -> CollectiveContract:
        """See :class:`mutuelle_core.ports.ContractRepository`."""
        return self._t.replace(contract.number, contract)

    def list_for_employer(self, employer_id: str) -> Sequence[CollectiveContract]:
        """See :class:`mutuelle_core.ports.ContractRepository`."""
        return sorted((c for c in self._t.values() if c.employer_id == employer_id), key=lambda c: c.number)


class MemoryCorrespondents:
    """Correspondents in memory."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._t: Table[Correspondent] = Table(uow, "correspondents", "correspondant")

    def find(self, correspondent_id: str) -> Correspondent | None:
        """See :class:`mutuelle_core.ports.CorrespondentRepository`."""
        return self._t.find(correspondent_id)

    def get(self, correspondent_id: str) -> Correspondent:
        """See :class:`mutuelle_core.ports.CorrespondentRepository`."""
        return self._t.get(correspondent_id)

    def find_by_login(self, login: str) -> Correspondent | None:
        """See :class:`mutuelle_core.ports.CorrespondentRepository`."""
        wanted = login.lower()
        return next((c for c in self._t.values() if c.login.lower() == wanted), None)

    def find_by_activation(self, token_hash: str) -> Correspondent | None:
        """See :class:`mutuelle_core.ports.CorrespondentRepository`."""
        return next(
            (
                c
                for c in self._t.values()
                if c.activation is not None
                and c.activation.token_hash == token_hash
                and c.status is not CorrespondentStatus.DELETED
            ),
            None,
        )

    def add(self, correspondent: Correspondent) -> Correspondent:
        """See :class:`mutuelle_core.ports.CorrespondentRepository`."""
        if self.find_by_login(correspondent.login) is not None:
            raise DUPLICATE_LOGIN("login", login=correspondent.login)
        return self._t.insert(correspondent.correspondent_id, correspondent)

    def update(self, correspondent: Correspondent) -> Correspondent:
        """See :class:`mutuelle_core.ports.CorrespondentRepository`."""
        return self._t.replace(correspondent.correspondent_id, correspondent)

    def list_for_employer(self, employer_id: str) -> Sequence[Correspondent]:
        """See :class:`mutuelle_core.ports.CorrespondentRepository`."""
        return sorted((c for c in self._t.values() if c.employer_id == employer_id), key=lambda c: c.login)


class MemoryAffiliations:
    """Affiliation files in memory."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._t: Table[Affiliation] = Table(uow, "affiliations", "dossier")
        self._changed: Table[dt.datetime] = Table(uow, "affiliation_changes", "dossier")
        self._clock = uow.db.clock

    def find(self, affiliation_id: str) -> Affiliation | None:
        """See :class:`mutuelle_core.ports.AffiliationRepository`."""
        return self._t.find(affiliation_id)

    def get(self, affiliation_id: str) -> Affiliation:
        """See :class:`mutuelle_core.ports.AffiliationRepository`."""
        return self._t.get(affiliation_id)

    def add(self, affiliation: Affiliation) -> Affiliation:
        """See :class:`mutuelle_core.ports.AffiliationRepository`."""
        stored = self._t.insert(affiliation.affiliation_id, affiliation)
        self._changed.put(affiliation.affiliation_id, self._clock.now())
        return stored

    def add_many(self, affiliations: Sequence[Affiliation]) -> None:
        """See :class:`mutuelle_core.ports.AffiliationRepository`."""
        now = self._clock.now()
        for a in affiliations:
            self._t.insert(a.affiliation_id, a)
            self._changed.put(a.affiliation_id, now)

    def update(self, affiliation: Affiliation) -> Affiliation:
        """See :class:`mutuelle_core.ports.AffiliationRepository`."""
        stored = self._t.replace(affiliation.affiliation_id, affiliation)
        self._changed.put(affiliation.affiliation_id, self._clock.now())
        return stored

    def changed_since(
        self, since: dt.datetime, cursor: str | None, limit: int
    ) -> Sequence[BillableAffiliation]:
        """See :class:`mutuelle_core.ports.AffiliationRepository`."""
        changed = self._changed.rows
        keys = sorted(
            k
            for k, at in changed.items()
            if at >= since and (cursor is None or k > cursor) and k in self._t.rows
        )
        return [BillableAffiliation.of(self._t.rows[k]) for k in keys[:limit]]

    def find_by_link(self, token_hash: str) -> Affiliation | None:
        """See :class:`mutuelle_core.ports.AffiliationRepository`."""
        return next(
            (a for a in self._t.values() if a.link is not None and a.link.token_hash == token_hash), None
        )

    def existing_keys(self, contract_number: str, keys: Collection[str]) -> set[str]:
        """See :class:`mutuelle_core.ports.AffiliationRepository`."""
        wanted = set(keys)
        return {
            a.person_key
            for a in self._t.values()
            if a.contract_number == contract_number and a.person_key in wanted and a.status.counts_as_existing
        }

    def list_for_contract(
        self, contract_number: str, statuses: Collection[AffiliationStatus] | None = None
    ) -> Sequence[Affiliation]:
        """See :class:`mutuelle_core.ports.AffiliationRepository`."""
        return sorted(
            (
                a
                for a in self._t.values()
                if a.contract_number == contract_number and (statuses is None or a.status in statuses)
            ),
            key=lambda a: (a.name.birth_name, a.name.first_names, a.affiliation_id),
        )

    def list_in_status(self, statuses: Collection[AffiliationStatus]) -> Sequence[Affiliation]:
        """See :class:`mutuelle_core.ports.AffiliationRepository`."""
        return sorted((a for a in self._t.values() if a.status in statuses), key=lambda a: a.affiliation_id)

    def billable_after(self, cursor: str | None, limit: int) -> Sequence[BillableAffiliation]:
        """See :class:`mutuelle_core.ports.AffiliationRepository`."""
        keys = sorted(k for k in self._t.rows if cursor is None or k > cursor)
        page: list[BillableAffiliation] = []
        for key in keys:
            a = self._t.rows[key]
            if a.status in BILLABLE_STATUSES:
                page.append(BillableAffiliation.of(a))
                if len(page) == limit:
                    break
        return page


class MemoryDesignations:
    """Beneficiary designations in memory, every version kept."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._t: Table[Designation] = Table(uow, "designations", "désignation")

    def find(self, designation_id: str) -> Designation | None:
        """See :class:`mutuelle_core.ports.DesignationRepository`."""
        return self._t.find(designation_id)

    def get(self, designation_id: str) -> Designation:
        """See :class:`mutuelle_core.ports.DesignationRepository`."""
        return self._t.get(designation_id)

    def add(self, designation: Designation) -> Designation:
        """See :class:`mutuelle_core.ports.DesignationRepository`."""
        self._check_single_in_force(designation)
        return self._t.insert(designation.designation_id, designation)

    def update(self, designation: Designation) -> Designation:
        """See :class:`mutuelle_core.ports.DesignationRepository`."""
        self._check_single_in_force(designation)
        return self._t.replace(designation.designation_id, designation)

    def list_for_affiliation(self, affiliation_id: str) -> Sequence[Designation]:
        """See :class:`mutuelle_core.ports.DesignationRepository`."""
        return sorted(
            (d for d in self._t.values() if d.affiliation_id == affiliation_id),
            key=lambda d: (d.created_at, d.designation_id),
        )

    def in_force_for(self, affiliation_id: str) -> Designation | None:
        """See :class:`mutuelle_core.ports.DesignationRepository`."""
        return next(
            (d for d in self.list_for_affiliation(affiliation_id) if d.is_in_force),
            None,
        )

    def _check_single_in_force(self, designation: Designation) -> None:
        # Like the SQL partial unique index (within this unit of work's view).
        if not designation.is_in_force:
            return
        current = self.in_force_for(designation.affiliation_id)
        if current is not None and current.designation_id != designation.designation_id:
            raise CONCURRENCY_CONFLICT(None, what=f"désignation {designation.designation_id}")


class MemoryAuthChallenges:
    """One-time code challenges in memory (see :mod:`mutuelle_adapters.strong_auth`)."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._t: Table[AuthChallenge] = Table(uow, "auth_challenges", "code")

    def find(self, challenge_id: str) -> AuthChallenge | None:
        """See :class:`mutuelle_adapters.strong_auth.AuthChallengeRepository`."""
        return self._t.find(challenge_id)

    def add(self, challenge: AuthChallenge) -> AuthChallenge:
        """See :class:`mutuelle_adapters.strong_auth.AuthChallengeRepository`."""
        return self._t.insert(challenge.challenge_id, challenge)

    def update(self, challenge: AuthChallenge) -> AuthChallenge:
        """See :class:`mutuelle_adapters.strong_auth.AuthChallengeRepository`."""
        return self._t.replace(challenge.challenge_id, challenge)

    def created_since(self, subject: str, since: dt.datetime) -> Sequence[AuthChallenge]:
        """See :class:`mutuelle_adapters.strong_auth.AuthChallengeRepository`."""
        return sorted(
            (c for c in self._t.values() if c.subject == subject and c.created_at > since),
            key=lambda c: (c.created_at, c.challenge_id),
        )


class MemoryOutbox:
    """The outbox in memory: messages are rendered when added, like the SQL outbox."""

    def __init__(self, uow: MemoryUnitOfWorkImpl) -> None:
        self._uow = uow
        self._t: Table[OutboxEntry] = Table(uow, "outbox", "message")

    def add(self, message: OutgoingMessage) -> str:
        """See :class:`mutuelle_core.ports.Outbox`."""
        rendered = self._uow.renderer.render(message)
        message_id = self._uow.new_message_id()
        entry = OutboxEntry(
            message_id=message_id,
            template=message.template,
            recipient=str(message.to),
            subject=rendered.subject,
            body_text=rendered.text,
            body_html=rendered.html,
            created_at=self._uow.now(),
        )
        self._t.put(message_id, entry)
        return message_id

    def add_many(self, messages: Sequence[OutgoingMessage]) -> list[str]:
        """See :class:`mutuelle_core.ports.Outbox`."""
        return [self.add(m) for m in messages]

    def pending(self, now: dt.datetime, limit: int = 100) -> Sequence[OutboxEntry]:
        """See :class:`mutuelle_core.ports.Outbox`."""
        due = [
            e
            for e in self._t.values()
            if e.sent_at is None and (e.next_attempt_at is None or e.next_attempt_at <= now)
        ]
        return sorted(due, key=lambda e: (e.created_at, e.message_id))[:limit]

    def mark_sent(self, message_id: str, at: dt.datetime) -> bool:
        """See :class:`mutuelle_core.ports.Outbox`."""
        entry = self.get(message_id)
        if entry.sent_at is not None:
            return False
        sent = attrs.evolve(entry, sent_at=at, attempts=entry.attempts + 1)
        if entry.template in CARRY_SECRETS:  # a delivered secret is not kept in clear
            sent = attrs.evolve(sent, body_text=SCRUBBED_BODY, body_html=None)
        self._t.put(message_id, sent)
        return True

    def mark_failed(self, message_id: str, error: str, retry_at: dt.datetime) -> None:
        """See :class:`mutuelle_core.ports.Outbox`."""
        entry = self.get(message_id)
        self._t.put(
            message_id,
            attrs.evolve(
                entry, attempts=entry.attempts + 1, last_error=error[:500], next_attempt_at=retry_at
            ),
        )

    def get(self, message_id: str) -> OutboxEntry:
        """See :class:`mutuelle_core.ports.Outbox`."""
        entry = self._t.find(message_id)
        if entry is None:
            raise NOT_FOUND(None, what=f"message {message_id}")
        return entry

    def all(self) -> list[OutboxEntry]:
        """Every message, oldest first (for tests and the demo)."""
        return sorted(self._t.values(), key=lambda e: (e.created_at, e.message_id))


class MemoryDocuments:
    """Documents in memory."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._t: Table[Document] = Table(uow, "documents", "document")

    def put(self, document: Document) -> None:
        """See :class:`mutuelle_core.ports.DocumentStore`."""
        if self._t.find(document.document_id) is not None:
            raise ALREADY_EXISTS(None, what=f"document {document.document_id}")
        self._t.put(document.document_id, document)

    def get(self, document_id: str) -> Document:
        """See :class:`mutuelle_core.ports.DocumentStore`."""
        return self._t.get(document_id)

    def list_for_owner(self, owner: str) -> Sequence[Document]:
        """See :class:`mutuelle_core.ports.DocumentStore`."""
        return sorted(
            (d for d in self._t.values() if d.owner == owner), key=lambda d: (d.created_at, d.document_id)
        )


class MemoryReferences:
    """Counters per kind of reference, transactional like the SQL ones."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._t: Table[int] = Table(uow, "references", "référence")

    def next_reference(self, kind: str, prefix: str = "") -> str:
        """See :class:`mutuelle_core.ports.ReferenceGenerator`."""
        value = (self._t.find(kind) or 0) + 1
        self._t.put(kind, value)
        return f"{prefix}{value:07d}"


class MemoryUnitOfWorkImpl(MemoryUnitOfWork):
    """The memory unit of work with every repository of the core's :class:`UnitOfWork` port."""

    def __init__(self, db: MemoryDatabase) -> None:
        super().__init__(db)
        self.renderer: MessageRenderer = db.renderer
        self.employers = MemoryEmployers(self)
        self.contracts = MemoryContracts(self)
        self.correspondents = MemoryCorrespondents(self)
        self.affiliations = MemoryAffiliations(self)
        self.designations = MemoryDesignations(self)
        self.auth_challenges = MemoryAuthChallenges(self)
        self.outbox = MemoryOutbox(self)
        self.documents = MemoryDocuments(self)
        self.references = MemoryReferences(self)
        self.tariffs = MemoryTariffs(self)
        self.cotisations = MemoryCotisations(self)
        self.mandates = MemoryMandates(self)
        self.accounts = MemoryAccounts(self)
        self.dunning = MemoryDunning(self)

    def now(self) -> dt.datetime:
        """The creation time stamped on outbox messages (from the database's clock)."""
        return self.db.clock.now()

    def new_message_id(self) -> str:
        """A fresh message id."""
        return self.db.ids.new_id()
