"""Payments (règlements): recorded, imputed to the oldest amount due, credits kept, debits rejected.

A :class:`Ledger` is one payer's account, an immutable value: the amounts due (:class:`Due`), the
payments received (:class:`Payment`), how each payment was imputed (:class:`Imputation`) and the
rejected direct debits (:class:`Rejection`). Functions return a new ledger:

* :func:`record_payment` imputes a payment to the **oldest** amount still due (by due date, then
  id), after the due it was collecting when it is a direct debit of one instalment; what is left is
  kept as a **credit**;
* :func:`add_due` adds an amount due and, by default, pays it from the credit (:func:`apply_credit`);
* :func:`reject_direct_debit` records the bank's reject of a direct debit with its ISO 20022 reason
  code (``AM04`` insufficient funds, ``MS02`` refused by the debtor, ``AC04`` closed account...):
  every imputation of that payment is undone, so the dues it paid are unpaid again (and any credit it
  left disappears); call :func:`apply_credit` to pay them from another credit.

Invariants, whatever the sequence of operations: a payment is never imputed more than its amount, a
due never receives more than its amount, and the credit is exactly what the payments not rejected
have not paid.

>>> import datetime as dt
>>> from mutuelle_core.cotisations.payments import (Due, Ledger, Payment, add_due, record_payment,
...     reject_direct_debit)
>>> from mutuelle_core.cotisations.rules import CollectionChannel
>>> from mutuelle_core.values.money import Money
>>> ledger = Ledger("M1")
>>> ledger = add_due(ledger, Due(due_id="2026-01", due_date=dt.date(2026, 1, 5), amount=Money(36)))
>>> ledger = add_due(ledger, Due(due_id="2026-02", due_date=dt.date(2026, 2, 5), amount=Money(36)))
>>> ledger = record_payment(ledger, Payment(payment_id="P1", received_on=dt.date(2026, 2, 10),
...     amount=Money(80), channel=CollectionChannel.TRANSFER))
>>> ledger.outstanding("2026-01"), ledger.outstanding("2026-02"), ledger.credit
(Money('0.00'), Money('0.00'), Money('8.00'))
>>> ledger = record_payment(ledger, Payment(payment_id="D3", received_on=dt.date(2026, 3, 5),
...     amount=Money(28), channel=CollectionChannel.DIRECT_DEBIT))
>>> ledger = reject_direct_debit(ledger, "P1", "AM04", dt.date(2026, 2, 12))  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
mutuelle_core.errors.DomainError: [payment.not_direct_debit] (payment_id) Le règlement P1 n'est pas un prélèvement...
>>> ledger = reject_direct_debit(ledger, "D3", "AM04", dt.date(2026, 3, 9))
>>> ledger.credit, ledger.rejections[0].reason.label
(Money('8.00'), 'Provision insuffisante')
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable

import attrs

from mutuelle_core.cotisations.rules import CollectionChannel
from mutuelle_core.errors import error_code
from mutuelle_core.i18n import message
from mutuelle_core.values.money import Money

__all__ = [
    "PAYMENT_ALREADY_REJECTED",
    "PAYMENT_DUPLICATE",
    "PAYMENT_NOT_DIRECT_DEBIT",
    "PAYMENT_NOT_POSITIVE",
    "PAYMENT_UNKNOWN",
    "PAYMENT_UNKNOWN_REASON",
    "Due",
    "DueStatus",
    "Imputation",
    "Ledger",
    "Payment",
    "RejectReason",
    "Rejection",
    "add_due",
    "apply_credit",
    "record_payment",
    "reject_direct_debit",
]

PAYMENT_NOT_POSITIVE = error_code(
    "payment.amount_not_positive", "Le montant ({amount}) doit être strictement positif."
)
PAYMENT_DUPLICATE = error_code("payment.duplicate", "L'identifiant {id} est déjà utilisé dans ce compte.")
PAYMENT_UNKNOWN = error_code("payment.unknown", "Règlement ou échéance inconnu dans ce compte : {id}.")
PAYMENT_NOT_DIRECT_DEBIT = error_code(
    "payment.not_direct_debit", "Le règlement {id} n'est pas un prélèvement : il ne peut pas être rejeté."
)
PAYMENT_ALREADY_REJECTED = error_code("payment.already_rejected", "Le prélèvement {id} est déjà rejeté.")
PAYMENT_UNKNOWN_REASON = error_code(
    "payment.unknown_reject_reason", "Code de rejet de prélèvement inconnu : {code}."
)


class RejectReason(enum.Enum):
    """SEPA direct-debit reject, return and refund reason codes (ISO 20022 ``ExternalReturnReason``)."""

    AC01 = "AC01"
    AC04 = "AC04"
    AC06 = "AC06"
    AC13 = "AC13"
    AG01 = "AG01"
    AG02 = "AG02"
    AM04 = "AM04"
    AM05 = "AM05"
    BE05 = "BE05"
    CNOR = "CNOR"
    DNOR = "DNOR"
    FF01 = "FF01"
    MD01 = "MD01"
    MD02 = "MD02"
    MD06 = "MD06"
    MD07 = "MD07"
    MS02 = "MS02"
    MS03 = "MS03"
    RC01 = "RC01"
    RR01 = "RR01"
    RR02 = "RR02"
    RR03 = "RR03"
    RR04 = "RR04"
    SL01 = "SL01"

    @classmethod
    def parse(cls, code: str | RejectReason) -> RejectReason:
        """The reason for a code (``" am04 "`` works).

        Raises:
            DomainError: ``payment.unknown_reject_reason`` for an unknown code.
        """
        if isinstance(code, RejectReason):
            return code
        try:
            return cls(code.strip().upper())
        except ValueError:
            raise PAYMENT_UNKNOWN_REASON("reason", code=code[:10]) from None

    @property
    def label(self) -> str:
        """The French label."""
        return _REASON_LABELS[self]

    @property
    def mandate_unusable(self) -> bool:
        """True when presenting the debit again is pointless: the account or the mandate is unusable
        (closed, blocked or wrong account, no or invalid mandate, debtor deceased, debits forbidden)."""
        return self in _FINAL_REASONS


_REASON_LABELS = {
    RejectReason.AC01: message("Numéro de compte incorrect"),
    RejectReason.AC04: message("Compte clôturé"),
    RejectReason.AC06: message("Compte bloqué"),
    RejectReason.AC13: message("Type de compte du débiteur invalide"),
    RejectReason.AG01: message("Opération interdite sur ce compte"),
    RejectReason.AG02: message("Code opération invalide"),
    RejectReason.AM04: message("Provision insuffisante"),
    RejectReason.AM05: message("Prélèvement en double"),
    RejectReason.BE05: message("Créancier non reconnu"),
    RejectReason.CNOR: message("Banque du créancier non joignable"),
    RejectReason.DNOR: message("Banque du débiteur non joignable"),
    RejectReason.FF01: message("Format de fichier invalide"),
    RejectReason.MD01: message("Pas de mandat"),
    RejectReason.MD02: message("Informations du mandat manquantes ou erronées"),
    RejectReason.MD06: message("Remboursement demandé par le débiteur"),
    RejectReason.MD07: message("Débiteur décédé"),
    RejectReason.MS02: message("Refus du débiteur"),
    RejectReason.MS03: message("Motif non communiqué par la banque"),
    RejectReason.RC01: message("BIC incorrect"),
    RejectReason.RR01: message("Motif réglementaire : identification du débiteur manquante"),
    RejectReason.RR02: message("Motif réglementaire : nom ou adresse du débiteur manquant"),
    RejectReason.RR03: message("Motif réglementaire : nom ou adresse du créancier manquant"),
    RejectReason.RR04: message("Motif réglementaire"),
    RejectReason.SL01: message("Service spécifique de la banque du débiteur"),
}

_FINAL_REASONS = frozenset(
    {
        RejectReason.AC01,
        RejectReason.AC04,
        RejectReason.AC06,
        RejectReason.AC13,
        RejectReason.AG01,
        RejectReason.MD01,
        RejectReason.MD02,
        RejectReason.MD07,
    }
)


def _positive(instance: object, attribute: attrs.Attribute[Money], value: Money) -> None:
    if not value.is_positive:
        raise PAYMENT_NOT_POSITIVE(attribute.name, amount=str(value))


@attrs.frozen(kw_only=True)
class Due:
    """An amount due by the payer (an instalment of a schedule).

    Attributes:
        due_id: unique in the ledger.
        due_date: when it falls due; imputation goes to the oldest first.
        amount: what is due (positive).
        label: free text for statements (``Cotisation 2026-T1``).
    """

    due_id: str
    due_date: dt.date
    amount: Money = attrs.field(validator=_positive)
    label: str = ""


@attrs.frozen(kw_only=True)
class Payment:
    """A payment received (règlement).

    Attributes:
        payment_id: unique in the ledger.
        received_on: the day it was received (or collected).
        amount: the amount (positive).
        channel: how it was paid; only direct debits can be rejected.
        due_id: for a direct debit of one instalment, the due it collects (imputed to it first).
    """

    payment_id: str
    received_on: dt.date
    amount: Money = attrs.field(validator=_positive)
    channel: CollectionChannel
    due_id: str | None = None


@attrs.frozen
class Imputation:
    """Part of a payment applied to a due, on a day."""

    payment_id: str
    due_id: str
    amount: Money
    on: dt.date


@attrs.frozen
class Rejection:
    """A direct debit rejected (or returned) by the bank, with its reason."""

    payment_id: str
    on: dt.date
    reason: RejectReason


class DueStatus(enum.Enum):
    """Whether a due is paid."""

    UNPAID = "unpaid"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"

    @property
    def label(self) -> str:
        """The French label."""
        return _DUE_LABELS[self]


_DUE_LABELS = {
    DueStatus.UNPAID: message("Impayée"),
    DueStatus.PARTIALLY_PAID: message("Partiellement réglée"),
    DueStatus.PAID: message("Réglée"),
}


@attrs.frozen
class Ledger:
    """One payer's account: dues, payments, imputations and rejects (immutable; change it with the
    module's functions).

    Attributes:
        payer_id: the employer or the member.
        dues: the amounts due, in the order added.
        payments: the payments received, in the order recorded.
        imputations: how the payments were applied.
        rejections: the direct debits rejected.
    """

    payer_id: str
    dues: tuple[Due, ...] = ()
    payments: tuple[Payment, ...] = ()
    imputations: tuple[Imputation, ...] = ()
    rejections: tuple[Rejection, ...] = ()

    def due(self, due_id: str) -> Due:
        """The due with this id (``payment.unknown`` otherwise)."""
        for due in self.dues:
            if due.due_id == due_id:
                return due
        raise PAYMENT_UNKNOWN("due_id", id=due_id)

    def payment(self, payment_id: str) -> Payment:
        """The payment with this id (``payment.unknown`` otherwise)."""
        for payment in self.payments:
            if payment.payment_id == payment_id:
                return payment
        raise PAYMENT_UNKNOWN("payment_id", id=payment_id)

    def is_rejected(self, payment_id: str) -> bool:
        """Whether that payment was rejected."""
        return any(r.payment_id == payment_id for r in self.rejections)

    def paid_on_due(self, due_id: str) -> Money:
        """What was imputed to a due."""
        return Money.cents(sum(i.amount.to_cents() for i in self.imputations if i.due_id == due_id))

    def imputed_from(self, payment_id: str) -> Money:
        """What a payment paid so far."""
        return Money.cents(sum(i.amount.to_cents() for i in self.imputations if i.payment_id == payment_id))

    def outstanding(self, due_id: str) -> Money:
        """What is still due on a due."""
        return self.due(due_id).amount - self.paid_on_due(due_id)

    def status(self, due_id: str) -> DueStatus:
        """Paid, partially paid or unpaid."""
        paid = self.paid_on_due(due_id)
        if paid.is_zero:
            return DueStatus.UNPAID
        return DueStatus.PAID if paid == self.due(due_id).amount else DueStatus.PARTIALLY_PAID

    def paid_in_full_on(self, due_id: str) -> dt.date | None:
        """The day the due became fully paid (the last imputation's day), ``None`` while it is not."""
        if self.status(due_id) is not DueStatus.PAID:
            return None
        return max(i.on for i in self.imputations if i.due_id == due_id)

    def open_dues(self) -> tuple[Due, ...]:
        """The dues not fully paid, oldest first (due date, then id)."""
        paid = _paid_by_due(self.imputations)
        open_ = [d for d in self.dues if paid.get(d.due_id, 0) < d.amount.to_cents()]
        return tuple(sorted(open_, key=lambda d: (d.due_date, d.due_id)))

    @property
    def credit(self) -> Money:
        """What the payments not rejected have not paid yet (kept for the next dues)."""
        return Money.cents(sum(_credits(self).values()))

    @property
    def outstanding_total(self) -> Money:
        """What is still due on every due."""
        paid = _paid_by_due(self.imputations)
        return Money.cents(sum(d.amount.to_cents() - paid.get(d.due_id, 0) for d in self.dues))

    @property
    def balance(self) -> Money:
        """What the payer owes (positive) or has in credit (negative)."""
        return self.outstanding_total - self.credit


def _paid_by_due(imputations: Iterable[Imputation]) -> dict[str, int]:
    paid: dict[str, int] = {}
    for i in imputations:
        paid[i.due_id] = paid.get(i.due_id, 0) + i.amount.to_cents()
    return paid


def _credits(ledger: Ledger) -> dict[str, int]:
    """Each payment's unimputed cents (rejected payments have none), in payment order."""
    rejected = {r.payment_id for r in ledger.rejections}
    used: dict[str, int] = {}
    for i in ledger.imputations:
        used[i.payment_id] = used.get(i.payment_id, 0) + i.amount.to_cents()
    credits: dict[str, int] = {}
    for p in sorted(ledger.payments, key=lambda p: (p.received_on, p.payment_id)):
        if p.payment_id not in rejected:
            left = p.amount.to_cents() - used.get(p.payment_id, 0)
            if left > 0:
                credits[p.payment_id] = left
    return credits


def _impute(
    ledger: Ledger, payment_id: str, available: int, on: dt.date, first_due: str | None = None
) -> tuple[Imputation, ...]:
    paid = _paid_by_due(ledger.imputations)
    order = list(ledger.open_dues())
    if first_due is not None:
        order.sort(key=lambda d: d.due_id != first_due)
    new: list[Imputation] = []
    for due in order:
        if available <= 0:
            break
        left = due.amount.to_cents() - paid.get(due.due_id, 0)
        take = min(left, available)
        if take > 0:
            new.append(Imputation(payment_id, due.due_id, Money.cents(take), on))
            available -= take
    return tuple(new)


def _check_new_id(ledger: Ledger, new_id: str) -> None:
    if any(d.due_id == new_id for d in ledger.dues) or any(p.payment_id == new_id for p in ledger.payments):
        raise PAYMENT_DUPLICATE("id", id=new_id)


def record_payment(ledger: Ledger, payment: Payment) -> Ledger:
    """Record a payment and impute it: to the due it collects first (direct debit), then oldest first;
    the rest stays as credit.

    Raises:
        DomainError: ``payment.duplicate`` for an id already used in the ledger; ``payment.unknown``
            when ``payment.due_id`` names no due.
    """
    _check_new_id(ledger, payment.payment_id)
    if payment.due_id is not None:
        ledger.due(payment.due_id)
    recorded = attrs.evolve(ledger, payments=(*ledger.payments, payment))
    new = _impute(
        recorded, payment.payment_id, payment.amount.to_cents(), payment.received_on, payment.due_id
    )
    return attrs.evolve(recorded, imputations=(*recorded.imputations, *new))


def apply_credit(ledger: Ledger, on: dt.date | None = None) -> Ledger:
    """Pay the open dues, oldest first, from the credit left by earlier payments (oldest first).

    Args:
        ledger: the account.
        on: the day the credit is applied; each imputation is dated the later of this day and the
            payment's (default: the due date of the due it pays, so credit held before a due pays it
            on time).
    """
    credits = _credits(ledger)
    if not credits:
        return ledger
    payments = {p.payment_id: p for p in ledger.payments}
    current = ledger
    for payment_id, credit in credits.items():
        available = credit
        received = payments[payment_id].received_on
        paid = _paid_by_due(current.imputations)
        new: list[Imputation] = []
        for due in current.open_dues():
            if available <= 0:
                break
            take = min(due.amount.to_cents() - paid.get(due.due_id, 0), available)
            if take > 0:
                day = max(received, on if on is not None else due.due_date)
                new.append(Imputation(payment_id, due.due_id, Money.cents(take), day))
                available -= take
        if new:
            current = attrs.evolve(current, imputations=(*current.imputations, *new))
    return current


def add_due(ledger: Ledger, due: Due, *, use_credit: bool = True, on: dt.date | None = None) -> Ledger:
    """Add an amount due; by default pay it (and any older open due) from the credit.

    Raises:
        DomainError: ``payment.duplicate`` for an id already used in the ledger.
    """
    _check_new_id(ledger, due.due_id)
    added = attrs.evolve(ledger, dues=(*ledger.dues, due))
    return apply_credit(added, on) if use_credit else added


def reject_direct_debit(ledger: Ledger, payment_id: str, reason: RejectReason | str, on: dt.date) -> Ledger:
    """The bank rejected (or returned) a direct debit: the dues it paid are unpaid again.

    Every imputation of the payment is removed and the rejection recorded with its reason; the
    credit it had left is gone. Other payments are not moved: call :func:`apply_credit` to pay the
    reopened dues from a credit.

    Raises:
        DomainError: ``payment.unknown``, ``payment.not_direct_debit``, ``payment.already_rejected``,
            ``payment.unknown_reject_reason``.
    """
    payment = ledger.payment(payment_id)
    if payment.channel is not CollectionChannel.DIRECT_DEBIT:
        raise PAYMENT_NOT_DIRECT_DEBIT("payment_id", id=payment_id)
    if ledger.is_rejected(payment_id):
        raise PAYMENT_ALREADY_REJECTED("payment_id", id=payment_id)
    why = RejectReason.parse(reason)
    return attrs.evolve(
        ledger,
        imputations=tuple(i for i in ledger.imputations if i.payment_id != payment_id),
        rejections=(*ledger.rejections, Rejection(payment_id, on, why)),
    )
