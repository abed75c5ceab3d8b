"""Shared set-up for the designation tests: a provident contract and an affiliated member."""

from __future__ import annotations

import datetime as dt

from mutuelle_core.affiliation import management as mg
from mutuelle_core.contracts import back_office as bo
from mutuelle_core.contracts import employer_space as es
from mutuelle_core.contracts.contract import ContractSettings
from mutuelle_core.services import Services
from mutuelle_core.values.identity import Email
from tests.affiliation_fixtures import BANK, CONTACT, HOUSEHOLD_TWINS, PERSONAL, TWINS, spouse_form

D = dt.date

PROVIDENT = "PREV2026"


def set_up_provident(svc: Services, *, number: str = PROVIDENT, employer_id: str = "emp-redwater") -> str:
    """A private-sector provident contract effective 1 May 2026; returns an active principal's id."""
    bo.set_up_employer(
        svc, bo.EmployerSetup(employer_id=employer_id, name="Redwater", email="rh@redwater.example")
    )
    bo.set_up_contract(
        svc,
        bo.ContractSetup(
            number=number,
            employer_id=employer_id,
            kind="provident",
            regime="private",
            effective_date=D(2026, 5, 1),
            settings=ContractSettings(dispense_request_email=Email.parse("dispenses@redwater.example")),
            groups=(
                bo.GroupSetup(code="A1", category="A", label="Cadres"),
                bo.GroupSetup(code="P1", category="P", label="Portabilité"),
            ),
            products=(
                bo.ProductSetup(
                    code="DC-1", label="Capital décès", level=0, group_code="A1", start_date=D(2026, 5, 1)
                ),
            ),
        ),
    )
    login = f"rh-{number.lower()}"
    principal = bo.create_principal_correspondent(
        svc,
        bo.PrincipalSetup(
            employer_id=employer_id,
            login=login,
            birth_name="Martin",
            first_names="Jeanne",
            email=f"{login}@redwater.example",
            contracts=(number,),
        ),
    )
    es.activate_correspondent(svc, svc.tokens.issued[-1], "correct horse 42 battery")  # type: ignore[attr-defined]
    return principal.correspondent_id


def affiliated_member(
    svc: Services, *, number: str = PROVIDENT, employer_id: str = "emp-redwater"
) -> tuple[str, str]:
    """Benoît Dupond, with a spouse and twins, affiliated to the provident contract: (actor, affiliation id)."""
    actor = set_up_provident(svc, number=number, employer_id=employer_id)
    form = mg.CompleteAffiliationForm(
        regime="general",
        household=HOUSEHOLD_TWINS,
        level=0,
        personal=PERSONAL,
        beneficiaries=(spouse_form(), *TWINS),
        contact=CONTACT,
        bank=BANK,
    )
    aff = mg.complete_affiliation(svc, actor, number, "A1", form)
    mg.accept_affiliation(svc, aff.affiliation_id)
    return actor, aff.affiliation_id
