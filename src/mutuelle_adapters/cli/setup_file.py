"""``mutuelle contract setup FILE.toml``: an employer and its contracts described in TOML.

::

    [employer]
    id = "emp-redwater"
    name = "REDWATER"
    siret = "73282932000074"
    email = "rh@redwater.example"
    address = ["3 square Max Hymans"]
    postal_code = "75015"
    city = "Paris"

    [[contracts]]
    number = "M1000304"
    kind = "health"          # health | provident
    regime = "private"       # private | state_psc
    effective_date = 2019-09-01

    [contracts.settings]     # optional: ContractSettings fields
    dispense_request_email = "dispenses@redwater.example"

    [[contracts.groups]]
    code = "A2"
    category = "A"
    label = "Actifs"

    [[contracts.products]]
    code = "ADMR61-BASE"
    label = "Admr61 Base Seule Actif"
    level = 0
    group = "A2"
    start_date = 2019-09-01
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from mutuelle_core.contracts.back_office import ContractSetup, EmployerSetup, GroupSetup, ProductSetup
from mutuelle_core.contracts.contract import ContractSettings
from mutuelle_core.errors import DomainError, ErrorCollector, error_code
from mutuelle_core.serialization import structure

__all__ = ["load_setup_file", "parse_setup"]

TOML_INVALID = error_code("setup.invalid_toml", "Fichier TOML illisible : {reason}.")
SETUP_MISSING = error_code("setup.missing", "Section ou clé manquante : {key}.")


def load_setup_file(path: Path) -> tuple[EmployerSetup, list[ContractSetup]]:
    """Read and validate a setup file (every problem reported at once)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise TOML_INVALID(None, reason=str(exc)) from None
    return parse_setup(data)


def parse_setup(data: dict[str, Any]) -> tuple[EmployerSetup, list[ContractSetup]]:
    """Build the setup commands from parsed TOML."""
    errors = ErrorCollector()
    emp = data.get("employer")
    if not isinstance(emp, dict) or "id" not in emp or "name" not in emp:
        raise SETUP_MISSING("employer", key="[employer] id, name")
    employer = EmployerSetup(
        employer_id=str(emp["id"]),
        name=str(emp["name"]),
        siren=emp.get("siren"),
        siret=emp.get("siret"),
        email=emp.get("email"),
        address_lines=tuple(emp.get("address", ())),
        postal_code=emp.get("postal_code"),
        city=emp.get("city"),
        country=emp.get("country", "FR"),
    )
    errors.capture("employer", employer.build)
    contracts: list[ContractSetup] = []
    for i, c in enumerate(data.get("contracts", [])):
        path = f"contracts[{i}]"
        try:
            settings = structure(c["settings"], ContractSettings) if "settings" in c else None
            setup = ContractSetup(
                number=str(c["number"]),
                employer_id=employer.employer_id,
                kind=str(c["kind"]),
                regime=str(c["regime"]),
                effective_date=c["effective_date"],
                end_date=c.get("end_date"),
                settings=settings,
                groups=tuple(
                    GroupSetup(
                        code=g["code"],
                        category=g["category"],
                        label=g["label"],
                        population=g.get("population"),
                    )
                    for g in c.get("groups", [])
                ),
                products=tuple(
                    ProductSetup(
                        code=p["code"],
                        label=p["label"],
                        level=int(p["level"]),
                        group_code=p["group"],
                        start_date=p["start_date"],
                        radiation_date=p.get("radiation_date"),
                    )
                    for p in c.get("products", [])
                ),
            )
        except KeyError as exc:
            errors.add(SETUP_MISSING(path, key=str(exc.args[0])))
            continue
        except DomainError as exc:
            errors.add(exc.at(path))
            continue
        errors.capture(path, setup.build)
        contracts.append(setup)
    errors.raise_if_any()
    return employer, contracts
