"""The departure commands end to end on a temporary SQLite database (click's CliRunner).

``radiate`` with and without portability, ``beneficiary add`` refused for a third child born the twins'
day without a birth rank, and for a child debited from a member without mandate until ``--iban`` is given, ``beneficiary radiate``, ``departures jobs`` twice for the same date, ``demo``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from mutuelle_adapters.bootstrap import App, build_app
from mutuelle_adapters.cli import main
from mutuelle_adapters.cli.demo import EXPECTED_MESSAGES
from mutuelle_adapters.memory.fakes import PredictableTokens
from mutuelle_adapters.sql.database import sqlite_url
from mutuelle_adapters.system import SystemClock
from mutuelle_core.affiliation import follow_up as fu
from mutuelle_core.affiliation import invitations as inv
from mutuelle_core.affiliation import management as mg
from mutuelle_core.contracts import back_office as bo
from mutuelle_core.contracts import employer_space as es
from tests.affiliation_fixtures import BANK, CONTACT, HOUSEHOLD_TWINS, PERSONAL, TWINS, spouse_form

ROOT = Path(__file__).resolve().parents[2]
SETUP = ROOT / "src" / "mutuelle_adapters" / "cli" / "demo_data" / "menj.toml"
LOGIN = "menj.rh"
Y = SystemClock().today().year + 1
"""The commands run on the system clock: the departures happen next year, after the cover started."""


def run(args: list[str], *, code: int = 0) -> Result:
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def with_correspondent(url: str) -> tuple[App, str]:
    """A migrated database with the demo's PSC contract and its activated principal correspondent:
    the app (to dispose of) and the correspondent's id."""
    run(["db", "upgrade", "--database", url])
    run(["contract", "setup", str(SETUP), "--database", url])
    tokens = PredictableTokens("cli")
    app = build_app(database_url=url, tokens=tokens)
    actor = bo.create_principal_correspondent(
        app.services,
        bo.PrincipalSetup(
            employer_id="emp-menj",
            login=LOGIN,
            birth_name="Bernard",
            first_names="Sophie",
            email="sophie.bernard@menj.example",
            contracts=("MENJ2026",),
        ),
    ).correspondent_id
    es.activate_correspondent(app.services, tokens.issued[-1], "correct horse 42 battery")
    return app, actor


@pytest.fixture
def affiliated(tmp_path: Path) -> tuple[str, str]:
    """The PSC contract of the demo, its correspondent, and an agent affiliated with a spouse and twins."""
    url = sqlite_url(tmp_path / "cli.db")
    app, actor = with_correspondent(url)
    try:
        form = mg.CompleteAffiliationForm(
            regime="general",
            household=HOUSEHOLD_TWINS,
            level=1,
            personal=PERSONAL,
            beneficiaries=(spouse_form(), *TWINS),
            contact=CONTACT,
            bank=BANK,
        )
        aff = mg.complete_affiliation(app.services, actor, "MENJ2026", "A1", form)
        mg.accept_affiliation(app.services, aff.affiliation_id)
    finally:
        assert app.engine is not None
        app.engine.dispose()
    return url, aff.affiliation_id


def radiate(url: str, aff_id: str, motive: str, *extra: str, code: int = 0) -> Result:
    args = ["radiate", "--as", LOGIN, "--affiliation", aff_id, "--motive", motive, "--database", url]
    return run([*args, "--last-day", f"{Y}-09-10", "--employment-start", f"{Y}-05-04", *extra], code=code)


def test_radiate_with_portability_prints_the_exact_dates(affiliated: tuple[str, str]) -> None:
    url, aff_id = affiliated
    screen = radiate(url, aff_id, "043").output
    assert "En portabilité, groupe P1" in screen
    assert f"Portabilité : du 11/09/{Y} au 10/02/{Y + 1} inclus." in screen  # 4 months 7 days -> 5 months
    assert screen.count(f"10/02/{Y + 1}") == 4  # the dates line and the three beneficiaries


def test_radiate_json_with_portability(affiliated: tuple[str, str]) -> None:
    url, aff_id = affiliated
    payload: dict[str, Any] = json.loads(radiate(url, aff_id, "043", "--json").stdout)
    assert (payload["status"], payload["group"], payload["motive"]) == ("portability", "P1", "043")
    assert payload["portability"] == {"start": f"{Y}-09-11", "end": f"{Y + 1}-02-10"}
    assert {b["cover_end"] for b in payload["beneficiaries"]} == {f"{Y + 1}-02-10"}


def test_radiate_for_a_refusing_motive_prints_no_portability(affiliated: tuple[str, str]) -> None:
    url, aff_id = affiliated
    screen = radiate(url, aff_id, "059").output
    assert "Portabilité : aucune" in screen
    assert "Portabilité : du" not in screen
    assert screen.count(f"10/09/{Y}") == 4  # the last day, and the three beneficiaries' cover end
    payload = json.loads(radiate(url, aff_id, "059", "--json", code=1).stdout)  # already radiated
    assert payload["errors"]


def test_radiate_unknown_correspondent_is_refused(affiliated: tuple[str, str]) -> None:
    url, aff_id = affiliated
    args = ["radiate", "--as", "nobody", "--affiliation", aff_id, "--motive", "059", "--database", url]
    result = run([*args, "--last-day", f"{Y}-09-10", "--employment-start", f"{Y}-05-04", "--json"], code=1)
    assert [e["code"] for e in json.loads(result.stdout)["errors"]] == ["not_found"]


def child_args(url: str, aff_id: str, *extra: str) -> list[str]:
    return [
        "beneficiary",
        "add",
        "--affiliation",
        aff_id,
        "--database",
        url,
        "--kind",
        "child",
        "--civility",
        "M",
        "--birth-name",
        "Dupond",
        "--first-names",
        "Jules",
        "--birth-date",
        "12/05/2013",
        "--start",
        f"{Y}-06-01",
        *extra,
    ]


def test_a_third_child_born_with_the_twins_needs_a_birth_rank(affiliated: tuple[str, str]) -> None:
    url, aff_id = affiliated
    refused = run(child_args(url, aff_id), code=1)
    assert "Erreurs" in refused.output and "naissance de chacun" in refused.output  # the French message
    as_json = json.loads(run([*child_args(url, aff_id), "--json"], code=1).stdout)
    assert {e["code"] for e in as_json["errors"]} == {"beneficiary.birth_rank_required"}
    added = run([*child_args(url, aff_id), "--birth-rank", "3", "--as", LOGIN]).output
    assert "Bénéficiaire Jules DUPOND ajouté(e)" in added
    assert f"à partir du 01/06/{Y}" in added


def test_beneficiary_radiate(affiliated: tuple[str, str]) -> None:
    url, aff_id = affiliated
    added = json.loads(run([*child_args(url, aff_id), "--birth-rank", "3", "--json"]).stdout)
    args = ["beneficiary", "radiate", "--affiliation", aff_id, "--database", url]
    args += ["--beneficiary", added["beneficiary_id"], "--motive", "other_cover", "--last-day", f"{Y}-07-31"]
    screen = run(args).output
    assert f"Jules DUPOND radié(e) : couverture jusqu'au 31/07/{Y} inclus." in screen
    unknown = run([*args[:-4], "--motive", "whatever", "--last-day", f"{Y}-07-31", "--json"], code=1)
    assert [e["code"] for e in json.loads(unknown.stdout)["errors"]] == ["beneficiary.unknown_motive"]
    as_employer = run([*args[:-2], "--last-day", f"{Y}-07-15", "--as", LOGIN, "--json"], code=1)
    assert json.loads(as_employer.stdout)["errors"]  # already radiated


def test_a_child_debited_from_a_member_without_mandate_needs_her_iban(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "cli.db")
    app, actor = with_correspondent(url)
    try:
        invited = inv.invite_employee(
            app.services,
            actor,
            "MENJ2026",
            "A1",
            inv.InvitationForm(civility="MME", birth_name="Roux", first_names="Ana", email="ana@example.fr"),
        )
        fu.force_base_affiliation(app.services, actor, invited.affiliation_id)  # no journey: no mandate
    finally:
        assert app.engine is not None
        app.engine.dispose()
    aff_id = invited.affiliation_id
    refused = json.loads(run([*child_args(url, aff_id), "--json"], code=1).stdout)
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [
        ("beneficiary.mandate_required", "account")
    ]
    bad = json.loads(run([*child_args(url, aff_id), "--iban", "FR76 1234", "--json"], code=1).stdout)
    assert "FR76 1234" not in json.dumps(bad) and bad["errors"]
    iban = "FR14 2004 1010 0505 0001 3M02 606"
    added = run([*child_args(url, aff_id), "--iban", iban, "--holder", "Ana Roux"]).output
    assert "Bénéficiaire Jules DUPOND ajouté(e)" in added


def test_departures_jobs_twice_for_the_same_date_changes_nothing_more(affiliated: tuple[str, str]) -> None:
    url, aff_id = affiliated
    radiate(url, aff_id, "043")

    def jobs(on: str) -> dict[str, Any]:
        report: dict[str, Any] = json.loads(
            run(["departures", "jobs", "--date", on, "--json", "--database", url]).stdout
        )
        assert report.pop("date") == on
        return report

    nothing = {"portabilities_ended": 0, "proof_reminders": 0, "evin_offers": 0, "children_over_age": 0}
    assert jobs(f"{Y + 1}-02-10") == nothing
    first = jobs(f"{Y + 1}-02-11")
    assert first["portabilities_ended"] == 1
    assert jobs(f"{Y + 1}-02-11") == nothing
    screen = run(["departures", "jobs", "--date", f"{Y + 1}-02-11", "--database", url]).output
    assert f"Traitements des départs du 11/02/{Y + 1}" in screen
    assert "Portabilités arrivées à leur terme" in screen


def test_demo_exits_zero_with_the_departure_steps(tmp_path: Path) -> None:
    result = run(["demo", "--workdir", str(tmp_path / "demo")])
    assert "ÉCHEC" not in result.output
    assert "Portabilité des garanties du 01/07/2026 au 30/11/2026 inclus." in result.output
    assert "du 15/07/2026 au 14/07/2027 inclus" in result.output
    assert "Total réparti : 100\u202f000,00\xa0€" in result.output  # French digit grouping
    assert len(list((tmp_path / "demo" / "mail").glob("*.eml"))) == EXPECTED_MESSAGES
