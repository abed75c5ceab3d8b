"""``mutuelle payments import|collect|statement`` and ``mutuelle dunning run``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click
from rich.console import Console

from mutuelle_adapters.bootstrap import build_app
from mutuelle_adapters.files.payment_file import read_payment_file
from mutuelle_adapters.files.sepa import SepaDirectDebitFiles
from mutuelle_core.cotisations.account_records import PayerKey
from mutuelle_core.cotisations.accounts import import_payments, payer_statement
from mutuelle_core.cotisations.collection import collect_direct_debits
from mutuelle_core.cotisations.dunning_run import run_dunning
from mutuelle_core.cotisations.rules import Payer
from mutuelle_core.values.bank import BankAccount

__all__ = ["DEFAULT_CREDITOR_ACCOUNT", "dunning", "payments"]

DEFAULT_CREDITOR_ACCOUNT = "FR7630004000010001234567830"
"""The example insurer's account (replace it with ``--creditor-iban`` or ``MUTUELLE_CREDITOR_IBAN``)."""

_DATABASE = click.option(
    "--database", "database_url", envvar="MUTUELLE_DATABASE_URL", default=None, help="URL de la base."
)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise click.BadParameter(f"date AAAA-MM-JJ attendue : {text}") from error


@click.group()
def payments() -> None:
    """Règlements : import de relevés, prélèvements SEPA, situation d'un payeur."""


@payments.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_DATABASE
def import_command(file: Path, database_url: str | None) -> None:
    """Importe un fichier de règlements et de rejets : tout ou rien, chaque ligne fautive signalée."""
    console = Console(highlight=False, soft_wrap=True)
    lines, errors = read_payment_file(file.read_bytes())
    app = build_app(database_url=database_url)
    if errors:
        report_errors = errors
    else:
        report = import_payments(app.services, lines)
        report_errors = list(report.errors)
        if report.ok:
            console.print(
                f"{report.payments} règlement(s) pour {report.amount.format()} et {report.rejects} rejet(s) "
                "enregistrés."
            )
            return
    for line, error in sorted(report_errors, key=lambda item: item[0]):
        console.print(f"ligne {line} : [{error.code}] {error.field or '-'} : {error.message()}", markup=False)
    console.print("Aucun règlement enregistré : corrigez le fichier et importez-le à nouveau.")
    raise SystemExit(1)


@payments.command("collect")
@click.option("--date", "date_text", required=True, help="Date de prélèvement, AAAA-MM-JJ.")
@click.option("--out", "out_dir", default="var/sepa", show_default=True, help="Dossier des fichiers SEPA.")
@click.option(
    "--creditor-iban",
    envvar="MUTUELLE_CREDITOR_IBAN",
    default=DEFAULT_CREDITOR_ACCOUNT,
    show_default=True,
    help="Compte du créancier crédité des prélèvements.",
)
@_DATABASE
def collect_command(date_text: str, out_dir: str, creditor_iban: str, database_url: str | None) -> None:
    """Prélève les cotisations dues des adhérents : un fichier pain.008 validé par le schéma XSD."""
    console = Console(highlight=False, soft_wrap=True)
    app = build_app(database_url=database_url)
    files = SepaDirectDebitFiles(
        out_dir, creditor=app.services.insurer, creditor_account=BankAccount.parse(creditor_iban)
    )
    report = collect_direct_debits(app.services, _date(date_text), files)
    if not report.records:
        console.print(f"Rien à prélever au {report.collection_date:%d/%m/%Y}.")
    else:
        console.print(f"{report.debits} prélèvement(s) pour {report.amount.format()} :")
        for where in report.published:
            console.print(f"  {where}")
    for reason, count in sorted(report.skipped.items()):
        console.print(f"  non prélevées ({reason}) : {count}")


@payments.command("statement")
@click.option("--payer", type=click.Choice(["employeur", "adherent"]), required=True)
@click.option("--id", "payer_id", required=True, help="Numéro de contrat (employeur) ou d'adhérent.")
@click.option("--date", "date_text", default=None, help="Date de la situation (aujourd'hui par défaut).")
@_DATABASE
def statement_command(payer: str, payer_id: str, date_text: str | None, database_url: str | None) -> None:
    """Situation d'un payeur : échéances, règlements, solde et pré-contentieux (JSON)."""
    app = build_app(database_url=database_url)
    key = PayerKey(Payer.EMPLOYER if payer == "employeur" else Payer.MEMBER, payer_id)
    s = payer_statement(app.services, key, _date(date_text) if date_text else None)
    click.echo(
        json.dumps(
            {
                "payer": str(s.key),
                "balance": str(s.balance),
                "credit": str(s.credit),
                "dunning_status": None if s.dunning_status is None else s.dunning_status.label,
                "dunning_since": None if s.dunning_since is None else s.dunning_since.isoformat(),
                "cover": s.cover.value,
                "dues": [
                    {
                        "due": d.due_id,
                        "due_date": d.due_date.isoformat(),
                        "amount": str(d.amount),
                        "paid": str(d.paid),
                        "status": d.status.label,
                    }
                    for d in s.dues
                ],
            },
            ensure_ascii=False,
            indent=2,
        )
    )


@click.group()
def dunning() -> None:
    """Pré-contentieux des cotisations impayées."""


@dunning.command("run")
@click.option("--date", "date_text", required=True, help="Jour traité, AAAA-MM-JJ.")
@_DATABASE
def dunning_run_command(date_text: str, database_url: str | None) -> None:
    """Ouvre et fait avancer les pré-contentieux du jour (mises en demeure, suspensions) ; rejouable."""
    app = build_app(database_url=database_url)
    r = run_dunning(app.services, _date(date_text))
    Console(highlight=False, soft_wrap=True).print(
        f"{r.day:%d/%m/%Y} : {r.payers} payeur(s) examiné(s), {r.opened} ouvert(s), {r.notices} mise(s) en "
        f"demeure, {r.suspended} suspension(s), {r.terminable} résiliation(s) possible(s), "
        f"{r.excludable} exclusion(s) possible(s), {r.settled} soldé(s)."
    )
