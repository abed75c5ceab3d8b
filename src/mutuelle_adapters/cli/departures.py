"""The departure and family commands: ``radiate``, ``beneficiary add|radiate`` and ``departures jobs``.

* ``mutuelle radiate --as LOGIN --affiliation ID --last-day AAAA-MM-JJ --motive 059
  --employment-start AAAA-MM-JJ [--json]``: the employer radiates an employee; prints the status, the
  group, the portability dates (or that there is none) and the end of each beneficiary's cover.
* ``mutuelle beneficiary add --affiliation ID [--as LOGIN] --kind child ... [--iban IBAN --holder NAME]``:
  covers one more person; with ``--iban`` the SEPA mandate is signed with the request (required when
  the person is debited from the member's account and the file has no mandate).
* ``mutuelle beneficiary radiate --affiliation ID [--as LOGIN] --beneficiary BID --motive M
  --last-day AAAA-MM-JJ``: ends a beneficiary's cover.
  Without ``--as`` these act as the member (member space); with it, as the employer's correspondent,
  whose scope is checked.
* ``mutuelle departures jobs --date AAAA-MM-JJ``: the daily departure jobs (end of portability at its
  term, proof reminders, Evin offers, children at age limits); running them twice changes nothing more.

A refused request prints the errors in French and ends with status 1.
"""

from __future__ import annotations

import datetime as dt
import json

import click
from rich.console import Console
from rich.table import Table

from mutuelle_adapters.cli.affiliation import DATABASE_OPTION, _app, correspondent_id
from mutuelle_core.affiliation.affiliation import Affiliation
from mutuelle_core.affiliation.journey import BeneficiaryForm
from mutuelle_core.departures.use_cases import DepartureJobReport, radiate_employee, run_departure_jobs
from mutuelle_core.families.beneficiaries import CoveredBeneficiary
from mutuelle_core.families.use_cases import NewBeneficiary, add_beneficiary, radiate_beneficiary
from mutuelle_core.values.bank import BankAccount

__all__ = [
    "beneficiary",
    "departures",
    "print_departure_job_report",
    "print_radiation",
    "radiate_command",
    "radiation_json",
]

DATE = click.DateTime(formats=["%Y-%m-%d"])
KIND_LABELS = {"spouse": "Conjoint(e)", "child": "Enfant", "other_adult": "Autre adulte"}


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _end(b: CoveredBeneficiary) -> str:
    return "-" if b.period.end is None else f"{b.period.end:%d/%m/%Y}"


def radiation_json(aff: Affiliation) -> dict[str, object]:
    """The radiated file as a JSON-ready dict."""
    departure = aff.departure
    portability = None if departure is None else departure.portability
    return {
        "affiliation_id": aff.affiliation_id,
        "status": aff.status.value,
        "status_label": aff.status.label,
        "group": aff.group_code,
        "motive": None if departure is None else departure.motive.value,
        "last_day": None if departure is None else departure.last_day.isoformat(),
        "portability": None
        if portability is None
        else {
            "start": portability.start.isoformat(),
            "end": None if portability.end is None else portability.end.isoformat(),
        },
        "beneficiaries": [
            {
                "beneficiary_id": b.beneficiary_id,
                "name": b.details.name.display,
                "kind": b.details.kind.value,
                "cover_end": None if b.period.end is None else b.period.end.isoformat(),
            }
            for b in aff.covered
        ],
    }


def print_radiation(console: Console, aff: Affiliation) -> None:
    """Status, group, portability dates (or none), and each beneficiary's end of cover."""
    departure = aff.departure
    console.print(f"Dossier {aff.affiliation_id} : {aff.status.label}, groupe {aff.group_code}.")
    if departure is not None:
        console.print(
            f"Fin des droits au titre de l'emploi : {departure.last_day:%d/%m/%Y} "
            f"(motif {departure.motive.value} - {departure.motive.label})."
        )
        portability = departure.portability
        if portability is None or portability.end is None:
            console.print("Portabilité : aucune (le motif n'ouvre pas droit au maintien des garanties).")
        else:
            console.print(
                f"Portabilité : du {portability.start:%d/%m/%Y} au {portability.end:%d/%m/%Y} inclus."
            )
    if aff.covered:
        table = Table(title="Bénéficiaires")
        for column in ("Bénéficiaire", "Qualité", "Fin de couverture"):
            table.add_column(column)
        for b in aff.covered:
            table.add_row(
                b.details.name.display, KIND_LABELS.get(b.details.kind.value, b.details.kind.value), _end(b)
            )
        console.print(table)
    else:
        console.print("Aucun bénéficiaire.")


@click.command("radiate")
@click.option("--as", "login", required=True, help="Identifiant du correspondant d'entreprise.")
@click.option("--affiliation", "affiliation_id", required=True, help="Identifiant du dossier.")
@click.option("--last-day", type=DATE, required=True, help="Dernier jour des droits (AAAA-MM-JJ).")
@click.option("--motive", required=True, help="Motif de fin de contrat DSN (ex. 031, 059, 066).")
@click.option(
    "--employment-start", type=DATE, required=True, help="Début du contrat de travail (AAAA-MM-JJ)."
)
@click.option("--json", "as_json", is_flag=True, help="Résultat JSON (pour les scripts).")
@DATABASE_OPTION
def radiate_command(
    login: str,
    affiliation_id: str,
    last_day: dt.datetime,
    motive: str,
    employment_start: dt.datetime,
    as_json: bool,
    database_url: str | None,
) -> None:
    """Radie un salarié (espace employeur) : portabilité selon le motif, fin des droits sinon."""
    with _app(database_url, as_json=as_json) as app:
        actor = correspondent_id(app, login)
        radiated = radiate_employee(
            app.services,
            actor,
            affiliation_id,
            last_day=last_day.date(),
            motive=motive,
            employment_start=employment_start.date(),
        )
    if as_json:
        click.echo(json.dumps(radiation_json(radiated), ensure_ascii=False, indent=2))
    else:
        print_radiation(_console(), radiated)


# --- beneficiaries ----------------------------------------------------------------------------------


@click.group("beneficiary")
def beneficiary() -> None:
    """Bénéficiaires d'un dossier (ajout, radiation) : espace adhérent, ou employeur avec --as."""


@beneficiary.command("add")
@click.option("--affiliation", "affiliation_id", required=True, help="Identifiant du dossier.")
@click.option("--as", "login", default=None, help="Correspondant d'entreprise (sinon : l'adhérent).")
@click.option("--kind", required=True, help="Qualité : spouse, child...")
@click.option("--civility", required=True, help="Civilité (M, MME).")
@click.option("--birth-name", required=True, help="Nom de naissance.")
@click.option("--first-names", required=True, help="Prénom(s).")
@click.option("--birth-date", required=True, help="Date de naissance (JJ/MM/AAAA).")
@click.option("--usage-name", default="", help="Nom d'usage.")
@click.option("--birth-city", default="", help="Commune de naissance.")
@click.option("--nir", default="", help="NIR (facultatif).")
@click.option("--birth-rank", type=int, default=None, help="Rang de naissance (jumeaux, triplés...).")
@click.option(
    "--start", type=DATE, default=None, help="Début de couverture (AAAA-MM-JJ). Défaut : aujourd'hui."
)
@click.option("--student", is_flag=True, help="Étudiant(e) ou apprenti(e).")
@click.option("--disabled", is_flag=True, help="En situation de handicap.")
@click.option(
    "--iban",
    default=None,
    help="IBAN de l'adhérent : signe le mandat SEPA avec l'ajout (exigé si le bénéficiaire est prélevé "
    "et que le dossier n'a pas de mandat).",
)
@click.option("--holder", default=None, help="Titulaire du compte (avec --iban).")
@click.option("--json", "as_json", is_flag=True, help="Résultat JSON (pour les scripts).")
@DATABASE_OPTION
def beneficiary_add(
    affiliation_id: str,
    login: str | None,
    kind: str,
    civility: str,
    birth_name: str,
    first_names: str,
    birth_date: str,
    usage_name: str,
    birth_city: str,
    nir: str,
    birth_rank: int | None,
    start: dt.datetime | None,
    student: bool,
    disabled: bool,
    iban: str | None,
    holder: str | None,
    as_json: bool,
    database_url: str | None,
) -> None:
    """Ajoute un bénéficiaire au dossier (à partir de la date de début), avec le mandat SEPA si --iban."""
    form = BeneficiaryForm(
        kind=kind,
        civility=civility,
        birth_name=birth_name,
        first_names=first_names,
        birth_date=birth_date,
        usage_name=usage_name,
        birth_city=birth_city,
        nir=nir,
        birth_rank=birth_rank,
    )
    with _app(database_url, as_json=as_json) as app:
        actor = None if login is None else correspondent_id(app, login)
        first_day = start.date() if start is not None else app.services.clock.today()
        account = None if iban is None else BankAccount.parse(iban, holder=holder)
        new = NewBeneficiary(
            form=form, start=first_day, student_or_apprentice=student, disabled=disabled, account=account
        )
        added = add_beneficiary(app.services, affiliation_id, new, actor_id=actor)
    if as_json:
        payload = {
            "beneficiary_id": added.beneficiary_id,
            "name": added.details.name.display,
            "kind": added.details.kind.value,
            "start": added.period.start.isoformat(),
        }
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        click.echo(
            f"Bénéficiaire {added.details.name.display} ajouté(e) (identifiant {added.beneficiary_id}), "
            f"couvert(e) à partir du {added.period.start:%d/%m/%Y}."
        )


@beneficiary.command("radiate")
@click.option("--affiliation", "affiliation_id", required=True, help="Identifiant du dossier.")
@click.option("--as", "login", default=None, help="Correspondant d'entreprise (sinon : l'adhérent).")
@click.option("--beneficiary", "beneficiary_id", required=True, help="Identifiant du bénéficiaire.")
@click.option("--motive", required=True, help="Motif (ex. divorce_or_separation, death, other_cover).")
@click.option("--last-day", type=DATE, required=True, help="Dernier jour de couverture (AAAA-MM-JJ).")
@click.option("--json", "as_json", is_flag=True, help="Résultat JSON (pour les scripts).")
@DATABASE_OPTION
def beneficiary_radiate(
    affiliation_id: str,
    login: str | None,
    beneficiary_id: str,
    motive: str,
    last_day: dt.datetime,
    as_json: bool,
    database_url: str | None,
) -> None:
    """Radie un bénéficiaire du dossier (fin de couverture le dernier jour indiqué)."""
    with _app(database_url, as_json=as_json) as app:
        actor = None if login is None else correspondent_id(app, login)
        radiated = radiate_beneficiary(
            app.services,
            affiliation_id,
            beneficiary_id,
            motive=motive,
            last_day=last_day.date(),
            actor_id=actor,
        )
    if as_json:
        payload = {
            "beneficiary_id": radiated.beneficiary_id,
            "name": radiated.details.name.display,
            "cover_end": None if radiated.period.end is None else radiated.period.end.isoformat(),
            "motive": motive,
        }
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        click.echo(
            f"Bénéficiaire {radiated.details.name.display} radié(e) : couverture jusqu'au {_end(radiated)} inclus."
        )


# --- jobs -------------------------------------------------------------------------------------------

JOB_LABELS = (
    ("Portabilités arrivées à leur terme", "portabilities_ended"),
    ("Relances de justificatif de portabilité", "proof_reminders"),
    ("Propositions loi Evin envoyées", "evin_offers"),
    ("Enfants radiés (limite d'âge)", "children_over_age"),
)


def print_departure_job_report(console: Console, report: DepartureJobReport, on: dt.date) -> None:
    """The counts of each departure job."""
    table = Table(title=f"Traitements des départs du {on:%d/%m/%Y}")
    table.add_column("Traitement")
    table.add_column("Dossiers", justify="right")
    for label, attribute in JOB_LABELS:
        table.add_row(label, str(getattr(report, attribute)))
    console.print(table)


@click.group("departures")
def departures() -> None:
    """Départs : traitements quotidiens (portabilité, relances, loi Evin, limites d'âge)."""


@departures.command("jobs")
@click.option(
    "--date",
    "on",
    type=DATE,
    default=None,
    help="Date de traitement (AAAA-MM-JJ). Défaut : aujourd'hui.",
)
@click.option("--json", "as_json", is_flag=True, help="Compteurs en JSON.")
@DATABASE_OPTION
def departures_jobs(on: dt.datetime | None, as_json: bool, database_url: str | None) -> None:
    """Lance les traitements des départs pour une date (idempotent pour une même date)."""
    with _app(database_url, as_json=as_json) as app:
        today = on.date() if on is not None else app.services.clock.today()
        report = run_departure_jobs(app.services, today)
    if as_json:
        payload: dict[str, object] = {"date": today.isoformat()}
        payload.update({attribute: getattr(report, attribute) for _, attribute in JOB_LABELS})
        click.echo(json.dumps(payload, indent=2))
    else:
        print_departure_job_report(_console(), report, today)
