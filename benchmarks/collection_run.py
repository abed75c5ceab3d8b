"""SEPA collection and dunning throughput after a billed month, on SQLite (and PostgreSQL).

    ./dev bench collection_run                        # 10,000 and 50,000 members on SQLite
    ./dev bench collection_run --sizes 20000          # other sizes
    ./dev bench collection_run --postgres URL         # PostgreSQL too (a scratch database each size)

Set-up (not timed): a migrated scratch database, the PSC contract of the demo with seed 002's tariff, a
finished billing run of June 2026 started on 20 May, and for each member one schedule line (the
member's share, 10 to 65 €, due 5 June) and an active SEPA mandate signed in April, written as rows.

Timed, each with the production SQL unit of work:

* ``collect_direct_debits(svc, 2026-06-08, files)``: the uncollected dues query, one ledger load and
  save and one mandate update per member, the pain.008 file built and validated against the XSD
  (``xmlschema``), stored as a document and published;
* ``run_dunning(svc, 2026-06-15)`` after a second month billed and not collected: one dunning opened,
  one mise en demeure (letter document) per member... is not timed here: it needs the members'
  affiliations, which this benchmark does not create. The dunning job's cost per payer is one ledger
  load, its dunnings, and the documents it writes.

Printed: members/s and µs per member for the collection, the file's size, and the process's peak
memory (``getrusage`` maxrss, set-up included). No target is set by the issue for these figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from mutuelle_adapters.cli.setup_file import load_setup_file
from mutuelle_adapters.files.sepa import SepaDirectDebitFiles
from mutuelle_adapters.signature import LocalSignatureService
from mutuelle_adapters.sql import tables
from mutuelle_adapters.sql.database import make_engine, sqlite_url, upgrade
from mutuelle_adapters.sql.uow import SqlUnitOfWorkFactory
from mutuelle_adapters.system import SecretTokens, SystemClock, UuidGenerator
from mutuelle_core.contracts import back_office
from mutuelle_core.cotisations.billing import set_tariff
from mutuelle_core.cotisations.collection import collect_direct_debits
from mutuelle_core.cotisations.mandates import Mandate
from mutuelle_core.cotisations.records import ContractTariff
from mutuelle_core.cotisations.rules import CotisationRules
from mutuelle_core.cotisations.seed002 import seed_002_grid
from mutuelle_core.serialization import converter
from mutuelle_core.services import InsurerProfile, PortalLinks, Services
from mutuelle_core.values.bank import BankAccount

ROOT = Path(__file__).resolve().parents[1]
SETUP = ROOT / "src" / "mutuelle_adapters" / "cli" / "demo_data" / "menj.toml"
CONTRACT = "MENJ2026"
IBANS = ["FR7630006000011234567890189", "FR7630004000031234567890143", "FR7610107001011234567890129"]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _services(url: str) -> Services:
    engine = make_engine(url)
    return Services(
        uow=SqlUnitOfWorkFactory(engine, clock=SystemClock(), ids=UuidGenerator()),
        clock=SystemClock(),
        ids=UuidGenerator(),
        tokens=SecretTokens(),
        signature=LocalSignatureService(),
        links=PortalLinks(),
        insurer=InsurerProfile(),
    )


def _set_up(url: str, size: int) -> Services:
    engine = make_engine(url)
    upgrade(engine)
    svc = _services(url)
    employer, contracts = load_setup_file(SETUP)
    back_office.set_up_employer(svc, employer)
    for contract in contracts:
        back_office.set_up_contract(svc, contract)
    grid = seed_002_grid(CONTRACT)
    set_tariff(svc, ContractTariff(grid, CotisationRules.psc()))
    rng = random.Random(7)
    with engine.begin() as conn:
        conn.execute(
            insert(tables.billing_runs).values(
                run_id="run-june",
                month="2026-06",
                status="done",
                started_at=dt.datetime(2026, 5, 20, 8, tzinfo=dt.UTC),
                finished_at=dt.datetime(2026, 5, 20, 9, tzinfo=dt.UTC),
                cursor=None,
                affiliations=size,
                billed=size,
                lines=size,
                amount_cents=0,
                version=1,
            )
        )
        for start in range(0, size, 20_000):
            schedule, mandates = [], []
            for n in range(start, min(size, start + 20_000)):
                aff = f"aff-{n:08d}"
                schedule.append(
                    {
                        "affiliation_id": aff,
                        "month": "2026-06",
                        "payer": "member",
                        "run_id": "run-june",
                        "contract_number": CONTRACT,
                        "payer_id": f"M{n:08d}",
                        "due_date": dt.date(2026, 6, 5),
                        "amount_cents": rng.randint(1000, 6500),
                    }
                )
                mandate = Mandate(
                    rum=f"RUM-{CONTRACT}-{n:08d}",
                    debtor_name="Benoît Dupond",
                    account=IBANS[n % len(IBANS)],
                    signed_on=dt.date(2026, 4, 20),
                )
                mandates.append(
                    {
                        "rum": str(mandate.rum),
                        "affiliation_id": aff,
                        "status": "active",
                        "data": converter.unstructure(mandate),
                        "version": 1,
                    }
                )
            conn.execute(insert(tables.schedule_lines), schedule)
            conn.execute(insert(tables.mandates), mandates)
    engine.dispose()
    return svc


def _child(url: str, size: int) -> None:
    svc = _set_up(url, size)
    before = _rss_mb()
    with tempfile.TemporaryDirectory() as out:
        files = SepaDirectDebitFiles(
            out, creditor=svc.insurer, creditor_account=BankAccount.parse("FR7630004000010001234567830")
        )
        start = time.perf_counter()
        report = collect_direct_debits(svc, dt.date(2026, 6, 8), files)
        elapsed = time.perf_counter() - start
        size_mb = sum(Path(p).stat().st_size for p in report.published) / 1e6
    assert report.debits == size, report
    name = make_url(url).get_backend_name()
    print(
        f"{name:<10} {size:>9,} members: {elapsed:7.2f} s {size / elapsed:10,.0f} members/s "
        f"{elapsed / size * 1e6:8.1f} µs/member   {len(report.published)} file(s) {size_mb:6.1f} MB   "
        f"peak {_rss_mb():6.1f} MB "
        f"(set-up {before:.1f} MB)",
        flush=True,
    )


def _scratch_postgres(base: str) -> tuple[str, str]:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(base).set(database=name).render_as_string(hide_password=False), name


def _drop_postgres(base: str, name: str) -> None:
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    """Run each (backend, size) in its own process and print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,50000")
    parser.add_argument("--postgres", default=os.environ.get("MUTUELLE_TEST_POSTGRES_URL"))
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], int(args.child[1]))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            url = sqlite_url(Path(tmp) / "bench.db")
            subprocess.run([sys.executable, __file__, "--child", url, str(size)], check=True)
    if args.postgres:
        for size in sizes:
            url, name = _scratch_postgres(args.postgres)
            try:
                subprocess.run([sys.executable, __file__, "--child", url, str(size)], check=True)
            finally:
                _drop_postgres(args.postgres, name)
    else:
        print("PostgreSQL: skipped (set MUTUELLE_TEST_POSTGRES_URL or pass --postgres URL).")


if __name__ == "__main__":
    main()
