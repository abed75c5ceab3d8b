"""Collecting members' dues by SEPA direct debit: one pain.008 file per collection date.

:func:`collect_direct_debits` takes every member due falling on or before the collection date that
is not paid (a rejected debit makes its dues unpaid again, so they are presented again), on contracts
whose members pay by direct debit, and for each affiliation with an active mandate:

* sums what is still owed (after any credit the member holds) into **one** direct debit (a mandate
  appears once per file), sequence ``FRST`` on the mandate's first use or after a change of bank,
  ``RCUR`` then, with the amendment details after a change of IBAN;
* checks the **pre-notification**: the member was told the amount when the month was billed (the
  billing run's day; the member space shows the detail), which must be at least 14 days before the
  collection; a due billed too late waits for a later collection;
* records the debit as a payment of the member's ledger (paid on the collection date until the bank
  rejects it) and the mandate's use.

The file is built and validated against the XSD by the :class:`~mutuelle_core.ports.DirectDebitFiles`
port, stored as a document (kind ``sepa_direct_debit``) with the collection record and the payments
in **one transaction**, and published only after the commit: a failure before leaves nothing, a
failure while publishing leaves the file in the document store to publish again. Running the
collection twice for a date collects nothing the second time (the dues are paid).

Dues skipped are reported with the reason: no active mandate, pre-notification too late, or the
contract collects members otherwise (cheque, transfer).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import attrs

from mutuelle_core.affiliation.documents import make_document
from mutuelle_core.cotisations.account_records import (
    CollectionRecord,
    PayerKey,
    StoredMandate,
    UncollectedDue,
)
from mutuelle_core.cotisations.mandates import DirectDebitInstruction
from mutuelle_core.cotisations.payments import Payment, apply_credit, record_payment
from mutuelle_core.cotisations.rules import CollectionChannel, Payer
from mutuelle_core.cotisations.schedule import PRENOTIFICATION_DAYS
from mutuelle_core.errors import DomainError
from mutuelle_core.ports import BuiltDirectDebitFile, DirectDebitFiles, UnitOfWork
from mutuelle_core.services import Services
from mutuelle_core.values.dates import Month
from mutuelle_core.values.money import Money

__all__ = ["MEMBERS_PER_FILE", "CollectionReport", "collect_direct_debits"]

_MONTHS_FR = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]


MEMBERS_PER_FILE = 20_000
"""Members per SEPA file (and per transaction) unless told: a file a bank accepts, a bounded memory."""


@attrs.frozen(kw_only=True)
class CollectionReport:
    """What a collection did.

    Attributes:
        collection_date: the date asked for.
        records: the SEPA files recorded, one per page of members (none when nothing was due).
        published: where each file was published, in the same order.
        debits: direct debits in the files.
        amount: their total.
        skipped: dues not collected, counted by reason (``no_mandate``, ``prenotification``,
            ``not_direct_debit``, ``mandate_unusable``).
    """

    collection_date: dt.date
    records: tuple[CollectionRecord, ...]
    published: tuple[str, ...]
    debits: int
    amount: Money
    skipped: dict[str, int]


def _notified_on(uow: UnitOfWork, month: str, cache: dict[str, dt.date | None]) -> dt.date | None:
    if month not in cache:
        run = uow.cotisations.latest_run(month)
        cache[month] = None if run is None else run.started_at.date()
    return cache[month]


def _remittance(months: list[str]) -> str:
    labels = []
    for text in sorted(set(months)):
        m = Month.parse(text)
        labels.append(f"{_MONTHS_FR[m.month - 1]} {m.year}")
    return "Cotisation " + ", ".join(labels)


class _Caches:
    """What a collection looks up once: each contract's member channel, each month's billing day."""

    def __init__(self) -> None:
        self.channels: dict[str, CollectionChannel | None] = {}
        self.notified: dict[str, dt.date | None] = {}

    def channel(self, uow: UnitOfWork, number: str) -> CollectionChannel | None:
        if number not in self.channels:
            tariff = uow.tariffs.find(number)
            self.channels[number] = None if tariff is None else tariff.rules.member_channel
        return self.channels[number]


def _collect_page(
    svc: Services,
    uow: UnitOfWork,
    dues: list[UncollectedDue],
    collection_date: dt.date,
    files: DirectDebitFiles,
    caches: _Caches,
    skipped: Counter[str],
) -> tuple[BuiltDirectDebitFile, CollectionRecord] | None:
    """One page of members: their debits, payments and mandates, the file built and recorded."""
    by_affiliation: dict[str, list[UncollectedDue]] = {}
    for due in dues:
        if caches.channel(uow, due.contract_number) is not CollectionChannel.DIRECT_DEBIT:
            skipped["not_direct_debit"] += 1
            continue
        told = _notified_on(uow, due.month, caches.notified)
        if told is None or told + dt.timedelta(days=PRENOTIFICATION_DAYS) > collection_date:
            skipped["prenotification"] += 1
            continue
        by_affiliation.setdefault(due.affiliation_id, []).append(due)
    if not by_affiliation:
        return None
    mandates = uow.mandates.active_for(list(by_affiliation))
    # every ledger of the page in one read, every change in one write (a member with two
    # affiliations in the page has one ledger, updated by both)
    loaded = uow.accounts.ledgers([PayerKey(Payer.MEMBER, g[0].member_id) for g in by_affiliation.values()])
    ledgers = {key: apply_credit(stored.ledger, collection_date) for key, stored in loaded.items()}
    used: list[StoredMandate] = []
    instructions: list[DirectDebitInstruction] = []
    # the file's id, and each debit's end-to-end id after it (at most 29 of the 35 characters)
    message_id = uow.references.next_reference("sepa_message", f"PRLV-{collection_date:%Y%m%d}-")
    for affiliation_id, group in by_affiliation.items():
        stored_mandate = mandates.get(affiliation_id)
        if stored_mandate is None:
            skipped["no_mandate"] += len(group)
            continue
        mandate = stored_mandate.mandate
        if mandate.is_lapsed(collection_date):
            skipped["mandate_unusable"] += len(group)
            continue
        key = PayerKey(Payer.MEMBER, group[0].member_id)
        ledger = ledgers[key]
        wanted = [d for d in group if ledger.outstanding(d.due_id).is_positive]
        if not wanted:
            continue
        amount = Money.cents(sum(ledger.outstanding(d.due_id).to_cents() for d in wanted))
        end_to_end = f"{message_id}-{len(instructions) + 1:07d}"
        notified_on = min(_notified_on(uow, d.month, caches.notified) or collection_date for d in wanted)
        try:
            instruction = mandate.instruction(
                end_to_end_id=end_to_end,
                amount=amount,
                collection_date=collection_date,
                notified_on=notified_on,
                remittance_info=_remittance([d.month for d in wanted]),
            )
        except DomainError:
            skipped["mandate_unusable"] += len(wanted)
            continue
        instructions.append(instruction)
        payment = Payment(
            payment_id=end_to_end,
            received_on=collection_date,
            amount=amount,
            channel=CollectionChannel.DIRECT_DEBIT,
            due_id=wanted[0].due_id,
        )
        ledgers[key] = record_payment(ledger, payment)
        used.append(attrs.evolve(stored_mandate, mandate=mandate.record_collection(collection_date)))
    uow.accounts.save_many(
        [(loaded[key], ledger) for key, ledger in ledgers.items() if ledger != loaded[key].ledger]
    )
    uow.mandates.update_many(used)
    if not instructions:
        return None
    now = svc.clock.now()
    built = files.build(instructions, message_id=message_id, created_at=now)
    document = make_document(
        document_id=svc.ids.new_id(),
        kind="sepa_direct_debit",
        owner=message_id,
        filename=built.filename,
        at=now,
        content=built.content,
        media_type="application/xml",
    )
    uow.documents.put(document)
    record = CollectionRecord(
        collection_id=message_id,
        collection_date=collection_date,
        created_at=now,
        filename=built.filename,
        transactions=built.transactions,
        amount_cents=built.amount_cents,
        sha256=document.sha256,
    )
    uow.accounts.add_collection(record)
    return built, record


def collect_direct_debits(
    svc: Services,
    collection_date: dt.date,
    files: DirectDebitFiles,
    *,
    members_per_file: int = MEMBERS_PER_FILE,
) -> CollectionReport:
    """Collect the members' unpaid dues up to ``collection_date`` (see the module docstring).

    Members are taken by pages of ``members_per_file`` in id order; each page is one file and one
    transaction (its payments, mandates, document and record), published once committed. A run that
    stops midway leaves the files of the pages before committed and published; running it again
    collects the rest (the dues collected are paid).

    Raises:
        DomainError: ``sepa_file.*`` if a file cannot be built (a bug: instructions are checked one
            by one before).
    """
    skipped: Counter[str] = Counter()
    caches = _Caches()
    records: list[CollectionRecord] = []
    published: list[str] = []
    debits = cents = 0
    after: str | None = None
    while True:
        with svc.uow() as uow:
            dues = list(
                uow.accounts.uncollected(collection_date, after_member=after, members=members_per_file)
            )
            if not dues:
                break
            after = dues[-1].member_id
            done = _collect_page(svc, uow, dues, collection_date, files, caches, skipped)
            uow.commit()
        if done is not None:
            built, record = done
            records.append(record)
            published.append(files.publish(built))
            debits += built.transactions
            cents += built.amount_cents
    return CollectionReport(
        collection_date=collection_date,
        records=tuple(records),
        published=tuple(published),
        debits=debits,
        amount=Money.cents(cents),
        skipped=dict(skipped),
    )
