"""When dues fall due: never less than 14 days after their payer was told of them.

A month billed late (less than 14 days before the contract's debit day) gets its dues 14 days after
the billing day; a due raised by a regularisation after it fell due moves to 14 days after the
regularisation. Until then it is neither collected by direct debit (the SEPA pre-notification) nor
chased by the dunning job (nobody is put on notice for an amount called less than 14 days before).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from mutuelle_core.affiliation.journey import BeneficiaryForm
from mutuelle_core.cotisations.account_records import PayerKey
from mutuelle_core.cotisations.billing import bill
from mutuelle_core.cotisations.collection import collect_direct_debits
from mutuelle_core.cotisations.cycle import run_billing_cycle
from mutuelle_core.cotisations.dunning_run import run_dunning
from mutuelle_core.cotisations.regularisation import regularise
from mutuelle_core.cotisations.rules import Payer
from mutuelle_core.families import use_cases as fam
from mutuelle_core.values.dates import Month
from tests.conftest import Backend
from tests.unit.test_billing import affiliated
from tests.unit.test_payments_collection_dunning import files, transactions

D = dt.date
MAY, JUNE = Month(2026, 5), Month(2026, 6)
EMPLOYER = PayerKey(Payer.EMPLOYER, "MENJ2026")


def member_row(backend: Backend, aff_id: str, month: Month) -> dict[str, object]:
    with backend.uow() as uow:
        [row] = [r for r in uow.cotisations.schedule_for(aff_id, str(month)) if r["payer"] == "member"]
    return dict(row)


def employer_due_date(backend: Backend, month: Month) -> object:
    with backend.uow() as uow:
        [row] = uow.cotisations.employer_dues("MENJ2026", str(month))
    return row["due_date"]


def dunnings(backend: Backend, key: PayerKey) -> list[str]:
    with backend.uow() as uow:
        return [s.state.due_id for s in uow.dunning.for_payer(key)]


def test_a_month_billed_late_falls_due_14_days_after_the_billing_day(backend: Backend) -> None:
    _, aff_id = affiliated(backend, 2)
    svc = backend.services()
    bill(svc, MAY)  # on 4 May; the contract's debit day is the 5th
    member = member_row(backend, aff_id, MAY)
    assert member["due_date"] == employer_due_date(backend, MAY) == D(2026, 5, 18)
    assert run_dunning(svc, D(2026, 5, 27)).opened == 0  # the 5th + 10 days has passed: not yet chased
    assert dunnings(backend, EMPLOYER) == []
    report = run_dunning(svc, D(2026, 5, 28))  # 18 May + 10 days, nothing paid
    assert report.opened == 2 and dunnings(backend, EMPLOYER) != []
    assert dunnings(backend, PayerKey(Payer.MEMBER, str(member["payer_id"]))) != []


def test_a_month_billed_in_time_keeps_the_contracts_debit_day(backend: Backend) -> None:
    _, aff_id = affiliated(backend, 2)
    bill(backend.services(), JUNE)  # on 4 May for 5 June: 32 days before
    assert member_row(backend, aff_id, JUNE)["due_date"] == employer_due_date(backend, JUNE) == D(2026, 6, 5)


def test_a_due_raised_after_it_fell_due_waits_14_days_to_be_collected_or_chased(
    backend: Backend, tmp_path: Path
) -> None:
    _, aff_id = affiliated(backend, 2)
    svc = backend.services()
    cycle = run_billing_cycle(svc, JUNE, files(tmp_path))  # on 4 May: June due on the 5th, collected then
    assert [c.collection_date for c in cycle.collections] == [D(2026, 6, 5)] and cycle.debits == 1
    before = member_row(backend, aff_id, JUNE)
    backend.clock.set(dt.datetime(2026, 6, 20, 8, 0, tzinfo=dt.UTC))
    child = BeneficiaryForm(
        kind="child", civility="M", birth_name="Dupond", first_names="Hugo", birth_date="02/03/2020"
    )
    fam.add_beneficiary(svc, aff_id, fam.NewBeneficiary(form=child, start=D(2026, 6, 1)))
    report = regularise(svc, JUNE)  # run alone on 20 June, after June's due fell
    raised = member_row(backend, aff_id, JUNE)
    added = int(raised["amount_cents"]) - int(before["amount_cents"])
    assert added == report.added_cents > 0
    assert raised["due_date"] == D(2026, 7, 4)  # told on 20 June: 14 days
    member = PayerKey(Payer.MEMBER, str(raised["payer_id"]))
    run_dunning(svc, D(2026, 7, 1))  # 5 June + 26 days (the employer, who paid nothing, is chased)
    assert dunnings(backend, member) == []
    early = collect_direct_debits(svc, D(2026, 7, 1), files(tmp_path))
    assert early.debits == 0  # not pre-notified 14 days before
    collected = collect_direct_debits(svc, D(2026, 7, 4), files(tmp_path))
    [published] = collected.published
    [tx] = transactions(Path(published).read_bytes())
    assert tx["amount"] == f"{added / 100:.2f}"
    run_dunning(svc, D(2026, 7, 20))
    assert dunnings(backend, member) == []  # paid


def test_raising_a_due_never_moves_it_earlier(backend: Backend) -> None:
    _, aff_id = affiliated(backend, 2)
    svc = backend.services()
    bill(svc, MAY)  # due 18 May (billed late)
    child = BeneficiaryForm(
        kind="child", civility="M", birth_name="Dupond", first_names="Hugo", birth_date="02/03/2020"
    )
    fam.add_beneficiary(svc, aff_id, fam.NewBeneficiary(form=child, start=svc.clock.today()))
    backend.clock.set(dt.datetime(2026, 5, 2, 8, 0, tzinfo=dt.UTC))  # a clock set back: 16 May < 18 May
    regularise(svc, MAY)
    assert member_row(backend, aff_id, MAY)["due_date"] == D(2026, 5, 18)
