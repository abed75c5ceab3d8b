"""Back-office use cases: set up employers, contracts, groups, products and the principal correspondent.

These are management's tools (no correspondent scope applies); the employer space's use cases are in
:mod:`mutuelle_core.contracts.employer_space`.

>>> import datetime as dt
>>> from mutuelle_core.contracts.back_office import EmployerSetup, ContractSetup, GroupSetup, ProductSetup
>>> setup = ContractSetup(number="M1000304", employer_id="emp-1", kind="health", regime="private",
...     effective_date=dt.date(2019, 9, 1),
...     groups=(GroupSetup(code="A2", category="A", label="Actifs"),),
...     products=(ProductSetup(code="ADMR61-B", label="Admr61 Base Seule Actif", level=0, group_code="A2",
...                            start_date=dt.date(2019, 9, 1)),))
>>> setup.build().products[0].label
'Admr61 Base Seule Actif'
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import TypeVar

import attrs

from mutuelle_core.contracts.contract import (
    AssuredGroup,
    CollectiveContract,
    ContractKind,
    ContractSettings,
    GroupCategory,
    Product,
    ProductLevel,
    Regime,
)
from mutuelle_core.contracts.correspondent import (
    AccessScope,
    ContractAccess,
    Correspondent,
    CorrespondentRole,
)
from mutuelle_core.contracts.employer import EMPLOYER_NAME_EMPTY, Employer
from mutuelle_core.contracts.notifications import activation_message
from mutuelle_core.errors import ErrorCollector, error_code
from mutuelle_core.services import Services
from mutuelle_core.values.company import Siren, Siret
from mutuelle_core.values.identity import Email, PersonName, PostalAddress

E = TypeVar("E", bound=enum.Enum)

__all__ = [
    "ContractSetup",
    "EmployerSetup",
    "GroupSetup",
    "PrincipalSetup",
    "ProductSetup",
    "add_product",
    "change_contract_settings",
    "create_principal_correspondent",
    "radiate_product",
    "set_up_contract",
    "set_up_employer",
]

EMPLOYER_UNKNOWN = error_code("employer.unknown", "L'entreprise {employer_id} n'existe pas.")
CONTRACT_EXISTS = error_code("contract.duplicate", "Le contrat {number} existe déjà.")
EMPLOYER_EXISTS = error_code("employer.duplicate", "L'entreprise {employer_id} existe déjà.")
CONTRACT_NOT_OF_EMPLOYER = error_code(
    "correspondent.contract_not_of_employer", "Ces contrats n'appartiennent pas à l'entreprise : {numbers}."
)
ENUM_INVALID = error_code(
    "field.invalid_choice", "Valeur « {value} » non reconnue ; valeurs possibles : {choices}."
)


@attrs.frozen(kw_only=True)
class EmployerSetup:
    """An employer as management enters it (raw text is validated all at once)."""

    employer_id: str
    name: str
    siren: str | None = None
    siret: str | None = None
    address_lines: tuple[str, ...] = ()
    postal_code: str | None = None
    city: str | None = None
    country: str = "FR"
    email: str | None = None

    def build(self) -> Employer:
        """The validated :class:`Employer` (every problem reported at once)."""
        errors = ErrorCollector()
        siren = errors.capture("siren", Siren.parse, self.siren) if self.siren else None
        siret = errors.capture("siret", Siret.parse, self.siret) if self.siret else None
        email = errors.capture("email", Email.parse, self.email) if self.email else None
        address = None
        if self.address_lines or self.postal_code or self.city:
            address = errors.capture(
                "address",
                PostalAddress.parse,
                self.address_lines,
                self.postal_code or "",
                self.city or "",
                self.country,
            )
        if not " ".join(self.name.split()):
            errors.add(EMPLOYER_NAME_EMPTY("name"))
        employer = None
        if not errors:
            employer = errors.capture(
                None,
                Employer.create,
                employer_id=self.employer_id,
                name=self.name,
                siren=siren,
                siret=siret,
                address=address,
                email=email,
            )
        errors.raise_if_any()
        assert employer is not None
        return employer


@attrs.frozen(kw_only=True)
class GroupSetup:
    """An assured group to create."""

    code: str
    category: str
    label: str
    population: str | None = None


@attrs.frozen(kw_only=True)
class ProductSetup:
    """A product to create."""

    code: str
    label: str
    level: int
    group_code: str
    start_date: dt.date
    radiation_date: dt.date | None = None

    def build(self) -> Product:
        """The :class:`Product`."""
        return Product(
            code=self.code,
            label=self.label,
            level=_choice(ProductLevel, self.level, "level"),
            group_code=self.group_code,
            start_date=self.start_date,
            radiation_date=self.radiation_date,
        )


def _choice(enum_cls: type[E], value: object, field: str) -> E:
    try:
        return enum_cls(value)
    except ValueError:
        choices = ", ".join(str(m.value) for m in enum_cls)
        raise ENUM_INVALID(field, value=value, choices=choices) from None


@attrs.frozen(kw_only=True)
class ContractSetup:
    """A whole contract with its groups and products, as a setup file describes it."""

    number: str
    employer_id: str
    kind: str
    regime: str
    effective_date: dt.date
    end_date: dt.date | None = None
    settings: ContractSettings | None = None
    groups: tuple[GroupSetup, ...] = ()
    products: tuple[ProductSetup, ...] = ()

    def build(self) -> CollectiveContract:
        """The validated contract; every problem reported at once, with the path of its field."""
        errors = ErrorCollector()
        kind = errors.capture("kind", _choice, ContractKind, self.kind, "kind")
        regime = errors.capture("regime", _choice, Regime, self.regime, "regime")
        contract: CollectiveContract | None = None
        if kind is not None and regime is not None:
            contract = errors.capture(
                None,
                CollectiveContract.create,
                number=self.number,
                employer_id=self.employer_id,
                kind=kind,
                regime=regime,
                effective_date=self.effective_date,
                end_date=self.end_date,
                settings=self.settings,
            )
        for i, g in enumerate(self.groups):
            category = errors.capture(f"groups[{i}].category", _choice, GroupCategory, g.category, "category")
            if category is None:
                continue
            group = errors.capture(
                f"groups[{i}]",
                AssuredGroup,
                code=g.code,
                category=category,
                label=g.label,
                population=g.population,
            )
            if contract is not None and group is not None:
                contract = errors.capture(f"groups[{i}]", contract.add_group, group) or contract
        for i, p in enumerate(self.products):
            product = errors.capture(f"products[{i}]", p.build)
            if contract is not None and product is not None:
                contract = errors.capture(f"products[{i}]", contract.add_product, product) or contract
        errors.raise_if_any()
        assert contract is not None
        return contract


@attrs.frozen(kw_only=True)
class PrincipalSetup:
    """The employer's principal correspondent, created by management."""

    employer_id: str
    login: str
    birth_name: str
    first_names: str
    email: str
    contracts: tuple[str, ...]


def set_up_employer(svc: Services, setup: EmployerSetup) -> Employer:
    """Create an employer."""
    employer = setup.build()
    with svc.uow() as uow:
        if uow.employers.find(employer.employer_id) is not None:
            raise EMPLOYER_EXISTS("employer_id", employer_id=employer.employer_id)
        stored = uow.employers.add(employer)
        uow.commit()
    return stored


def set_up_contract(svc: Services, setup: ContractSetup) -> CollectiveContract:
    """Create a contract with its groups and products, all or nothing."""
    contract = setup.build()
    contract = attrs.evolve(contract, pending_events=())
    with svc.uow() as uow:
        if uow.employers.find(contract.employer_id) is None:
            raise EMPLOYER_UNKNOWN("employer_id", employer_id=contract.employer_id)
        if uow.contracts.find(contract.number) is not None:
            raise CONTRACT_EXISTS("number", number=contract.number)
        stored = uow.contracts.add(contract)
        uow.commit()
    return stored


def add_product(svc: Services, number: str, product: ProductSetup) -> CollectiveContract:
    """Add a product to a contract (enforcing the contract's dates and one base per group)."""
    built = product.build()
    with svc.uow() as uow:
        contract = uow.contracts.get(number)
        stored = uow.contracts.update(contract.add_product(built, at=svc.clock.now()))
        uow.commit()
    return stored


def radiate_product(svc: Services, number: str, product_code: str, on: dt.date) -> CollectiveContract:
    """Set a product's radiation date."""
    with svc.uow() as uow:
        contract = uow.contracts.get(number)
        stored = uow.contracts.update(contract.radiate_product(product_code, on, at=svc.clock.now()))
        uow.commit()
    return stored


def change_contract_settings(svc: Services, number: str, settings: ContractSettings) -> CollectiveContract:
    """Replace a contract's settings."""
    with svc.uow() as uow:
        contract = uow.contracts.get(number)
        stored = uow.contracts.update(contract.change_settings(settings, at=svc.clock.now()))
        uow.commit()
    return stored


def create_principal_correspondent(svc: Services, setup: PrincipalSetup) -> Correspondent:
    """Create the employer's principal correspondent and e-mail its activation link."""
    errors = ErrorCollector()
    name = errors.capture("name", PersonName.parse, setup.birth_name, setup.first_names)
    email = errors.capture("email", Email.parse, setup.email)
    errors.raise_if_any()
    assert name is not None and email is not None
    token = svc.tokens.new_token()
    now = svc.clock.now()
    with svc.uow() as uow:
        employer = uow.employers.find(setup.employer_id)
        if employer is None:
            raise EMPLOYER_UNKNOWN("employer_id", employer_id=setup.employer_id)
        owned = {c.number for c in uow.contracts.list_for_employer(employer.employer_id)}
        foreign = [n for n in setup.contracts if n not in owned]
        if foreign:
            raise CONTRACT_NOT_OF_EMPLOYER("contracts", numbers=foreign)
        correspondent = Correspondent.register(
            correspondent_id=svc.ids.new_id(),
            employer_id=employer.employer_id,
            login=setup.login,
            name=name,
            email=email,
            role=CorrespondentRole.PRINCIPAL,
            scope=AccessScope.of(*(ContractAccess(n) for n in setup.contracts)),
            token=token,
            now=now,
        )
        stored = uow.correspondents.add(correspondent)
        uow.outbox.add(activation_message(stored, employer, svc.links.correspondent_activation(token)))
        uow.commit()
    return stored
