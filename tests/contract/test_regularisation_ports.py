"""The ports the regularisation uses, on memory, SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest
from sqlalchemy.exc import IntegrityError

from mutuelle_core.cotisations.billing import bill
from mutuelle_core.cotisations.records import BillingRunStatus, RegularisationRun, Row
from mutuelle_core.errors import DomainError
from mutuelle_core.values.dates import Month
from tests.conftest import START, Backend
from tests.unit.test_billing import affiliated, clone

D = dt.date


def _reg(aff: str, month: str, person: str, run: str, cents: int, billed_in: str = "2026-06") -> Row:
    return {
        "affiliation_id": aff,
        "month": month,
        "person_id": person,
        "product": 0,
        "payer": "member",
        "channel": "direct_debit",
        "run_id": run,
        "billed_in": billed_in,
        "contract_number": "MENJ2026",
        "member_id": f"M-{aff}",
        "category": "insured" if person == aff else "child",
        "amount_cents": cents,
    }


def test_changed_since_is_stamped_on_add_and_update_and_paged_by_id(backend: Backend) -> None:
    _, aff_id = affiliated(backend)
    later = START + dt.timedelta(days=3)
    backend.clock.set(later)
    copies = clone(backend, aff_id, 3)  # add_many
    with backend.uow() as uow:
        assert [a.affiliation_id for a in uow.affiliations.changed_since(later, None, 10)] == copies
        page = uow.affiliations.changed_since(later, copies[0], 1)
        assert [a.affiliation_id for a in page] == [copies[1]]
        assert {a.affiliation_id for a in uow.affiliations.changed_since(START, None, 10)} == {
            aff_id,
            *copies,
        }
    backend.clock.advance(days=1)
    with backend.uow() as uow:
        uow.affiliations.update(uow.affiliations.get(aff_id))
        uow.commit()
    with backend.uow() as uow:
        [found] = uow.affiliations.changed_since(backend.clock.now(), None, 10)
        assert found.affiliation_id == aff_id and found.member_id


def test_schedule_upsert_regularisation_lines_totals_and_runs(backend: Backend) -> None:
    _, aff_id = affiliated(backend)
    svc = backend.services()
    with backend.uow() as uow:
        assert uow.cotisations.earliest_run_start() is None
        assert uow.cotisations.billed_months("2026-12") == []
    bill(svc, Month(2026, 5))
    with backend.uow() as uow:
        assert uow.cotisations.earliest_run_start() == START
        assert uow.cotisations.billed_months("2026-05") == ["2026-05"]
        assert uow.cotisations.billed_months("2026-04") == []
        row = {
            "affiliation_id": aff_id,
            "month": "2026-06",
            "payer": "member",
            "run_id": "r1",
            "contract_number": "MENJ2026",
            "payer_id": "M1",
            "due_date": D(2026, 6, 5),
            "amount_cents": 1000,
        }
        uow.cotisations.add_to_schedule_lines([row])
        uow.cotisations.add_to_schedule_lines([{**row, "amount_cents": 234, "run_id": "r2"}])
        uow.cotisations.add_regularisation_lines(
            [_reg("a1", "2026-05", "a1", "r1", -500), _reg("a1", "2026-05", "c1", "r1", 700)]
        )
        uow.cotisations.add_regularisation_lines([_reg("a1", "2026-05", "a1", "r2", 500)])
        uow.cotisations.add_regularisation_lines([_reg("a2", "2026-04", "a2", "r2", 300, "2026-07")])
        uow.commit()
    with backend.uow() as uow:
        [due] = uow.cotisations.schedule_for(aff_id, "2026-06")
        assert (due["amount_cents"], due["run_id"], due["due_date"]) == (1234, "r2", D(2026, 6, 5))
        lines = uow.cotisations.regularisation_lines_for("a1")
        assert [(r["person_id"], r["run_id"], r["amount_cents"]) for r in lines] == [
            ("a1", "r1", -500),
            ("a1", "r2", 500),
            ("c1", "r1", 700),
        ]
        assert uow.cotisations.regularisation_lines_for("a1", "2026-04") == []
        totals = uow.cotisations.regularisation_totals("2026-06")
        assert [(r["month"], r["category"], r["members"], r["amount_cents"]) for r in totals] == [
            ("2026-05", "child", 1, 700),
            ("2026-05", "insured", 1, 0),
        ]
    # one key per run: the memory adapter raises its duplicate error, the databases their unique key
    with pytest.raises((DomainError, IntegrityError)), backend.uow() as uow:
        uow.cotisations.add_regularisation_lines([_reg("a1", "2026-05", "c1", "r1", 1)])
        uow.commit()
    run = RegularisationRun(
        run_id="reg-1", month="2026-06", status=BillingRunStatus.RUNNING, since=START, started_at=START
    )
    with backend.uow() as uow:
        stored = uow.cotisations.add_regularisation_run(run)
        uow.cotisations.update_regularisation_run(attrs.evolve(stored, cursor="a9", lines=3, credit_notes=1))
        uow.commit()
    with backend.uow() as uow:
        found = uow.cotisations.latest_regularisation_run("2026-06")
        assert found is not None and (found.cursor, found.lines, found.credit_notes, found.version) == (
            "a9",
            3,
            1,
            2,
        )
        assert found.since == START and uow.cotisations.latest_regularisation_run() == found
        assert uow.cotisations.latest_regularisation_run("2026-07") is None
        with pytest.raises(DomainError):
            uow.cotisations.update_regularisation_run(stored)  # stale
