"""``mutuelle demo``: the back office end to end on an embedded SQLite database.

It grows with each capability. Today it:

1. checks the sample identities file shipped with the package and prints the French report;
2. migrates a fresh SQLite database and sets up the seed's REDWATER contract from a TOML file;
3. creates the principal correspondent, who activates its account and creates a secondary
   correspondent on the contract (the activation e-mails go through the outbox);
4. prints the company sheet ("Fiche entreprise") as the secondary correspondent sees it;
5. relays the outbox to ``.eml`` files and lists them.

The clock is fixed at 4 May 2026, 10:30 in Paris, so that the output is the same on every run.
"""

from __future__ import annotations

import datetime as dt
import shutil
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.table import Table

from mutuelle_adapters.bootstrap import build_app
from mutuelle_adapters.cli.identities import check_identities_file
from mutuelle_adapters.cli.setup_file import load_setup_file
from mutuelle_adapters.memory.fakes import FixedClock, PredictableTokens
from mutuelle_adapters.sql.database import sqlite_url
from mutuelle_core.contracts import back_office, employer_space
from mutuelle_core.contracts.correspondent import ContractAccess
from mutuelle_core.masking import mask_email

__all__ = ["DEMO_NOW", "run_demo"]

DEMO_NOW = dt.datetime(2026, 5, 4, 8, 30, tzinfo=dt.UTC)


def _data(name: str) -> Path:
    return Path(str(resources.files("mutuelle_adapters.cli") / "demo_data" / name))


def run_demo(workdir: Path, console: Console) -> int:
    """Run the demo in ``workdir`` (recreated); returns the exit status (0: everything as expected)."""
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)

    console.rule("1. Vérification d'un fichier d'identités (mutuelle check-identities)")
    report = check_identities_file(_data("identities.csv"))
    report.print(console)

    console.rule("2. Base SQLite migrée et contrat REDWATER (mutuelle contract setup)")
    clock, tokens = FixedClock(DEMO_NOW), PredictableTokens("demo")
    app = build_app(
        database_url=sqlite_url(workdir / "mutuelle.db"),
        mail_dir=workdir / "mail",
        clock=clock,
        tokens=tokens,
        migrate=True,
    )
    svc = app.services
    employer_setup, contracts = load_setup_file(_data("redwater.toml"))
    back_office.set_up_employer(svc, employer_setup)
    for setup in contracts:
        created = back_office.set_up_contract(svc, setup)
        console.print(
            f"Contrat {created.number} : {', '.join(g.display for g in created.groups)} ; "
            f"{len(created.products)} produits"
        )

    console.rule("3. Correspondants d'entreprise")
    principal = back_office.create_principal_correspondent(
        svc,
        back_office.PrincipalSetup(
            employer_id=employer_setup.employer_id,
            login="redwater.rh",
            birth_name="Martin",
            first_names="Jeanne",
            email="jeanne.martin@redwater.example",
            contracts=("M1000304",),
        ),
    )
    employer_space.activate_correspondent(svc, tokens.issued[-1], "Redwater-2026-rh")
    secondary = employer_space.create_secondary_correspondent(
        svc,
        principal.correspondent_id,
        employer_space.NewCorrespondent(
            login="redwater.paie",
            birth_name="Durand",
            first_names="paul",
            email="paul.durand@redwater.example",
            contracts=(ContractAccess("M1000304"),),
        ),
    )
    clock.advance(hours=2)
    employer_space.activate_correspondent(svc, tokens.issued[-1], "Paie-redwater-2026")
    table = Table(title="Mes correspondants (vue du correspondant principal)")
    for column in ("Identifiant", "Nom", "Adresse e-mail", "Activé ?", "Contrats"):
        table.add_column(column)
    for view in employer_space.list_my_correspondents(svc, principal.correspondent_id):
        table.add_row(
            view.login, view.name, mask_email(view.email), view.status.label, ", ".join(view.contracts)
        )
    console.print(table)

    console.rule("4. Fiche entreprise")
    sheet = employer_space.company_sheet(svc, secondary.correspondent_id, "M1000304")
    console.print(f"Votre contrat {sheet.contract_number} - {sheet.employer_name}")
    console.print(f"SIRET {sheet.siret or 'Non renseigné'}   SIREN {sheet.siren or 'Non renseigné'}")
    console.print(f"Date d'effet à partir du {sheet.effective_date:%d/%m/%Y}")
    for group in sheet.groups:
        products = Table(title=f"Votre groupe {group.code} - {group.label}")
        for column in ("Produits", "Date de début d'effet", "Date de radiation"):
            products.add_column(column)
        for p in group.products:
            end = "-" if p.radiation_date is None else f"{p.radiation_date:%d/%m/%Y}"
            products.add_row(p.label, f"{p.start_date:%d/%m/%Y}", end)
        if group.products:
            console.print(products)

    console.rule("5. Envoi des messages (mutuelle mail relay)")
    relay = app.relay.run_once()
    console.print(f"Messages envoyés : {relay.sent} ; en échec : {relay.failed}")
    for eml in sorted((workdir / "mail").glob("*.eml")):
        console.print(f"  {eml.relative_to(workdir)}")
    console.print(f"\nBase de démonstration : {workdir / 'mutuelle.db'}")
    expected_rejections = 3
    return 0 if report.rejected == expected_rejections and relay.sent == 2 else 1
