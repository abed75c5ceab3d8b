"""The ``mutuelle`` command end to end on a temporary SQLite database (click's CliRunner).

``db upgrade``, ``contract setup``, then ``invite`` with a Windows-1252 file full of bad lines (the exact
per-line report in JSON), a second import that invites nobody, ``follow-up`` as CSV for French Excel and
as JSON, ``jobs run`` twice for the same date, and ``demo``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from mutuelle_adapters.bootstrap import build_app
from mutuelle_adapters.cli import main
from mutuelle_adapters.cli.demo import EXPECTED_MESSAGES
from mutuelle_adapters.files.csv_io import read_csv_bytes
from mutuelle_adapters.memory.fakes import PredictableTokens
from mutuelle_adapters.sql.database import sqlite_url
from mutuelle_adapters.system import SystemClock
from mutuelle_core.contracts import back_office as bo
from mutuelle_core.contracts import employer_space as es

ROOT = Path(__file__).resolve().parents[2]
SETUP = ROOT / "src" / "mutuelle_adapters" / "cli" / "demo_data" / "menj.toml"
CONTRACT = "MENJ2026"
LOGIN = "menj.rh"

# (line content, expected codes); a line without codes is invited. Line numbers are 1-based positions.
LINES: list[tuple[str, set[str]]] = [
    ("Civilité;Nom;Prénom;Adresse e-mail", {"invitation.header_line"}),
    ("M;Dupont;Jean;jean.dupont@example.fr", set()),
    ("MME;Lefèvre;Anaïs;anais.lefevre@example.fr", set()),
    ("X;Martin;Paul;paul.martin@example.fr", {"civility.invalid"}),
    ("Dr;Martin;Pierre;pierre.martin@example.fr", {"civility.invalid"}),
    ("MME;Durand;Léa;", {"field.required"}),
    ("MME;Durand;Léa;pas-un-mail", {"email.invalid"}),
    ("M;Roux;Marc;marc.roux@exemple", {"email.invalid"}),
    ("M;Petit;Luc", {"invitation.wrong_column_count"}),
    ("M;Petit;Luc;luc.petit@example.fr;en trop", {"invitation.wrong_column_count"}),
    ("", {"invitation.empty_line"}),
    (";;;", {"invitation.empty_line"}),
    ("M;Dupont;Jean;jean.dupont@example.fr", {"invitation.duplicate_in_file"}),
    ("MME;LEFEVRE;Anais;Anais.Lefevre@Example.fr", {"invitation.duplicate_in_file"}),
    ("M;;Sans;sans.nom@example.fr", {"name.empty"}),
    ("M;Nom1;;nom1@example.fr", {"name.invalid_character", "name.empty"}),
    ("M;R2D2;Robot;r2d2@example.fr", {"name.invalid_character"}),
    ("MME;Vidal;Zo3;zoe.vidal@example.fr", {"name.invalid_character"}),
    ("Monsieur;Garçon;Rémi;remi.garcon@example.fr", set()),
    ("MME;Lœuillet;Françoise;francoise.loeuillet@example.fr", set()),
    ("M;Müller;Gaël;gael.muller@example.fr", set()),
    ("Z;;;mauvais", {"civility.invalid", "name.empty", "email.invalid"}),
    ("M;Bérard;Jérôme;jerome.berard@example.fr;;", {"invitation.wrong_column_count"}),
    ("nom;prénom;civilité;e-mail", {"invitation.header_line"}),
    ("M;Fabre;Hugo;hugo.fabre@@example.fr", {"email.invalid"}),
    ("MME;O'Neil;Ève;eve.oneil@example.fr", set()),
    ("X;Y", {"invitation.wrong_column_count"}),
    ("  M ; Lambert ;  Noé ; noe.lambert@example.fr ", set()),
    ("M;Dupont;Jean;jean.dupont@example.fr", {"invitation.duplicate_in_file"}),
    ("MME;Lefèvre;Anaïs;anais.lefevre@example.fr;", {"invitation.wrong_column_count"}),
    ("M;Roy;Léo;leo.roy@example.fr", set()),
    ("MME;Roy#;Léa;lea.roy@example.fr", {"name.invalid_character"}),
]
GOOD = [n for n, (_, codes) in enumerate(LINES, 1) if not codes]
BAD = {n: codes for n, (_, codes) in enumerate(LINES, 1) if codes}


def csv_file(path: Path) -> Path:
    """The invitation file as a French office saves it from Excel: Windows-1252, CRLF, ``;``."""
    path.write_bytes("".join(f"{line}\r\n" for line, _ in LINES).encode("cp1252"))
    return path


def run(args: list[str], *, code: int = 0) -> Result:
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def json_of(result: Result) -> Any:
    return json.loads(result.stdout)


@pytest.fixture
def database(tmp_path: Path) -> str:
    """A migrated SQLite database with the PSC contract and an active principal correspondent."""
    url = sqlite_url(tmp_path / "cli.db")
    assert "Schéma à jour" in run(["db", "upgrade", "--database", url]).output
    assert "Contrat MENJ2026 créé" in run(["contract", "setup", str(SETUP), "--database", url]).output
    tokens = PredictableTokens("cli")
    app = build_app(database_url=url, tokens=tokens)
    try:
        bo.create_principal_correspondent(
            app.services,
            bo.PrincipalSetup(
                employer_id="emp-menj",
                login=LOGIN,
                birth_name="Bernard",
                first_names="Sophie",
                email="sophie.bernard@menj.example",
                contracts=(CONTRACT,),
            ),
        )
        es.activate_correspondent(app.services, tokens.issued[-1], "correct horse 42 battery")
    finally:
        assert app.engine is not None
        app.engine.dispose()
    return url


def invite_args(url: str, path: Path, *extra: str) -> list[str]:
    return [
        "invite",
        "--contract",
        CONTRACT,
        "--group",
        "A1",
        "--as",
        LOGIN,
        "--database",
        url,
        *extra,
        str(path),
    ]


def follow_up_json(url: str, *extra: str) -> list[dict[str, Any]]:
    args = ["follow-up", "--contract", CONTRACT, "--as", LOGIN, "--format", "json", "--database", url, *extra]
    lines: list[dict[str, Any]] = json_of(run(args))
    return lines


def test_the_file_has_at_least_twenty_bad_lines_of_every_kind() -> None:
    assert len(BAD) >= 20
    kinds = set().union(*BAD.values())
    assert {
        "invitation.header_line",
        "invitation.wrong_column_count",
        "invitation.empty_line",
        "invitation.duplicate_in_file",
        "civility.invalid",
        "field.required",
        "email.invalid",
        "name.empty",
        "name.invalid_character",
    } <= kinds


def test_invite_reports_every_bad_line_and_invites_the_good_ones_once(database: str, tmp_path: Path) -> None:
    path = csv_file(tmp_path / "salariés.csv")
    assert read_csv_bytes(path.read_bytes()).encoding == "cp1252"

    report = json_of(run(invite_args(database, path, "--json"), code=1))
    assert report["encoding"] == "cp1252"
    assert report["delimiter"] == ";"
    assert report["invited"] == len(GOOD)
    assert [r["line"] for r in report["rejected"]] == sorted(BAD)
    assert {r["line"]: {e["code"] for e in r["errors"]} for r in report["rejected"]} == BAD
    by_line = {r["line"]: r["errors"] for r in report["rejected"]}
    assert by_line[9][0]["params"] == {"count": 3}
    assert by_line[10][0]["params"] == {"count": 5}
    assert by_line[23][0]["params"] == {"count": 6}
    assert by_line[13][0]["params"] == {"line": 2}
    assert by_line[14][0]["params"] == {"line": 3}
    assert by_line[29][0]["params"] == {"line": 2}
    assert {e["field"] for e in by_line[16]} == {"name.birth_name", "name.first_names"}
    assert by_line[4][0]["message"] == "« X » n'est pas une civilité reconnue (M ou MME)."
    assert all(e["message"] for errors in by_line.values() for e in errors)

    invited = follow_up_json(database)
    # Windows-1252 accents decoded: the names are stored as typed (birth names in capitals).
    assert sorted((x["birth_name"], x["first_names"]) for x in invited) == sorted(
        [
            ("DUPONT", "Jean"),
            ("LEFÈVRE", "Anaïs"),
            ("GARÇON", "Rémi"),
            ("LŒUILLET", "Françoise"),
            ("MÜLLER", "Gaël"),
            ("O'NEIL", "Ève"),
            ("LAMBERT", "Noé"),
            ("ROY", "Léo"),
        ]
    )
    assert {x["status"] for x in invited} == {"invited"}
    assert {x["civility"] for x in invited} == {"Monsieur", "Madame"}

    again = json_of(run(invite_args(database, path, "--json"), code=1))
    assert again["invited"] == 0
    already = {
        r["line"]
        for r in again["rejected"]
        if {e["code"] for e in r["errors"]} == {"invitation.already_invited"}
    }
    assert already == set(GOOD)
    assert len(follow_up_json(database)) == len(GOOD)

    table = run(invite_args(database, path), code=1).output
    assert "Ligne" in table and "invitation.already_invited" in table
    assert f"0 salarié(s) invité(s), {len(LINES)} ligne(s) refusée(s)." in table


def test_invite_errors_are_reported_in_french(database: str, tmp_path: Path) -> None:
    path = csv_file(tmp_path / "salariés.csv")
    unknown = run(
        [
            "invite",
            "--contract",
            CONTRACT,
            "--group",
            "A1",
            "--as",
            "personne",
            "--database",
            database,
            str(path),
        ],
        code=1,
    )
    assert "Élément introuvable : correspondant personne." in unknown.output
    denied = json_of(
        run(
            [
                "invite",
                "--contract",
                "M9",
                "--group",
                "A1",
                "--as",
                LOGIN,
                "--database",
                database,
                "--json",
                str(path),
            ],
            code=1,
        )
    )
    assert [e["code"] for e in denied["errors"]] == ["access.denied"]
    ok = tmp_path / "ok.csv"
    ok.write_bytes("\ufeffM,Martin,Paul,paul.martin@example.fr\r\n".encode())
    result = run(invite_args(database, ok, "--dispense-email", "dispenses@menj.example"))
    assert "1 salarié(s) invité(s), 0 ligne(s) refusée(s)." in result.output


def test_follow_up_csv_is_for_french_excel(database: str, tmp_path: Path) -> None:
    run(invite_args(database, csv_file(tmp_path / "salariés.csv")), code=1)
    out = tmp_path / "suivi.csv"
    base = ["follow-up", "--contract", CONTRACT, "--as", LOGIN, "--database", database]
    result = run([*base, "--format", "csv", "--output", str(out)])
    assert f"Export écrit dans {out} ({len(GOOD)} dossier(s))." in result.output
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    text = data[3:].decode("utf-8")
    rows = text.split("\r\n")
    assert rows[0] == (
        "Contrat;Groupe;Civilité;Nom;Prénom;Adresse e-mail;Inscription;Invité le;Dernière action;Relances;N° d'adhésion"
    )
    assert rows[-1] == "" and len(rows) == len(GOOD) + 2
    assert any(
        r.startswith("MENJ2026;A1;Madame;LŒUILLET;Françoise;francoise.loeuillet@example.fr;En attente;")
        for r in rows
    )
    table = read_csv_bytes(data)
    assert (table.encoding, table.delimiter) == ("utf-8-sig", ";")
    assert all(len(r.fields) == 11 for r in table.rows)

    assert run([*base, "--format", "csv"]).stdout_bytes == data  # to standard output as well
    screen = run(base).output
    assert "Suivi des affiliations - contrat MENJ2026" in screen
    assert f"{len(GOOD)} dossier(s)." in screen
    assert follow_up_json(database, "--status", "affiliated") == []
    assert len(follow_up_json(database, "--status", "in_progress")) == len(GOOD)


def test_jobs_run_twice_for_the_same_date_changes_nothing_more(database: str, tmp_path: Path) -> None:
    run(invite_args(database, csv_file(tmp_path / "salariés.csv")), code=1)
    today = SystemClock().today()

    def jobs(on: dt.date) -> dict[str, Any]:
        report: dict[str, Any] = json_of(
            run(["jobs", "run", "--date", on.isoformat(), "--json", "--database", database])
        )
        assert report.pop("date") == on.isoformat()
        return report

    nothing = {"flagged_to_remind": 0, "links_expired": 0, "auto_enrolled": 0, "dispenses_ended": 0}
    assert jobs(today) == nothing
    nine_days = today + dt.timedelta(days=9)
    assert jobs(nine_days) == {**nothing, "flagged_to_remind": len(GOOD)}
    before = follow_up_json(database)
    assert jobs(nine_days) == nothing
    assert follow_up_json(database) == before
    assert {x["status"] for x in before} == {"to_remind"}

    later = today + dt.timedelta(days=22)
    assert jobs(later) == {**nothing, "auto_enrolled": len(GOOD)}
    enrolled = follow_up_json(database)
    assert jobs(later) == nothing
    assert follow_up_json(database) == enrolled
    assert {x["status"] for x in enrolled} == {"affiliated"}
    assert len({x["adhesion_number"] for x in enrolled}) == len(GOOD)

    screen = run(["jobs", "run", "--date", later.isoformat(), "--database", database]).output
    assert "Affiliations automatiques à la base" in screen
    assert f"Traitements d'affiliation du {later:%d/%m/%Y}" in screen


def test_demo_exits_zero(tmp_path: Path) -> None:
    result = run(["demo", "--workdir", str(tmp_path / "demo")])
    assert "Vérifications de la démonstration" in result.output
    assert "ÉCHEC" not in result.output
    assert (tmp_path / "demo" / "suivi-MENJ2026.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert len(list((tmp_path / "demo" / "mail").glob("*.eml"))) == EXPECTED_MESSAGES
