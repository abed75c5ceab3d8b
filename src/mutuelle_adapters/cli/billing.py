"""``mutuelle bill --month 2026-05``: the monthly billing cycle with a progress bar.

The cycle (:func:`~mutuelle_core.cotisations.cycle.run_billing_cycle`) bills the month, regularises
the months billed before (totals printed: lines, amount added to the dues, credit notes), issues the
cotisation calls and writes the members' SEPA direct debit files (pain.008) into ``--out``, one per
collection date; ``--no-collect`` stops after the calls (collect later with ``mutuelle payments
collect --date``).
"""

from __future__ import annotations

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import func, select

from mutuelle_adapters.bootstrap import build_app
from mutuelle_adapters.cli.payments import DEFAULT_CREDITOR_ACCOUNT
from mutuelle_adapters.files.sepa import SepaDirectDebitFiles
from mutuelle_adapters.sql import tables
from mutuelle_adapters.sql.database import make_engine, sqlite_url
from mutuelle_core.cotisations.billing import BillingProgress
from mutuelle_core.cotisations.cycle import run_billing_cycle
from mutuelle_core.cotisations.records import BILLABLE_STATUSES
from mutuelle_core.cotisations.regularisation import RegularisationReport, regularise
from mutuelle_core.errors import DomainError
from mutuelle_core.values.bank import BankAccount
from mutuelle_core.values.dates import Month
from mutuelle_core.values.money import Money

__all__ = ["bill_command", "regularise_command"]


@click.command("bill")
@click.option("--month", "month_text", required=True, help="Mois facturé, AAAA-MM (ex. 2026-05).")
@click.option(
    "--database", "database_url", envvar="MUTUELLE_DATABASE_URL", default=None, help="URL de la base."
)
@click.option(
    "--batch", "batch_size", default=2000, show_default=True, help="Adhésions par lot (transaction)."
)
@click.option("--out", "out_dir", default="var/sepa", show_default=True, help="Dossier des fichiers SEPA.")
@click.option(
    "--creditor-iban",
    envvar="MUTUELLE_CREDITOR_IBAN",
    default=DEFAULT_CREDITOR_ACCOUNT,
    show_default=True,
    help="Compte du créancier crédité des prélèvements.",
)
@click.option(
    "--no-collect",
    "no_collect",
    is_flag=True,
    default=False,
    help="Sans prélèvement : ne pas écrire les fichiers SEPA (prélever plus tard avec `payments collect`).",
)
def bill_command(
    month_text: str,
    database_url: str | None,
    batch_size: int,
    out_dir: str,
    creditor_iban: str,
    no_collect: bool,
) -> None:
    """Facture un mois : lignes de cotisation, échéances, appels de cotisation et fichiers de prélèvement
    SEPA (un par date de prélèvement) ; reprend un run interrompu, rejouable sans rien ajouter."""
    console = Console(highlight=False, soft_wrap=True)
    try:
        month = Month.parse(month_text)
        creditor_account = BankAccount.parse(creditor_iban)
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
    files = (
        None
        if no_collect
        else SepaDirectDebitFiles(out_dir, creditor=app.services.insurer, creditor_account=creditor_account)
    )
    columns = (TextColumn("Facturation"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("bill", total=total)

        def advance(p: BillingProgress) -> None:
            bar.update(task, completed=p.affiliations)

        cycle = run_billing_cycle(
            app.services, month, files, batch_size=batch_size, progress=advance, pages=app.billing_pages
        )
    report = cycle.billing
    console.print(
        f"Mois {report.month} : {report.affiliations} adhésion(s) lue(s), {report.billed} facturée(s), "
        f"{report.already_billed} déjà facturée(s), {report.lines} ligne(s), "
        f"{report.amount_cents / 100:.2f} €{' (reprise)' if report.resumed else ''}."
    )
    _print_regularisation(console, cycle.regularisation)
    for call in cycle.calls:
        console.print(f"  appel de cotisation {call.contract_number} : {call.amount.format()}")
    if not cycle.collected:
        console.print("  prélèvements non faits (--no-collect) : `mutuelle payments collect --date ...`")
    for collection in cycle.collections:
        day = f"{collection.collection_date:%d/%m/%Y}"
        if not collection.records:
            console.print(f"  prélèvement du {day} : rien à prélever")
        else:
            console.print(
                f"  prélèvement du {day} : {collection.debits} prélèvement(s) pour {collection.amount.format()}"
            )
        for where in collection.published:
            console.print(f"    fichier SEPA : {where}")
        for reason, count in sorted(collection.skipped.items()):
            console.print(f"    non prélevées ({reason}) : {count}")
    for affiliation_id, code in report.errors:
        console.print(f"  non facturée : {affiliation_id} ({code})")
    raise SystemExit(1 if report.unbilled else 0)


def _print_regularisation(console: Console, reg: RegularisationReport) -> None:
    console.print(
        f"  régularisations : {reg.affiliations} adhésion(s) modifiée(s) relue(s), {reg.regularised} "
        f"régularisée(s), {reg.lines} ligne(s), solde {Money.cents(reg.amount_cents).format()} "
        f"(ajouté aux échéances {Money.cents(reg.added_cents).format()}, "
        f"{reg.credit_notes} avoir(s) pour {Money.cents(reg.credited_cents).format()})"
        f"{' (reprise)' if reg.resumed else ''}."
    )
    for affiliation_id, code in reg.errors:
        console.print(f"  non régularisée : {affiliation_id} ({code})")


@click.command("regularise")
@click.option("--month", "month_text", required=True, help="Mois des échéances régularisées, AAAA-MM.")
@click.option(
    "--database", "database_url", envvar="MUTUELLE_DATABASE_URL", default=None, help="URL de la base."
)
def regularise_command(month_text: str, database_url: str | None) -> None:
    """Régularise les mois déjà facturés des adhésions modifiées depuis la régularisation précédente
    (`mutuelle bill` le fait après la facturation du mois) ; rejouable sans rien ajouter."""
    console = Console(highlight=False, soft_wrap=True)
    try:
        month = Month.parse(month_text)
    except DomainError as error:
        raise click.UsageError(str(error)) from error
    app = build_app(database_url=database_url or sqlite_url("var/mutuelle.db"))
    report = regularise(app.services, month)
    _print_regularisation(console, report)
    raise SystemExit(1 if report.unpriced else 0)
