"""Employer-space use cases of the backbone: correspondents and the company sheet (seed 000).

Every function takes the acting correspondent's id and goes through
:class:`~mutuelle_core.contracts.access.EmployerScope`, so nothing outside the actor's contracts and
populations can be read or changed (``access.denied``).

* "Créer un correspondant": :func:`create_secondary_correspondent` (the new correspondent receives an
  e-mail with a single-use link valid 24 hours to set its password: :func:`activate_correspondent`);
* "Modifier mes coordonnées": :func:`update_my_contact`;
* "Supprimer mon compte": :func:`delete_my_account`;
* "Mes correspondants": :func:`list_my_correspondents`;
* "Fiche entreprise": :func:`company_sheet`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import attrs

from mutuelle_core.affiliation.affiliation import Affiliation
from mutuelle_core.affiliation.transitions import AffiliationStatus
from mutuelle_core.contracts.access import EmployerScope
from mutuelle_core.contracts.contract import Product
from mutuelle_core.contracts.correspondent import (
    TOKEN_INVALID,
    AccessScope,
    ContractAccess,
    Correspondent,
    CorrespondentRole,
    CorrespondentStatus,
    hash_token,
)
from mutuelle_core.contracts.notifications import activation_message
from mutuelle_core.errors import ErrorCollector
from mutuelle_core.masking import mask_email
from mutuelle_core.services import Services
from mutuelle_core.values.identity import Email, PersonName, Phone

__all__ = [
    "CompanySheet",
    "ContactDetails",
    "CorrespondentView",
    "GroupSheet",
    "NewCorrespondent",
    "activate_correspondent",
    "company_sheet",
    "create_secondary_correspondent",
    "delete_my_account",
    "list_my_correspondents",
    "update_my_contact",
]


@attrs.frozen(kw_only=True)
class NewCorrespondent:
    """The "Créer un correspondant" form: login, names, e-mail and the contracts it may act on."""

    login: str
    birth_name: str
    first_names: str
    email: str
    contracts: tuple[ContractAccess, ...]


@attrs.frozen(kw_only=True)
class ContactDetails:
    """The "Modifier mes coordonnées" form (empty strings clear a number)."""

    email: str
    mobile: str = ""
    phone: str = ""
    fax: str = ""
    notification_email: str = ""


@attrs.frozen(kw_only=True)
class CorrespondentView:
    """A line of "Mes correspondants": login, last known state, masked e-mail, activated or not."""

    correspondent_id: str
    login: str
    name: str
    email: str = attrs.field(repr=mask_email)
    role: CorrespondentRole
    status: CorrespondentStatus
    contracts: tuple[str, ...]

    @classmethod
    def of(cls, c: Correspondent) -> CorrespondentView:
        """The view of a correspondent."""
        return cls(
            correspondent_id=c.correspondent_id,
            login=c.login,
            name=c.name.display,
            email=str(c.email),
            role=c.role,
            status=c.status,
            contracts=c.scope.contract_numbers,
        )


def create_secondary_correspondent(svc: Services, actor_id: str, form: NewCorrespondent) -> CorrespondentView:
    """Create a secondary correspondent attached to some of the actor's contracts; e-mail its link."""
    errors = ErrorCollector()
    name = errors.capture("name", PersonName.parse, form.birth_name, form.first_names)
    email = errors.capture("email", Email.parse, form.email)
    scope = AccessScope.of(*form.contracts)
    errors.raise_if_any()
    assert name is not None and email is not None
    token = svc.tokens.new_token()
    now = svc.clock.now()
    with svc.uow() as uow:
        actor = EmployerScope.load(uow, actor_id)
        actor.may_grant(scope)
        for number in scope.contract_numbers:
            actor.contract(uow, number)
        employer = uow.employers.get(actor.actor.employer_id)
        correspondent = Correspondent.register(
            correspondent_id=svc.ids.new_id(),
            employer_id=employer.employer_id,
            login=form.login,
            name=name,
            email=email,
            role=CorrespondentRole.SECONDARY,
            scope=scope,
            token=token,
            now=now,
            created_by=actor_id,
        )
        stored = uow.correspondents.add(correspondent)
        uow.outbox.add(activation_message(stored, employer, svc.links.correspondent_activation(token)))
        uow.commit()
    return CorrespondentView.of(stored)


def activate_correspondent(svc: Services, token: str, password: str) -> CorrespondentView:
    """Set the password through the e-mailed link (single use, 24 hours)."""
    now = svc.clock.now()
    with svc.uow() as uow:
        correspondent = uow.correspondents.find_by_activation(hash_token(token))
        if correspondent is None:
            raise TOKEN_INVALID("token")
        activated = correspondent.activate(token, password, salt=svc.tokens.new_token()[:16], now=now)
        stored = uow.correspondents.update(activated)
        uow.commit()
    return CorrespondentView.of(stored)


def update_my_contact(svc: Services, actor_id: str, form: ContactDetails) -> CorrespondentView:
    """Change the actor's e-mail, phone numbers and notification address (all errors at once)."""
    errors = ErrorCollector()
    email = errors.capture("email", Email.parse, form.email)
    mobile = errors.capture("mobile", Phone.parse, form.mobile) if form.mobile.strip() else None
    phone = errors.capture("phone", Phone.parse, form.phone) if form.phone.strip() else None
    fax = errors.capture("fax", Phone.parse, form.fax) if form.fax.strip() else None
    notification = (
        errors.capture("notification_email", Email.parse, form.notification_email)
        if form.notification_email.strip()
        else None
    )
    errors.raise_if_any()
    assert email is not None
    with svc.uow() as uow:
        actor = EmployerScope.load(uow, actor_id).actor
        changed = actor.change_contact(
            email=email,
            mobile=mobile,
            phone=phone,
            fax=fax,
            notification_email=notification,
            now=svc.clock.now(),
        )
        stored = uow.correspondents.update(changed)
        uow.commit()
    return CorrespondentView.of(stored)


def delete_my_account(svc: Services, actor_id: str) -> None:
    """Close the actor's own account."""
    with svc.uow() as uow:
        actor = EmployerScope.load(uow, actor_id).actor
        uow.correspondents.update(actor.delete(now=svc.clock.now()))
        uow.commit()


def list_my_correspondents(svc: Services, actor_id: str) -> list[CorrespondentView]:
    """The correspondents the actor manages ("Mes correspondants"), deleted ones excluded."""
    with svc.uow() as uow:
        scope = EmployerScope.load(uow, actor_id)
        others = uow.correspondents.list_for_employer(scope.actor.employer_id)
        return [
            CorrespondentView.of(c)
            for c in scope.managed(others)
            if c.status is not CorrespondentStatus.DELETED
        ]


@attrs.frozen(kw_only=True)
class GroupSheet:
    """The group part of the company sheet: the group and its products with their dates."""

    code: str
    label: str
    category: str
    population: str | None
    products: tuple[Product, ...]
    employees: int
    """Employees of the group covered on the sheet's date."""
    covered_persons: int
    """Employees and their beneficiaries covered on the sheet's date."""


@attrs.frozen(kw_only=True)
class CompanySheet:
    """ "Fiche entreprise": the employer, the contract and the groups the actor may see."""

    contract_number: str
    employer_name: str
    siren: str | None
    siret: str | None
    address: tuple[str, ...]
    email: str | None
    effective_date: dt.date
    end_date: dt.date | None
    groups: tuple[GroupSheet, ...]
    on: dt.date
    """The date the counts are taken at."""

    @property
    def employees(self) -> int:
        """Employees covered in the groups shown."""
        return sum(g.employees for g in self.groups)

    @property
    def covered_persons(self) -> int:
        """Persons covered (employees and beneficiaries) in the groups shown."""
        return sum(g.covered_persons for g in self.groups)


def _coverage(affiliations: Sequence[Affiliation], on: dt.date) -> dict[str, tuple[int, int]]:
    counts: dict[str, tuple[int, int]] = {}
    for a in affiliations:
        if a.effective_date is None or a.effective_date > on:
            continue
        dependants = 0 if a.enrolment is None or a.enrolment.base_only else len(a.journey.beneficiaries or ())
        employees, persons = counts.get(a.group_code, (0, 0))
        counts[a.group_code] = (employees + 1, persons + 1 + dependants)
    return counts


def company_sheet(
    svc: Services, actor_id: str, contract_number: str, on: dt.date | None = None
) -> CompanySheet:
    """The company sheet of a contract in the actor's scope, limited to the groups it may see.

    Counts are taken on ``on`` (today by default): affiliated employees whose cover has started, and
    the beneficiaries covered through them.
    """
    day = on or svc.clock.today()
    with svc.uow() as uow:
        scope = EmployerScope.load(uow, actor_id)
        contract = scope.contract(uow, contract_number)
        employer = uow.employers.get(contract.employer_id)
        coverage = _coverage(
            uow.affiliations.list_for_contract(contract.number, {AffiliationStatus.AFFILIATED}), day
        )
        groups = tuple(
            GroupSheet(
                code=g.code,
                label=g.label,
                category=g.category.value,
                population=g.population,
                products=tuple(
                    sorted(
                        (p for p in contract.products if p.group_code == g.code),
                        key=lambda p: (p.level, p.code),
                    )
                ),
                employees=coverage.get(g.code, (0, 0))[0],
                covered_persons=coverage.get(g.code, (0, 0))[1],
            )
            for g in scope.visible_groups(contract)
        )
        return CompanySheet(
            contract_number=contract.number,
            employer_name=employer.name,
            siren=None if employer.siren is None else str(employer.siren),
            siret=None if employer.siret is None else str(employer.siret),
            address=() if employer.address is None else employer.address.postal_lines(),
            email=None if employer.email is None else str(employer.email),
            effective_date=contract.effective_date,
            end_date=contract.end_date,
            groups=groups,
            on=day,
        )
