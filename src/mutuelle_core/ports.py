"""The ports: what the domain needs from the outside world, as ``typing.Protocol``s.

The core never reads the wall clock, the environment, a file or a socket. It talks through these
protocols, which :mod:`mutuelle_adapters` implements (``memory``, ``sql``, ``email``, ``files``) and the
composition root (:mod:`mutuelle_adapters.bootstrap`) wires together.

Repositories follow one pattern: ``find`` returns ``None`` when absent, ``get`` raises ``not_found``,
``add`` stores a new aggregate, ``update`` stores a changed one **if nobody else changed it since it was
loaded** (optimistic concurrency on ``version``; otherwise ``ConcurrencyConflict`` and nothing is
written) and returns it with its new version. Both collect the aggregate's ``pending_events`` into the
unit of work.

A :class:`UnitOfWork` is one transaction: use it as a context manager, call ``commit()``; leaving the
block without committing rolls everything back (tables, outbox and documents alike).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from types import TracebackType
from typing import Protocol, Self

import attrs

from mutuelle_core.affiliation.affiliation import Affiliation
from mutuelle_core.affiliation.transitions import AffiliationStatus
from mutuelle_core.contracts.contract import CollectiveContract
from mutuelle_core.contracts.correspondent import Correspondent
from mutuelle_core.contracts.employer import Employer
from mutuelle_core.cotisations.account_records import (
    CollectionRecord,
    PayerKey,
    StoredDunning,
    StoredLedger,
    StoredMandate,
    UncollectedDue,
)
from mutuelle_core.cotisations.mandates import DirectDebitInstruction
from mutuelle_core.cotisations.payments import Ledger
from mutuelle_core.cotisations.records import (
    BillableAffiliation,
    BillingRun,
    ContractTariff,
    LineValues,
    RegularisationRun,
    Row,
    ScheduleValues,
)
from mutuelle_core.designation.designation import Designation
from mutuelle_core.events import DomainEvent
from mutuelle_core.masking import mask_email
from mutuelle_core.signature import SignatureEvidence
from mutuelle_core.strong_auth import StrongAuthProof
from mutuelle_core.values.identity import Email

__all__ = [
    "AccountRepository",
    "AffiliationRepository",
    "BuiltDirectDebitFile",
    "Clock",
    "ContractRepository",
    "CorrespondentRepository",
    "CotisationRepository",
    "DesignationRepository",
    "DirectDebitFiles",
    "Document",
    "DocumentStore",
    "DunningRepository",
    "EmployerRepository",
    "IdGenerator",
    "JSONValue",
    "MandateRepository",
    "Outbox",
    "OutboxEntry",
    "OutgoingMessage",
    "ReferenceGenerator",
    "SignatureService",
    "StrongAuthentication",
    "TariffRepository",
    "TokenGenerator",
    "UnitOfWork",
    "UnitOfWorkFactory",
]

JSONScalar = str | int | bool | None
JSONValue = JSONScalar | list["JSONValue"] | dict[str, "JSONValue"]


class Clock(Protocol):
    """The time, as the domain sees it (aware datetimes, UTC)."""

    def now(self) -> dt.datetime:
        """The current instant, timezone-aware."""
        ...

    def today(self) -> dt.date:
        """The current date in metropolitan France (Europe/Paris)."""
        ...


class TokenGenerator(Protocol):
    """Unguessable secrets for links (activation, affiliation) and salts."""

    def new_token(self) -> str:
        """A fresh URL-safe secret of at least 128 bits of entropy."""
        ...


class IdGenerator(Protocol):
    """Identifiers of new aggregates."""

    def new_id(self) -> str:
        """A fresh unique identifier (a UUID in production)."""
        ...


class ReferenceGenerator(Protocol):
    """Human-readable business references, unique and never reused (numéro d'adhésion, RUM)."""

    def next_reference(self, kind: str, prefix: str = "") -> str:
        """The next reference of a kind, e.g. ``next_reference("adhesion", "M")`` → ``M1000312``."""
        ...


class EmployerRepository(Protocol):
    """Employers by id."""

    def find(self, employer_id: str) -> Employer | None:
        """The employer, or ``None``."""
        ...

    def get(self, employer_id: str) -> Employer:
        """The employer (``not_found`` otherwise)."""
        ...

    def add(self, employer: Employer) -> Employer:
        """Store a new employer (``employer.duplicate`` when the id exists)."""
        ...

    def update(self, employer: Employer) -> Employer:
        """Store a changed employer; returns it with its new version."""
        ...

    def list(self) -> Sequence[Employer]:
        """Every employer, by name."""
        ...


class ContractRepository(Protocol):
    """Collective contracts (with their groups and products) by number."""

    def find(self, number: str) -> CollectiveContract | None:
        """The contract, or ``None``."""
        ...

    def get(self, number: str) -> CollectiveContract:
        """The contract (``not_found`` otherwise)."""
        ...

    def add(self, contract: CollectiveContract) -> CollectiveContract:
        """Store a new contract (``contract.duplicate`` when the number exists)."""
        ...

    def update(self, contract: CollectiveContract) -> CollectiveContract:
        """Store a changed contract; returns it with its new version."""
        ...

    def list_for_employer(self, employer_id: str) -> Sequence[CollectiveContract]:
        """The employer's contracts, by number."""
        ...


class CorrespondentRepository(Protocol):
    """Correspondent accounts by id, login and activation token hash."""

    def find(self, correspondent_id: str) -> Correspondent | None:
        """The correspondent, or ``None``."""
        ...

    def get(self, correspondent_id: str) -> Correspondent:
        """The correspondent (``not_found`` otherwise)."""
        ...

    def find_by_login(self, login: str) -> Correspondent | None:
        """The correspondent with this login (logins are unique, case-insensitive)."""
        ...

    def find_by_activation(self, token_hash: str) -> Correspondent | None:
        """The correspondent whose pending activation link has this token hash."""
        ...

    def add(self, correspondent: Correspondent) -> Correspondent:
        """Store a new correspondent (``correspondent.duplicate_login`` when the login is taken)."""
        ...

    def update(self, correspondent: Correspondent) -> Correspondent:
        """Store a changed correspondent; returns it with its new version."""
        ...

    def list_for_employer(self, employer_id: str) -> Sequence[Correspondent]:
        """The employer's correspondents, by login."""
        ...


@attrs.frozen(kw_only=True)
class OutgoingMessage:
    """An e-mail to send, by template name and context (the adapter renders it in the transaction).

    The context holds JSON-ready values only (strings, numbers, booleans, lists, dicts); dates are passed
    as ISO strings or pre-formatted by the use case.
    """

    template: str
    to: Email
    context: Mapping[str, JSONValue] = attrs.field(factory=dict, repr=False)
    locale: str = "fr"

    def __repr__(self) -> str:
        return f"OutgoingMessage(template={self.template!r}, to={mask_email(str(self.to))!r})"


@attrs.frozen(kw_only=True)
class OutboxEntry:
    """A rendered message as the outbox holds it."""

    message_id: str
    template: str
    recipient: str = attrs.field(repr=mask_email)
    subject: str
    body_text: str = attrs.field(repr=False)
    body_html: str | None = attrs.field(default=None, repr=False)
    created_at: dt.datetime
    attempts: int = 0
    next_attempt_at: dt.datetime | None = None
    sent_at: dt.datetime | None = None
    last_error: str | None = None


class Outbox(Protocol):
    """Messages written in the same transaction as the change that causes them, sent later by a relay."""

    def add(self, message: OutgoingMessage) -> str:
        """Render and store a message; returns its id. Rolled back with the unit of work."""
        ...

    def add_many(self, messages: Sequence[OutgoingMessage]) -> list[str]:
        """Render and store many messages at once (bulk invitations); returns their ids in order.

        An adapter may write them behind: a write that fails then fails a later operation of the
        unit of work, at the latest ``commit``, and nothing is committed.
        """
        ...

    def pending(self, now: dt.datetime, limit: int = 100) -> Sequence[OutboxEntry]:
        """Unsent messages due for an attempt at ``now``, oldest first."""
        ...

    def mark_sent(self, message_id: str, at: dt.datetime) -> bool:
        """Record a delivery; returns ``False`` when it was already marked (so nothing is sent twice)."""
        ...

    def mark_failed(self, message_id: str, error: str, retry_at: dt.datetime) -> None:
        """Record a failed attempt and when to try again."""
        ...

    def get(self, message_id: str) -> OutboxEntry:
        """One message (``not_found`` otherwise)."""
        ...


@attrs.frozen(kw_only=True)
class Document:
    """A generated or uploaded document (BIA, mandat SEPA, attestation...), stored with its SHA-256."""

    document_id: str
    kind: str
    owner: str
    filename: str
    media_type: str
    content: bytes = attrs.field(repr=False)
    sha256: str
    created_at: dt.datetime


class DocumentStore(Protocol):
    """Documents, stored in the same transaction as the change that produced them."""

    def put(self, document: Document) -> None:
        """Store a document (its id must be new)."""
        ...

    def get(self, document_id: str) -> Document:
        """A document (``not_found`` otherwise)."""
        ...

    def list_for_owner(self, owner: str) -> Sequence[Document]:
        """The documents of an owner (an affiliation, a correspondent...), oldest first."""
        ...


class SignatureService(Protocol):
    """Electronic signature of generated documents (BIA, SEPA mandate, notice, designation clause)."""

    def sign(self, *, signer: str, documents: Sequence[Document], at: dt.datetime) -> SignatureEvidence:
        """Have ``signer`` sign ``documents``; returns the evidence (signer, time, SHA-256 of each)."""
        ...


class StrongAuthentication(Protocol):
    """Second authentication factor: a one-time code sent to the subject, typed back to get a proof.

    See :mod:`mutuelle_core.strong_auth` for the proof, its freshness check and the error codes every
    implementation raises.
    """

    def start(self, subject: str, email: Email, purpose: str) -> str:
        """Send a one-time code to ``email`` for ``subject`` and ``purpose``; returns the challenge id.

        Raises:
            DomainError: ``strong_auth.too_many_requests`` when the subject asked for too many codes.
        """
        ...

    def confirm(self, challenge_id: str, code: str) -> StrongAuthProof:
        """Check the code typed for a challenge; returns the proof (subject, purpose, confirmed_at).

        A wrong code is counted even though the call fails; a code works once.

        Raises:
            DomainError: ``strong_auth.wrong_code``, ``strong_auth.code_expired``,
                ``strong_auth.too_many_attempts``, ``strong_auth.already_used``,
                ``strong_auth.unknown_challenge``.
        """
        ...


class DesignationRepository(Protocol):
    """Beneficiary designations of provident affiliations, every version kept (the history)."""

    def find(self, designation_id: str) -> Designation | None:
        """The designation, or ``None``."""
        ...

    def get(self, designation_id: str) -> Designation:
        """The designation (``not_found`` otherwise)."""
        ...

    def add(self, designation: Designation) -> Designation:
        """Store a new designation (usually a draft)."""
        ...

    def update(self, designation: Designation) -> Designation:
        """Store a changed designation; returns it with its new version.

        Raises:
            ConcurrencyConflict: changed by someone else since loaded, or a second designation in force
                for the same affiliation.
        """
        ...

    def list_for_affiliation(self, affiliation_id: str) -> Sequence[Designation]:
        """Every designation of the affiliation (drafts, signed, in force, superseded), oldest first."""
        ...

    def in_force_for(self, affiliation_id: str) -> Designation | None:
        """The designation in force for the affiliation, or ``None`` (the standard clause applies)."""
        ...


class AffiliationRepository(Protocol):
    """Affiliation files, by id, by link token, by contract and by status."""

    def find(self, affiliation_id: str) -> Affiliation | None:
        """The affiliation, or ``None``."""
        ...

    def get(self, affiliation_id: str) -> Affiliation:
        """The affiliation (``not_found`` otherwise)."""
        ...

    def add(self, affiliation: Affiliation) -> Affiliation:
        """Store a new affiliation."""
        ...

    def add_many(self, affiliations: Sequence[Affiliation]) -> None:
        """Store many new affiliations at once (bulk invitations).

        An adapter may write them behind: later queries of the unit of work see them, and a write that
        fails (a duplicate id...) fails a later operation, at the latest ``commit``; nothing is committed.
        """
        ...

    def update(self, affiliation: Affiliation) -> Affiliation:
        """Store a changed affiliation; returns it with its new version."""
        ...

    def find_by_link(self, token_hash: str) -> Affiliation | None:
        """The affiliation whose pending link has this token hash."""
        ...

    def existing_keys(self, contract_number: str, keys: Collection[str]) -> set[str]:
        """Among ``keys``, the person keys already invited, affiliated or dispensed on the contract."""
        ...

    def list_for_contract(
        self, contract_number: str, statuses: Collection[AffiliationStatus] | None = None
    ) -> Sequence[Affiliation]:
        """The contract's affiliations (optionally in some statuses), by name."""
        ...

    def list_in_status(self, statuses: Collection[AffiliationStatus]) -> Sequence[Affiliation]:
        """Every affiliation in one of ``statuses``, all contracts (for the time-driven jobs)."""
        ...

    def billable_after(self, cursor: str | None, limit: int) -> Sequence[BillableAffiliation]:
        """The next page of billable affiliations (all contracts), as lean projections.

        Keyset pagination: the ``limit`` first affiliations in a billable status
        (:data:`~mutuelle_core.cotisations.records.BILLABLE_STATUSES`) whose id is greater than
        ``cursor`` (from the first when ``None``), by ``affiliation_id``. A billing run reads every
        member through it without ever holding more than one page.
        """
        ...

    def changed_since(
        self, since: dt.datetime, cursor: str | None, limit: int
    ) -> Sequence[BillableAffiliation]:
        """The next page of affiliations (any status, all contracts) stored at or after ``since``.

        The adapter stamps each affiliation with the unit of work's clock whenever it is added or
        updated (persistence metadata, like ``version``). Keyset pagination by ``affiliation_id``
        after ``cursor``, at most ``limit``; lean projections as :meth:`billable_after`'s.
        """
        ...


class TariffRepository(Protocol):
    """Each contract's tariff grid and cotisation rules (one :class:`ContractTariff` per contract)."""

    def find(self, contract_number: str) -> ContractTariff | None:
        """The contract's tariff, or ``None``."""
        ...

    def get(self, contract_number: str) -> ContractTariff:
        """The contract's tariff (``not_found`` otherwise)."""
        ...

    def put(self, tariff: ContractTariff) -> ContractTariff:
        """Store a new tariff (version 0) or replace the stored one (its version); returns it stored."""
        ...


class CotisationRepository(Protocol):
    """Cotisation lines, members' schedule lines, employers' dues and billing runs (integer cents).

    Lines are unique per ``(affiliation_id, month, person_id, product, payer, channel)`` and schedule
    lines per ``(affiliation_id, month, payer)``: storing a key twice fails (the unit of work must then
    be rolled back), which is the billing run's last line of defence against billing twice.

    New lines and schedule lines come as tuples of values in
    :data:`~mutuelle_core.cotisations.records.LINE_COLUMNS` and
    :data:`~mutuelle_core.cotisations.records.SCHEDULE_COLUMNS` order (the billing run's fast path);
    they are read back as rows keyed by those column names. A line row has the keys
    ``affiliation_id, month, person_id, product, payer, channel, run_id, contract_number, member_id,
    category, amount_cents``; a schedule row ``affiliation_id, month, payer, run_id, contract_number,
    payer_id, due_date, amount_cents`` (a member's due: ``payer`` is ``member``); an employer's due row ``contract_number, month, due_date, amount_cents, run_id``: one
    per contract and month, the sum of what the employer pays for all its affiliations that month
    (its own share and what it deducts from pay), added to batch by batch in the billing run's
    transactions (the detail per affiliation is in the lines).
    """

    def billed_among(self, month: str, affiliation_ids: Collection[str]) -> set[str]:
        """Among ``affiliation_ids``, those that already have cotisation lines for ``month``, or
        regularisation lines of it (a month billed to them by a regularisation is billed)."""
        ...

    def add_lines(self, rows: Sequence[LineValues]) -> None:
        """Store new cotisation lines, values in ``LINE_COLUMNS`` order (one bulk insert).

        An adapter may write them behind: a write that fails (a key stored twice) then fails a later
        operation of the unit of work, at the latest ``commit``, and nothing is committed.
        """
        ...

    def add_schedule_lines(self, rows: Sequence[ScheduleValues]) -> None:
        """Store new schedule lines, values in ``SCHEDULE_COLUMNS`` order (one bulk insert); may be
        written behind, as :meth:`add_lines`."""
        ...

    def add_to_employer_dues(self, rows: Sequence[Row]) -> None:
        """Add each row's ``amount_cents`` to its contract's due of the month, creating the due at the
        row's ``due_date`` if there is none, else moving it to the row's ``due_date`` when that is
        later (``run_id`` records the last run that added to it); may be written behind, as
        :meth:`add_lines`."""
        ...

    def employer_dues(self, contract_number: str, month: str | None = None) -> Sequence[Row]:
        """A contract's employer dues (of one month, or all), by month."""
        ...

    def lines_for(self, affiliation_id: str, month: str | None = None) -> Sequence[Row]:
        """An affiliation's lines (of one month, or all), by month then key."""
        ...

    def schedule_for(self, affiliation_id: str, month: str | None = None) -> Sequence[Row]:
        """An affiliation's schedule lines (of one month, or all), by month then payer."""
        ...

    def count_lines(self, month: str) -> int:
        """How many cotisation lines ``month`` has."""
        ...

    def latest_run(self, month: str) -> BillingRun | None:
        """The month's most recent billing run, or ``None``."""
        ...

    def billed_months(self, up_to: str) -> Sequence[str]:
        """The months up to ``up_to`` (included) that have a finished billing run, in order."""
        ...

    def earliest_run_start(self) -> dt.datetime | None:
        """When the first billing run of any month started, or ``None`` when nothing was billed."""
        ...

    def add_to_schedule_lines(self, rows: Sequence[Row]) -> None:
        """Add each row's ``amount_cents`` to its schedule line ``(affiliation_id, month, payer)``,
        creating it (with the row's ``due_date``, ``payer_id``...) if there is none, else moving its
        due date to the row's when that is later; written at once."""
        ...

    def add_regularisation_lines(self, rows: Sequence[Row]) -> None:
        """Store new regularisation lines: rows with the keys of a cotisation line plus ``billed_in``
        (the month of the run that wrote them); unique per ``(affiliation_id, month, person_id,
        product, payer, channel, run_id)``, amounts signed."""
        ...

    def regularisation_lines_for(self, affiliation_id: str, month: str | None = None) -> Sequence[Row]:
        """An affiliation's regularisation lines (of one regularised month, or all), by month, then
        key, then run."""
        ...

    def regularisation_totals(self, billed_in: str) -> Sequence[Row]:
        """The regularisation lines written in the runs of ``billed_in`` summed per ``contract_number,
        month, payer, channel, product, category``: rows with those keys, ``members`` (distinct) and
        ``amount_cents``, in that order."""
        ...

    def latest_regularisation_run(self, month: str | None = None) -> RegularisationRun | None:
        """The most recent regularisation run of ``month`` (of any month when ``None``), or ``None``."""
        ...

    def add_regularisation_run(self, run: RegularisationRun) -> RegularisationRun:
        """Store a new regularisation run; returns it with version 1."""
        ...

    def update_regularisation_run(self, run: RegularisationRun) -> RegularisationRun:
        """Store a changed regularisation run if nobody changed it since loaded; returns its new version."""
        ...

    def add_run(self, run: BillingRun) -> BillingRun:
        """Store a new run; returns it with version 1."""
        ...

    def update_run(self, run: BillingRun) -> BillingRun:
        """Store a changed run if nobody changed it since loaded; returns it with its new version."""
        ...


class MandateRepository(Protocol):
    """SEPA mandates by RUM and by affiliation (every mandate kept, revoked ones included)."""

    def find(self, rum: str) -> StoredMandate | None:
        """The mandate with this RUM, or ``None``."""
        ...

    def active_for(self, affiliation_ids: Collection[str]) -> dict[str, StoredMandate]:
        """Each affiliation's active mandate (neither revoked nor completed), by affiliation id."""
        ...

    def add(self, stored: StoredMandate) -> StoredMandate:
        """Store a new mandate (its RUM must be new); returns it with version 1."""
        ...

    def update(self, stored: StoredMandate) -> StoredMandate:
        """Store a changed mandate if nobody changed it since loaded; returns its new version."""
        ...

    def update_many(self, changed: Sequence[StoredMandate]) -> None:
        """Store many changed mandates at once (as :meth:`update`); a stale one fails them all."""
        ...


class AccountRepository(Protocol):
    """Payers' ledgers: dues read from the schedule lines, payments, imputations and rejects.

    See :mod:`mutuelle_core.cotisations.account_records` for the payers and the ids of their dues.
    """

    def ledger(self, key: PayerKey) -> StoredLedger:
        """The payer's ledger (version 0 for a payer with nothing recorded yet)."""
        ...

    def ledgers(self, keys: Sequence[PayerKey]) -> dict[PayerKey, StoredLedger]:
        """Many payers' ledgers at once (as :meth:`ledger` for each)."""
        ...

    def save_many(self, changes: Sequence[tuple[StoredLedger, Ledger]]) -> None:
        """Store many ledgers at once (as :meth:`save` for each, each payer at most once); a stale
        one fails them all."""
        ...

    def save(self, stored: StoredLedger, ledger: Ledger) -> StoredLedger:
        """Store ``ledger``'s payments, imputations and rejects (its dues are the schedule's) in
        place of ``stored``, if nobody changed the payer's account since it was loaded."""
        ...

    def payer_of(self, payment_id: str) -> PayerKey | None:
        """Whose ledger holds that payment, or ``None``."""
        ...

    def in_arrears(self, due_on_or_before: dt.date) -> Sequence[PayerKey]:
        """The payers with a due falling on or before that day that is not paid in full."""
        ...

    def uncollected(
        self, due_on_or_before: dt.date, *, after_member: str | None = None, members: int | None = None
    ) -> Sequence[UncollectedDue]:
        """Members' dues falling on or before that day and not paid in full (a direct debit sent
        counts as payment until the bank rejects it); by member, then due date.

        Paged by member: only members whose id sorts after ``after_member``, at most ``members`` of
        them (every due of each member returned is in the page).
        """
        ...

    def month_totals(self, month: str) -> Sequence[Row]:
        """The month's cotisation lines summed per ``contract_number, payer, channel, product,
        category``: rows with those keys, ``members`` (distinct) and ``amount_cents``."""
        ...

    def add_collection(self, record: CollectionRecord) -> None:
        """Record a SEPA file sent to the bank."""
        ...

    def collections(self) -> Sequence[CollectionRecord]:
        """Every SEPA file recorded, oldest first."""
        ...


class DunningRepository(Protocol):
    """The dunning (pré-contentieux) of each unpaid due, by payer."""

    def for_payer(self, key: PayerKey) -> Sequence[StoredDunning]:
        """Every dunning of the payer, settled ones included, by due date."""
        ...

    def open_payers(self) -> Sequence[PayerKey]:
        """The payers with a dunning time may still move (not settled, terminated nor excluded)."""
        ...

    def put(self, stored: StoredDunning) -> StoredDunning:
        """Store a new dunning (version 0) or a changed one (its version); returns it stored."""
        ...


@attrs.frozen(kw_only=True)
class BuiltDirectDebitFile:
    """A SEPA direct debit file built and validated, not yet handed to the bank.

    Attributes:
        filename: the name it will be published under.
        content: the file (pain.008 XML).
        message_id: its message id.
        requested_collection_date: the collection date it asks for (a TARGET2 business day).
        transactions: how many direct debits it carries.
        amount_cents: their exact total.
    """

    filename: str
    content: bytes = attrs.field(repr=False)
    message_id: str
    requested_collection_date: dt.date
    transactions: int
    amount_cents: int


class DirectDebitFiles(Protocol):
    """Builds SEPA direct debit files (validated against the scheme's XSD) and publishes them.

    The collection use case builds the file, stores it as a document and records its payments in one
    transaction, then publishes it once that transaction is committed.
    """

    def build(
        self, instructions: Sequence[DirectDebitInstruction], *, message_id: str, created_at: dt.datetime
    ) -> BuiltDirectDebitFile:
        """The file of these collections (one creditor, one collection date), validated."""
        ...

    def publish(self, built: BuiltDirectDebitFile) -> str:
        """Hand the file over (write it where the bank transfer picks it up); returns where."""
        ...


class UnitOfWork(Protocol):
    """One transaction over every repository, the outbox and the document store."""

    @property
    def employers(self) -> EmployerRepository:
        """Employers."""
        ...

    @property
    def contracts(self) -> ContractRepository:
        """Collective contracts with their groups and products."""
        ...

    @property
    def correspondents(self) -> CorrespondentRepository:
        """Correspondent accounts."""
        ...

    @property
    def affiliations(self) -> AffiliationRepository:
        """Affiliation files."""
        ...

    @property
    def designations(self) -> DesignationRepository:
        """Beneficiary designations (provident death capital)."""
        ...

    @property
    def tariffs(self) -> TariffRepository:
        """Contracts' tariff grids and cotisation rules."""
        ...

    @property
    def cotisations(self) -> CotisationRepository:
        """Cotisation lines, schedule lines and billing runs."""
        ...

    @property
    def mandates(self) -> MandateRepository:
        """SEPA mandates."""
        ...

    @property
    def accounts(self) -> AccountRepository:
        """Payers' ledgers and the SEPA files sent."""
        ...

    @property
    def dunning(self) -> DunningRepository:
        """Dunnings of unpaid dues."""
        ...

    @property
    def outbox(self) -> Outbox:
        """Messages to send once the transaction commits."""
        ...

    @property
    def documents(self) -> DocumentStore:
        """Generated and uploaded documents."""
        ...

    @property
    def references(self) -> ReferenceGenerator:
        """Business references (numéro d'adhésion, RUM)."""
        ...

    def __enter__(self) -> Self:
        """Begin the transaction."""
        ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """End it: roll back unless ``commit()`` was called."""
        ...

    def commit(self) -> None:
        """Make every change of this unit of work durable, atomically."""
        ...

    def rollback(self) -> None:
        """Discard every change of this unit of work."""
        ...

    def collect_events(self) -> list[DomainEvent]:
        """The events raised by the aggregates this unit of work stored, in order (then forgotten)."""
        ...


class UnitOfWorkFactory(Protocol):
    """Makes a fresh unit of work for each use case."""

    def __call__(self) -> UnitOfWork:
        """A new, not yet entered, unit of work."""
        ...
