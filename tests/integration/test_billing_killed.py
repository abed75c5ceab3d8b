"""A billing process killed midway (``os._exit`` right after a committed batch), then run again, bills
every member exactly once: on SQLite (a database file) and on PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections import Counter

import pytest

from mutuelle_core.cotisations.billing import bill
from mutuelle_core.cotisations.records import BillingRunStatus
from mutuelle_core.values.dates import Month
from tests.conftest import Backend
from tests.unit.test_billing import affiliated, clone

MAY = Month(2026, 5)

CHILD = """
import os
from mutuelle_adapters.bootstrap import build_app
from mutuelle_core.cotisations.billing import bill
from mutuelle_core.values.dates import Month

app = build_app(database_url={url!r})
seen = []

def die(progress):
    seen.append(progress)
    if len(seen) == {batches}:
        os._exit(9)  # no cleanup, no rollback of anything: the process is gone

bill(app.services, Month(2026, 5), batch_size=3, progress=die)
"""


@pytest.mark.parametrize("batches", [1, 2])
def test_a_killed_billing_process_restarted_bills_each_member_once(backend: Backend, batches: int) -> None:
    if backend.engine is None:
        pytest.skip("another process needs a database file or server")
    _, aff_id = affiliated(backend, 2)
    ids = [aff_id, *clone(backend, aff_id, 9)]
    url = backend.engine.url.render_as_string(hide_password=False)
    backend.engine.dispose()
    child = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CHILD.format(url=url, batches=batches))],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == 9, child.stderr
    with backend.uow() as uow:
        run = uow.cotisations.latest_run(str(MAY))
        billed_before = [a for a in ids if uow.cotisations.lines_for(a, str(MAY))]
    assert run is not None and run.status is BillingRunStatus.RUNNING
    assert run.affiliations == len(billed_before) == 3 * batches
    report = bill(backend.services(), MAY, batch_size=3)
    assert report.resumed and (report.affiliations, report.billed, report.unbilled) == (10, 10, 0)
    with backend.uow() as uow:
        per_member = Counter(len(uow.cotisations.lines_for(a, str(MAY))) for a in ids)
        schedule = [len(uow.cotisations.schedule_for(a, str(MAY))) for a in ids]
        amounts = {sum(r["amount_cents"] for r in uow.cotisations.lines_for(a, str(MAY))) for a in ids}
        total = uow.cotisations.count_lines(str(MAY))
        all_lines = [r for a in ids for r in uow.cotisations.lines_for(a, str(MAY))]
        [employer_due] = uow.cotisations.employer_dues(all_lines[0]["contract_number"], str(MAY))
    [(lines, members)] = per_member.items()
    assert members == 10 and total == 10 * lines and schedule == [1] * 10 and len(amounts) == 1
    # the employer's due of the month was added to once per member, committed batches included
    employer_paid = [r for r in all_lines if r["payer"] == "employer" or r["channel"] == "payroll_deduction"]
    assert employer_paid and employer_due["amount_cents"] == sum(r["amount_cents"] for r in employer_paid)
    assert report.lines == total
    again = bill(backend.services(), MAY, batch_size=3)
    assert (again.billed, again.lines, again.already_billed) == (0, 0, 10)
