"""Payers' accounts: record payments (règlements), reject direct debits, import a bank statement, read
a statement with the pré-contentieux situation (seed 000: "Règlements", "Situation de pré-contentieux").

The rules are the ledger's (:mod:`~mutuelle_core.cotisations.payments`): a payment is imputed to the
oldest due, an overpayment stays as credit, a rejected direct debit turns the dues it paid back to
unpaid. The use cases here load a payer's ledger (its dues are its schedule lines), apply one rule,
keep the payer's dunnings in step (a due paid in full settles its dunning, so the cover resumes the day
after; a reject reopens a settled one) and store everything in one transaction.

:func:`import_payments` takes the lines of a bank statement or of a payment file and is **all or
nothing**: every line is checked (the payer exists, the amount is positive, the reject reason is an
ISO 20022 code, the payment id is new...) and the report lists each bad line by number; unless
every line is good, nothing is recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import attrs

from mutuelle_core.contracts.access import EmployerScope
from mutuelle_core.cotisations.account_records import PayerKey, StoredDunning, StoredLedger
from mutuelle_core.cotisations.dunning import (
    CoverSituation,
    DunningStatus,
    cover_situation,
    reopen,
    settle,
    worst_status,
)
from mutuelle_core.cotisations.mandates import MandateStatus
from mutuelle_core.cotisations.payments import (
    PAYMENT_DUPLICATE,
    DueStatus,
    Ledger,
    Payment,
    RejectReason,
    apply_credit,
    record_payment,
    reject_direct_debit,
)
from mutuelle_core.cotisations.rules import CollectionChannel, Payer
from mutuelle_core.errors import DomainError, ValidationFailed, error_code
from mutuelle_core.ports import UnitOfWork
from mutuelle_core.services import Services
from mutuelle_core.values.money import Money

__all__ = [
    "PAYMENT_LINE_INVALID",
    "PAYMENT_NOT_FOUND",
    "PAYMENT_PAYER_UNKNOWN",
    "DueView",
    "PayerStatement",
    "PaymentImportReport",
    "PaymentLine",
    "employer_payer_situation",
    "import_payments",
    "payer_statement",
    "receive_payment",
    "reject_payment",
    "sync_dunnings",
]

PAYMENT_PAYER_UNKNOWN = error_code(
    "payment.payer_unknown", "Aucune cotisation n'a été appelée pour le payeur {payer} : règlement refusé."
)
PAYMENT_NOT_FOUND = error_code("payment.not_found", "Le règlement {id} est inconnu.")
PAYMENT_LINE_INVALID = error_code("payment.line_invalid", "Ligne {line} : {problem}")

_UNSETTLED_FINAL = frozenset({DunningStatus.SETTLED, DunningStatus.TERMINATED, DunningStatus.EXCLUDED})


@attrs.frozen(kw_only=True)
class DueView:
    """A due as a statement shows it."""

    due_id: str
    due_date: dt.date
    amount: Money
    paid: Money
    status: DueStatus
    dunning: DunningStatus | None


@attrs.frozen(kw_only=True)
class PayerStatement:
    """A payer's account on a day: dues, credit, balance and pré-contentieux situation.

    Attributes:
        key: the payer.
        dues: every due, oldest first, with what was paid and its dunning status.
        credit: what payments left unimputed.
        balance: owed (positive) or in credit (negative).
        dunning_status: the most serious open dunning (``None``: no pré-contentieux).
        dunning_since: the day that status was reached.
        cover: in force, suspended or ended, as the dunnings make it on the day.
    """

    key: PayerKey
    dues: tuple[DueView, ...]
    credit: Money
    balance: Money
    dunning_status: DunningStatus | None
    dunning_since: dt.date | None
    cover: CoverSituation


def sync_dunnings(uow: UnitOfWork, key: PayerKey, ledger: Ledger, on: dt.date) -> list[StoredDunning]:
    """Keep the payer's dunnings in step with its ledger: settle those whose due is now paid in full
    (on the day of the last imputation), reopen settled ones whose due is unpaid again (a reject).
    Returns the dunnings changed (stored)."""
    changed: list[StoredDunning] = []
    for stored in uow.dunning.for_payer(key):
        state = stored.state
        due_ids = {d.due_id for d in ledger.dues}
        if state.due_id not in due_ids:
            continue
        paid = ledger.status(state.due_id) is DueStatus.PAID
        if paid and state.status not in _UNSETTLED_FINAL:
            paid_on = ledger.paid_in_full_on(state.due_id)
            assert paid_on is not None
            new = settle(state, paid_on)
        elif not paid and state.status is DunningStatus.SETTLED:
            new = reopen(state, on)
        else:
            continue
        changed.append(uow.dunning.put(attrs.evolve(stored, state=new)))
    return changed


def _load(uow: UnitOfWork, key: PayerKey) -> StoredLedger:
    stored = uow.accounts.ledger(key)
    if not stored.ledger.dues and stored.version == 0:
        raise PAYMENT_PAYER_UNKNOWN("payer_id", payer=str(key))
    return stored


def _record(uow: UnitOfWork, key: PayerKey, payment: Payment) -> Ledger:
    if uow.accounts.payer_of(payment.payment_id) is not None:
        raise PAYMENT_DUPLICATE("payment_id", id=payment.payment_id)
    stored = _load(uow, key)
    ledger = apply_credit(record_payment(stored.ledger, payment))
    uow.accounts.save(stored, ledger)
    sync_dunnings(uow, key, ledger, payment.received_on)
    return ledger


def _reject(uow: UnitOfWork, payment_id: str, reason: RejectReason, on: dt.date) -> PayerKey:
    key = uow.accounts.payer_of(payment_id)
    if key is None:
        raise PAYMENT_NOT_FOUND("payment_id", id=payment_id)
    stored = uow.accounts.ledger(key)
    ledger = apply_credit(reject_direct_debit(stored.ledger, payment_id, reason, on), on)
    uow.accounts.save(stored, ledger)
    sync_dunnings(uow, key, ledger, on)
    payment = ledger.payment(payment_id)
    if reason.mandate_unusable and payment.due_id is not None and "/" in payment.due_id:
        affiliation_id = payment.due_id.partition("/")[2]
        mandate = uow.mandates.active_for([affiliation_id]).get(affiliation_id)
        if mandate is not None and mandate.mandate.status is MandateStatus.ACTIVE:
            uow.mandates.update(attrs.evolve(mandate, mandate=mandate.mandate.revoke(on)))
    return key


def receive_payment(
    svc: Services,
    key: PayerKey,
    *,
    payment_id: str,
    received_on: dt.date,
    amount: Money,
    channel: CollectionChannel,
) -> PayerStatement:
    """Record a payment received from a payer (transfer, cheque...): imputed to the oldest dues, the
    rest kept as credit; dunnings of the dues it pays are settled.

    Raises:
        DomainError: ``payment.payer_unknown`` when nothing was ever called from the payer,
            ``payment.duplicate`` for a payment id already recorded, ``payment.not_positive``.
    """
    payment = Payment(payment_id=payment_id, received_on=received_on, amount=amount, channel=channel)
    with svc.uow() as uow:
        _record(uow, key, payment)
        uow.commit()
    return payer_statement(svc, key)


def reject_payment(svc: Services, payment_id: str, reason: str, on: dt.date) -> PayerStatement:
    """The bank rejected or returned a direct debit (ISO 20022 reason code): the dues it paid are
    unpaid again, a settled dunning reopens, and a reason that makes the mandate unusable (closed
    account, no mandate, debtor deceased...) revokes it.

    Raises:
        DomainError: ``payment.not_found``, ``payment.not_direct_debit``, ``payment.already_rejected``,
            ``payment.unknown_reject_reason``.
    """
    why = RejectReason.parse(reason)
    with svc.uow() as uow:
        key = _reject(uow, payment_id, why, on)
        uow.commit()
    return payer_statement(svc, key)


def payer_statement(svc: Services, key: PayerKey, on: dt.date | None = None) -> PayerStatement:
    """A payer's account on ``on`` (today by default): dues, credit, balance, pré-contentieux status
    and date (seed 000), cover situation."""
    day = on or svc.clock.today()
    with svc.uow() as uow:
        ledger = uow.accounts.ledger(key).ledger
        dunnings = [s.state for s in uow.dunning.for_payer(key)]
    by_due = {s.due_id: s.status for s in dunnings}
    worst = worst_status(dunnings)
    since = None
    if worst is not None:
        since = max(
            (e.on for s in dunnings if s.status is worst for e in s.history if e.to_status is worst),
            default=None,
        )
    return PayerStatement(
        key=key,
        dues=tuple(
            DueView(
                due_id=d.due_id,
                due_date=d.due_date,
                amount=d.amount,
                paid=ledger.paid_on_due(d.due_id),
                status=ledger.status(d.due_id),
                dunning=by_due.get(d.due_id),
            )
            for d in sorted(ledger.dues, key=lambda d: (d.due_date, d.due_id))
        ),
        credit=ledger.credit,
        balance=ledger.balance,
        dunning_status=worst,
        dunning_since=since,
        cover=cover_situation(dunnings, day),
    )


@attrs.frozen(kw_only=True)
class PaymentLine:
    """One line of a payment file: a payment received, or the reject of a direct debit.

    Attributes:
        line: its number in the file (for the report).
        kind: ``"payment"`` or ``"reject"``.
        payment_id: the payment's id (for a reject: the direct debit's end-to-end id).
        payer: employer or member (payments only).
        payer_id: the contract number (employer) or the member id (payments only).
        on: the day received or rejected.
        amount: the amount (payments only).
        channel: transfer, cheque... (payments only).
        reason: the ISO 20022 reject reason (rejects only).
    """

    line: int
    kind: str
    payment_id: str
    on: dt.date
    payer: Payer | None = None
    payer_id: str = ""
    amount: Money | None = None
    channel: CollectionChannel | None = None
    reason: str = ""


@attrs.frozen(kw_only=True)
class PaymentImportReport:
    """What an import did: every bad line with its error, or the counts recorded."""

    payments: int
    rejects: int
    amount: Money
    errors: tuple[tuple[int, DomainError], ...] = ()

    @property
    def ok(self) -> bool:
        """Every line was good and recorded."""
        return not self.errors


def _apply_line(uow: UnitOfWork, line: PaymentLine) -> None:
    if line.kind == "reject":
        _reject(uow, line.payment_id, RejectReason.parse(line.reason), line.on)
        return
    if line.payer is None or line.amount is None or line.channel is None:
        raise PAYMENT_LINE_INVALID("kind", line=line.line, problem=f"type « {line.kind} » incomplet")
    payment = Payment(
        payment_id=line.payment_id, received_on=line.on, amount=line.amount, channel=line.channel
    )
    _record(uow, PayerKey(line.payer, line.payer_id), payment)


def import_payments(svc: Services, lines: Sequence[PaymentLine]) -> PaymentImportReport:
    """Record a file of payments and rejects, in file order, **all or nothing**.

    Each line is applied in one transaction; the first error of each line is collected and the
    following lines are still checked (against the state the good lines before them made). When any
    line is bad, the transaction is rolled back: nothing is recorded and the report lists every bad
    line. Otherwise everything is committed at once.
    """
    errors: list[tuple[int, DomainError]] = []
    payments = rejects = 0
    total = Money(0)
    with svc.uow() as uow:
        for line in lines:
            try:
                _apply_line(uow, line)
            except ValidationFailed as failed:
                errors.extend((line.line, e) for e in failed.errors)
                continue
            except DomainError as error:
                errors.append((line.line, error))
                continue
            if line.kind == "reject":
                rejects += 1
            else:
                payments += 1
                assert line.amount is not None
                total = total + line.amount
        if errors:
            uow.rollback()
            return PaymentImportReport(payments=0, rejects=0, amount=Money(0), errors=tuple(errors))
        uow.commit()
    return PaymentImportReport(payments=payments, rejects=rejects, amount=total)


def employer_payer_situation(
    svc: Services, actor_id: str, contract_number: str, on: dt.date | None = None
) -> PayerStatement:
    """The employer space's "Cotisations > Payeurs" view (seed 000): the contract's payer account with
    its pré-contentieux status and date, for a correspondent whose scope includes the contract
    (``access.denied`` otherwise)."""
    with svc.uow() as uow:
        EmployerScope.load(uow, actor_id).contract(uow, contract_number)
    return payer_statement(svc, PayerKey(Payer.EMPLOYER, contract_number), on)
