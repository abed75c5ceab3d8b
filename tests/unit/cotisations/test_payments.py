"""Payments: imputation to the oldest due, credits, rejected direct debits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mutuelle_core.cotisations.payments import (
    Due,
    DueStatus,
    Ledger,
    Payment,
    RejectReason,
    add_due,
    apply_credit,
    record_payment,
    reject_direct_debit,
)
from mutuelle_core.cotisations.rules import CollectionChannel
from mutuelle_core.errors import DomainError
from mutuelle_core.values.money import Money

D = dt.date
DD, TRANSFER = CollectionChannel.DIRECT_DEBIT, CollectionChannel.TRANSFER


def ledger_with_dues(*amounts: int) -> Ledger:
    ledger = Ledger("M1")
    for month, amount in enumerate(amounts, start=1):
        ledger = add_due(
            ledger, Due(due_id=f"2026-{month:02d}", due_date=D(2026, month, 5), amount=Money(amount))
        )
    return ledger


def test_payment_goes_to_the_oldest_due_and_overpayment_is_credit() -> None:
    ledger = ledger_with_dues(36, 36, 36)
    ledger = record_payment(
        ledger, Payment(payment_id="P1", received_on=D(2026, 3, 1), amount=Money(50), channel=TRANSFER)
    )
    assert [ledger.status(d.due_id) for d in ledger.dues] == [
        DueStatus.PAID,
        DueStatus.PARTIALLY_PAID,
        DueStatus.UNPAID,
    ]
    assert ledger.outstanding("2026-02") == Money(22)
    ledger = record_payment(
        ledger, Payment(payment_id="P2", received_on=D(2026, 3, 20), amount=Money(100), channel=TRANSFER)
    )
    assert ledger.open_dues() == ()
    assert ledger.credit == Money(42)
    assert ledger.balance == Money(-42)
    assert ledger.paid_in_full_on("2026-01") == D(2026, 3, 1)
    assert ledger.paid_in_full_on("2026-02") == D(2026, 3, 20)
    # the credit pays the next due as soon as it is added, on its due date
    ledger = add_due(ledger, Due(due_id="2026-04", due_date=D(2026, 4, 5), amount=Money(36)))
    assert ledger.status("2026-04") is DueStatus.PAID and ledger.credit == Money(6)
    assert ledger.paid_in_full_on("2026-04") == D(2026, 4, 5)


def test_a_direct_debit_pays_the_due_it_collects_first() -> None:
    ledger = ledger_with_dues(36, 36)
    ledger = record_payment(
        ledger,
        Payment(payment_id="D2", received_on=D(2026, 2, 5), amount=Money(36), channel=DD, due_id="2026-02"),
    )
    assert ledger.status("2026-02") is DueStatus.PAID
    assert ledger.status("2026-01") is DueStatus.UNPAID


@pytest.mark.parametrize(
    ("code", "final"), [("AM04", False), ("MS02", False), ("AC04", True), ("md07", True)]
)
def test_rejected_direct_debit_turns_the_due_back_to_unpaid(code: str, final: bool) -> None:
    ledger = ledger_with_dues(36, 36)
    ledger = record_payment(
        ledger,
        Payment(payment_id="D1", received_on=D(2026, 1, 5), amount=Money(36), channel=DD, due_id="2026-01"),
    )
    ledger = record_payment(
        ledger,
        Payment(payment_id="D2", received_on=D(2026, 2, 5), amount=Money(36), channel=DD, due_id="2026-02"),
    )
    ledger = reject_direct_debit(ledger, "D1", code, D(2026, 1, 9))
    assert ledger.status("2026-01") is DueStatus.UNPAID
    assert ledger.status("2026-02") is DueStatus.PAID  # the other debit stays where it was
    assert ledger.rejections[0].reason is RejectReason.parse(code)
    assert ledger.rejections[0].reason.mandate_unusable is final
    with pytest.raises(DomainError) as caught:
        reject_direct_debit(ledger, "D1", code, D(2026, 1, 10))
    assert caught.value.code == "payment.already_rejected"


def test_reject_undoes_the_credit_and_apply_credit_reuses_others() -> None:
    ledger = ledger_with_dues(36)
    ledger = record_payment(
        ledger, Payment(payment_id="T1", received_on=D(2026, 1, 2), amount=Money(10), channel=TRANSFER)
    )
    ledger = record_payment(
        ledger, Payment(payment_id="D1", received_on=D(2026, 1, 5), amount=Money(60), channel=DD)
    )
    assert ledger.credit == Money(34)
    ledger = reject_direct_debit(ledger, "D1", RejectReason.AM04, D(2026, 1, 8))
    assert ledger.outstanding("2026-01") == Money(26) and ledger.credit == Money.zero()
    ledger = record_payment(
        ledger, Payment(payment_id="T2", received_on=D(2026, 1, 20), amount=Money(50), channel=TRANSFER)
    )
    assert ledger.outstanding("2026-01") == Money.zero() and ledger.credit == Money(24)
    assert apply_credit(ledger) is ledger or apply_credit(ledger) == ledger


def test_errors() -> None:
    ledger = ledger_with_dues(36)
    ledger = record_payment(
        ledger, Payment(payment_id="T1", received_on=D(2026, 1, 2), amount=Money(10), channel=TRANSFER)
    )
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: reject_direct_debit(ledger, "T1", "AM04", D(2026, 1, 3)), "payment.not_direct_debit"),
        (lambda: reject_direct_debit(ledger, "X", "AM04", D(2026, 1, 3)), "payment.unknown"),
        (
            lambda: record_payment(
                ledger, Payment(payment_id="T1", received_on=D(2026, 1, 2), amount=Money(1), channel=DD)
            ),
            "payment.duplicate",
        ),
        (
            lambda: record_payment(
                ledger,
                Payment(payment_id="T9", received_on=D(2026, 1, 2), amount=Money(1), channel=DD, due_id="?"),
            ),
            "payment.unknown",
        ),
        (
            lambda: Payment(payment_id="T3", received_on=D(2026, 1, 2), amount=Money(0), channel=DD),
            "payment.amount_not_positive",
        ),
        (lambda: RejectReason.parse("ZZ99"), "payment.unknown_reject_reason"),
    ]
    for action, code in cases:
        with pytest.raises(DomainError) as caught:
            action()
        assert caught.value.code == code
    assert RejectReason.AM04.label == "Provision insuffisante"


operations = st.lists(
    st.one_of(
        st.tuples(st.just("due"), st.integers(1, 20_000), st.integers(0, 60)),
        st.tuples(st.just("pay"), st.integers(1, 30_000), st.integers(0, 60), st.booleans(), st.booleans()),
        st.tuples(st.just("reject"), st.integers(0, 30)),
        st.tuples(
            st.just("credit"),
        ),
    ),
    max_size=40,
)


@given(ops=operations)
def test_imputation_never_applies_more_than_was_paid(ops: list[tuple[Any, ...]]) -> None:
    ledger = Ledger("M1")
    for n, op in enumerate(ops):
        kind = op[0]
        if kind == "due":
            ledger = add_due(
                ledger,
                Due(
                    due_id=f"d{n}",
                    due_date=D(2026, 1, 1) + dt.timedelta(days=int(op[2])),
                    amount=Money.cents(int(op[1])),
                ),
                use_credit=n % 2 == 0,
            )
        elif kind == "pay":
            open_dues = ledger.open_dues()
            target = open_dues[-1].due_id if op[4] and open_dues else None
            ledger = record_payment(
                ledger,
                Payment(
                    payment_id=f"p{n}",
                    received_on=D(2026, 1, 1) + dt.timedelta(days=int(op[2])),
                    amount=Money.cents(int(op[1])),
                    channel=DD if op[3] else TRANSFER,
                    due_id=target,
                ),
            )
        elif kind == "reject":
            debits = [p for p in ledger.payments if p.channel is DD and not ledger.is_rejected(p.payment_id)]
            if debits:
                victim = debits[int(op[1]) % len(debits)]
                ledger = reject_direct_debit(ledger, victim.payment_id, "AM04", D(2026, 3, 1))
        else:
            ledger = apply_credit(ledger)
        _check_invariants(ledger)


def _check_invariants(ledger: Ledger) -> None:
    for p in ledger.payments:
        imputed = ledger.imputed_from(p.payment_id)
        assert imputed <= p.amount
        if ledger.is_rejected(p.payment_id):
            assert imputed.is_zero
    for d in ledger.dues:
        assert Money.zero() <= ledger.paid_on_due(d.due_id) <= d.amount
    for i in ledger.imputations:
        assert i.amount.is_positive
    live = sum(p.amount.to_cents() for p in ledger.payments if not ledger.is_rejected(p.payment_id))
    imputed_total = sum(i.amount.to_cents() for i in ledger.imputations)
    assert ledger.credit == Money.cents(live - imputed_total)
    # a credit and an open due never coexist once credit has been applied
    assert apply_credit(ledger).credit.is_zero or not apply_credit(ledger).open_dues()
