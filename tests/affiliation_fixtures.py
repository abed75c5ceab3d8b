"""Shared set-up for the affiliation tests: a PSC contract like seed 002, correspondents, forms."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from mutuelle_core.affiliation.journey import (
    BankForm,
    BeneficiaryForm,
    ChildForm,
    ContactForm,
    HouseholdForm,
    PersonalForm,
)
from mutuelle_core.contracts import back_office as bo
from mutuelle_core.contracts import employer_space as es
from mutuelle_core.contracts.contract import ContractSettings
from mutuelle_core.contracts.correspondent import ContractAccess
from mutuelle_core.contracts.price_grid import PersonCategory, PriceLine
from mutuelle_core.services import Services
from mutuelle_core.values.identity import Email

D = dt.date

PSC_GRID = tuple(
    PriceLine(level=level, category=category, monthly=Decimal(amount))
    for level, prices in enumerate([("0", "10", "6"), ("12", "14", "10"), ("16", "23", "16")])
    for category, amount in zip(
        (PersonCategory.INSURED, PersonCategory.SPOUSE, PersonCategory.CHILD), prices, strict=True
    )
)


def set_up_psc(svc: Services, *, number: str = "MENJ2026", employer_id: str = "emp-menj") -> str:
    """A PSC contract effective 1 May 2026 with base and two options; returns an active principal's id."""
    bo.set_up_employer(
        svc, bo.EmployerSetup(employer_id=employer_id, name="Ministère", email="rh@menj.example")
    )
    settings = ContractSettings(
        auto_enrol_delay_days=21,
        dispense_request_email=Email.parse("dispenses@menj.example"),
        notify_on_completion=True,
        price_grid=PSC_GRID,
    )
    bo.set_up_contract(
        svc,
        bo.ContractSetup(
            number=number,
            employer_id=employer_id,
            kind="health",
            regime="state_psc",
            effective_date=D(2026, 5, 1),
            settings=settings,
            groups=(
                bo.GroupSetup(code="A1", category="A", label="Agents"),
                bo.GroupSetup(code="P1", category="P", label="Portabilité"),
                bo.GroupSetup(code="E1", category="E", label="Evin"),
                bo.GroupSetup(code="M1", category="M", label="Maintien"),
            ),
            products=tuple(
                bo.ProductSetup(
                    code=f"PSC-{lvl}", label=label, level=lvl, group_code="A1", start_date=D(2026, 5, 1)
                )
                for lvl, label in enumerate(["Base", "Base + option 1", "Base + option 2"])
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
            email=f"{login}@menj.example",
            contracts=(number,),
        ),
    )
    es.activate_correspondent(svc, svc.tokens.issued[-1], "correct horse 42 battery")  # type: ignore[attr-defined]
    return principal.correspondent_id


HOUSEHOLD_TWINS = HouseholdForm(
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
    organisme_code="",
    teletransmission=True,
)

SPOUSE = BeneficiaryForm(
    kind="spouse",
    civility="MME",
    birth_name="Duzu",
    usage_name="Dupond",
    first_names="Claudia",
    birth_date="09/10/1972",
    birth_city="Paris",
    nir="2 72 10 75 525 456 " + "00",
)


def spouse_form() -> BeneficiaryForm:
    from stdnum.fr import nir

    body = "2721075525456"
    import attrs

    return attrs.evolve(SPOUSE, nir=body + nir.calc_check_digits(body + "00"))


TWINS = (
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
    email="benoit.dupond@example.fr",
    mobile="06 12 34 56 78",
)

BANK = BankForm(iban="FR76 3000 6000 0112 3456 7890 189", holder="Benoît Dupond")


def scope_of(number: str) -> tuple[ContractAccess, ...]:
    return (ContractAccess(number),)
