"""The daily dunning job at scale: ``run_dunning(svc, day)`` after a billed month, on SQLite (and PostgreSQL).

    ./dev bench dunning_run                           # 20,000 members, 10 % unpaid, SQLite
    ./dev bench dunning_run --sizes 20000,100000      # other sizes
    ./dev bench dunning_run --unpaid 0.02             # another share of unpaid members
    ./dev bench dunning_run --postgres URL            # PostgreSQL too (a scratch database each size)

Set-up (not timed): a migrated scratch database with the PSC contract (seed 002's tariff) and
``size`` affiliated agents (one through the use cases, with a spouse and twins, and its copies under
new ids stored by ``add_many``), May 2026 billed by ``bill`` on 4 May (dues on 18 May, 14 days after
the billing day), the employer's due paid by ``receive_payment``, and every member's due paid but a
share ``--unpaid`` of them (payments, imputations and what is paid of each due written as rows, as a
payment import would leave them).

Timed, each with the production SQL unit of work, in order:

1. ``run_dunning(day = due + 10)``: the arrears query over every due of the month, then one
   transaction per payer in arrears: its ledger, its dunning opened, the mise en demeure (a letter
   stored as a document);
2. the same day again: nothing to do (idempotent), the cost of finding that out;
3. ``run_dunning(due + 50)``: every open dunning moves on (the PSC contract's members are under
   L221-8 II: no suspension, exclusion possible 40 days after the notice).

Printed: the payers examined, the time, µs per member of the month and ms per payer in arrears,
and the arrears query alone. No target is set by the issue for these figures.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import os
import pstats
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import attrs
from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.affiliation_fixtures import (
    BANK,
    CONTACT,
    HOUSEHOLD_TWINS,
    PERSONAL,
    TWINS,
    set_up_psc,
    spouse_form,
)

from mutuelle_adapters.memory.fakes import FixedClock, PredictableTokens
from mutuelle_adapters.signature import LocalSignatureService
from mutuelle_adapters.sql import tables
from mutuelle_adapters.sql.database import make_engine, sqlite_url, upgrade
from mutuelle_adapters.sql.uow import SqlUnitOfWorkFactory
from mutuelle_adapters.system import UuidGenerator
from mutuelle_core.affiliation import management as mg
from mutuelle_core.cotisations.account_records import PayerKey
from mutuelle_core.cotisations.accounts import receive_payment
from mutuelle_core.cotisations.billing import bill, set_tariff
from mutuelle_core.cotisations.dunning_run import run_dunning
from mutuelle_core.cotisations.records import ContractTariff
from mutuelle_core.cotisations.rules import CollectionChannel, CotisationRules, Payer
from mutuelle_core.cotisations.seed002 import seed_002_grid
from mutuelle_core.services import Services
from mutuelle_core.values.dates import Month
from mutuelle_core.values.money import Money

PROFILE = bool(os.environ.get("DUNNING_PROFILE"))
"""Print a cProfile of the notices run (stderr) when set."""
CONTRACT = "MENJ2026"
MONTH = Month(2026, 5)
BILLED_AT = dt.datetime(2026, 5, 4, 7, 30, tzinfo=dt.UTC)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _set_up(url: str, size: int, clock: FixedClock) -> Services:
    """A migrated database with the PSC contract (seed 002's tariff) and ``size`` affiliated agents:
    one through the use cases (an agent with a spouse and twins), the others its copies under new
    ids, stored as the use cases store them (``add_many``, by 5,000)."""
    engine = make_engine(url)
    upgrade(engine)
    svc = Services(
        uow=SqlUnitOfWorkFactory(engine, clock=clock, ids=UuidGenerator()),
        clock=clock,
        ids=UuidGenerator(),
        tokens=PredictableTokens(),
        signature=LocalSignatureService(),
    )
    actor = set_up_psc(svc, number=CONTRACT)
    set_tariff(svc, ContractTariff(seed_002_grid(CONTRACT), CotisationRules.psc(evin_reference_group="A1")))
    form = mg.CompleteAffiliationForm(
        regime="general",
        household=HOUSEHOLD_TWINS,
        level=1,
        personal=PERSONAL,
        beneficiaries=(spouse_form(), *TWINS),
        contact=CONTACT,
        bank=BANK,
    )
    first = mg.complete_affiliation(svc, actor, CONTRACT, "A1", form)
    mg.accept_affiliation(svc, first.affiliation_id)
    with svc.uow() as uow:
        original = uow.affiliations.get(first.affiliation_id)
    for start in range(1, size, 5000):
        with svc.uow() as uow:
            uow.affiliations.add_many(
                [
                    attrs.evolve(
                        original,
                        affiliation_id=f"aff-{n:08d}",
                        adhesion_number=f"C{n:09d}",
                        person_key=f"{original.person_key}-{n}",
                        version=0,
                    )
                    for n in range(start, min(size, start + 5000))
                ]
            )
            uow.commit()
    return svc


def _pay_members(url: str, unpaid: float) -> int:
    """Pay every member's due of the month but a share ``unpaid`` of them (rows); returns how many
    members stay unpaid."""
    engine = make_engine(url)
    rng = random.Random(7)
    s = tables.schedule_lines.c
    with engine.begin() as conn:
        dues = conn.execute(
            select(s.affiliation_id, s.payer_id, s.amount_cents, s.due_date).where(
                s.payer == Payer.MEMBER.value, s.month == str(MONTH)
            )
        ).all()
        paid = [d for d in dues if rng.random() >= unpaid]
        for start in range(0, len(paid), 10_000):
            chunk = paid[start : start + 10_000]
            conn.execute(
                insert(tables.payer_accounts),
                [{"payer": "member", "payer_id": d.payer_id, "version": 1} for d in chunk],
            )
            conn.execute(
                insert(tables.payments),
                [
                    {
                        "payment_id": f"PRLV-{d.affiliation_id}",
                        "payer": "member",
                        "payer_id": d.payer_id,
                        "received_on": d.due_date,
                        "amount_cents": d.amount_cents,
                        "channel": CollectionChannel.DIRECT_DEBIT.value,
                        "due_id": f"{MONTH}/{d.affiliation_id}",
                    }
                    for d in chunk
                ],
            )
            conn.execute(
                insert(tables.imputations),
                [
                    {
                        "payment_id": f"PRLV-{d.affiliation_id}",
                        "payer": "member",
                        "payer_id": d.payer_id,
                        "month": str(MONTH),
                        "affiliation_id": d.affiliation_id,
                        "amount_cents": d.amount_cents,
                        "imputed_on": d.due_date,
                    }
                    for d in chunk
                ],
            )
            # as the accounts adapter keeps it with the imputations: what is paid of each due
            conn.execute(
                update(tables.schedule_lines)
                .where(
                    s.affiliation_id == bindparam("w_aff"),
                    s.month == str(MONTH),
                    s.payer == Payer.MEMBER.value,
                )
                .values(paid_cents=bindparam("w_paid")),
                [{"w_aff": d.affiliation_id, "w_paid": d.amount_cents} for d in chunk],
            )
    engine.dispose()
    return len(dues) - len(paid)


def _child(url: str, size: int, unpaid: float) -> None:
    clock = FixedClock(BILLED_AT)
    svc = _set_up(url, size, clock)
    report = bill(svc, MONTH)
    with svc.uow() as uow:
        [employer_due] = uow.cotisations.employer_dues(CONTRACT, str(MONTH))
    due_date: dt.date = employer_due["due_date"]
    receive_payment(
        svc,
        PayerKey(Payer.EMPLOYER, CONTRACT),
        payment_id="VIR-EMPLOYER",
        amount=Money.cents(employer_due["amount_cents"]),
        channel=CollectionChannel.TRANSFER,
        received_on=due_date,
    )
    left = _pay_members(url, unpaid)
    results = []
    for label, day in (
        ("notices", due_date + dt.timedelta(days=10)),
        ("same_day_again", due_date + dt.timedelta(days=10)),
        ("exclusions", due_date + dt.timedelta(days=50)),
    ):
        clock.set(dt.datetime.combine(day, dt.time(6), tzinfo=dt.UTC))
        with svc.uow() as uow:
            started = time.perf_counter()
            uow.accounts.in_arrears(day - dt.timedelta(days=10))
            query = time.perf_counter() - started
        profiler = cProfile.Profile() if PROFILE and label == "notices" else None
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        done = run_dunning(svc, day)
        elapsed = time.perf_counter() - started
        if profiler is not None:
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
            print(out.getvalue(), file=sys.stderr)
        results.append(
            f"{label}={elapsed:.3f}/{done.payers}/{done.opened}/{done.notices}/{done.suspended + done.terminable + done.excludable}/{query:.3f}"
        )
    print(f"RESULT {report.billed} {left} {_rss_mb():.1f} " + " ".join(results))


def _scratch(backend: str, postgres: str | None) -> tuple[str, object]:
    if backend == "sqlite":
        folder = tempfile.TemporaryDirectory(prefix="dunning-bench-")
        return sqlite_url(Path(folder.name) / "bench.db"), folder
    assert postgres is not None
    name = f"dunning_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(postgres).set(database=name).render_as_string(hide_password=False), (postgres, name)


def _drop(scratch: object) -> None:
    if isinstance(scratch, tuple):
        base, name = scratch
        admin = make_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        scratch.cleanup()  # type: ignore[attr-defined]


def main() -> None:
    """Run each (backend, size) in its own process and print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="20000")
    parser.add_argument("--unpaid", type=float, default=0.10)
    parser.add_argument("--postgres", default=os.environ.get("MUTUELLE_TEST_POSTGRES_URL"))
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, int(args.sizes), args.unpaid)
        return
    print("load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()), flush=True)
    backends = ["sqlite"] + (["postgres"] if args.postgres else [])
    if args.only:
        backends = [args.only]
    root = Path(__file__).resolve().parents[1]
    for backend in backends:
        for size in (int(s) for s in args.sizes.split(",")):
            url, scratch = _scratch(backend, args.postgres)
            try:
                done = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--child",
                        url,
                        "--sizes",
                        str(size),
                        "--unpaid",
                        str(args.unpaid),
                    ],
                    capture_output=True,
                    text=True,
                    check=False,
                    cwd=root,
                    env={**os.environ, "PYTHONPATH": str(root)},
                )
            finally:
                _drop(scratch)
            if done.returncode != 0:
                raise SystemExit(done.stderr)
            if PROFILE:
                print(done.stderr, file=sys.stderr)
            line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
            _, billed, left, peak, *runs = line.split()
            print(
                f"{backend:8s} {int(billed):>9,d} members billed, {int(left):,d} unpaid, peak {float(peak):.0f} MB"
            )
            for run in runs:
                label, figures = run.split("=")
                seconds, payers, opened, notices, suspended, query = figures.split("/")
                per_payer = float(seconds) / max(1, int(payers)) * 1000
                print(
                    f"    {label.replace('_', ' '):15s} {float(seconds):7.2f} s  {int(payers):>7,d} payers  "
                    f"{opened:>6s} opened {notices:>6s} notices {suspended:>6s} moved on  "
                    f"{per_payer:6.2f} ms/payer  {float(seconds) / int(billed) * 1e6:7.1f} µs/member  "
                    f"(arrears query {float(query) * 1000:.0f} ms)",
                    flush=True,
                )
    print("load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
