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
from mutuelle_core.cotisations.account_records import CollectionRecord, PayerKey, UncollectedDue
from mutuelle_core.cotisations.mandates import DirectDebitInstruction
from mutuelle_core.cotisations.payments import Payment, apply_credit, record_payment
from mutuelle_core.cotisations.rules import CollectionChannel, Payer
from mutuelle_core.cotisations.schedule import PRENOTIFICATION_DAYS
from mutuelle_core.errors import DomainError
from mutuelle_core.ports import DirectDebitFiles, UnitOfWork
from mutuelle_core.services import Services
from mutuelle_core.values.dates import Month
from mutuelle_core.values.money import Money

__all__ = ["CollectionReport", "collect_direct_debits"]

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


@attrs.frozen(kw_only=True)
class CollectionReport:
    """What a collection did.

    Attributes:
        collection_date: the date asked for.
        record: the SEPA file recorded (``None`` when there was nothing to collect).
        published_to: where the file was published.
        debits: direct debits in the file.
        amount: their total.
        skipped: dues not collected, counted by reason (``no_mandate``, ``prenotification``,
            ``not_direct_debit``, ``mandate_unusable``).
    """

    collection_date: dt.date
    record: CollectionRecord | None
    published_to: str | None
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


def collect_direct_debits(
    svc: Services, collection_date: dt.date, files: DirectDebitFiles
) -> CollectionReport:
    """Collect the members' unpaid dues up to ``collection_date`` in one SEPA file (see the module
    docstring).

    Raises:
        DomainError: ``sepa_file.*`` if the file cannot be built (a bug: instructions are checked one
            by one before).
    """
    skipped: Counter[str] = Counter()
    now = svc.clock.now()
    with svc.uow() as uow:
        dues = uow.accounts.uncollected(collection_date)
        channels: dict[str, CollectionChannel | None] = {}
        by_affiliation: dict[str, list[UncollectedDue]] = {}
        notified: dict[str, dt.date | None] = {}
        for due in dues:
            number = due.contract_number
            if number not in channels:
                tariff = uow.tariffs.find(number)
                channels[number] = None if tariff is None else tariff.rules.member_channel
            if channels[number] is not CollectionChannel.DIRECT_DEBIT:
                skipped["not_direct_debit"] += 1
                continue
            told = _notified_on(uow, due.month, notified)
            if told is None or told + dt.timedelta(days=PRENOTIFICATION_DAYS) > collection_date:
                skipped["prenotification"] += 1
                continue
            by_affiliation.setdefault(due.affiliation_id, []).append(due)
        mandates = uow.mandates.active_for(list(by_affiliation))
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
            stored = uow.accounts.ledger(key)
            ledger = apply_credit(stored.ledger, collection_date)
            wanted = [d for d in group if ledger.outstanding(d.due_id).is_positive]
            amount = Money.cents(sum(ledger.outstanding(d.due_id).to_cents() for d in wanted))
            if not wanted:
                if ledger != stored.ledger:
                    uow.accounts.save(stored, ledger)
                continue
            end_to_end = f"{message_id}-{len(instructions) + 1:07d}"
            notified_on = min(_notified_on(uow, d.month, notified) or collection_date for d in wanted)
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
            uow.accounts.save(stored, record_payment(ledger, payment))
            uow.mandates.update(
                attrs.evolve(stored_mandate, mandate=mandate.record_collection(collection_date))
            )
        if not instructions:
            uow.commit()
            return CollectionReport(
                collection_date=collection_date,
                record=None,
                published_to=None,
                debits=0,
                amount=Money(0),
                skipped=dict(skipped),
            )
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
        uow.commit()
    where = files.publish(built)
    return CollectionReport(
        collection_date=collection_date,
        record=record,
        published_to=where,
        debits=built.transactions,
        amount=Money.cents(built.amount_cents),
        skipped=dict(skipped),
    )
