"""What is paid of each due, kept by the SQL accounts adapter beside the imputations (``paid_cents``):
it always equals the sum of the due's imputations, through partial payments, direct debits, rejections,
credits and regularisations, and the arrears read through it are those the ledgers give."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import text

from mutuelle_core.cotisations.account_records import PayerKey
from mutuelle_core.cotisations.accounts import receive_payment, reject_payment
from mutuelle_core.cotisations.billing import bill
from mutuelle_core.cotisations.collection import collect_direct_debits
from mutuelle_core.cotisations.rules import CollectionChannel, Payer
from mutuelle_core.values.dates import Month
from mutuelle_core.values.money import Money
from tests.conftest import Backend
from tests.unit.test_billing import affiliated
from tests.unit.test_billing_cycle import with_mandates
from tests.unit.test_payments_collection_dunning import files, transactions

D = dt.date
EMPLOYER = PayerKey(Payer.EMPLOYER, "MENJ2026")

_IMPUTED = (
    "COALESCE((SELECT SUM(i.amount_cents) FROM imputations i WHERE i.payer = {payer}"
    " AND i.payer_id = {payer_id} AND i.month = {t}.month AND i.affiliation_id = {aff}), 0)"
)


def mismatches(backend: Backend) -> list[tuple[object, ...]]:
    """Dues whose ``paid_cents`` differs from the sum of their imputations (none, always)."""
    assert backend.engine is not None
    members = _IMPUTED.format(t="s", payer="s.payer", payer_id="s.payer_id", aff="s.affiliation_id")
    employers = _IMPUTED.format(t="e", payer="'employer'", payer_id="e.contract_number", aff="''")
    with backend.engine.connect() as conn:
        return [
            *conn.execute(
                text(
                    f"SELECT affiliation_id, month, paid_cents, {members} FROM schedule_lines s "
                    f"WHERE paid_cents <> {members}"
                )
            ).all(),
            *conn.execute(
                text(
                    f"SELECT contract_number, month, paid_cents, {employers} FROM employer_dues e "
                    f"WHERE paid_cents <> {employers}"
                )
            ).all(),
        ]


def arrears_from_ledgers(backend: Backend, day: dt.date) -> list[PayerKey]:
    """The payers with a due by ``day`` not paid in full, from their ledgers (the reference)."""
    with backend.uow() as uow:
        keys = {EMPLOYER, *(PayerKey(Payer.MEMBER, d.member_id) for d in uow.accounts.uncollected(day))}
        ledgers = uow.accounts.ledgers(sorted(keys, key=str))
    return sorted(
        (
            key
            for key, stored in ledgers.items()
            if any(
                d.due_date <= day and stored.ledger.outstanding(d.due_id).is_positive
                for d in stored.ledger.dues
            )
        ),
        key=lambda k: (k.payer.value, k.payer_id),
    )


def test_what_is_paid_of_each_due_follows_its_imputations(backend: Backend, tmp_path: Path) -> None:
    if backend.engine is None:
        pytest.skip("the memory adapter reads what is paid from the ledgers themselves")
    _, aff_id = affiliated(backend, 2)
    with_mandates(backend, aff_id, 2)
    svc = backend.services()
    bill(svc, Month(2026, 5))  # due 18 May (billed on the 4th)
    bill(svc, Month(2026, 6))  # due 5 June
    day = D(2026, 6, 30)
    with backend.uow() as uow:
        everyone = list(uow.accounts.in_arrears(day))
    assert len(everyone) == 4 and everyone == arrears_from_ledgers(backend, day) and mismatches(backend) == []
    receive_payment(  # less than May: a partial payment of the oldest due
        svc,
        EMPLOYER,
        payment_id="VIR-1",
        received_on=D(2026, 5, 20),
        amount=Money("100.00"),
        channel=CollectionChannel.TRANSFER,
    )
    assert mismatches(backend) == []
    collected = collect_direct_debits(svc, D(2026, 6, 5), files(tmp_path))  # May and June of 3 members
    assert collected.debits == 3 and mismatches(backend) == []
    with backend.uow() as uow:
        assert list(uow.accounts.in_arrears(day)) == [EMPLOYER] == arrears_from_ledgers(backend, day)
    [first, *_] = transactions(Path(collected.published[0]).read_bytes())
    reject_payment(svc, first["e2e"], "AM04", D(2026, 6, 8))  # unpaid again
    assert mismatches(backend) == []
    with backend.uow() as uow:
        arrears = list(uow.accounts.in_arrears(day))
        assert len(arrears) == 2 and len(uow.accounts.uncollected(day)) == 2
    assert arrears == arrears_from_ledgers(backend, day)
    receive_payment(  # more than the employer owes: the rest stays as credit
        svc,
        EMPLOYER,
        payment_id="VIR-2",
        received_on=D(2026, 6, 10),
        amount=Money("10000.00"),
        channel=CollectionChannel.TRANSFER,
    )
    assert mismatches(backend) == []
    with backend.uow() as uow:
        arrears = list(uow.accounts.in_arrears(day))
    assert EMPLOYER not in arrears and len(arrears) == 1 and arrears == arrears_from_ledgers(backend, day)
