"""Bulk invitation throughput: a 100,000-line CSV file through ``invite_rows``, end to end, on SQL.

    ./dev bench bulk_invite                       # SQLite (temporary file); PostgreSQL too when
                                                  # MUTUELLE_TEST_POSTGRES_URL is set
    ./dev bench bulk_invite --postgres URL        # PostgreSQL at URL (a scratch database is created)
    ./dev bench bulk_invite --lines 20000         # another size
    ./dev bench bulk_invite --profile             # cProfile of the end-to-end run, top functions
    ./dev bench bulk_invite --tracemalloc         # also the Python heap's peak (slower run, separate)

End to end means: the CSV bytes (Windows-1252, ``;``, as French offices save them) decoded by
``read_csv_bytes``, then ``invite_rows`` with the production adapters: SQL unit of work, UUIDs, secret
tokens, hashed links, one affiliation, one history entry and one invitation e-mail in the outbox per
line, all in one transaction. The outbox row holds the e-mail's template, recipient, locale and
context, checked against the templates in the transaction; the e-mail is rendered from it when the
relay reads it (so rendering is not in the measured time; it was about 25 µs a line). A few lines in every thousand are bad (wrong civilité, bad
e-mail, duplicate) so that the report is exercised too.

The reference is a plain ``executemany`` insert of the very same ``affiliations`` rows (read back from
the end-to-end run, so prebuilt) into the ``affiliations`` table of a freshly migrated database of the
same kind: ``conn.execute(insert(affiliations), rows)`` in one transaction, timed alone.

Each backend runs in its own Python process so that the peak resident set size (``getrusage`` maxrss,
the whole process: interpreter, libraries, data) belongs to that backend's run only.

Targets: >= 20,000 lines/s end to end on SQLite; end to end <= 5x the plain insert; peak memory < 300 MB.
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
import tracemalloc
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.engine import make_url

from mutuelle_adapters.bootstrap import build_app
from mutuelle_adapters.cli.setup_file import load_setup_file
from mutuelle_adapters.files.csv_io import read_csv_bytes
from mutuelle_adapters.memory.fakes import FixedClock
from mutuelle_adapters.sql import tables
from mutuelle_adapters.sql.database import make_engine, sqlite_url, upgrade
from mutuelle_adapters.system import SecretTokens
from mutuelle_core.affiliation.invitations import invite_rows
from mutuelle_core.contracts import back_office, employer_space
from mutuelle_core.services import Services

ROOT = Path(__file__).resolve().parents[1]
SETUP = ROOT / "src" / "mutuelle_adapters" / "cli" / "demo_data" / "menj.toml"
NOW = dt.datetime(2026, 5, 4, 8, 30, tzinfo=dt.UTC)
CONTRACT, GROUP, LOGIN = "MENJ2026", "A1", "menj.rh"

TARGET_LINES_PER_S = 20_000
TARGET_RATIO = 5.0
TARGET_PEAK_MB = 300.0

FIRST = [
    "Anaïs",
    "Benoît",
    "Chloé",
    "Denis",
    "Élodie",
    "François",
    "Gaël",
    "Hélène",
    "Inès",
    "Jérôme",
    "Karim",
    "Léa",
    "Maëlle",
    "Noé",
    "Océane",
    "Pierre",
    "Quentin",
    "Rémi",
    "Sébastien",
    "Zoé",
]
LAST = [
    "Martin",
    "Bernard",
    "Lefèvre",
    "Dubois",
    "Müller",
    "Lœuillet",
    "Garçon",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Michel",
    "Fontaine",
    "Chevalier",
    "Rousseau",
    "Noël",
]


def letters(n: int) -> str:
    """A distinct letters-only suffix for ``n`` (names may not contain digits)."""
    out = ""
    n += 26 * 26  # at least three letters
    while n:
        n, r = divmod(n, 26)
        out += chr(ord("a") + r)
    return out


def make_csv(lines: int, seed: int = 2026) -> tuple[bytes, int]:
    """The file (Windows-1252, CRLF, ``;``) and how many of its lines are valid.

    In every thousand lines: one bad civilité, one bad e-mail, one repeating the line 10 lines above.
    """
    rng = random.Random(seed)
    rows: list[str] = []
    good = 0
    for i in range(lines):
        kind = i % 1000
        if kind == 3 and i > 10:
            rows.append(rows[i - 10])  # a duplicate in the file
            continue
        civility = "Dr" if kind == 1 else rng.choice(("M", "MME"))
        email = "pas-un-mail" if kind == 2 else f"{letters(i)}.{i}@example.fr"
        good += kind not in (1, 2)
        rows.append(f"{civility};{rng.choice(LAST)}-{letters(i).capitalize()};{rng.choice(FIRST)};{email}")
    return ("\r\n".join(rows) + "\r\n").encode("cp1252"), good


class RecordingTokens(SecretTokens):
    """Secret tokens (the production adapter), remembering the last one for the activation link."""

    last = ""

    def new_token(self) -> str:
        self.last = super().new_token()
        return self.last


def set_up(svc: Services, tokens: RecordingTokens) -> str:
    """The PSC contract of the demo and an active principal correspondent; returns its id."""
    employer, contracts = load_setup_file(SETUP)
    back_office.set_up_employer(svc, employer)
    for contract in contracts:
        back_office.set_up_contract(svc, contract)
    actor = back_office.create_principal_correspondent(
        svc,
        back_office.PrincipalSetup(
            employer_id=employer.employer_id,
            login=LOGIN,
            birth_name="Bernard",
            first_names="Sophie",
            email="sophie.bernard@menj.example",
            contracts=(CONTRACT,),
        ),
    )
    employer_space.activate_correspondent(svc, tokens.last, "correct horse 42 battery")
    return actor.correspondent_id


@contextmanager
def scratch_databases(backend: str, postgres: str | None) -> Iterator[tuple[str, str]]:
    """Two empty databases (end to end, reference) of the backend; removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bulk-invite-") as tmp:
            yield sqlite_url(Path(tmp) / "e2e.db"), sqlite_url(Path(tmp) / "reference.db")
        return
    assert postgres is not None
    admin = make_engine(postgres, isolation_level="AUTOCOMMIT")
    names = [f"mutuelle_bench_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    try:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        urls = [make_url(postgres).set(database=n).render_as_string(hide_password=False) for n in names]
        yield urls[0], urls[1]
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def measure(
    backend: str, lines: int, postgres: str | None, profile: str | None, heap: bool
) -> dict[str, Any]:
    """One backend, in this process: end to end, then the reference insert."""
    data, good = make_csv(lines)
    result: dict[str, Any] = {"backend": backend, "lines": lines, "valid": good, "csv_mb": len(data) / 2**20}
    with scratch_databases(backend, postgres) as (e2e_url, ref_url):
        tokens = RecordingTokens()
        app = build_app(database_url=e2e_url, clock=FixedClock(NOW), tokens=tokens, migrate=True)
        actor = set_up(app.services, tokens)
        assert app.engine is not None
        rss_before = maxrss_mb()
        if heap:
            tracemalloc.start()
        profiler = cProfile.Profile() if profile else None
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        table = read_csv_bytes(data)
        parsed = time.perf_counter()
        report = invite_rows(app.services, actor, CONTRACT, GROUP, ((r.line, r.fields) for r in table.rows))
        if profiler:
            profiler.disable()
        end = time.perf_counter()
        if heap:
            result["heap_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        result["rss_before_mb"] = rss_before
        result["rss_peak_mb"] = maxrss_mb()
        del table
        result.update(
            e2e_s=end - start,
            parse_s=parsed - start,
            invite_s=end - parsed,
            invited=len(report.invited),
            rejected=len(report.rejected),
        )
        del report
        result["rows"] = {
            t.name: count(app.engine, t)
            for t in (tables.affiliations, tables.affiliation_history, tables.outbox)
        }
        if profiler:
            stats = io.StringIO()
            ps = pstats.Stats(profiler, stream=stats)
            result["breakdown"] = breakdown(ps)
            ps.sort_stats("tottime").print_stats(25)
            ps.sort_stats("cumulative").print_stats(40)
            result["profile"] = stats.getvalue()
            if profile != "-":
                profiler.dump_stats(f"{profile}.{backend}")

        with app.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(select(tables.affiliations)).mappings()]
        app.engine.dispose()

        ref = make_engine(ref_url)
        upgrade(ref)
        ref_tokens = RecordingTokens()
        ref_app = build_app(database_url=ref_url, clock=FixedClock(NOW), tokens=ref_tokens)
        set_up(ref_app.services, ref_tokens)  # the contract the rows refer to
        assert ref_app.engine is not None
        ref_app.engine.dispose()
        start = time.perf_counter()
        with ref.begin() as conn:
            conn.execute(insert(tables.affiliations), rows)
        result["reference_s"] = time.perf_counter() - start
        assert count(ref, tables.affiliations) == len(rows)
        ref.dispose()
    return result


BREAKDOWN = [
    ("read_csv_bytes (decode, split)", "files/csv_io.py", "read_csv_bytes"),
    ("_validate_identity (civilité, names, e-mail)", "affiliation/invitations.py", "_validate_identity"),
    ("person_key (once a line)", "affiliation/affiliation.py", "person_key"),
    ("_new_affiliation (ids, token, hash, aggregate)", "affiliation/invitations.py", "_new_affiliation"),
    ("invitation_message (the outbox message)", "affiliation/notifications.py", "invitation_message"),
    ("add_many (affiliations + history, and outbox)", "sql/uow.py", "add_many"),
    ("  of which the driver's inserts (in this thread)", "sql/bulk.py", "execute"),
    ("waiting for the inserts written behind (another thread)", "sql/uow.py", "_wait_for_writes"),
    ("  of which checking the messages against templates", "email/rendering.py", "check"),
    ("commit (SQLite)", "~", "<method 'commit' of 'sqlite3.Connection' objects>"),
    ("commit (PostgreSQL)", "psycopg/connection.py", "commit"),
]


def breakdown(ps: pstats.Stats) -> list[tuple[str, float]]:
    """Cumulative time of the main steps of ``invite_rows`` (under the profiler, so inflated).

    cProfile sees this thread only: the batches the SQL unit of work writes behind (its writer
    thread) show as the time this thread waits for them, not as the driver's inserts.
    """
    table: dict[tuple[str, int, str], tuple[Any, ...]] = ps.stats  # type: ignore[attr-defined]
    out = []
    total = sum(v[3] for k, v in table.items() if k[2] == "invite_rows") + sum(
        v[3] for k, v in table.items() if k[2] == "read_csv_bytes"
    )
    out.append(("total (read_csv_bytes + invite_rows)", total))
    for label, path, name in BREAKDOWN:
        out.append((label, sum(v[3] for k, v in table.items() if k[0].endswith(path) and k[2] == name)))
    return out


def run_child(backend: str, args: argparse.Namespace, postgres: str | None) -> dict[str, Any]:
    """Measure one backend in a fresh interpreter (clean peak memory)."""
    cmd = [sys.executable, __file__, "--child", backend, "--lines", str(args.lines)]
    if postgres:
        cmd += ["--postgres", postgres]
    if args.profile:
        cmd += ["--profile", args.profile]
    if args.tracemalloc:
        cmd += ["--tracemalloc"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"{backend}: the measurement failed")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def print_result(r: dict[str, Any]) -> bool:
    lines_per_s = r["lines"] / r["e2e_s"]
    ratio = r["e2e_s"] / r["reference_s"]
    peak = r["rss_peak_mb"]
    print(
        f"\n== {r['backend']}: {r['lines']:,} lines ({r['csv_mb']:.1f} MB of CSV), "
        f"{r['invited']:,} invited, {r['rejected']:,} rejected =="
    )
    print(f"  rows written: {r['rows']}")
    print(f"  end to end        {r['e2e_s']:8.2f} s   {lines_per_s:10,.0f} lines/s")
    print(f"    read_csv_bytes  {r['parse_s']:8.2f} s")
    print(f"    invite_rows     {r['invite_s']:8.2f} s")
    print(
        f"  plain executemany {r['reference_s']:8.2f} s   {r['lines'] / r['reference_s']:10,.0f} rows/s"
        f"  (same affiliations rows, fresh table)"
    )
    print(f"  ratio end to end / plain insert: {ratio:.1f}x")
    print(
        f"  peak memory (getrusage maxrss, whole process): {peak:.0f} MB "
        f"(before the run: {r['rss_before_mb']:.0f} MB, so +{peak - r['rss_before_mb']:.0f} MB)"
    )
    if "heap_peak_mb" in r:
        print(f"  Python heap peak during the run (tracemalloc): {r['heap_peak_mb']:.0f} MB")
    checks = [
        (f"ratio <= {TARGET_RATIO:.0f}x the plain insert", ratio <= TARGET_RATIO),
        (f"peak memory < {TARGET_PEAK_MB:.0f} MB", peak < TARGET_PEAK_MB),
    ]
    if r["backend"] == "sqlite":
        checks.insert(0, (f">= {TARGET_LINES_PER_S:,} lines/s end to end", lines_per_s >= TARGET_LINES_PER_S))
    for label, ok in checks:
        print(f"  target {label}: {verdict(ok)}")
    if "profile" in r:
        total = r["breakdown"][0][1]
        print("\n  Where the time goes (cProfile, cumulative seconds under the profiler):")
        for label, seconds in r["breakdown"]:
            print(f"    {label:<55} {seconds:7.2f} s  {100 * seconds / total:5.1f} %")
        print(r["profile"])
    return all(ok for _, ok in checks)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=100_000, help="lines in the file (default 100,000)")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("MUTUELLE_TEST_POSTGRES_URL"),
        help="PostgreSQL server URL (default: $MUTUELLE_TEST_POSTGRES_URL)",
    )
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument(
        "--profile",
        nargs="?",
        const="-",
        default=None,
        help="cProfile the end-to-end run; with a path prefix, also dump the stats there",
    )
    parser.add_argument("--tracemalloc", action="store_true", help="also trace the Python heap (slower)")
    parser.add_argument("--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        result = measure(args.child, args.lines, args.postgres, args.profile, args.tracemalloc)
        print(json.dumps(result))
        return 0

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"Machine: {os.cpu_count()} CPUs, load average {load} (other work on the machine skews the timings)."
    )
    print(
        f"Targets: >= {TARGET_LINES_PER_S:,} lines/s end to end on SQLite; <= {TARGET_RATIO:.0f}x a plain "
        f"executemany insert of the same rows; peak memory < {TARGET_PEAK_MB:.0f} MB."
    )
    backends = [] if args.no_sqlite else ["sqlite"]
    if args.postgres:
        backends.append("postgres")
    else:
        print("PostgreSQL: skipped (set MUTUELLE_TEST_POSTGRES_URL or pass --postgres URL).")
    all_met = True
    for backend in backends:
        all_met &= print_result(run_child(backend, args, args.postgres if backend == "postgres" else None))
    print("\nAll targets met." if all_met else "\nSome targets are missed (see above).")
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
