"""The mandate, account and dunning ports behave the same on memory, SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from typing import cast

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mutuelle_core.cotisations.account_records import (
    CollectionRecord,
    PayerKey,
    StoredDunning,
    StoredMandate,
    UncollectedDue,
)
from mutuelle_core.cotisations.dunning import DunningRegime, DunningState, DunningStatus, dunning_step
from mutuelle_core.cotisations.mandates import Mandate
from mutuelle_core.cotisations.payments import (
    Ledger,
    Payment,
    apply_credit,
    record_payment,
    reject_direct_debit,
)
from mutuelle_core.cotisations.records import LINE_COLUMNS, LineValues, ScheduleValues
from mutuelle_core.cotisations.rules import CollectionChannel, Payer
from mutuelle_core.errors import ConcurrencyConflict, DomainError
from mutuelle_core.values.money import Money
from tests.conftest import Backend

D = dt.date
_payers = itertools.count()


def line_values(row: dict[str, object]) -> LineValues:
    """A line given by column name, as the port takes it (values in ``LINE_COLUMNS`` order)."""
    return cast(LineValues, tuple(row[name] for name in LINE_COLUMNS))


def schedule(payer: Payer, payer_id: str, rows: list[tuple[str, str, int, dt.date]]) -> list[ScheduleValues]:
    """Schedule lines ``(affiliation_id, month, cents, due_date)`` of one payer."""
    return [
        (aff, payer_id, cents, month, payer.value, due, "run-1", "MENJ2026")
        for aff, month, cents, due in rows
    ]


def billed(backend: Backend, payer: Payer, payer_id: str, rows: list[tuple[str, str, int, dt.date]]) -> None:
    """Bill a member's schedule lines, or add to an employer's dues (``payer_id`` = the contract)."""
    with backend.uow() as uow:
        if payer is Payer.EMPLOYER:
            uow.cotisations.add_to_employer_dues(
                [
                    {
                        "contract_number": payer_id,
                        "month": month,
                        "due_date": due,
                        "amount_cents": cents,
                        "run_id": f"run-{aff}",
                    }
                    for aff, month, cents, due in rows
                ]
            )
        else:
            uow.cotisations.add_schedule_lines(schedule(payer, payer_id, rows))
        uow.commit()


def test_employer_dues_are_one_row_per_contract_and_month_added_to(backend: Backend) -> None:
    billed(backend, Payer.EMPLOYER, "C1", [("a1", "2026-05", 2926, D(2026, 5, 5))])
    billed(
        backend,
        Payer.EMPLOYER,
        "C1",
        [("a2", "2026-05", 100, D(2026, 5, 5)), ("a3", "2026-06", 7, D(2026, 6, 5))],
    )
    with backend.uow() as uow:  # rolled back: adds nothing
        uow.cotisations.add_to_employer_dues(
            [
                {
                    "contract_number": "C1",
                    "month": "2026-05",
                    "due_date": D(2026, 5, 5),
                    "amount_cents": 1,
                    "run_id": "x",
                }
            ]
        )
    with backend.uow() as uow:
        may = uow.cotisations.employer_dues("C1", "2026-05")
        every = uow.cotisations.employer_dues("C1")
        other = uow.cotisations.employer_dues("C2")
    assert [(r["month"], r["due_date"], r["amount_cents"], r["run_id"]) for r in may] == [
        ("2026-05", D(2026, 5, 5), 3026, "run-a2")
    ]
    assert [(r["month"], r["amount_cents"]) for r in every] == [("2026-05", 3026), ("2026-06", 7)]
    assert other == []


def summary(ledger: Ledger) -> tuple[object, ...]:
    """What a ledger means, whatever the order or the split of its imputations."""
    imputed: Counter[tuple[str, str]] = Counter()
    for i in ledger.imputations:
        imputed[(i.payment_id, i.due_id)] += i.amount.to_cents()
    return (
        sorted((d.due_id, d.due_date, d.amount) for d in ledger.dues),
        sorted((p.payment_id, p.received_on, p.amount, p.channel, p.due_id) for p in ledger.payments),
        sorted(imputed.items()),
        sorted((r.payment_id, r.on, r.reason) for r in ledger.rejections),
    )


def test_dues_are_the_employer_dues_and_the_members_schedule_lines(backend: Backend) -> None:
    billed(
        backend,
        Payer.EMPLOYER,
        "MENJ2026",
        [("a1", "2026-05", 2926, D(2026, 5, 5)), ("a2", "2026-05", 100, D(2026, 5, 5))],
    )
    billed(
        backend,
        Payer.MEMBER,
        "M1",
        [("a1", "2026-05", 4600, D(2026, 5, 5)), ("a1", "2026-06", 4600, D(2026, 6, 5))],
    )
    with backend.uow() as uow:
        employer = uow.accounts.ledger(PayerKey(Payer.EMPLOYER, "MENJ2026"))
        member = uow.accounts.ledger(PayerKey(Payer.MEMBER, "M1"))
        nobody = uow.accounts.ledger(PayerKey(Payer.MEMBER, "M2"))
        arrears = uow.accounts.in_arrears(D(2026, 5, 31))
        uncollected = uow.accounts.uncollected(D(2026, 6, 30))
    assert [(d.due_id, d.amount) for d in employer.ledger.dues] == [("2026-05", Money("30.26"))]
    assert [d.due_id for d in member.ledger.dues] == ["2026-05/a1", "2026-06/a1"]
    assert (employer.version, nobody.ledger.dues, nobody.version) == (0, (), 0)
    assert arrears == [PayerKey(Payer.EMPLOYER, "MENJ2026"), PayerKey(Payer.MEMBER, "M1")]
    assert uncollected == [
        UncollectedDue("a1", "MENJ2026", "M1", "2026-05", D(2026, 5, 5), 4600),
        UncollectedDue("a1", "MENJ2026", "M1", "2026-06", D(2026, 6, 5), 4600),
    ]


def test_a_paid_due_leaves_the_arrears_and_a_stale_ledger_is_refused(backend: Backend) -> None:
    key = PayerKey(Payer.MEMBER, "M1")
    billed(backend, Payer.MEMBER, "M1", [("a1", "2026-05", 4600, D(2026, 5, 5))])
    with backend.uow() as uow:
        stale = uow.accounts.ledger(key)
    with backend.uow() as uow:
        fresh = uow.accounts.ledger(key)
        pay = Payment(
            payment_id="P1",
            received_on=D(2026, 5, 5),
            amount=Money(46),
            channel=CollectionChannel.DIRECT_DEBIT,
        )
        saved = uow.accounts.save(fresh, record_payment(fresh.ledger, pay))
        uow.commit()
    assert saved.version == 1
    with backend.uow() as uow, pytest.raises(ConcurrencyConflict):
        other = Payment(
            payment_id="P2", received_on=D(2026, 5, 6), amount=Money(1), channel=CollectionChannel.CHEQUE
        )
        uow.accounts.save(stale, record_payment(stale.ledger, other))
    with backend.uow() as uow:
        assert uow.accounts.in_arrears(D(2026, 5, 31)) == []
        assert uow.accounts.uncollected(D(2026, 5, 31)) == []
        assert uow.accounts.payer_of("P1") == key
        assert uow.accounts.payer_of("P2") is None
        assert summary(uow.accounts.ledger(key).ledger) == summary(saved.ledger)


operation = st.one_of(
    st.tuples(
        st.just("pay"), st.integers(1, 20_000), st.sampled_from(list(CollectionChannel)), st.integers(0, 40)
    ),
    st.tuples(
        st.just("reject"), st.integers(0, 10), st.sampled_from(["AM04", "MS02", "AC04"]), st.integers(0, 40)
    ),
    st.tuples(st.just("credit"), st.integers(0, 0), st.just(""), st.integers(0, 40)),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, max_size=8), dues=st.lists(st.integers(1, 9_000), min_size=1, max_size=4))
def test_a_ledger_reads_back_as_it_was_saved(
    backend: Backend, ops: list[tuple[str, int, object, int]], dues: list[int]
) -> None:
    """Whatever payments, rejects and credits were applied, the stored ledger reads back the same."""
    payer_id = f"P{next(_payers)}"
    key = PayerKey(Payer.MEMBER, payer_id)
    rows = [
        (f"{payer_id}-a{i}", f"2026-{i + 1:02d}", cents, D(2026, i + 1, 5)) for i, cents in enumerate(dues)
    ]
    billed(backend, Payer.MEMBER, payer_id, rows)
    for n, (kind, value, extra, day) in enumerate(ops):
        on = D(2026, 1, 1) + dt.timedelta(days=day)
        with backend.uow() as uow:
            stored = uow.accounts.ledger(key)
            ledger = stored.ledger
            try:
                if kind == "pay":
                    assert isinstance(extra, CollectionChannel)
                    ledger = record_payment(
                        ledger,
                        Payment(
                            payment_id=f"{payer_id}-{n}",
                            received_on=on,
                            amount=Money.cents(value),
                            channel=extra,
                        ),
                    )
                elif kind == "reject" and ledger.payments:
                    target = ledger.payments[value % len(ledger.payments)]
                    ledger = reject_direct_debit(ledger, target.payment_id, str(extra), on)
                else:
                    ledger = apply_credit(ledger, on)
            except DomainError:
                continue
            saved = uow.accounts.save(stored, ledger)
            uow.commit()
        with backend.uow() as uow:
            again = uow.accounts.ledger(key)
        assert again.version == saved.version
        assert summary(again.ledger) == summary(saved.ledger)
        assert again.ledger.credit == saved.ledger.credit
        assert again.ledger.balance == saved.ledger.balance


def test_mandates_by_rum_and_by_affiliation(backend: Backend) -> None:
    mandate = Mandate(
        rum="RUM-MENJ2026-0000001",
        debtor_name="Benoît Dupond",
        account="FR7630006000011234567890189",
        signed_on=D(2026, 5, 4),
    )
    with backend.uow() as uow:
        stored = uow.mandates.add(StoredMandate(mandate, "a1"))
        uow.commit()
    assert stored.version == 1
    with backend.uow() as uow, pytest.raises(DomainError):
        uow.mandates.add(StoredMandate(mandate, "a2"))
    with backend.uow() as uow:
        assert uow.mandates.find("RUM-MENJ2026-0000001") == stored
        assert uow.mandates.active_for(["a1", "a2"]) == {"a1": stored}
        revoked = uow.mandates.update(attrs.evolve(stored, mandate=mandate.revoke(D(2026, 6, 1))))
        uow.commit()
    assert revoked.version == 2
    with backend.uow() as uow:
        assert uow.mandates.active_for(["a1"]) == {}
        assert uow.mandates.find("RUM-MENJ2026-0000001") == revoked
    with backend.uow() as uow, pytest.raises(ConcurrencyConflict):
        uow.mandates.update(stored)


def test_dunning_cases_and_open_payers(backend: Backend) -> None:
    state = DunningState.open("MENJ2026", "2026-05", D(2026, 5, 5), DunningRegime.L221_8_I)
    with backend.uow() as uow:
        stored = uow.dunning.put(StoredDunning(Payer.EMPLOYER, state, "MENJ2026"))
        uow.commit()
    key = PayerKey(Payer.EMPLOYER, "MENJ2026")
    with backend.uow() as uow:
        assert uow.dunning.open_payers() == [key]
        assert uow.dunning.for_payer(key) == [stored]
        moved = uow.dunning.put(
            attrs.evolve(stored, state=dunning_step(dunning_step(state, D(2026, 5, 15)), D(2026, 6, 14)))
        )
        uow.commit()
    assert moved.state.status is DunningStatus.SUSPENDED and moved.version == 2
    with backend.uow() as uow, pytest.raises(ConcurrencyConflict):
        uow.dunning.put(stored)
    with backend.uow() as uow, pytest.raises(DomainError):
        uow.dunning.put(StoredDunning(Payer.EMPLOYER, state, "MENJ2026"))
    with backend.uow() as uow:
        assert uow.dunning.for_payer(key) == [moved]


def test_collections_and_month_totals(backend: Backend) -> None:
    record = CollectionRecord(
        collection_id="PRLV-20260608-0000001",
        collection_date=D(2026, 6, 8),
        created_at=dt.datetime(2026, 5, 25, 8, 0, tzinfo=dt.UTC),
        filename="PRLV-20260608-0000001-20260608.xml",
        transactions=2,
        amount_cents=9200,
        sha256="0" * 64,
    )
    line = {
        "affiliation_id": "a1",
        "month": "2026-06",
        "person_id": "p",
        "product": 0,
        "payer": "member",
        "channel": "direct_debit",
        "run_id": "r",
        "contract_number": "MENJ2026",
        "member_id": "M1",
        "category": "spouse",
        "amount_cents": 1000,
    }
    with backend.uow() as uow:
        uow.accounts.add_collection(record)
        uow.cotisations.add_lines(
            [
                line_values(line),
                line_values({**line, "affiliation_id": "a2", "member_id": "M2", "amount_cents": 1400}),
            ]
        )
        uow.commit()
    with backend.uow() as uow:
        assert uow.accounts.collections() == [record]
        assert uow.accounts.month_totals("2026-06") == [
            {
                "contract_number": "MENJ2026",
                "payer": "member",
                "channel": "direct_debit",
                "product": 0,
                "category": "spouse",
                "members": 2,
                "amount_cents": 2400,
            }
        ]
        assert uow.accounts.month_totals("2026-07") == []


def test_uncollected_dues_come_by_pages_of_whole_members(backend: Backend) -> None:
    for n in range(5):
        billed(
            backend,
            Payer.MEMBER,
            f"M{n}",
            [(f"a{n}", "2026-05", 1000, D(2026, 5, 5)), (f"a{n}", "2026-06", 1000, D(2026, 6, 5))],
        )
    with backend.uow() as uow:
        first = uow.accounts.uncollected(D(2026, 6, 30), members=2)
        second = uow.accounts.uncollected(D(2026, 6, 30), after_member=first[-1].member_id, members=2)
        last = uow.accounts.uncollected(D(2026, 6, 30), after_member="M3", members=2)
        past = uow.accounts.uncollected(D(2026, 6, 30), after_member="M4", members=2)
    assert [(u.member_id, u.month) for u in first] == [
        ("M0", "2026-05"),
        ("M0", "2026-06"),
        ("M1", "2026-05"),
        ("M1", "2026-06"),
    ]
    assert [u.member_id for u in second] == ["M2", "M2", "M3", "M3"]
    assert [u.member_id for u in last] == ["M4", "M4"]
    assert past == []
