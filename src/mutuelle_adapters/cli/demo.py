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
12. Benoît's fixed-term contract ends (motive 031): he and his beneficiaries move to the P group with
    the same portability dates;
13. Françoise declares a child from the member space: the child's cotisation is debited from her account
    and she has no mandate (forced to the base), so the request is refused until she gives her IBAN and
    signs the SEPA mandate with it; then she dies (motive 066): her child's father asks for maintien, 12
    months from the death, and signs a new mandate to pay it (hers is revoked: a deceased debtor's account
    is not debited);
14. on REDWATER's provident contract, a member signs a particular designation 50/30/20 after a second
    authentication by e-mailed code, and a 100 000 € death capital is allocated to the cent;
15. runs June 2026's billing cycle for MENJ2026 with seed 002's grid, as ``mutuelle bill`` does: bills,
    issues the employer's cotisation call, collects the members' share in a pain.008 file validated
    against the XSD (the 14-day pre-notification sets its date; run twice, it adds nothing; Françoise's child is in it, under the affiliation's active mandate: her child's
    father's, since the demo declares her death before June is billed), runs the dunning job 10 days after
    the due date (a mise en demeure to the employer only, shown as the employer space's pré-contentieux
    status) and imports the employer's transfer, which settles it;
16. relays the outbox to ``.eml`` files and lists them.

The exit status is 0 only when every step gave the expected outcome (the last table lists them).

The clock is fixed at 4 May 2026, 10:30 in Paris, so that the output is the same on every run.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable
from decimal import Decimal
from importlib import resources
from pathlib import Path

import attrs
from rich.console import Console
from rich.table import Table

from mutuelle_adapters.bootstrap import App, build_app
from mutuelle_adapters.cli.affiliation import print_follow_up, print_invite_report, print_job_report
from mutuelle_adapters.cli.identities import check_identities_file
from mutuelle_adapters.cli.payments import DEFAULT_CREDITOR_ACCOUNT
from mutuelle_adapters.cli.setup_file import load_setup_file
from mutuelle_adapters.files.csv_io import read_csv_bytes, write_csv_bytes
from mutuelle_adapters.files.payment_file import read_payment_file
from mutuelle_adapters.files.sepa import NAMESPACE, SepaDirectDebitFiles
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
from mutuelle_core.cotisations.account_records import PayerKey
from mutuelle_core.cotisations.accounts import import_payments, payer_statement
from mutuelle_core.cotisations.billing import set_tariff
from mutuelle_core.cotisations.cycle import run_billing_cycle
from mutuelle_core.cotisations.dunning import DunningStatus
from mutuelle_core.cotisations.dunning_run import run_dunning
from mutuelle_core.cotisations.records import ContractTariff
from mutuelle_core.cotisations.rules import CotisationRules, Payer
from mutuelle_core.cotisations.seed002 import seed_002_grid
from mutuelle_core.departures.use_cases import MaintienPayer, radiate_employee, request_maintien
from mutuelle_core.designation import Child, DesignationStatus, FamilyAtDeath, ParticularClause, Spouse
from mutuelle_core.designation import use_cases as uc
from mutuelle_core.errors import DomainError
from mutuelle_core.families.use_cases import NewBeneficiary, add_beneficiary
from mutuelle_core.masking import mask_email
from mutuelle_core.strong_auth import SIGN_DESIGNATION
from mutuelle_core.values.bank import BankAccount
from mutuelle_core.values.dates import DateRange, Month
from mutuelle_core.values.money import Money

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
            contracts=("M1000304", PROVIDENT_CONTRACT),
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
    checks += _designation_demo(app, principal.correspondent_id, console)
    checks += _billing_demo(app, clock, workdir, console)

    console.rule("16. Envoi des messages (mutuelle mail relay)")
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
EXPECTED_MESSAGES = 22
"""2 activations (REDWATER) + 1 activation (MENJ) + 4 invitations + 3 for Benoît (confirmation, employer,
welcome) + 4 for Anaïs (request and decision, to her and to the dispense address) + 2 base enrolments
+ Benoît's radiation notice with his portability dates + the maintien offer after Françoise's death
+ 3 on the provident contract (welcome, one-time code, designation signed) + 1 mise en demeure, to the
employer (Françoise's child is collected by SEPA, under the affiliation's mandate)."""
PROVIDENT_CONTRACT = "P1000304"

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
CDD_START, CDD_LAST_DAY = dt.date(2026, 2, 2), dt.date(2026, 6, 30)
"""Benoît's fixed-term contract: 4 months and 29 days, hence 5 months of portability."""
DEATH_DAY = dt.date(2026, 7, 14)
FRANCOISE_ACCOUNT = BankAccount.parse("FR14 2004 1010 0505 0001 3M02 606", holder="Françoise Lœuillet")
"""The account Françoise gives when she adds her child (her base is paid through payroll, the child is not)."""
GUARDIAN = "Marc Lœuillet"
"""Françoise's child's father, who pays the child's maintien after her death."""
FRANCOISE_CHILD = BeneficiaryForm(
    kind="child",
    civility="M",
    birth_name="Lœuillet",
    first_names="Hugo",
    birth_date="14/03/2016",
    birth_city="Lille",
)


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
    checks += _departures_demo(app, actor, ids, console)
    return checks


def _departures_demo(
    app: App, actor: str, ids: dict[str | None, str], console: Console
) -> list[tuple[str, bool]]:
    """Steps 12 and 13: end of a fixed-term contract with portability, death and maintien."""
    svc = app.services
    checks: list[tuple[str, bool]] = []

    console.rule("12. Départs : fin du CDD de Benoît Dupond (mutuelle radiate)")
    radiated = radiate_employee(
        svc, actor, ids[BENOIT], last_day=CDD_LAST_DAY, motive="031", employment_start=CDD_START
    )
    departure = radiated.departure
    portability = None if departure is None else departure.portability
    console.print(
        f"Fin de CDD (motif 031), contrat du {CDD_START:%d/%m/%Y} au {CDD_LAST_DAY:%d/%m/%Y} : "
        f"{radiated.status.label}, "
        f"groupe {radiated.group_code}."
    )
    if portability is not None and portability.end is not None:
        console.print(
            f"Portabilité des garanties du {portability.start:%d/%m/%Y} au {portability.end:%d/%m/%Y} inclus."
        )
    for b in radiated.covered:
        end = "-" if b.period.end is None else f"{b.period.end:%d/%m/%Y}"
        console.print(
            f"  {b.details.name.display} : couvert(e) jusqu'au {end} (groupe {radiated.group_code})"
        )
    checks.append(
        (
            "Benoît : portabilité du 01/07/2026 au 30/11/2026, ses 3 ayants droit en groupe P1 aux mêmes dates",
            radiated.status is AffiliationStatus.PORTABILITY
            and radiated.group_code == "P1"
            and portability == DateRange(dt.date(2026, 7, 1), dt.date(2026, 11, 30))
            and len(radiated.covered) == 3
            and all(b.period.end == dt.date(2026, 11, 30) for b in radiated.covered),
        )
    )

    console.rule("13. Décès et maintien : Françoise Lœuillet et son enfant")
    new_child = NewBeneficiary(form=FRANCOISE_CHILD, start=svc.clock.today())
    try:  # member space: the child is debited from her account, and she has no mandate
        add_beneficiary(svc, ids[FRANCOISE], new_child)
        refused = None
    except DomainError as error:
        refused = error
        console.print(f"Espace adhérent, sans RIB : refusé ({error.code}) : {error.message()}")
    child = add_beneficiary(svc, ids[FRANCOISE], attrs.evolve(new_child, account=FRANCOISE_ACCOUNT))
    with svc.uow() as uow:
        signed = uow.mandates.active_for([ids[FRANCOISE]]).get(ids[FRANCOISE])
        covered = uow.affiliations.get(ids[FRANCOISE]).covered
    console.print(
        f"Avec son RIB ({FRANCOISE_ACCOUNT.masked}) et le mandat SEPA signé"
        f"{'' if signed is None else f' (RUM {signed.mandate.rum})'} : {child.details.name.display} "
        f"ajouté(e), couvert(e) à partir du {child.period.start:%d/%m/%Y}."
    )
    checks.append(
        (
            "Françoise : l'enfant prélevé sur son compte n'est ajouté qu'avec son RIB et le mandat SEPA signé",
            refused is not None
            and refused.code == "beneficiary.mandate_required"
            and signed is not None
            and signed.mandate.account.iban == FRANCOISE_ACCOUNT.iban
            and [b.beneficiary_id for b in covered] == [child.beneficiary_id],
        )
    )
    dead = radiate_employee(
        svc, actor, ids[FRANCOISE], last_day=DEATH_DAY, motive="066", employment_start=dt.date(2012, 9, 1)
    )
    console.print(f"Décès le {DEATH_DAY:%d/%m/%Y} déclaré par l'employeur (motif 066) : {dead.status.label}.")
    asked_on = dt.date(2026, 9, 1)
    # the child's maintien is debited: not from the deceased's account, from the father's (new mandate)
    guardian = MaintienPayer(
        name=GUARDIAN, account=BankAccount.parse("FR76 3000 4000 0312 3456 7890 143", holder=GUARDIAN)
    )
    kept = request_maintien(svc, ids[FRANCOISE], requested_on=asked_on, payer=guardian)
    continuation = kept.continuation
    period = None if continuation is None else continuation.period
    if period is not None and period.end is not None:
        console.print(
            f"Demande de maintien le {asked_on:%d/%m/%Y} (moins de 6 mois après le décès) : {kept.status.label}, "
            f"groupe {kept.group_code}, du {period.start:%d/%m/%Y} au {period.end:%d/%m/%Y} inclus."
        )
    for b in kept.covered:
        end = "-" if b.period.end is None else f"{b.period.end:%d/%m/%Y}"
        console.print(f"  {b.details.name.display} : couvert(e) jusqu'au {end}")
    with svc.uow() as uow:
        payer_mandate = uow.mandates.active_for([ids[FRANCOISE]]).get(ids[FRANCOISE])
    console.print(
        f"Le maintien est prélevé sur le compte de {GUARDIAN}, qui signe un nouveau mandat "
        f"({'-' if payer_mandate is None else payer_mandate.mandate.rum}) ; celui de Françoise est révoqué."
    )
    checks.append(
        (
            "Françoise : maintien de son enfant 12 mois après le décès (15/07/2026 au 14/07/2027, groupe M1), "
            "prélevé sous le mandat du père, non plus sur le compte de la défunte",
            kept.status is AffiliationStatus.MAINTIEN
            and kept.group_code == "M1"
            and period == DateRange(dt.date(2026, 7, 15), dt.date(2027, 7, 14))
            and [b.beneficiary_id for b in kept.covered] == [child.beneficiary_id]
            and payer_mandate is not None
            and payer_mandate.mandate.debtor_name == GUARDIAN,
        )
    )
    return checks


def _designation_demo(app: App, actor: str, console: Console) -> list[tuple[str, bool]]:
    """Step 14: a particular designation signed after a second authentication, a capital allocated."""
    svc = app.services
    console.rule("14. Désignation de bénéficiaires (prévoyance) et capital décès")
    form = mg.CompleteAffiliationForm(
        regime="general",
        household=HOUSEHOLD,
        level=0,
        personal=PERSONAL,
        beneficiaries=BENEFICIARIES,
        contact=CONTACT,
        bank=BANK,
    )
    aff = mg.accept_affiliation(
        svc, mg.complete_affiliation(svc, actor, PROVIDENT_CONTRACT, "A3", form).affiliation_id
    )
    aff_id = aff.affiliation_id
    console.print(
        f"Affiliation complète par l'employeur au contrat {PROVIDENT_CONTRACT} : {aff.status.label}, "
        f"n° d'adhésion {aff.adhesion_number}."
    )
    covered = {b.details.name.first_names: b for b in aff.covered}
    claudia = covered["Claudia"]
    draft = uc.enter_particular_designation(
        svc,
        aff_id,
        uc.ParticularDesignationForm(
            beneficiaries=(
                _entry("Isalyne", "50"),
                _entry("Nathaniel", "30"),
                _entry(
                    "Claudia",
                    "20",
                    birth_name="Duzu",
                    usage_name="Dupond",
                    birth_date="09/10/1972",
                    relationship="spouse",
                    person_id=claudia.beneficiary_id,
                ),
            ),
            lapse_rule="standard_clause",
        ),
    )
    console.print("Clause particulière saisie : Isalyne 50 %, Nathaniel 30 %, Claudia 20 % (brouillon).")
    auth = app.strong_auth
    assert auth is not None
    challenge = uc.request_strong_authentication(svc, auth, aff_id, SIGN_DESIGNATION)
    code = _one_time_code(app, BENOIT)
    console.print(f"Code à usage unique envoyé par e-mail à {mask_email(BENOIT)} et saisi par l'adhérent.")
    signed = uc.sign_designation(svc, aff_id, draft.designation_id, auth.confirm(challenge, code))
    in_force = signed.in_force_at
    console.print(
        f"Désignation signée : {signed.status.label}"
        + ("" if in_force is None else f", en vigueur depuis le {in_force:%d/%m/%Y à %H:%M}")
        + "."
    )
    clause = signed.clause
    assert isinstance(clause, ParticularClause)
    isalyne, nathaniel, spouse = (b.person_id for b in clause.ranks[0].beneficiaries)
    family = FamilyAtDeath(
        spouse=Spouse(spouse, claudia.details.name),
        children=(
            Child(isalyne, covered["Isalyne"].details.name),
            Child(nathaniel, covered["Nathaniel"].details.name),
        ),
        predeceased={nathaniel},
    )
    capital = Money.of("100000")
    death = svc.clock.now() + dt.timedelta(days=100)
    result = uc.allocate_death_capital(svc, aff_id, capital, family, death_at=death)
    table = Table(title=f"Capital décès de {capital.format()} (Nathaniel décédé avant l'assuré)")
    for column in ("Bénéficiaire", "Montant", "Règle", "Explication"):
        table.add_column(column)
    for line in result.lines:
        name = "Succession de l'assuré" if line.name is None else line.name.display
        table.add_row(name, line.amount.format(), line.rule, line.explain())
    console.print(table)
    total = Money.total(line.amount for line in result.lines)
    console.print(f"Total réparti : {total.format()}")
    return [
        (
            "Désignation 50/30/20 signée après code par e-mail et en vigueur",
            signed.status is DesignationStatus.IN_FORCE and signed.signature is not None,
        ),
        (
            "Capital de 100 000,00 € réparti au centime près (Nathaniel prédécédé)",
            total == capital and result.clause_kind == "particular" and total.format() == capital.format(),
        ),
    ]


def _entry(
    first: str,
    share: str,
    *,
    birth_name: str = "Dupond",
    usage_name: str = "",
    birth_date: str = "12/05/2013",
    relationship: str = "child",
    person_id: str = "",
) -> uc.BeneficiaryEntry:
    """One line of the particular designation (the twins by default)."""
    return uc.BeneficiaryEntry(
        birth_name=birth_name,
        usage_name=usage_name,
        first_names=first,
        birth_date=birth_date,
        relationship=relationship,
        share=share,
        person_id=person_id,
    )


def _one_time_code(app: App, email: str) -> str:
    """The one-time code e-mailed to ``email`` (as the member reads it in the message)."""
    with app.services.uow() as uow:
        for entry in reversed(uow.outbox.pending(app.services.clock.now(), 1000)):
            found = re.search(r"^\s+(\d{6})$", entry.body_text, re.MULTILINE)
            if entry.recipient == email and entry.template == "strong_auth_code" and found:
                return found.group(1)
    raise LookupError(f"no code for {mask_email(email)}")


def _print_checks(console: Console, checks: list[tuple[str, bool]]) -> int:
    table = Table(title="Vérifications de la démonstration")
    table.add_column("Attendu")
    table.add_column("Résultat")
    for label, ok in checks:
        table.add_row(label, "OK" if ok else "ÉCHEC")
    console.print(table)
    return 0 if all(ok for _, ok in checks) else 1


# --- cotisations: billing, SEPA collection, payments and dunning (seed 002, seed 000) ------------------

BILLED_MONTH = Month(2026, 6)


def _sepa_transactions(content: bytes) -> list[tuple[str, str, str]]:
    """``(amount, IBAN, RUM)`` of each direct debit of a pain.008 file, read back from the XML."""
    ns = {"p": NAMESPACE}
    root = ET.fromstring(content)  # noqa: S314 (the file this demo has just written)
    return [
        (
            tx.findtext("p:InstdAmt", namespaces=ns) or "",
            tx.findtext("p:DbtrAcct/p:Id/p:IBAN", namespaces=ns) or "",
            tx.findtext("p:DrctDbtTx/p:MndtRltdInf/p:MndtId", namespaces=ns) or "",
        )
        for tx in root.iter(f"{{{NAMESPACE}}}DrctDbtTxInf")
    ]


def _billing_demo(app: App, clock: FixedClock, workdir: Path, console: Console) -> list[tuple[str, bool]]:
    """Step 15: bill June for MENJ2026, collect the members by SEPA, chase the unpaid employer."""
    svc = app.services
    checks: list[tuple[str, bool]] = []
    console.rule(
        f"15. Cotisations de {BILLED_MONTH} (mutuelle bill : facturation, appels, prélèvements ; dunning run)"
    )
    grid = seed_002_grid(PSC_CONTRACT)  # the seed's formula table, agent base 58.51 € (illustrative)
    set_tariff(svc, ContractTariff(grid, CotisationRules.psc(evin_reference_group="A1")))
    files = SepaDirectDebitFiles(
        workdir / "sepa", creditor=svc.insurer, creditor_account=BankAccount.parse(DEFAULT_CREDITOR_ACCOUNT)
    )
    # what `mutuelle bill --month` runs: the billing run, the cotisation calls, the SEPA files
    cycle = run_billing_cycle(svc, BILLED_MONTH, files, pages=app.billing_pages)
    report = cycle.billing
    console.print(
        f"Facturation de {BILLED_MONTH} le {clock.today():%d/%m/%Y} : {report.billed} adhésion(s) facturée(s), "
        f"{report.lines} ligne(s), {report.amount_cents / 100:.2f} € ; non facturées (contrat sans tarif) : "
        f"{report.unbilled}."
    )
    for call in cycle.calls:
        console.print(
            f"Appel de cotisation {call.contract_number} : {call.amount.format()} ({call.document.filename})"
        )
    again = run_billing_cycle(svc, BILLED_MONTH, files, pages=app.billing_pages)
    checks.append(
        (
            "Facturer deux fois le même mois n'ajoute rien (ni ligne, ni appel, ni prélèvement)",
            again.billing.lines == 0 and again.billing.billed == 0 and again.debits == 0,
        )
    )
    with svc.uow() as uow:
        member_rows = [
            r
            for a in uow.affiliations.list_for_contract(PSC_CONTRACT)
            for r in uow.cotisations.schedule_for(a.affiliation_id, str(BILLED_MONTH))
            if r["payer"] == "member"
        ]
        mandates = uow.mandates.active_for([r["affiliation_id"] for r in member_rows])
    due = member_rows[0]["due_date"] if member_rows else dt.date(2026, 6, 5)
    dates = ", ".join(f"{c.collection_date:%d/%m/%Y}" for c in cycle.collections)
    console.print(
        f"Échéance du {due:%d/%m/%Y} ; pré-notification de 14 jours à compter de la facturation : "
        f"prélèvement le {dates}."
    )
    console.print(
        f"Fichier SEPA pain.008 (validé par le schéma XSD) : {', '.join(cycle.published)} — "
        f"{cycle.debits} prélèvement(s), {cycle.amount.format()}"
    )
    read_back = [tx for where in cycle.published for tx in _sepa_transactions(Path(where).read_bytes())]
    expected = sorted(
        (
            f"{r['amount_cents'] / 100:.2f}",
            mandates[r["affiliation_id"]].mandate.account.iban,
            str(mandates[r["affiliation_id"]].mandate.rum),
        )
        for r in member_rows
        if r["affiliation_id"] in mandates
    )
    checks.append(
        (
            "Fichier SEPA : montants, IBAN et RUM relus égaux à ce qui a été facturé",
            bool(expected) and sorted(read_back) == expected,
        )
    )

    clock.set(dt.datetime.combine(due + dt.timedelta(days=10), dt.time(8), tzinfo=dt.UTC))
    dunning = run_dunning(svc, clock.today())
    employer = PayerKey(Payer.EMPLOYER, PSC_CONTRACT)
    statement = payer_statement(svc, employer)
    since = "-" if statement.dunning_since is None else f"{statement.dunning_since:%d/%m/%Y}"
    status = "aucun" if statement.dunning_status is None else statement.dunning_status.label
    console.print(
        f"{clock.today():%d/%m/%Y} : {dunning.notices} mise(s) en demeure, à l'employeur qui n'a pas réglé ; "
        "l'enfant de Françoise a été prélevé sous le mandat actif de l'adhésion (celui de son père, depuis la "
        "demande de maintien). "
        f"Espace employeur, situation de pré-contentieux : {status} le {since} ; solde {statement.balance.format()}."
    )
    with svc.uow() as uow:
        francoise = next(
            a.affiliation_id
            for a in uow.affiliations.list_for_contract(PSC_CONTRACT)
            if a.email is not None and a.email.value == FRANCOISE
        )
        francoise_mandate = uow.mandates.active_for([francoise]).get(francoise)
    checks.append(
        (
            "Impayés 10 jours après l'échéance : une mise en demeure, à l'employeur, visible dans l'espace "
            "employeur ; l'enfant de Françoise prélevé par SEPA",
            dunning.notices == 1
            and statement.dunning_status is DunningStatus.NOTICE_SENT
            and francoise_mandate is not None
            and any(rum == str(francoise_mandate.mandate.rum) for _, _, rum in read_back),
        )
    )
    payment_file = workdir / "reglements.csv"
    payment_file.write_bytes(
        (
            "type;reference;payeur;identifiant;date;montant;mode;motif\r\n"
            f"reglement;VIR-MENJ-{BILLED_MONTH};employeur;{PSC_CONTRACT};{clock.today():%d/%m/%Y};"
            f"{str(statement.balance).replace('.', ',')};virement;\r\n"
        ).encode("cp1252")
    )
    lines, errors = read_payment_file(payment_file.read_bytes())
    imported = import_payments(svc, lines)
    after = payer_statement(svc, employer)
    console.print(
        f"Relevé de règlements importé ({payment_file.name}) : {imported.payments} virement de "
        f"{imported.amount.format()} ; pré-contentieux : "
        f"{'soldé' if after.dunning_status is None else after.dunning_status.label}, solde {after.balance.format()}."
    )
    checks.append(
        (
            "Virement de l'employeur importé : échéance réglée, pré-contentieux soldé",
            not errors and imported.ok and after.dunning_status is None and after.balance.is_zero,
        )
    )
    return checks
