"""``mutuelle bill --month 2026-05``: the monthly billing run with a progress bar."""

from __future__ import annotations

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import func, select

from mutuelle_adapters.bootstrap import build_app
from mutuelle_adapters.sql import tables
from mutuelle_adapters.sql.database import make_engine, sqlite_url
from mutuelle_core.cotisations.billing import BillingProgress, bill
from mutuelle_core.cotisations.calls import issue_cotisation_calls
from mutuelle_core.cotisations.records import BILLABLE_STATUSES
from mutuelle_core.errors import DomainError
from mutuelle_core.values.dates import Month

__all__ = ["bill_command"]


@click.command("bill")
@click.option("--month", "month_text", required=True, help="Mois facturé, AAAA-MM (ex. 2026-05).")
@click.option(
    "--database", "database_url", envvar="MUTUELLE_DATABASE_URL", default=None, help="URL de la base."
)
@click.option(
    "--batch", "batch_size", default=2000, show_default=True, help="Adhésions par lot (transaction)."
)
def bill_command(month_text: str, database_url: str | None, batch_size: int) -> None:
    """Facture un mois : lignes de cotisation, échéances et appels de cotisation (reprend un run interrompu)."""
    console = Console(highlight=False, soft_wrap=True)
    try:
        month = Month.parse(month_text)
    except DomainError as error:
        raise click.UsageError(str(error)) from error
    url = database_url or sqlite_url("var/mutuelle.db")
    engine = make_engine(url)
    with engine.connect() as conn:  # the total of the progress bar
        c = tables.affiliations.c
        total = conn.execute(
            select(func.count()).where(c.status.in_([s.value for s in BILLABLE_STATUSES]))
        ).scalar_one()
    engine.dispose()
    app = build_app(database_url=url)
    columns = (TextColumn("Facturation"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("bill", total=total)

        def advance(p: BillingProgress) -> None:
            bar.update(task, completed=p.affiliations)

        report = bill(app.services, month, batch_size=batch_size, progress=advance)
    console.print(
        f"Mois {report.month} : {report.affiliations} adhésion(s) lue(s), {report.billed} facturée(s), "
        f"{report.already_billed} déjà facturée(s), {report.lines} ligne(s), "
        f"{report.amount_cents / 100:.2f} €{' (reprise)' if report.resumed else ''}."
    )
    calls = issue_cotisation_calls(app.services, month)
    for call in calls:
        console.print(f"  appel de cotisation {call.contract_number} : {call.amount.format()}")
    for affiliation_id, code in report.errors:
        console.print(f"  non facturée : {affiliation_id} ({code})")
    raise SystemExit(1 if report.unbilled else 0)
