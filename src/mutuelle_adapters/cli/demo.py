"""``mutuelle demo``: the back office end to end on an embedded SQLite database.

It grows with each capability. Today it:

1. checks the sample identities file shipped with the package and prints the French report;
2. migrates a fresh SQLite database and sets up the seed's REDWATER contract from a TOML file;
3. creates the principal correspondent, who activates its account and creates a secondary
   correspondent on the contract (the activation e-mails go through the outbox);
4. prints the company sheet ("Fiche entreprise") as the secondary correspondent sees it;
5. sets up a PSC contract like seed 002 (MENJ2026: effective 1 May 2026, base, option 1 and option 2,
   the seed's price grid, automatic enrolment after 21 days) and its principal correspondent;
6. invites the employees of a Windows-1252 CSV file and prints the per-line report of the bad lines
   (a second import of the same file invites nobody);
7. Benoît completes the whole journey with his spouse and their twins, logging out and coming back
   after each step, signs, and control accepts the file;
8. Anaïs asks for a dispense with her attestation sur l'honneur, which management accepts;
9. the employer forces Françoise's affiliation to the base cover;
10. Gaël does nothing: 21 days later the jobs enrol him in the base cover (a second run does nothing);
11. prints the employer's follow-up table and exports it as a CSV file for French Excel;
12. relays the outbox to ``.eml`` files and lists them.

The exit status is 0 only when every step gave the expected outcome (the last table lists them).

The clock is fixed at 4 May 2026, 10:30 in Paris, so that the output is the same on every run.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Callable
from decimal import Decimal
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.table import Table

from mutuelle_adapters.bootstrap import App, build_app
from mutuelle_adapters.cli.affiliation import print_follow_up, print_invite_report, print_job_report
from mutuelle_adapters.cli.identities import check_identities_file
from mutuelle_adapters.cli.setup_file import load_setup_file
from mutuelle_adapters.files.csv_io import read_csv_bytes, write_csv_bytes
from mutuelle_adapters.memory.fakes import FixedClock, PredictableTokens
from mutuelle_adapters.sql.database import sqlite_url
from mutuelle_core.affiliation import management as mg
from mutuelle_core.affiliation import member_journey as mj
from mutuelle_core.affiliation.follow_up import follow_up, follow_up_rows, force_base_affiliation
from mutuelle_core.affiliation.invitations import invite_rows
from mutuelle_core.affiliation.jobs import JobReport, run_affiliation_jobs
from mutuelle_core.affiliation.journey import (
    BankForm,
    BeneficiaryForm,
    ChildForm,
    ContactForm,
    HouseholdForm,
    JourneyStep,
    PersonalForm,
)
from mutuelle_core.affiliation.transitions import AffiliationStatus
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

    checks: list[tuple[str, bool]] = [
        ("Rapport du fichier d'identités : 3 lignes refusées", report.rejected == 3)
    ]
    checks += _affiliation_demo(app, clock, tokens, workdir, console)

    console.rule("12. Envoi des messages (mutuelle mail relay)")
    sent = failed = 0
    while True:  # one pass sends at most a batch: relay until the outbox is empty
        relay = app.relay.run_once()
        sent, failed = sent + relay.sent, failed + relay.failed
        if not relay.attempted:
            break
    console.print(f"Messages envoyés : {sent} ; en échec : {failed}")
    emls = sorted((workdir / "mail").glob("*.eml"))
    for eml in emls:
        console.print(f"  {eml.relative_to(workdir)}")
    checks.append(
        (f"Messages relayés en fichiers .eml : {EXPECTED_MESSAGES}", sent == len(emls) == EXPECTED_MESSAGES)
    )
    console.print(f"\nBase de démonstration : {workdir / 'mutuelle.db'}")
    if app.engine is not None:
        app.engine.dispose()
    return _print_checks(console, checks)


# --- the affiliation of a PSC contract (seed 002) ------------------------------------------------------

PSC_CONTRACT = "MENJ2026"
PSC_LOGIN = "menj.rh"
EXPECTED_MESSAGES = 16
"""2 activations (REDWATER) + 1 activation (MENJ) + 4 invitations + 3 for Benoît (confirmation, employer,
welcome) + 4 for Anaïs (request and decision, to her and to the dispense address) + 2 base enrolments."""

EXPECTED_REJECTIONS = {
    1: {"invitation.header_line"},
    6: {"civility.invalid"},
    7: {"field.required"},
    8: {"email.invalid"},
    9: {"name.invalid_character"},
    10: {"invitation.wrong_column_count"},
    11: {"invitation.empty_line"},
    12: {"invitation.duplicate_in_file"},
}
"""The bad lines of ``demo_data/invitations.csv`` and their codes."""

BENOIT, ANAIS, GAEL, FRANCOISE = (
    "benoit.dupond@example.fr",
    "anais.lefevre@example.fr",
    "gael.muller@example.fr",
    "francoise.loeuillet@example.fr",
)

HOUSEHOLD = HouseholdForm(
    spouse=True,
    spouse_birth_date="09/10/1972",
    children=(ChildForm(birth_date="12/05/2013"), ChildForm(birth_date="12/05/2013")),
)
PERSONAL = PersonalForm(
    civility="M",
    birth_name="Dupond",
    first_names="Benoît",
    birth_date="03/05/1985",
    nir="1 85 05 75 123 456 73",
    birth_city="Paris",
    teletransmission=True,
)
BENEFICIARIES = (
    BeneficiaryForm(
        kind="spouse",
        civility="MME",
        birth_name="Duzu",
        usage_name="Dupond",
        first_names="Claudia",
        birth_date="09/10/1972",
        birth_city="Paris",
        nir="2 72 10 75 525 456 29",
    ),
    BeneficiaryForm(
        kind="child",
        civility="MME",
        birth_name="Dupond",
        first_names="Isalyne",
        birth_date="12/05/2013",
        birth_city="Nancy",
        birth_rank=1,
    ),
    BeneficiaryForm(
        kind="child",
        civility="M",
        birth_name="Dupond",
        first_names="Nathaniel",
        birth_date="12/05/2013",
        birth_city="Nancy",
        birth_rank=2,
    ),
)
CONTACT = ContactForm(
    address_lines=("213 rue de Gerland",),
    postal_code="69007",
    city="Lyon",
    email=BENOIT,
    mobile="06 12 34 56 78",
)
BANK = BankForm(iban="FR76 3000 6000 0112 3456 7890 189", holder="Benoît Dupond")


def _link_token(app: App, email: str) -> str:
    """The token of the link e-mailed to ``email`` (as the employee clicks it)."""
    with app.services.uow() as uow:
        for entry in uow.outbox.pending(app.services.clock.now(), 1000):
            found = re.search(r"jeton=([0-9a-f]+)", entry.body_text)
            if entry.recipient == email and entry.template == "affiliation_invitation" and found:
                return found.group(1)
    raise LookupError(f"no invitation for {mask_email(email)}")


def _journey(app: App, aff_id: str, clock: FixedClock, console: Console) -> mj.JourneyView:
    """Benoît's journey: each step saved, then he logs out and comes back where he left off."""
    svc = app.services
    steps: list[tuple[JourneyStep, Callable[[], mj.JourneyView]]] = [
        (JourneyStep.REGIME, lambda: mj.save_regime(svc, aff_id, "general")),
        (JourneyStep.HOUSEHOLD, lambda: mj.save_household(svc, aff_id, HOUSEHOLD)),
        (JourneyStep.FORMULA, lambda: mj.save_formula(svc, aff_id, 1)),
        (JourneyStep.PERSONAL, lambda: mj.save_personal(svc, aff_id, PERSONAL)),
        (JourneyStep.BENEFICIARIES, lambda: mj.save_beneficiaries(svc, aff_id, BENEFICIARIES)),
        (JourneyStep.CONTACT, lambda: mj.save_contact(svc, aff_id, CONTACT)),
        (JourneyStep.BANK, lambda: mj.save_bank(svc, aff_id, BANK)),
    ]
    table = Table(title="Parcours de Benoît Dupond (conjointe et jumeaux, rangs de naissance 1 et 2)")
    for column in ("Étape enregistrée", "Reprise après déconnexion", "Montant mensuel"):
        table.add_column(column)
    for step, save in steps:
        save()
        clock.advance(hours=1)  # he logs out... and comes back an hour later
        view = mj.journey_view(svc, aff_id)
        amount = "-" if view.monthly_amount is None else view.monthly_amount.format()
        table.add_row(step.label, view.next_step.label, amount)
    console.print(table)
    return mj.sign_and_submit(svc, aff_id)


def _affiliation_demo(
    app: App, clock: FixedClock, tokens: PredictableTokens, workdir: Path, console: Console
) -> list[tuple[str, bool]]:
    """Steps 5 to 11: PSC contract, invitations from a file, four journeys, jobs, follow-up."""
    svc = app.services
    checks: list[tuple[str, bool]] = []

    console.rule("5. Contrat PSC MENJ2026 (seed 002) et son correspondant")
    employer_setup, contracts = load_setup_file(_data("menj.toml"))
    back_office.set_up_employer(svc, employer_setup)
    for setup in contracts:
        created = back_office.set_up_contract(svc, setup)
        console.print(
            f"Contrat {created.number} ({employer_setup.name}) : date d'effet {created.effective_date:%d/%m/%Y} ; "
            + ", ".join(p.label for p in created.products)
        )
    grid = Table(title="Grille tarifaire mensuelle (part de l'agent)")
    for column in ("Formule", "Agent", "Conjoint", "Par enfant"):
        grid.add_column(column, justify="right")
    prices = {(p.level, p.category.value): p.monthly for p in created.settings.price_grid}
    for level, label in enumerate(("Base", "Base + option 1", "Base + option 2")):
        grid.add_row(label, *(f"{prices[level, c]} €" for c in ("insured", "spouse", "child")))
    console.print(grid)
    actor = back_office.create_principal_correspondent(
        svc,
        back_office.PrincipalSetup(
            employer_id=employer_setup.employer_id,
            login=PSC_LOGIN,
            birth_name="Bernard",
            first_names="Sophie",
            email="sophie.bernard@menj.example",
            contracts=(PSC_CONTRACT,),
        ),
    ).correspondent_id
    employer_space.activate_correspondent(svc, tokens.issued[-1], "Menj-2026-gestion")
    console.print(f"Correspondant principal {PSC_LOGIN} activé.")

    console.rule("6. Invitations depuis un fichier CSV Windows-1252 (mutuelle invite)")
    table = read_csv_bytes(_data("invitations.csv").read_bytes())
    console.print(f"Fichier invitations.csv : encodage {table.encoding}, séparateur « {table.delimiter} »")
    bulk = invite_rows(svc, actor, PSC_CONTRACT, "A1", ((r.line, r.fields) for r in table.rows))
    print_invite_report(console, bulk, title="Lignes refusées")
    rejected = {r.line: {e.code for e in r.errors} for r in bulk.rejected}
    checks.append(
        (
            "Import : 4 salariés invités, 8 lignes refusées avec le bon code",
            len(bulk.invited) == 4 and rejected == EXPECTED_REJECTIONS,
        )
    )
    again = invite_rows(svc, actor, PSC_CONTRACT, "A1", ((r.line, r.fields) for r in table.rows))
    console.print(f"Second import du même fichier : {len(again.invited)} salarié(s) invité(s).")
    checks.append(("Second import du même fichier : personne n'est invité deux fois", again.invited == ()))
    ids = {x.email: x.affiliation_id for x in follow_up(svc, actor, PSC_CONTRACT)}

    console.rule("7. Benoît Dupond : parcours complet, signature, contrôle accepté")
    view = mj.open_link(svc, _link_token(app, BENOIT))
    console.print(f"Lien ouvert : dossier {view.status.label.lower()}, étape « {view.next_step.label} ».")
    done = _journey(app, ids[BENOIT], clock, console)
    amount = done.monthly_amount.format() if done.monthly_amount else "-"
    console.print(
        f"Signé : {done.product_label}, date d'effet {done.effective_date:%d/%m/%Y}, {amount} par mois "
        f"({done.status.label})."
    )
    accepted = mg.accept_affiliation(svc, ids[BENOIT])
    console.print(f"Contrôle : accepté, n° d'adhésion {accepted.adhesion_number} ({accepted.status.label}).")
    with svc.uow() as uow:
        kinds = sorted(d.kind for d in uow.documents.list_for_owner(ids[BENOIT]))
    console.print(f"Documents signés conservés : {', '.join(kinds)}")
    checks.append(
        (
            "Benoît : affilié en option 1 à 46,00 € par mois, BIA, mandat SEPA et notice signés",
            accepted.status is AffiliationStatus.AFFILIATED
            and done.monthly_amount is not None
            and done.monthly_amount.amount == Decimal("46.00")
            and accepted.signature is not None
            and {"bia", "sepa_mandate", "notice"} <= set(kinds),
        )
    )

    console.rule("8. Anaïs Lefèvre : demande de dispense acceptée par la gestion")
    mj.open_link(svc, _link_token(app, ANAIS))
    asked = mj.request_dispense(
        svc,
        ids[ANAIS],
        motive="psc_individual_contract",
        attestation=b"%PDF-1.4\n% attestation sur l'honneur (contrat individuel jusqu'au 31/12/2026)\n",
        end_date=dt.date(2026, 12, 31),
    )
    console.print(f"Demande : {asked.status.label} (attestation sur l'honneur jointe, fin le 31/12/2026).")
    decided = mg.decide_dispense(svc, ids[ANAIS], accept=True)
    console.print(f"Décision de la gestion : {decided.status.label}.")
    checks.append(("Anaïs : dispensée", decided.status is AffiliationStatus.DISPENSED))

    console.rule("9. Françoise Lœuillet : affiliation forcée à la base par l'employeur")
    forced = force_base_affiliation(svc, actor, ids[FRANCOISE])
    console.print(f"{forced.status.label}, n° d'adhésion {forced.adhesion_number}.")
    checks.append(
        ("Françoise : affiliée à la base par l'employeur", forced.status is AffiliationStatus.AFFILIATED)
    )

    console.rule("10. Gaël Müller ne fait rien : affiliation automatique à la base après 21 jours")
    clock.advance(days=21)
    jobs = run_affiliation_jobs(svc, clock.today())
    print_job_report(console, jobs, clock.today())
    rerun = run_affiliation_jobs(svc, clock.today())
    console.print(f"Même traitement relancé le même jour : {rerun.auto_enrolled} affiliation(s) de plus.")
    with svc.uow() as uow:
        gael = uow.affiliations.get(ids[GAEL])
    checks.append(
        (
            "Gaël : affilié automatiquement à la base après 21 jours (une seule fois)",
            jobs.auto_enrolled == 1 and rerun == JobReport() and gael.status is AffiliationStatus.AFFILIATED,
        )
    )

    console.rule("11. Suivi des affiliations (mutuelle follow-up) et export pour Excel")
    lines = follow_up(svc, actor, PSC_CONTRACT)
    print_follow_up(console, lines, title=f"Suivi des affiliations - contrat {PSC_CONTRACT}")
    export = workdir / f"suivi-{PSC_CONTRACT}.csv"
    export.write_bytes(write_csv_bytes(follow_up_rows(lines)))
    console.print(f"Export CSV (UTF-8 avec BOM, « ; ») : {export}")
    statuses = sorted(x.status.value for x in lines)
    checks.append(("Suivi : 3 affiliés et 1 dispensé", statuses == ["affiliated"] * 3 + ["dispensed"]))
    return checks


def _print_checks(console: Console, checks: list[tuple[str, bool]]) -> int:
    table = Table(title="Vérifications de la démonstration")
    table.add_column("Attendu")
    table.add_column("Résultat")
    for label, ok in checks:
        table.add_row(label, "OK" if ok else "ÉCHEC")
    console.print(table)
    return 0 if all(ok for _, ok in checks) else 1
