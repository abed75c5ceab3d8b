"""The billing, payment and dunning commands end to end on a temporary SQLite database."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from mutuelle_adapters.bootstrap import build_app
from mutuelle_adapters.files.sepa import schema
from mutuelle_adapters.system import SystemClock
from mutuelle_core.cotisations.billing import set_tariff
from mutuelle_core.cotisations.cycle import earliest_collection
from mutuelle_core.cotisations.records import ContractTariff
from mutuelle_core.cotisations.rules import CotisationRules
from mutuelle_core.cotisations.tariff import TariffGrid
from mutuelle_core.values.bank import BankAccount
from tests.affiliation_fixtures import BANK
from tests.integration.test_cli_departures import Y, affiliated, run
from tests.unit.cotisations.seed002 import psc_lines
from tests.unit.test_payments_collection_dunning import transactions

__all__ = ["affiliated"]


def with_tariff(url: str) -> None:
    app = build_app(database_url=url)
    try:
        set_tariff(app.services, ContractTariff(TariffGrid("MENJ2026", psc_lines()), CotisationRules.psc()))
    finally:
        assert app.engine is not None
        app.engine.dispose()


def test_bill_import_payments_dunning_and_collect(affiliated: tuple[str, str], tmp_path: Path) -> None:
    url, _ = affiliated
    with_tariff(url)
    billed = run(["bill", "--month", f"{Y}-01", "--no-collect", "--database", url])
    assert "1 facturée(s)" in billed.output and "appel de cotisation MENJ2026 : 58,51" in billed.output
    assert "prélèvements non faits (--no-collect)" in billed.output
    assert (
        "régularisations : 0 adhésion(s) modifiée(s) relue(s), 0 régularisée(s), 0 ligne(s)" in billed.output
    )
    again = run(["regularise", "--month", f"{Y}-01", "--database", url])
    assert "0 régularisée(s), 0 ligne(s)" in again.output
    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        (
            "type;reference;payeur;identifiant;date;montant;mode;motif\n"
            f"reglement;VIR-1;employeur;MENJ2026;06/01/{Y};58,51;virement;\n"
            f"reglement;VIR-2;employeur;MENJ2026;31/02/{Y};1,00;virement;\n"
            f"reglement;VIR-3;employeur;INCONNU;06/01/{Y};1,00;virement;\n"
            f"rejet;PRLV-X;;;07/01/{Y};;;AM04\n"
        ).encode("cp1252")
    )
    refused = run(["payments", "import", str(bad), "--database", url], code=1)
    assert "ligne 3 : [payment_file.field] date" in refused.output
    assert "Aucun règlement enregistré" in refused.output
    statement = run(["payments", "statement", "--payer", "employeur", "--id", "MENJ2026", "--database", url])
    assert json.loads(statement.output)["balance"] == "58.51"
    partial = tmp_path / "partial.csv"
    partial.write_bytes(
        (
            "type;reference;payeur;identifiant;date;montant;mode;motif\n"
            f"reglement;VIR-1;employeur;MENJ2026;06/01/{Y};58,51;virement;\n"
            f"reglement;VIR-3;employeur;INCONNU;06/01/{Y};1,00;virement;\n"
            f"rejet;PRLV-X;;;07/01/{Y};;;AM04\n"
        ).encode()
    )
    refused = run(["payments", "import", str(partial), "--database", url], code=1)
    assert (
        "ligne 3 : [payment.payer_unknown]" in refused.output
        and "ligne 4 : [payment.not_found]" in refused.output
    )
    good = tmp_path / "good.csv"
    good.write_bytes(
        f"type;reference;payeur;identifiant;date;montant;mode\nreglement;VIR-1;employeur;MENJ2026;06/01/{Y};58,51;virement\n".encode()
    )
    assert "1 règlement(s)" in run(["payments", "import", str(good), "--database", url]).output
    first = run(["dunning", "run", "--date", f"{Y}-01-15", "--database", url])
    assert "1 ouvert(s), 1 mise(s) en demeure" in first.output  # the member's share, never collected
    second = run(["dunning", "run", "--date", f"{Y}-01-15", "--database", url])
    assert "0 ouvert(s), 0 mise(s) en demeure" in second.output
    collected = run(
        ["payments", "collect", "--date", f"{Y}-01-20", "--out", str(tmp_path / "sepa"), "--database", url]
    )
    assert "1 prélèvement(s) pour 46,00" in collected.output
    assert len(list((tmp_path / "sepa").glob("*.xml"))) == 1
    settled = run(["dunning", "run", "--date", f"{Y}-01-20", "--database", url])
    assert "1 soldé(s)" in settled.output


def test_bill_writes_the_members_sepa_file_once(affiliated: tuple[str, str], tmp_path: Path) -> None:
    url, aff_id = affiliated
    with_tariff(url)
    out = tmp_path / "sepa"
    args = ["bill", "--month", f"{Y}-01", "--out", str(out), "--database", url]
    billed = run(args)
    assert "1 facturée(s)" in billed.output and "appel de cotisation MENJ2026 : 58,51" in billed.output
    # billed today (the system clock), due on 5 January next year: collected then, or 14 days after today
    day = earliest_collection(dt.date(Y, 1, 5), SystemClock().now().date())
    assert f"prélèvement du {day:%d/%m/%Y} : 1 prélèvement(s) pour 46,00" in billed.output
    [written] = list(out.glob("*.xml"))
    assert f"fichier SEPA : {written}" in billed.output
    content = written.read_bytes()
    assert schema().is_valid(content.decode())
    app = build_app(database_url=url)
    try:
        with app.services.uow() as uow:
            [schedule] = [
                r for r in uow.cotisations.schedule_for(aff_id, f"{Y}-01") if r["payer"] == "member"
            ]
            mandate = uow.mandates.active_for([aff_id])[aff_id].mandate
    finally:
        assert app.engine is not None
        app.engine.dispose()
    [tx] = transactions(content)
    assert (tx["amount"], tx["iban"], tx["rum"]) == (
        f"{int(schedule['amount_cents']) / 100:.2f}",
        BankAccount.parse(BANK.iban).iban,
        str(mandate.rum),
    )
    again = run(args)
    assert "0 facturée(s), 1 déjà facturée(s)" in again.output and "appel de cotisation" not in again.output
    assert "rien à prélever" in again.output
    assert list(out.glob("*.xml")) == [written]
