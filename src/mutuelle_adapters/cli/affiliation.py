"""The affiliation commands: ``invite``, ``follow-up`` and ``jobs run``.

* ``mutuelle invite --contract M --group G --as LOGIN [--dispense-email E] [--json] FILE.csv``:
  invites the employees of a CSV file (civilité, nom, prénom, e-mail; ``;`` or ``,``; UTF-8 with or
  without BOM, or Windows-1252) and prints the per-line report; exit status 1 when lines were rejected.
* ``mutuelle follow-up --contract M --as LOGIN [--status S] [--format table|csv|json] [--output FILE]``:
  the employer's follow-up list, as a table, a CSV for French Excel (UTF-8 with BOM, ``;``) or JSON.
* ``mutuelle jobs run [--date YYYY-MM-DD]``: the daily affiliation jobs (to remind, expired links,
  automatic enrolment, ended dispenses) for that date; running them twice changes nothing more.

The acting correspondent is named by its login (``--as``); it must be active and see the contract.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import click
from rich import box
from rich.console import Console
from rich.table import Table

from mutuelle_adapters.bootstrap import App, build_app
from mutuelle_adapters.files.csv_io import read_csv_bytes, write_csv_bytes
from mutuelle_core.affiliation.follow_up import FollowUpLine, follow_up, follow_up_rows
from mutuelle_core.affiliation.invitations import BulkInviteReport, invite_rows
from mutuelle_core.affiliation.jobs import JobReport, run_affiliation_jobs
from mutuelle_core.affiliation.transitions import FollowUpFilter
from mutuelle_core.errors import NOT_FOUND, DomainError

__all__ = [
    "correspondent_id",
    "follow_up_command",
    "follow_up_json",
    "invite_command",
    "jobs",
    "print_follow_up",
    "print_invite_report",
    "print_job_report",
]

DATABASE_OPTION = click.option(
    "--database",
    "database_url",
    envvar="MUTUELLE_DATABASE_URL",
    default=None,
    help="URL de la base (sqlite+pysqlite:///fichier.db, postgresql+psycopg://...). Défaut : var/mutuelle.db.",
)
"""The same ``--database`` option as the other commands (``mutuelle_adapters.cli`` imports this module)."""

FIELD_LABELS = {
    "civility": "Civilité",
    "name.birth_name": "Nom",
    "name.first_names": "Prénom",
    "name": "Nom",
    "email": "E-mail",
}
"""The French column names of the file's fields, for the report."""


@contextmanager
def _app(database_url: str | None, *, as_json: bool = False) -> Iterator[App]:
    """The application on ``database_url``; a domain error ends the command with status 1."""
    app = build_app(database_url=database_url, migrate=True)
    try:
        yield app
    except DomainError as err:
        _fail(err, as_json)
    finally:
        if app.engine is not None:
            app.engine.dispose()


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _fail(err: DomainError, as_json: bool) -> NoReturn:
    from mutuelle_adapters.cli import _print_error  # the package imports this module

    if as_json:
        payload = {"errors": [leaf.to_dict() for leaf in err.leaves()]}
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        _print_error(err)
    sys.exit(1)


def correspondent_id(app: App, login: str) -> str:
    """The id of the correspondent with this login (``not_found`` otherwise)."""
    with app.services.uow() as uow:
        found = uow.correspondents.find_by_login(login)
    if found is None:
        raise NOT_FOUND("as", what=f"correspondant {login}")
    return found.correspondent_id


# --- invite -----------------------------------------------------------------------------------------


def print_invite_report(console: Console, report: BulkInviteReport, *, title: str) -> None:
    """The rejected lines (one row per error: line, field, code, message), then the summary."""
    if report.rejected:
        table = Table(title=title)
        for column in ("Ligne", "Champ", "Code", "Message"):
            table.add_column(column)
        for rejected in report.rejected:
            for err in rejected.errors:
                field = "-" if err.field is None else FIELD_LABELS.get(err.field, err.field)
                table.add_row(str(rejected.line), field, err.code, err.message())
        console.print(table)
    console.print(f"{len(report.invited)} salarié(s) invité(s), {len(report.rejected)} ligne(s) refusée(s).")


@click.command("invite")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--contract", "contract_number", required=True, help="Numéro du contrat collectif.")
@click.option("--group", "group_code", required=True, help="Code du groupe assuré (ex. A2).")
@click.option("--as", "login", required=True, help="Identifiant du correspondant d'entreprise qui invite.")
@click.option(
    "--dispense-email", default=None, help="Adresse qui reçoit les demandes de dispense de ces salariés."
)
@click.option("--json", "as_json", is_flag=True, help="Rapport JSON (pour les scripts).")
@DATABASE_OPTION
def invite_command(
    path: Path,
    contract_number: str,
    group_code: str,
    login: str,
    dispense_email: str | None,
    as_json: bool,
    database_url: str | None,
) -> None:
    """Invite les salariés d'un fichier CSV (civilité ; nom ; prénom ; e-mail), sans ligne de titres."""
    table = read_csv_bytes(path.read_bytes())
    with _app(database_url, as_json=as_json) as app:
        actor = correspondent_id(app, login)
        report = invite_rows(
            app.services,
            actor,
            contract_number,
            group_code,
            ((row.line, row.fields) for row in table.rows),
            dispense_email=dispense_email,
        )
    if as_json:
        payload: dict[str, object] = {
            "file": str(path),
            "encoding": table.encoding,
            "delimiter": table.delimiter,
        }
        payload.update(report.to_dict())
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        print_invite_report(_console(), report, title=f"Invitations : {path.name}")
    sys.exit(1 if report.rejected else 0)


# --- follow-up --------------------------------------------------------------------------------------


def follow_up_json(lines: list[FollowUpLine]) -> list[dict[str, object]]:
    """The follow-up lines as JSON-ready dicts."""
    return [
        {
            "affiliation_id": x.affiliation_id,
            "contract": x.contract_number,
            "group": x.group_code,
            "civility": x.civility,
            "birth_name": x.birth_name,
            "first_names": x.first_names,
            "email": x.email,
            "status": x.status.value,
            "status_label": x.status.label,
            "invited_on": x.invited_on.isoformat(),
            "last_activity_on": x.last_activity_on.isoformat(),
            "reminders": x.reminders,
            "adhesion_number": x.adhesion_number,
            "actions": [a.value for a in x.actions],
        }
        for x in lines
    ]


def print_follow_up(console: Console, lines: list[FollowUpLine], *, title: str) -> None:
    """The follow-up table as the employer space shows it (every column is in the CSV and JSON exports)."""
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("Salarié(e) et adresse e-mail", overflow="fold")
    table.add_column("Gr.", min_width=2)
    table.add_column("Inscription", min_width=11)
    table.add_column("Invité le", min_width=10)
    table.add_column("Dernière action", min_width=10)
    table.add_column("Rel.", justify="right", min_width=4)
    table.add_column("N° d'adhésion", min_width=8)
    for x in lines:
        table.add_row(
            f"{x.birth_name} {x.first_names}\n{x.email or '-'}",
            x.group_code,
            x.status.label,
            f"{x.invited_on:%d/%m/%Y}",
            f"{x.last_activity_on:%d/%m/%Y}",
            str(x.reminders),
            x.adhesion_number or "-",
        )
    console.print(table)
    console.print(f"{len(lines)} dossier(s).")


@click.command("follow-up")
@click.option("--contract", "contract_number", required=True, help="Numéro du contrat collectif.")
@click.option("--as", "login", required=True, help="Identifiant du correspondant d'entreprise.")
@click.option(
    "--status",
    "status",
    type=click.Choice([f.value for f in FollowUpFilter]),
    default=None,
    help="Filtre : affiliés, en cours, dispensés, à relancer, radiés, en portabilité.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="table (écran), csv (Excel : UTF-8 avec BOM, « ; ») ou json.",
)
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Fichier de sortie."
)
@DATABASE_OPTION
def follow_up_command(
    contract_number: str,
    login: str,
    status: str | None,
    output_format: str,
    output: Path | None,
    database_url: str | None,
) -> None:
    """Suivi des affiliations d'un contrat (tableau, export CSV pour Excel ou JSON)."""
    status_filter = None if status is None else FollowUpFilter(status)
    with _app(database_url, as_json=output_format == "json") as app:
        actor = correspondent_id(app, login)
        lines = follow_up(app.services, actor, contract_number, status_filter=status_filter)
    title = f"Suivi des affiliations - contrat {contract_number}"
    if status_filter is not None:
        title += f" ({status_filter.label})"
    if output_format == "csv":
        data = write_csv_bytes(follow_up_rows(lines))
    elif output_format == "json":
        data = (json.dumps(follow_up_json(lines), ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    else:
        if output is None:
            print_follow_up(_console(), lines, title=title)
            return
        with output.open("w", encoding="utf-8") as fh:
            print_follow_up(Console(file=fh, width=200, highlight=False), lines, title=title)
        click.echo(f"Tableau écrit dans {output} ({len(lines)} dossier(s)).")
        return
    if output is None:
        click.echo(data, nl=False)  # bytes go to the binary standard output as they are
    else:
        output.write_bytes(data)
        click.echo(f"Export écrit dans {output} ({len(lines)} dossier(s)).")


# --- jobs -------------------------------------------------------------------------------------------


JOB_LABELS: tuple[tuple[str, Callable[[JobReport], int]], ...] = (
    ("Dossiers passés « à relancer »", lambda r: r.flagged_to_remind),
    ("Liens expirés", lambda r: r.links_expired),
    ("Affiliations automatiques à la base", lambda r: r.auto_enrolled),
    ("Dispenses arrivées à échéance (salarié réinvité)", lambda r: r.dispenses_ended),
)


def print_job_report(console: Console, report: JobReport, on: dt.date) -> None:
    """The counts of each job."""
    table = Table(title=f"Traitements d'affiliation du {on:%d/%m/%Y}")
    table.add_column("Traitement")
    table.add_column("Dossiers", justify="right")
    for label, count in JOB_LABELS:
        table.add_row(label, str(count(report)))
    console.print(table)


@click.group("jobs")
def jobs() -> None:
    """Traitements quotidiens (relances, liens expirés, affiliations automatiques, dispenses)."""


@jobs.command("run")
@click.option(
    "--date",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Date de traitement (AAAA-MM-JJ). Défaut : aujourd'hui.",
)
@click.option("--json", "as_json", is_flag=True, help="Compteurs en JSON.")
@DATABASE_OPTION
def jobs_run(on: dt.datetime | None, as_json: bool, database_url: str | None) -> None:
    """Lance les traitements d'affiliation pour une date (idempotent pour une même date)."""
    with _app(database_url, as_json=as_json) as app:
        today = on.date() if on is not None else app.services.clock.today()
        report = run_affiliation_jobs(app.services, today)
    if as_json:
        payload = {
            "date": today.isoformat(),
            "flagged_to_remind": report.flagged_to_remind,
            "links_expired": report.links_expired,
            "auto_enrolled": report.auto_enrolled,
            "dispenses_ended": report.dispenses_ended,
        }
        click.echo(json.dumps(payload, indent=2))
    else:
        print_job_report(_console(), report, today)
