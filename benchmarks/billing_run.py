"""Monthly billing throughput: ``bill(svc, month)`` over 10k, 100k and 1M affiliations, on SQL.

    ./dev bench billing_run                           # SQLite; PostgreSQL too when
                                                      # MUTUELLE_TEST_POSTGRES_URL is set
    ./dev bench billing_run --postgres URL            # PostgreSQL at URL (a scratch database each size)
    ./dev bench billing_run --sizes 10000,100000      # other sizes
    ./dev bench billing_run --batch 2000              # affiliations per page / transaction
    ./dev bench billing_run --repeat 3                # each size 3 times: the best, and every time
    ./dev bench billing_run --sizes 20000 --profile   # cProfile of bill() (top functions, stderr)

Set-up (not timed): a migrated scratch database, one PSC contract with seed 002's tariff, then the
affiliations inserted as rows (``conn.execute(insert(affiliations), rows)``, not through the use
cases): affiliated agents, formula base / option 1 / option 2, 0 to 3 beneficiaries each (spouse,
children), a realistic ``journey`` JSON; 2 % in portability (free, read but not billed).
On PostgreSQL the set-up ends with ``VACUUM ANALYZE affiliations``, as autovacuum would after such a
load: the first read of a freshly inserted row writes its visibility hint bits, which made the
billing run of a table loaded a second before read its pages at a third of the speed (measured:
11,000 -> 15,000-16,000 members/s at 20k); a table in service has long paid that.

Timed: ``bill`` end to end with the production SQL unit of work and the page source ``mutuelle bill``
uses (pages read and priced in a forked child process, on SQLite and PostgreSQL;
``BILLING_PRICING=inline`` to price them in the billing process and compare): keyset pages of lean projections,
the engine, rows, one bulk insert of lines and of schedule lines and the run's cursor per batch.

Each (backend, size) is set up by one Python process, then billed by another: the billing process's
peak memory is its own (``resource.getrusage(RUSAGE_SELF).ru_maxrss``: imports, engine, the run),
with its growth during ``bill``; the pages are priced in a child process forked from it, whose own
peak (``RUSAGE_CHILDREN``) is shown as well. The memory target is checked on their **sum**, an upper
bound (the child shares the parent's pages until it writes them, and RSS counts shared pages twice).

Targets: >= 20,000 members/s; µs per member at the largest size <= 1.3x the smallest; peak < 500 MB
(the billing process and its pricing process together).
A machine reference is printed first (a fixed pure-Python loop, see :func:`machine_reference`) with
the CPU time of the billing process in cores: compare figures only between runs with about the same
reference. The load average is printed before and after: the figures only mean something on an idle machine
(measure several times, ``--repeat``, and keep the best).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
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
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from mutuelle_adapters.signature import LocalSignatureService
from mutuelle_adapters.sql import tables
from mutuelle_adapters.sql.billing_worker import ForkedPricing, page_source_for
from mutuelle_adapters.sql.database import make_engine, sqlite_url, upgrade
from mutuelle_adapters.sql.uow import SqlUnitOfWorkFactory
from mutuelle_adapters.system import SecretTokens, SystemClock, UuidGenerator
from mutuelle_core.cotisations.billing import bill
from mutuelle_core.cotisations.rules import CotisationRules
from mutuelle_core.cotisations.seed002 import seed_002_grid
from mutuelle_core.cotisations.tariff import TariffGrid
from mutuelle_core.serialization import converter
from mutuelle_core.services import Services
from mutuelle_core.values.dates import Month

CONTRACT = "MENJ2026"
MONTH = Month(2026, 5)
TARGET_MEMBERS_PER_S = 20_000
TARGET_SCALING = 1.3
TARGET_PEAK_MB = 500.0
NOW = dt.datetime(2026, 5, 4, 8, 30, tzinfo=dt.UTC)
PRICING = os.environ.get("BILLING_PRICING", "default")
"""Where the pages are priced: ``default`` as ``mutuelle bill`` does (in a forked process on a SQLite
file and PostgreSQL: :func:`page_source_for`), ``forked`` or ``inline`` to compare."""


def machine_reference() -> float:
    """Seconds for a fixed pure-Python loop (best of 3): how fast this machine runs Python today.

    Billing figures are only comparable between machines (and days) that give about the same figure
    here: a machine twice as slow on it is about twice as slow on billing.
    """
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(5_000_000):
            total += i
        best = min(best, time.perf_counter() - started)
    return best


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _grid() -> TariffGrid:
    return seed_002_grid(CONTRACT)


def _journey(rng: random.Random) -> dict[str, Any]:
    return {
        "regime": "general",
        "household": {"spouse": True, "children": 2},
        "formula": {"level": 1},
        "personal": {
            "civility": "M",
            "name": {"birth_name": "Dupond", "first_names": "Benoît", "usage_name": None},
            "birth_date": f"19{rng.randint(60, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
            "birth_country": "FR",
            "birth_city": "Paris",
            "nir": "185057512345673",
            "organisme": "01751000",
            "teletransmission": True,
        },
        "contact": {"address_lines": ["213 rue de Gerland"], "postal_code": "69007", "city": "Lyon"},
        "bank": {"iban": "FR7630006000011234567890189", "holder": "Benoît Dupond"},
    }


def _beneficiary(aff_id: str, i: int, kind: str, birth: str) -> dict[str, Any]:
    return {
        "beneficiary_id": f"{aff_id}-b{i}",
        "details": {
            "kind": kind,
            "civility": "MME",
            "name": {"birth_name": "Dupond", "first_names": "Claudia", "usage_name": None},
            "birth_date": birth,
            "birth_country": "FR",
            "birth_city": "Paris",
            "regime": "general",
            "nir": None,
            "organisme": "01751000",
            "birth_rank": None,
        },
        "period": {"start": "2026-05-01", "end": None},
        "student_or_apprentice": False,
        "disabled": False,
        "medecin_traitant_declared": False,
        "radiation": None,
    }


def _rows(start: int, count: int, rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    for n in range(start, start + count):
        aff_id = f"aff-{n:08d}"
        beneficiaries = rng.randint(0, 3)
        covered = []
        if beneficiaries:
            covered.append(_beneficiary(aff_id, 0, "spouse", "1980-03-12"))
        for i in range(1, beneficiaries):
            covered.append(_beneficiary(aff_id, i, "child", f"201{i}-0{i}-1{i}"))
        portability = rng.random() < 0.02
        rows.append(
            {
                "affiliation_id": aff_id,
                "contract_number": CONTRACT,
                "group_code": "P1" if portability else "A1",
                "status": "portability" if portability else "affiliated",
                "civility": "M",
                "birth_name": "Dupond",
                "first_names": "Benoît",
                "person_key": aff_id,
                "invited_at": NOW,
                "last_activity_at": NOW,
                "changed_at": NOW,
                "reminders": 0,
                "journey": _journey(rng),
                "enrolment": "complete",
                "effective_date": dt.date(2026, 1, 1),
                "product_level": rng.randint(0, 2),
                "adhesion_number": f"M{n:09d}",
                "control_reasons": [],
                "covered": covered,
                "departure": {"last_day": "2026-04-30"} if portability else None,
                "continuation": None,
                "version": 1,
            }
        )
    return rows


def set_up(url: str, size: int) -> None:
    """A migrated database with one contract, its tariff and ``size`` affiliations (rows, not use cases)."""
    engine = make_engine(url)
    upgrade(engine)
    rules = CotisationRules.psc(evin_reference_group="A1")
    with engine.begin() as conn:
        conn.execute(insert(tables.employers).values(employer_id="emp", name="Ministère", version=1))
        conn.execute(
            insert(tables.contracts).values(
                number=CONTRACT,
                employer_id="emp",
                kind="health",
                regime="state_psc",
                effective_date=dt.date(2026, 1, 1),
                settings={},
                version=1,
            )
        )
        conn.execute(
            insert(tables.contract_tariffs).values(
                contract_number=CONTRACT,
                grid=converter.unstructure(_grid(), TariffGrid),
                rules=converter.unstructure(rules, CotisationRules),
                version=1,
            )
        )
    rng = random.Random(2026)
    for start in range(0, size, 50_000):
        with engine.begin() as conn:
            conn.execute(insert(tables.affiliations), _rows(start, min(50_000, size - start), rng))
    if engine.dialect.name == "postgresql":
        # What autovacuum does after a load: without it the billing run's first read of each new row
        # writes the row's visibility hint bits, a cost a table in service has long paid.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE affiliations")
    engine.dispose()


def measure(url: str, size: int, batch: int, profile: bool = False) -> dict[str, Any]:
    """Time ``bill`` on a database :func:`set_up` prepared (run inside the child process);
    ``profile`` prints a cProfile of it."""
    engine = make_engine(url)
    factory = SqlUnitOfWorkFactory(engine, clock=SystemClock(), ids=UuidGenerator())
    svc = Services(
        uow=factory,
        clock=SystemClock(),
        ids=UuidGenerator(),
        tokens=SecretTokens(),
        signature=LocalSignatureService(),
    )
    before = _rss_mb()
    profiler = cProfile.Profile() if profile else None
    cpu_before = time.process_time()
    started = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    pages = {"default": page_source_for(factory), "forked": ForkedPricing(factory), "inline": None}[PRICING]
    report = bill(svc, MONTH, batch_size=batch, pages=pages)
    if profiler is not None:
        profiler.disable()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_before
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        print(out.getvalue(), file=sys.stderr)
    after = _rss_mb()
    engine.dispose()
    return {
        "size": size,
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "members_per_s": size / elapsed,
        "us_per_member": elapsed / size * 1e6,
        "lines": report.lines,
        "billed": report.billed,
        "unbilled": report.unbilled,
        "rss_growth_mb": after - before,
        "peak_mb": after,
        "child_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def _peak(run: dict[str, Any]) -> float:
    """The billing process's peak plus its pricing process's (an upper bound: shared pages twice)."""
    return float(run["peak_mb"] + (run.get("child_peak_mb") or 0.0))


def _scratch(backend: str, postgres: str | None) -> tuple[str, Any]:
    if backend == "sqlite":
        directory = tempfile.mkdtemp(prefix="billing-bench-")
        return sqlite_url(Path(directory) / "bench.db"), None
    assert postgres is not None
    admin = make_engine(postgres, isolation_level="AUTOCOMMIT")
    name = f"mutuelle_bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return make_url(postgres).set(database=name).render_as_string(hide_password=False), (admin, name)


def _drop(scratch: Any) -> None:
    if scratch is None:
        return
    admin, name = scratch
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def run_child(
    backend: str, size: int, batch: int, postgres: str | None, profile: bool = False
) -> dict[str, Any]:
    """One (backend, size) in its own process, so that its peak memory is its own."""
    url, scratch = _scratch(backend, postgres)
    try:
        # set up in a process of its own: the billing process's peak memory is the billing's
        subprocess.run([sys.executable, __file__, "--set-up", url, "--sizes", str(size)], check=True)
        cmd = [sys.executable, __file__, "--child", url, "--sizes", str(size), "--batch", str(batch)]
        done = subprocess.run(
            [*cmd, "--profile"] if profile else cmd, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise SystemExit(done.stderr)
        if profile:
            print(done.stderr, file=sys.stderr)
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result
    finally:
        _drop(scratch)


def main() -> None:
    """Parse the arguments, run each backend and size, print the figures and the targets."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--postgres", default=os.environ.get("MUTUELLE_TEST_POSTGRES_URL"))
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--repeat", type=int, default=1, help="runs per size; the fastest is kept")
    parser.add_argument("--profile", action="store_true", help="cProfile bill() (stderr)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--set-up", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.set_up:
        set_up(args.set_up, sizes[0])
        return
    if args.child:
        print(json.dumps(measure(args.child, sizes[0], args.batch, args.profile)))
        return
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average {load} ({os.cpu_count()} CPUs)", flush=True)
    print(
        f"machine reference: 5M-iteration Python loop in {machine_reference():.3f} s (best of 3)", flush=True
    )
    backends = ["sqlite"] + (["postgres"] if args.postgres else [])
    if args.only:
        backends = [args.only]
    all_met = True
    for backend in backends:
        results = []
        for size in sizes:
            runs = [
                run_child(backend, size, args.batch, args.postgres, args.profile)
                for _ in range(max(1, args.repeat))
            ]
            r = min(runs, key=lambda run: run["seconds"])
            results.append(r)
            every = (
                ""
                if len(runs) == 1
                else "  (runs: " + ", ".join(f"{x['members_per_s']:,.0f}" for x in runs) + ")"
            )
            print(
                f"{backend:8s} {size:>9,d} members: {r['seconds']:7.2f} s  {r['members_per_s']:>9,.0f} members/s  "
                f"{r['us_per_member']:6.1f} µs/member  {r['lines']:>10,d} lines  "
                f"peak {max(_peak(x) for x in runs):6.1f} MB (billing process {r['peak_mb']:.0f} MB, "
                f"+{r['rss_growth_mb']:.1f} MB during the run"
                + (f"; pricing process {r['child_peak_mb']:.0f} MB" if r.get("child_peak_mb") else "")
                + ")  "
                f"CPU of this process {r['cpu_seconds'] / r['seconds']:.2f} cores{every}",
                flush=True,
            )
        rate_ok = all(r["members_per_s"] >= TARGET_MEMBERS_PER_S for r in results)
        scaling = results[-1]["us_per_member"] / results[0]["us_per_member"]
        peak_ok = all(_peak(r) < TARGET_PEAK_MB for r in results)  # the best run's; the worst is printed
        print(
            f"{backend}: >= {TARGET_MEMBERS_PER_S:,} members/s {'met' if rate_ok else 'MISSED'}; "
            f"scaling {scaling:.2f}x (<= {TARGET_SCALING}x) {'met' if scaling <= TARGET_SCALING else 'MISSED'}; "
            f"peak < {TARGET_PEAK_MB:.0f} MB {'met' if peak_ok else 'MISSED'}"
        )
        all_met &= rate_ok and scaling <= TARGET_SCALING and peak_ok
    print("load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    sys.exit(0 if all_met else 1)


if __name__ == "__main__":
    main()
