"""The collective contract, its assured groups and its products (seed 000, "Fiche entreprise").

A collective contract (``contrat collectif``, e.g. ``M1000304``) is subscribed by an employer, is of
kind health (santé) or provident (prévoyance), and belongs to a regime: the private sector, or the
State civil service's protection sociale complémentaire (PSC), which drives the dispense motives and
the employer-share rules. It has one or more assured groups (``A2 - Actifs``; category A actif,
P portabilité, E Evin, M maintien) and, per group, products: one compulsory base and options
(``Admr61 Base Seule Actif``, ``Base+option 1``, ``Base+option 2``).

The contract is one aggregate with its groups and products, so that it can enforce:

* group codes are unique in the contract; product codes are unique in the contract;
* a group has at most one base product in force at any date, and options only beside a base;
* a product starts on or after the contract's effective date and is radiated no later than its end.

Where the law leaves a choice to the contract, :class:`ContractSettings` holds it, with DOMAIN.md's
defaults.

>>> import datetime as dt
>>> from mutuelle_core.contracts.contract import (
...     CollectiveContract, AssuredGroup, GroupCategory, Product, ProductLevel, ContractKind, Regime)
>>> contract = CollectiveContract.create(
...     number="M1000304", employer_id="emp-1", kind=ContractKind.HEALTH, regime=Regime.PRIVATE,
...     effective_date=dt.date(2019, 9, 1))
>>> contract = contract.add_group(AssuredGroup(code="A2", category=GroupCategory.ACTIVE, label="Actifs"))
>>> contract = contract.add_product(Product(code="ADMR61-B", label="Admr61 Base Seule Actif",
...     level=ProductLevel.BASE, group_code="A2", start_date=dt.date(2019, 9, 1)))
>>> [p.label for p in contract.products_in_force("A2", dt.date(2020, 1, 1))]
['Admr61 Base Seule Actif']
>>> contract.settings.invitation_validity_months, contract.settings.auto_enrol_delay_days
(1, None)
"""

from __future__ import annotations

import datetime as dt
import enum
import re

import attrs

from mutuelle_core.contracts.price_grid import PriceLine
from mutuelle_core.errors import ErrorCollector, error_code
from mutuelle_core.events import DomainEvent
from mutuelle_core.i18n import message
from mutuelle_core.values.dates import DateRange
from mutuelle_core.values.identity import Email
from mutuelle_core.values.organisme import DEFAULT_ORGANISME_CODE, OrganismeCode

__all__ = [
    "AssuredGroup",
    "CollectiveContract",
    "ContractKind",
    "ContractSettings",
    "GroupCategory",
    "ProductLevel",
    "ProrataRule",
    "Regime",
]

CONTRACT_INVALID_NUMBER = error_code(
    "contract.invalid_number", "Le numéro de contrat doit comporter 3 à 20 lettres majuscules ou chiffres."
)
CONTRACT_END_BEFORE_START = error_code(
    "contract.end_before_effective_date", "La date de fin du contrat précède sa date d'effet."
)
GROUP_INVALID_CODE = error_code(
    "group.invalid_code",
    "Le code du groupe d'assurés doit commencer par sa catégorie (A, P, E ou M) : {code}.",
)
GROUP_DUPLICATE = error_code("group.duplicate", "Le groupe d'assurés {code} existe déjà dans ce contrat.")
GROUP_UNKNOWN = error_code("group.unknown", "Le groupe d'assurés {code} n'existe pas dans ce contrat.")
PRODUCT_DUPLICATE = error_code("product.duplicate", "Le produit {code} existe déjà dans ce contrat.")
PRODUCT_UNKNOWN = error_code("product.unknown", "Le produit {code} n'existe pas dans ce contrat.")
PRODUCT_OUTSIDE_CONTRACT = error_code(
    "product.outside_contract_dates",
    "Les dates du produit {code} doivent être comprises dans celles du contrat ({start} - {end}).",
)
PRODUCT_SECOND_BASE = error_code(
    "product.second_base",
    "Le groupe {group} a déjà un produit de base en vigueur sur cette période ({other}).",
)
PRODUCT_OPTION_WITHOUT_BASE = error_code(
    "product.option_without_base",
    "L'option {code} ne peut exister sans produit de base en vigueur dans le groupe {group}.",
)
PRODUCT_RADIATION_BEFORE_START = error_code(
    "product.radiation_before_start",
    "La date de radiation du produit {code} précède sa date de début d'effet.",
)
SETTINGS_INVALID = error_code("contract.settings_invalid", "Paramètre de contrat invalide : {setting}.")

_NUMBER = re.compile(r"[A-Z0-9]{3,20}")
_GROUP_CODE = re.compile(r"[APEM][A-Z0-9]{0,9}")


class ContractKind(enum.Enum):
    """Health (complémentaire santé) or provident (prévoyance) cover."""

    HEALTH = "health"
    PROVIDENT = "provident"

    @property
    def label(self) -> str:
        """The French label."""
        return _KIND_LABELS[self]


_KIND_LABELS = {ContractKind.HEALTH: message("Santé"), ContractKind.PROVIDENT: message("Prévoyance")}


class Regime(enum.Enum):
    """The employer's regime: it drives dispense motives, employer-share rules and enrolment delays."""

    PRIVATE = "private"
    """Private sector (Code de la sécurité sociale, L911-7, R242-1-6)."""
    STATE_PSC = "state_psc"
    """State civil service protection sociale complémentaire (décret 2022-633)."""


class GroupCategory(enum.Enum):
    """The category letter of an assured group (seed 000: "Rappel Groupe Assurés")."""

    ACTIVE = "A"
    PORTABILITY = "P"
    EVIN = "E"
    MAINTIEN = "M"

    @property
    def label(self) -> str:
        """The French label shown in the employer space."""
        return _CATEGORY_LABELS[self]


_CATEGORY_LABELS = {
    GroupCategory.ACTIVE: message("Actif"),
    GroupCategory.PORTABILITY: message("Portabilité"),
    GroupCategory.EVIN: message("Evin"),
    GroupCategory.MAINTIEN: message("Maintien"),
}


class ProductLevel(enum.IntEnum):
    """Base cover (compulsory) and the options chosen on top of it."""

    BASE = 0
    OPTION_1 = 1
    OPTION_2 = 2
    OPTION_3 = 3

    @property
    def label(self) -> str:
        """``Base``, ``Base+option 1``..."""
        return "Base" if self is ProductLevel.BASE else f"Base+option {int(self)}"


class ProrataRule(enum.Enum):
    """How a partial month is charged."""

    WHOLE_MONTH = "whole_month"
    """A month started is charged whole (cover starts and ends on month boundaries)."""
    DAYS = "days"
    """A partial month is charged by the number of days covered over the days of the month."""


@attrs.frozen(kw_only=True)
class ContractSettings:
    """The choices the law leaves to each contract, with the defaults of DOMAIN.md.

    Attributes:
        invitation_validity_months: how long an affiliation link stays valid (1 month).
        reminder_after_days: days without action before an employee may be reminded (8).
        auto_enrol_delay_days: days after the invitation after which the employee is enrolled in the
            base cover automatically (21 on PSC contracts; ``None``: never).
        dispense_request_email: the employer's address that receives dispense requests.
        allowed_dispense_motives: values of the R242-1-6 dispense motives allowed by the founding act.
        price_grid: the member's monthly prices per formula and person category.
        notify_on_completion: e-mail the employer when an employee finishes affiliation.
        child_age_limit: a child is covered until this age (exclusive).
        student_age_limit: extended limit for students and apprentices.
        disabled_child_without_limit: a disabled child is covered whatever its age.
        default_organisme_code: used when the member does not know it (``91 919 0000``).
        prorata: how partial months are charged.
        debit_day: day of the month direct debits are collected (1 to 28).
        free_from_child_rank: children from this rank on are free (``None``: all children pay).
        portability_proof_interval_months: the former employee proves unemployment benefits every so
            many months during portability (``None``: no periodic proof).
    """

    invitation_validity_months: int = 1
    reminder_after_days: int = 8
    auto_enrol_delay_days: int | None = None
    dispense_request_email: Email | None = None
    notify_on_completion: bool = False
    child_age_limit: int = 21
    student_age_limit: int = 26
    disabled_child_without_limit: bool = True
    default_organisme_code: OrganismeCode = DEFAULT_ORGANISME_CODE
    prorata: ProrataRule = ProrataRule.WHOLE_MONTH
    debit_day: int = 5
    free_from_child_rank: int | None = None
    portability_proof_interval_months: int | None = None
    allowed_dispense_motives: frozenset[str] | None = None
    """Private-sector motives of R242-1-6 the founding act allows (``None``: all of them)."""
    price_grid: tuple[PriceLine, ...] = ()
    """What the member pays each month per formula and person (quotes in the journey)."""

    def __attrs_post_init__(self) -> None:
        errors = ErrorCollector()
        checks = {
            "invitation_validity_months": 1 <= self.invitation_validity_months <= 12,
            "reminder_after_days": 1 <= self.reminder_after_days <= 60,
            "auto_enrol_delay_days": self.auto_enrol_delay_days is None
            or 1 <= self.auto_enrol_delay_days <= 366,
            "child_age_limit": 1 <= self.child_age_limit <= self.student_age_limit <= 30,
            "debit_day": 1 <= self.debit_day <= 28,
            "free_from_child_rank": self.free_from_child_rank is None or self.free_from_child_rank >= 1,
            "portability_proof_interval_months": self.portability_proof_interval_months is None
            or 1 <= self.portability_proof_interval_months <= 12,
        }
        for name, ok in checks.items():
            if not ok:
                errors.add(SETTINGS_INVALID(name, setting=name))
        errors.raise_if_any()

    @classmethod
    def defaults_for(cls, regime: Regime) -> ContractSettings:
        """The defaults for a regime: PSC contracts enrol automatically after 21 days (MENJ contract)."""
        if regime is Regime.STATE_PSC:
            return cls(auto_enrol_delay_days=21)
        return cls()


@attrs.frozen(kw_only=True)
class AssuredGroup:
    """An assured group of a contract (``A2 - Actifs``): its code starts with its category letter."""

    code: str
    category: GroupCategory
    label: str
    population: str | None = None
    """The population it gathers when the contract distinguishes them (``titulaire``, ``assistant familial``)."""

    def __attrs_post_init__(self) -> None:
        if not _GROUP_CODE.fullmatch(self.code) or self.code[0] != self.category.value:
            raise GROUP_INVALID_CODE("code", code=self.code)

    @property
    def display(self) -> str:
        """``A2 - Actifs``, as the employer space shows it."""
        return f"{self.code} - {self.label}"


@attrs.frozen(kw_only=True)
class Product:
    """A product (garantie) offered to one group: base or option, with its start and radiation dates."""

    code: str
    label: str
    level: ProductLevel
    group_code: str
    start_date: dt.date
    radiation_date: dt.date | None = None

    def __attrs_post_init__(self) -> None:
        if self.radiation_date is not None and self.radiation_date < self.start_date:
            raise PRODUCT_RADIATION_BEFORE_START("radiation_date", code=self.code)

    @property
    def period(self) -> DateRange:
        """The days the product is in force (radiation date included as the last day)."""
        return DateRange(self.start_date, self.radiation_date)

    def in_force(self, on: dt.date) -> bool:
        """True when the product can be subscribed on ``on``."""
        return self.period.contains(on)


@attrs.frozen(kw_only=True)
class ContractChanged(DomainEvent):
    """A contract's groups, products or settings changed."""

    contract_number: str
    change: str


def _check_number(_inst: object, _attr: object, value: str) -> None:
    if not _NUMBER.fullmatch(value):
        raise CONTRACT_INVALID_NUMBER("number")


@attrs.frozen(kw_only=True)
class CollectiveContract:
    """A collective contract with its groups and products (an aggregate: change it through its methods)."""

    number: str = attrs.field(validator=_check_number)
    employer_id: str
    kind: ContractKind
    regime: Regime
    effective_date: dt.date
    end_date: dt.date | None = None
    settings: ContractSettings = attrs.field()
    groups: tuple[AssuredGroup, ...] = ()
    products: tuple[Product, ...] = ()
    version: int = 0
    pending_events: tuple[DomainEvent, ...] = attrs.field(default=(), eq=False, repr=False)

    @settings.default
    def _default_settings(self) -> ContractSettings:
        return ContractSettings.defaults_for(self.regime)

    def __attrs_post_init__(self) -> None:
        if self.end_date is not None and self.end_date < self.effective_date:
            raise CONTRACT_END_BEFORE_START("end_date")

    @classmethod
    def create(
        cls,
        *,
        number: str,
        employer_id: str,
        kind: ContractKind,
        regime: Regime,
        effective_date: dt.date,
        end_date: dt.date | None = None,
        settings: ContractSettings | None = None,
    ) -> CollectiveContract:
        """A new contract with no group yet; settings default to the regime's."""
        return cls(
            number=number,
            employer_id=employer_id,
            kind=kind,
            regime=regime,
            effective_date=effective_date,
            end_date=end_date,
            settings=settings or ContractSettings.defaults_for(regime),
        )

    @property
    def period(self) -> DateRange:
        """The days the contract is in force."""
        return DateRange(self.effective_date, self.end_date)

    @property
    def is_psc(self) -> bool:
        """True for a State civil service (PSC) contract."""
        return self.regime is Regime.STATE_PSC

    def in_force(self, on: dt.date) -> bool:
        """True when the contract covers ``on``."""
        return self.period.contains(on)

    def group(self, code: str) -> AssuredGroup:
        """The group with this code (``group.unknown`` otherwise)."""
        for g in self.groups:
            if g.code == code:
                return g
        raise GROUP_UNKNOWN("group_code", code=code)

    def groups_of(self, category: GroupCategory) -> tuple[AssuredGroup, ...]:
        """The groups of one category (e.g. the P groups receiving portability members)."""
        return tuple(g for g in self.groups if g.category is category)

    def product(self, code: str) -> Product:
        """The product with this code (``product.unknown`` otherwise)."""
        for p in self.products:
            if p.code == code:
                return p
        raise PRODUCT_UNKNOWN("product_code", code=code)

    def products_in_force(self, group_code: str, on: dt.date) -> tuple[Product, ...]:
        """The products of a group that can be subscribed on ``on``, base first."""
        self.group(group_code)
        return tuple(
            sorted(
                (p for p in self.products if p.group_code == group_code and p.in_force(on)),
                key=lambda p: (p.level, p.code),
            )
        )

    def base_product(self, group_code: str, on: dt.date) -> Product | None:
        """The base product of a group in force on ``on``."""
        for p in self.products_in_force(group_code, on):
            if p.level is ProductLevel.BASE:
                return p
        return None

    def add_group(self, group: AssuredGroup, *, at: dt.datetime | None = None) -> CollectiveContract:
        """Add an assured group (codes are unique in the contract)."""
        if any(g.code == group.code for g in self.groups):
            raise GROUP_DUPLICATE("code", code=group.code)
        return self._changed(f"group {group.code} added", at, groups=(*self.groups, group))

    def add_product(self, product: Product, *, at: dt.datetime | None = None) -> CollectiveContract:
        """Add a product, enforcing the contract's dates and one base per group at any date."""
        if any(p.code == product.code for p in self.products):
            raise PRODUCT_DUPLICATE("code", code=product.code)
        self._check_product(product, list(self.products))
        return self._changed(f"product {product.code} added", at, products=(*self.products, product))

    def radiate_product(self, code: str, on: dt.date, *, at: dt.datetime | None = None) -> CollectiveContract:
        """Set a product's radiation date (the last day it is in force)."""
        current = self.product(code)
        updated = attrs.evolve(current, radiation_date=on)
        others = [p for p in self.products if p.code != code]
        self._check_product(updated, others)
        for option in others:
            if option.group_code == current.group_code and option.level is not ProductLevel.BASE:
                self._check_option_has_base(option, [*others, updated])
        products = tuple(updated if p.code == code else p for p in self.products)
        return self._changed(f"product {code} radiated", at, products=products)

    def change_settings(
        self, settings: ContractSettings, *, at: dt.datetime | None = None
    ) -> CollectiveContract:
        """Replace the contract's settings."""
        return self._changed("settings changed", at, settings=settings)

    def _check_product(self, product: Product, others: list[Product]) -> None:
        self.group(product.group_code)
        end = self.end_date
        product_end = product.radiation_date
        inside = product.start_date >= self.effective_date and (
            end is None or (product_end is not None and product_end <= end)
        )
        if not inside:
            raise PRODUCT_OUTSIDE_CONTRACT(
                "start_date", code=product.code, start=self.effective_date, end=end or "…"
            )
        if product.level is ProductLevel.BASE:
            for other in others:
                if (
                    other.group_code == product.group_code
                    and other.level is ProductLevel.BASE
                    and other.period.overlaps(product.period)
                ):
                    raise PRODUCT_SECOND_BASE("level", group=product.group_code, other=other.code)
        else:
            self._check_option_has_base(product, others)

    @staticmethod
    def _check_option_has_base(option: Product, products: list[Product]) -> None:
        bases = [p for p in products if p.group_code == option.group_code and p.level is ProductLevel.BASE]
        covered = any(
            b.start_date <= option.start_date
            and (
                b.radiation_date is None
                or (option.radiation_date is not None and option.radiation_date <= b.radiation_date)
            )
            for b in bases
        )
        if not covered:
            raise PRODUCT_OPTION_WITHOUT_BASE("level", code=option.code, group=option.group_code)

    def _changed(self, change: str, at: dt.datetime | None, **fields: object) -> CollectiveContract:
        events = self.pending_events
        if at is not None:
            events = (*events, ContractChanged(occurred_at=at, contract_number=self.number, change=change))
        return attrs.evolve(self, pending_events=events, **fields)  # type: ignore[arg-type]
