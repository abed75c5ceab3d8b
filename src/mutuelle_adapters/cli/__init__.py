"""The ``mutuelle`` command: back-office scripts over the composition root.

Commands: ``--version``, ``check-identities FILE.csv``, ``db upgrade``, ``contract setup FILE.toml``,
``mail relay``, ``invite FILE.csv``, ``follow-up``, ``jobs run`` (see :mod:`.affiliation`), ``radiate``,
``beneficiary add|radiate``, ``departures jobs`` (see :mod:`.departures`), ``demo``.
Reports are French; ``--json`` gives machine-readable output for scripts.
Exit status: 0 when everything was accepted, 1 when lines or inputs were rejected, 2 for usage errors.
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import version
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from mutuelle_adapters.bootstrap import build_app
from mutuelle_adapters.cli.affiliation import follow_up_command, invite_command, jobs
from mutuelle_adapters.cli.billing import bill_command, regularise_command
from mutuelle_adapters.cli.departures import beneficiary, departures, radiate_command
from mutuelle_adapters.cli.identities import check_identities_file
from mutuelle_adapters.cli.payments import dunning, payments
from mutuelle_adapters.cli.setup_file import load_setup_file
from mutuelle_adapters.sql.database import current_revision, head_revision, make_engine, sqlite_url, upgrade
from mutuelle_core.contracts import back_office
from mutuelle_core.errors import DomainError

__all__ = ["main"]

DATABASE_OPTION = click.option(
    "--database",
    "database_url",
    envvar="MUTUELLE_DATABASE_URL",
    default=None,
    help="URL de la base (sqlite+pysqlite:///fichier.db, postgresql+psycopg://...). Défaut : var/mutuelle.db.",
)


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version("mutuelle"), prog_name="mutuelle")
def main() -> None:
    """Back office de complémentaire santé et prévoyance collectives."""


@main.command("check-identities")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Rapport JSON (pour les scripts).")
@click.option("--lang", default="fr", show_default=True, help="Langue des messages (fr, en).")
def check_identities(path: Path, as_json: bool, lang: str) -> None:
    """Vérifie un fichier CSV de personnes (civilité, noms, date de naissance, NIR, IBAN)."""
    report = check_identities_file(path, locale=lang)
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        report.print(_console())
    sys.exit(1 if report.rejected else 0)


@main.group()
def db() -> None:
    """Base de données : migrations."""


@db.command("upgrade")
@DATABASE_OPTION
def db_upgrade(database_url: str | None) -> None:
    """Applique les migrations (crée le schéma sur une base vide)."""
    if database_url is None:
        Path("var").mkdir(exist_ok=True)
        database_url = sqlite_url(Path("var") / "mutuelle.db")
    engine = make_engine(database_url)
    before = current_revision(engine)
    upgrade(engine)
    click.echo(f"Schéma à jour : révision {head_revision()} (avant : {before or 'base vide'}).")


@main.group()
def contract() -> None:
    """Contrats collectifs."""


@contract.command("setup")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@DATABASE_OPTION
def contract_setup(path: Path, database_url: str | None) -> None:
    """Crée l'entreprise, le contrat, ses groupes et produits décrits dans un fichier TOML."""
    app = build_app(database_url=database_url, migrate=True)
    try:
        employer_setup, contract_setups = load_setup_file(path)
        with app.services.uow() as uow:
            known = uow.employers.find(employer_setup.employer_id) is not None
        if not known:
            back_office.set_up_employer(app.services, employer_setup)
        for setup in contract_setups:
            created = back_office.set_up_contract(app.services, setup)
            click.echo(
                f"Contrat {created.number} créé : {len(created.groups)} groupe(s), {len(created.products)} produit(s)."
            )
    except DomainError as err:
        _print_error(err)
        sys.exit(1)


@main.group()
def mail() -> None:
    """Messages sortants."""


@mail.command("relay")
@DATABASE_OPTION
@click.option(
    "--smtp-host", envvar="MUTUELLE_SMTP_HOST", default=None, help="Serveur SMTP ; sinon dossier var/mail."
)
@click.option("--smtp-port", envvar="MUTUELLE_SMTP_PORT", default=587, show_default=True, type=int)
@click.option("--smtp-user", envvar="MUTUELLE_SMTP_USER", default=None)
@click.option("--smtp-password", envvar="MUTUELLE_SMTP_PASSWORD", default=None)
@click.option("--no-starttls", is_flag=True, help="Ne pas passer en STARTTLS.")
@click.option("--sender", envvar="MUTUELLE_MAIL_SENDER", default="ne-pas-repondre@mutuelle.example")
def mail_relay(
    database_url: str | None,
    smtp_host: str | None,
    smtp_port: int,
    smtp_user: str | None,
    smtp_password: str | None,
    no_starttls: bool,
    sender: str,
) -> None:
    """Envoie les messages en attente de l'outbox (une passe)."""
    from mutuelle_adapters.email.transport import SmtpSettings

    smtp = (
        SmtpSettings(
            host=smtp_host,
            port=smtp_port,
            starttls=not no_starttls,
            username=smtp_user,
            password=smtp_password,
            sender_address=sender,
        )
        if smtp_host
        else None
    )
    app = build_app(database_url=database_url, smtp=smtp, migrate=True)
    report = app.relay.run_once()
    click.echo(
        f"Messages envoyés : {report.sent}, en échec (nouvel essai prévu) : {report.failed}, "
        f"abandonnés : {report.given_up}."
    )


@main.command()
@click.option(
    "--workdir", type=click.Path(file_okay=False, path_type=Path), default=Path("var/demo"), show_default=True
)
def demo(workdir: Path) -> None:
    """Démonstration du back office sur une base SQLite embarquée."""
    from mutuelle_adapters.cli.demo import run_demo

    sys.exit(run_demo(workdir, _console()))


def _print_error(err: DomainError) -> None:
    console = _console()
    table = Table(title="Erreurs", show_lines=False)
    table.add_column("Champ")
    table.add_column("Code")
    table.add_column("Message")
    for leaf in err.leaves():
        table.add_row(leaf.field or "-", leaf.code, leaf.message())
    console.print(table)


main.add_command(invite_command)
main.add_command(follow_up_command)
main.add_command(jobs)
main.add_command(bill_command)
main.add_command(regularise_command)
main.add_command(payments)
main.add_command(dunning)
main.add_command(radiate_command)
main.add_command(beneficiary)
main.add_command(departures)
