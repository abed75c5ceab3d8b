"""Billing with the pages priced in a forked process (SQLite file and PostgreSQL): the same rows as
pricing them in the run's own process, the run's counts and resume unchanged, errors and early stops
reach the parent, and no child process is left behind."""

from __future__ import annotations

import gc
import multiprocessing
from collections.abc import Sequence

import pytest

from mutuelle_adapters.sql import billing_worker
from mutuelle_adapters.sql.billing_worker import ForkedPricing, PricingFailed, page_source_for
from mutuelle_adapters.sql.database import make_engine
from mutuelle_adapters.sql.uow import SqlUnitOfWorkFactory
from mutuelle_core.cotisations.billing import BillingProgress, PagePricer, bill
from mutuelle_core.cotisations.records import LINE_COLUMNS, SCHEDULE_COLUMNS, Row, as_row
from mutuelle_core.values.dates import Month
from tests.conftest import Backend
from tests.unit.test_billing import affiliated, clone

MAY = Month(2026, 5)


def _sql(backend: Backend) -> SqlUnitOfWorkFactory:
    if backend.engine is None:
        pytest.skip("pages are priced in another process on SQL databases only")
    assert isinstance(backend.uow_factory, SqlUnitOfWorkFactory)
    return backend.uow_factory


def _without_run(rows: Sequence[Row]) -> list[tuple[object, ...]]:
    return sorted(tuple(v for k, v in sorted(r.items()) if k != "run_id") for r in rows)


def test_forked_pricing_writes_the_rows_the_run_prices_itself(backend: Backend) -> None:
    factory = _sql(backend)
    _, aff_id = affiliated(backend, 2)
    ids = [aff_id, *clone(backend, aff_id, 6)]
    with backend.uow() as uow:  # what the run's own pricer gives, page by page
        pricer = PagePricer(MAY, "run", check_billed=False, billed_on=backend.clock.today())
        page = uow.affiliations.billable_after(None, 100)
        priced = pricer.price(uow, page)
        expected_lines = [as_row(LINE_COLUMNS, values) for values in priced.lines]
        expected_schedule = [as_row(SCHEDULE_COLUMNS, values) for values in priced.schedule]
    report = bill(backend.services(), MAY, batch_size=3, pages=ForkedPricing(factory))
    assert (report.affiliations, report.billed, report.unbilled) == (7, 7, 0)
    with backend.uow() as uow:
        lines = [dict(r) for a in ids for r in uow.cotisations.lines_for(a, str(MAY))]
        schedule = [dict(r) for a in ids for r in uow.cotisations.schedule_for(a, str(MAY))]
        [employer_due] = uow.cotisations.employer_dues("MENJ2026", str(MAY))
        run = uow.cotisations.latest_run(str(MAY))
    assert _without_run(lines) == _without_run(expected_lines)
    assert _without_run(schedule) == _without_run(expected_schedule)
    assert employer_due["amount_cents"] == report.employer_amount_cents > 0
    assert run is not None and run.cursor == max(ids) and report.lines == len(lines)
    assert gc.get_freeze_count() == 0  # what the run set aside from the collector is back
    gc.freeze()  # a host that froze its objects itself keeps them frozen
    try:
        again = bill(backend.services(), MAY, batch_size=3, pages=ForkedPricing(factory))
        assert gc.get_freeze_count() > 0  # not unfrozen by the run (freed objects leave the count)
    finally:
        gc.unfreeze()
    assert (again.billed, again.lines, again.already_billed) == (0, 0, 7)
    assert multiprocessing.active_children() == []


def test_a_run_stopped_by_its_progress_stops_the_child_and_resumes(backend: Backend) -> None:
    factory = _sql(backend)
    _, aff_id = affiliated(backend, 1)
    clone(backend, aff_id, 8)
    seen: list[BillingProgress] = []

    def stop_after_two(p: BillingProgress) -> None:
        seen.append(p)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        bill(backend.services(), MAY, batch_size=2, progress=stop_after_two, pages=ForkedPricing(factory))
    assert multiprocessing.active_children() == []
    assert gc.get_freeze_count() == 0  # what the run set aside from the collector is back
    report = bill(backend.services(), MAY, batch_size=2, pages=ForkedPricing(factory))
    assert report.resumed and (report.affiliations, report.billed) == (9, 9)
    with backend.uow() as uow:
        assert uow.cotisations.count_lines(str(MAY)) == report.lines


def test_a_failure_in_the_child_is_raised_in_the_run_with_its_traceback(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    factory = _sql(backend)
    affiliated(backend, 1)

    def broken(*_args: object) -> object:
        raise RuntimeError("base de données injoignable")

    monkeypatch.setattr(billing_worker, "priced_pages", broken)  # the forked child inherits it
    with pytest.raises(PricingFailed, match="base de données injoignable"):
        bill(backend.services(), MAY, pages=ForkedPricing(factory))
    assert multiprocessing.active_children() == []
    with backend.uow() as uow:
        assert uow.cotisations.count_lines(str(MAY)) == 0


def test_the_composition_root_prices_in_a_child_on_a_sqlite_file_and_postgresql(backend: Backend) -> None:
    factory = _sql(backend)
    assert isinstance(page_source_for(factory), ForkedPricing)
    in_memory = SqlUnitOfWorkFactory(make_engine("sqlite://"), clock=factory.clock, ids=factory.ids)
    assert page_source_for(in_memory) is None  # another process cannot read it
