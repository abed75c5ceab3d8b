"""What the payment, mandate, collection and dunning ports exchange with the adapters.

Plain values, no behaviour: the rules live in :mod:`~mutuelle_core.cotisations.payments` (the ledger),
:mod:`~mutuelle_core.cotisations.mandates`, :mod:`~mutuelle_core.cotisations.dunning` and the use
cases of :mod:`~mutuelle_core.cotisations.accounts`, :mod:`~mutuelle_core.cotisations.collection` and
:mod:`~mutuelle_core.cotisations.dunning_run`.

**Dues are what the billing run writes.** A payer's dues are read from the run's own rows, so
billing a million members writes nothing more:

* the **employer** of a contract (``payer_id`` = the contract number) owes one due per month: the
  employer due row of the contract and month, which the run adds each batch's employer total to
  (one row for a million members, read as such by the employer's ledger and the dunning job): due id
  ``"2026-05"`` (:func:`employer_due_id`);
* a **member** (``payer_id`` = the member id: the adhesion number) owes one due per affiliation and
  month, its schedule line: due id ``"2026-05/<affiliation id>"`` (:func:`member_due_id`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

import attrs

from mutuelle_core.cotisations.dunning import DunningState
from mutuelle_core.cotisations.mandates import Mandate
from mutuelle_core.cotisations.payments import Due, Ledger
from mutuelle_core.cotisations.records import Row
from mutuelle_core.cotisations.rules import Payer
from mutuelle_core.values.money import Money

__all__ = [
    "CollectionRecord",
    "PayerKey",
    "StoredDunning",
    "StoredLedger",
    "StoredMandate",
    "UncollectedDue",
    "dues_from_schedule",
    "employer_due_id",
    "member_due_id",
]


def employer_due_id(month: str) -> str:
    """The id of an employer's due for a month (one per contract and month)."""
    return month


def member_due_id(month: str, affiliation_id: str) -> str:
    """The id of a member's due for a month of one affiliation."""
    return f"{month}/{affiliation_id}"


class PayerKey(NamedTuple):
    """Who owes: the employer of a contract (``payer_id`` = contract number) or a member."""

    payer: Payer
    payer_id: str

    def __str__(self) -> str:
        return f"{self.payer.value}:{self.payer_id}"


@attrs.frozen
class StoredLedger:
    """A payer's ledger as stored, with the version that guards concurrent writes.

    Attributes:
        key: the payer.
        ledger: dues (from the schedule lines), payments, imputations and rejects.
        version: 0 while nothing was ever recorded for the payer.
    """

    key: PayerKey
    ledger: Ledger
    version: int = 0


@attrs.frozen
class StoredMandate:
    """A SEPA mandate and the affiliation whose cotisations it collects.

    Attributes:
        mandate: the mandate (its RUM is the key).
        affiliation_id: the affiliation.
        version: optimistic concurrency.
    """

    mandate: Mandate
    affiliation_id: str
    version: int = 0


@attrs.frozen
class StoredDunning:
    """The dunning of one due of one payer, as stored.

    Attributes:
        payer: employer or member (``state.payer_id`` is the payer id).
        state: where the dunning stands.
        contract_number: the contract whose cotisation is unpaid.
        version: optimistic concurrency.
    """

    payer: Payer
    state: DunningState
    contract_number: str
    version: int = 0

    @property
    def key(self) -> PayerKey:
        """The payer."""
        return PayerKey(self.payer, self.state.payer_id)


class UncollectedDue(NamedTuple):
    """A member's due that no live direct debit collects yet, with what is still owed on it.

    Attributes:
        affiliation_id: the affiliation billed.
        contract_number: its contract.
        member_id: the payer.
        month: the month billed (``YYYY-MM``).
        due_date: when it falls due.
        outstanding_cents: the due minus what was imputed to it.
    """

    affiliation_id: str
    contract_number: str
    member_id: str
    month: str
    due_date: dt.date
    outstanding_cents: int

    @property
    def due_id(self) -> str:
        """The due's id in the member's ledger."""
        return member_due_id(self.month, self.affiliation_id)


@attrs.frozen(kw_only=True)
class CollectionRecord:
    """One SEPA direct debit file sent to the bank for a collection date.

    Attributes:
        collection_id: the id (also the file's message id).
        collection_date: the requested collection date (before any TARGET2 shift).
        created_at: when it was made.
        filename: the file's name where the adapter wrote it.
        transactions: how many direct debits it carries.
        amount_cents: their total.
        sha256: the file's SHA-256.
    """

    collection_id: str
    collection_date: dt.date
    created_at: dt.datetime
    filename: str
    transactions: int
    amount_cents: int
    sha256: str


def dues_from_schedule(key: PayerKey, rows: Sequence[Row]) -> tuple[Due, ...]:
    """A payer's dues from its rows: one per month for an employer (its employer due rows, summed per
    month), one per affiliation and month for a member (its schedule lines); oldest first."""
    amounts: dict[str, int] = {}
    dates: dict[str, dt.date] = {}
    for row in rows:
        month = row["month"]
        due_id = (
            employer_due_id(month)
            if key.payer is Payer.EMPLOYER
            else member_due_id(month, row["affiliation_id"])
        )
        amounts[due_id] = amounts.get(due_id, 0) + row["amount_cents"]
        day = row["due_date"]
        dates[due_id] = min(day, dates.get(due_id, day))
    return tuple(
        Due(
            due_id=due_id, due_date=dates[due_id], amount=Money.cents(cents), label=f"Cotisation {due_id[:7]}"
        )
        for due_id, cents in sorted(amounts.items(), key=lambda item: (dates[item[0]], item[0]))
        if cents > 0
    )
