"""The employee's affiliation journey (seed 002), step by step, each step validated and saved.

Discovery: 1) social security regime, 2) who to cover (spouse? children? birth dates), 3) formula (base,
option 1, option 2) with its monthly price. Subscription: 4) personal data and NIR, organisme code,
télétransmission; 5) each beneficiary's details; 6) contact data and consents; 7) IBAN and holder;
then the electronic signature of the BIA, the SEPA mandate and the notice.

Each ``*Form`` holds what the user typed (strings) and ``validate(...)`` returns the step's value or
raises :class:`~mutuelle_core.errors.ValidationFailed` with **every** problem of the step.
:class:`Journey` holds the validated steps; it is saved after each step, so the journey resumes where
the employee stopped (:attr:`Journey.next_step`).

>>> import datetime as dt
>>> from mutuelle_core.affiliation.journey import HouseholdForm, ChildForm, JourneyRules
>>> rules = JourneyRules(psc=True, child_age_limit=21, student_age_limit=26, disabled_without_limit=True,
...                      effective_date=dt.date(2026, 5, 1))
>>> HouseholdForm(spouse=True, spouse_birth_date="09/10/1972", spouse_state_civil_servant=True,
...     children=(ChildForm(birth_date="09/09/2019"),)).validate(rules)
Traceback (most recent call last):
...
mutuelle_core.errors.ValidationFailed: [validation.failed] La saisie comporte 1 erreur(s).
  - [journey.spouse_state_civil_servant] (spouse) Votre conjoint(e) fonctionnaire d'État est couvert(e) par la PSC de son ministère : ne l'ajoutez pas comme ayant droit.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Sequence

import attrs

from mutuelle_core.contracts.contract import ProductLevel
from mutuelle_core.errors import REQUIRED, ErrorCollector, error_code
from mutuelle_core.i18n import message
from mutuelle_core.identity_check import parse_birth_date
from mutuelle_core.values.bank import BankAccount
from mutuelle_core.values.dates import age_on
from mutuelle_core.values.identity import Civility, Email, PersonName, Phone, PostalAddress
from mutuelle_core.values.nir import NIR
from mutuelle_core.values.organisme import OrganismeCode

__all__ = [
    "BankDetails",
    "BankForm",
    "BeneficiaryDetails",
    "BeneficiaryForm",
    "BeneficiaryKind",
    "ChildForm",
    "ChildIntent",
    "ContactDetails",
    "ContactForm",
    "FormulaChoice",
    "Household",
    "HouseholdForm",
    "Journey",
    "JourneyRules",
    "JourneyStep",
    "PersonalDetails",
    "PersonalForm",
    "SocialRegime",
    "SpouseIntent",
]

REGIME_NOT_ELIGIBLE = error_code(
    "journey.regime_not_eligible",
    "Le régime de protection sociale de Polynésie française (CPS) n'ouvre pas droit à la PSC.",
)
NOT_FRENCH_SOCIAL_SECURITY = error_code(
    "journey.not_french_social_security",
    "Une personne qui n'est pas affiliée à la Sécurité sociale française ne peut pas être couverte.",
)
SPOUSE_STATE_CIVIL_SERVANT = error_code(
    "journey.spouse_state_civil_servant",
    "Votre conjoint(e) fonctionnaire d'État est couvert(e) par la PSC de son ministère : ne l'ajoutez pas "
    "comme ayant droit.",
)
CHILD_TOO_OLD = error_code(
    "journey.child_too_old",
    "Cet enfant a {age} ans à la date d'effet : la limite du contrat est {limit} ans.",
)
TOO_MANY_CHILDREN = error_code("journey.too_many_children", "Vous pouvez déclarer au plus {limit} enfants.")
HOUSEHOLD_MISMATCH = error_code(
    "journey.household_mismatch",
    "Les bénéficiaires saisis ne correspondent pas au foyer déclaré ({expected}).",
)
BIRTH_RANK_REQUIRED = error_code(
    "beneficiary.birth_rank_required",
    "Plusieurs enfants rattachés à votre NIR sont nés le {birth_date} : indiquez le rang de naissance de chacun.",
)
BIRTH_RANK_DUPLICATE = error_code(
    "beneficiary.birth_rank_duplicate",
    "Deux enfants nés le {birth_date} ont le même rang de naissance ({rank}).",
)
ATTACHED_SPOUSE = error_code(
    "beneficiary.spouse_needs_own_nir", "Le conjoint doit avoir son propre numéro de sécurité sociale."
)
STEP_ORDER = error_code("journey.step_not_available", "Terminez d'abord l'étape « {step} » du parcours.")
HOLDER_REQUIRED = error_code("bank.holder_required", "Indiquez le nom du ou des titulaires du compte.")
INVALID_BOOL = error_code(
    "field.invalid_choice", "Valeur « {value} » non reconnue ; valeurs possibles : {choices}."
)

MAX_CHILDREN = 12


class SocialRegime(enum.Enum):
    """The social security regime a person depends on (step 1 and each beneficiary)."""

    GENERAL = "general"
    ALSACE_MOSELLE = "alsace_moselle"
    AGRICULTURAL = "agricultural"
    OTHER_FRENCH = "other_french"
    POLYNESIA_CPS = "polynesia_cps"
    FOREIGN = "foreign"

    @property
    def is_french_social_security(self) -> bool:
        """True for the French social security regimes (général, Alsace-Moselle, MSA, special)."""
        return self not in {SocialRegime.POLYNESIA_CPS, SocialRegime.FOREIGN}

    @property
    def label(self) -> str:
        """French label."""
        return _REGIME_LABELS[self]


_REGIME_LABELS = {
    SocialRegime.GENERAL: message("Régime général"),
    SocialRegime.ALSACE_MOSELLE: message("Régime local d'Alsace-Moselle"),
    SocialRegime.AGRICULTURAL: message("Régime agricole (MSA)"),
    SocialRegime.OTHER_FRENCH: message("Autre régime français"),
    SocialRegime.POLYNESIA_CPS: message("Caisse de prévoyance sociale de Polynésie française (CPS)"),
    SocialRegime.FOREIGN: message("Régime étranger"),
}


class JourneyStep(enum.Enum):
    """The steps, in order."""

    REGIME = "regime"
    HOUSEHOLD = "household"
    FORMULA = "formula"
    PERSONAL = "personal"
    BENEFICIARIES = "beneficiaries"
    CONTACT = "contact"
    BANK = "bank"
    SIGNATURE = "signature"
    DONE = "done"

    @property
    def label(self) -> str:
        """French label."""
        return _STEP_LABELS[self]


_STEP_LABELS = {
    JourneyStep.REGIME: message("Régime de Sécurité sociale"),
    JourneyStep.HOUSEHOLD: message("Bénéficiaires à couvrir"),
    JourneyStep.FORMULA: message("Formule santé"),
    JourneyStep.PERSONAL: message("Informations personnelles"),
    JourneyStep.BENEFICIARIES: message("Informations foyer"),
    JourneyStep.CONTACT: message("Moyens de contact"),
    JourneyStep.BANK: message("Coordonnées bancaires"),
    JourneyStep.SIGNATURE: message("Signature électronique"),
    JourneyStep.DONE: message("Confirmation"),
}


@attrs.frozen(kw_only=True)
class JourneyRules:
    """The contract facts the steps check against."""

    psc: bool
    child_age_limit: int
    student_age_limit: int
    disabled_without_limit: bool
    effective_date: dt.date


def _choice(errors: ErrorCollector, field: str, enum_cls: type[enum.Enum], value: str) -> enum.Enum | None:
    try:
        return enum_cls(value)
    except ValueError:
        errors.add(INVALID_BOOL(field, value=value, choices=", ".join(str(m.value) for m in enum_cls)))
        return None


# --- step 1 and 2: regime and household -----------------------------------------------------------


@attrs.frozen(kw_only=True)
class SpouseIntent:
    """The spouse / PACS partner / cohabitant to cover, as declared in step 2."""

    birth_date: dt.date
    regime: SocialRegime = SocialRegime.GENERAL


@attrs.frozen(kw_only=True)
class ChildIntent:
    """A child to cover, as declared in step 2."""

    birth_date: dt.date
    student_or_apprentice: bool = False
    disabled: bool = False
    regime: SocialRegime = SocialRegime.GENERAL


@attrs.frozen(kw_only=True)
class Household:
    """Who the employee covers: a spouse or not, and the children."""

    spouse: SpouseIntent | None = None
    children: tuple[ChildIntent, ...] = ()

    @property
    def description(self) -> str:
        """``conjoint + 2 enfant(s)``."""
        parts = (["conjoint"] if self.spouse else []) + (
            [f"{len(self.children)} enfant(s)"] if self.children else []
        )
        return " + ".join(parts) or "aucun bénéficiaire"


@attrs.frozen(kw_only=True)
class ChildForm:
    """A child as typed in step 2."""

    birth_date: str
    student_or_apprentice: bool = False
    disabled: bool = False
    regime: str = "general"


@attrs.frozen(kw_only=True)
class HouseholdForm:
    """Step 2 as typed: cover the spouse (birth date, regime, State civil servant?) and children."""

    spouse: bool = False
    spouse_birth_date: str = ""
    spouse_regime: str = "general"
    spouse_state_civil_servant: bool = False
    children: tuple[ChildForm, ...] = ()

    def validate(self, rules: JourneyRules) -> Household:
        """The validated household; every problem at once."""
        errors = ErrorCollector()
        spouse = None
        if self.spouse:
            birth = errors.capture("spouse.birth_date", parse_birth_date, self.spouse_birth_date)
            regime = _choice(errors, "spouse.regime", SocialRegime, self.spouse_regime)
            if self.spouse_state_civil_servant and rules.psc:
                errors.add(SPOUSE_STATE_CIVIL_SERVANT("spouse"))
            if isinstance(regime, SocialRegime) and not regime.is_french_social_security:
                errors.add(NOT_FRENCH_SOCIAL_SECURITY("spouse.regime"))
            if birth is not None and isinstance(regime, SocialRegime):
                spouse = SpouseIntent(birth_date=birth, regime=regime)
        if len(self.children) > MAX_CHILDREN:
            errors.add(TOO_MANY_CHILDREN("children", limit=MAX_CHILDREN))
        children = []
        for i, c in enumerate(self.children):
            field = f"children[{i}]"
            birth = errors.capture(f"{field}.birth_date", parse_birth_date, c.birth_date)
            regime = _choice(errors, f"{field}.regime", SocialRegime, c.regime)
            if isinstance(regime, SocialRegime) and not regime.is_french_social_security:
                errors.add(NOT_FRENCH_SOCIAL_SECURITY(f"{field}.regime"))
            if birth is None or not isinstance(regime, SocialRegime):
                continue
            child = ChildIntent(
                birth_date=birth,
                student_or_apprentice=c.student_or_apprentice,
                disabled=c.disabled,
                regime=regime,
            )
            _check_child_age(errors, field, child, rules)
            children.append(child)
        errors.raise_if_any()
        return Household(spouse=spouse, children=tuple(children))


def _check_child_age(errors: ErrorCollector, field: str, child: ChildIntent, rules: JourneyRules) -> None:
    if child.disabled and rules.disabled_without_limit:
        return
    limit = rules.student_age_limit if child.student_or_apprentice else rules.child_age_limit
    age = age_on(child.birth_date, max(rules.effective_date, child.birth_date))
    if age >= limit:
        errors.add(CHILD_TOO_OLD(f"{field}.birth_date", age=age, limit=limit))


# --- step 3: formula ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class FormulaChoice:
    """The formula chosen: base or an option (the product of that level in the employee's group)."""

    level: ProductLevel


# --- step 4: personal data ------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PersonalDetails:
    """The employee's identity, NIR and social security attachment."""

    civility: Civility
    name: PersonName
    birth_date: dt.date
    birth_country: str
    birth_city: str
    nir: NIR
    organisme: OrganismeCode
    teletransmission: bool


@attrs.frozen(kw_only=True)
class PersonalForm:
    """Step 4 as typed."""

    civility: str
    birth_name: str
    first_names: str
    birth_date: str
    nir: str
    usage_name: str = ""
    birth_country: str = "FR"
    birth_city: str = ""
    organisme_code: str = ""
    teletransmission: bool = True

    def validate(self, default_organisme: OrganismeCode) -> PersonalDetails:
        """Validated details; the NIR must match civilité and birth date; organisme defaults to the contract's."""
        errors = ErrorCollector()
        civility = errors.capture("civility", Civility.parse, self.civility)
        name = errors.capture(
            "name", PersonName.parse, self.birth_name, self.first_names, self.usage_name or None
        )
        birth = errors.capture("birth_date", parse_birth_date, self.birth_date)
        nir = errors.capture("nir", NIR.parse, self.nir) if self.nir.strip() else None
        if not self.nir.strip():
            errors.add(REQUIRED("nir"))
        if nir is not None:
            for e in nir.mismatches(sex=None if civility is None else civility.sex, birth_date=birth):
                errors.add(e, field="nir")
        organisme = (
            errors.capture("organisme_code", OrganismeCode.parse, self.organisme_code)
            if self.organisme_code.strip()
            else default_organisme
        )
        if not self.birth_city.strip():
            errors.add(REQUIRED("birth_city"))
        errors.raise_if_any()
        assert civility is not None and name is not None and birth is not None
        assert nir is not None and organisme is not None
        return PersonalDetails(
            civility=civility,
            name=name,
            birth_date=birth,
            birth_country=self.birth_country.strip().upper() or "FR",
            birth_city=" ".join(self.birth_city.split()).upper(),
            nir=nir,
            organisme=organisme,
            teletransmission=self.teletransmission,
        )


# --- step 5: beneficiaries -------------------------------------------------------------------------


class BeneficiaryKind(enum.Enum):
    """Spouse (married, PACS partner or cohabitant), child, or other adult."""

    SPOUSE = "spouse"
    CHILD = "child"
    OTHER_ADULT = "other_adult"


@attrs.frozen(kw_only=True)
class BeneficiaryDetails:
    """A covered person: own NIR, or attached to the insured's NIR with a rang de naissance."""

    kind: BeneficiaryKind
    civility: Civility
    name: PersonName
    birth_date: dt.date
    birth_country: str
    birth_city: str
    regime: SocialRegime
    nir: NIR | None
    organisme: OrganismeCode
    birth_rank: int | None = None

    @property
    def attached_to_insured(self) -> bool:
        """True when covered under the insured's NIR (no NIR of its own)."""
        return self.nir is None


@attrs.frozen(kw_only=True)
class BeneficiaryForm:
    """A beneficiary as typed (step 5, "Informations foyer")."""

    kind: str
    civility: str
    birth_name: str
    first_names: str
    birth_date: str
    usage_name: str = ""
    birth_country: str = "FR"
    birth_city: str = ""
    regime: str = "general"
    nir: str = ""
    organisme_code: str = ""
    birth_rank: int | None = None

    def validate(self, default_organisme: OrganismeCode) -> BeneficiaryDetails:
        """One validated beneficiary (its own checks; the household checks are in :func:`check_beneficiaries`)."""
        errors = ErrorCollector()
        kind = _choice(errors, "kind", BeneficiaryKind, self.kind)
        civility = errors.capture("civility", Civility.parse, self.civility)
        name = errors.capture(
            "name", PersonName.parse, self.birth_name, self.first_names, self.usage_name or None
        )
        birth = errors.capture("birth_date", parse_birth_date, self.birth_date)
        regime = _choice(errors, "regime", SocialRegime, self.regime)
        if isinstance(regime, SocialRegime) and not regime.is_french_social_security:
            errors.add(NOT_FRENCH_SOCIAL_SECURITY("regime"))
        nir = None
        if self.nir.strip():
            nir = errors.capture("nir", NIR.parse, self.nir)
            if nir is not None:
                for e in nir.mismatches(sex=None if civility is None else civility.sex, birth_date=birth):
                    errors.add(e, field="nir")
        elif kind is BeneficiaryKind.SPOUSE or kind is BeneficiaryKind.OTHER_ADULT:
            errors.add(ATTACHED_SPOUSE("nir"))
        organisme = (
            errors.capture("organisme_code", OrganismeCode.parse, self.organisme_code)
            if self.organisme_code.strip()
            else default_organisme
        )
        errors.raise_if_any()
        assert isinstance(kind, BeneficiaryKind) and isinstance(regime, SocialRegime)
        assert civility is not None and name is not None and birth is not None and organisme is not None
        return BeneficiaryDetails(
            kind=kind,
            civility=civility,
            name=name,
            birth_date=birth,
            birth_country=self.birth_country.strip().upper() or "FR",
            birth_city=" ".join(self.birth_city.split()).upper(),
            regime=regime,
            nir=nir,
            organisme=organisme,
            birth_rank=self.birth_rank,
        )


def check_birth_ranks(beneficiaries: Sequence[BeneficiaryDetails], field: str = "beneficiaries") -> None:
    """Children attached to the insured's NIR and born the same day need distinct ranks (twins: 1 and 2).

    A lone child attached on its birth date needs no rank. Raises ``beneficiary.birth_rank_required``
    or ``beneficiary.birth_rank_duplicate``.
    """
    errors = ErrorCollector()
    by_date: dict[dt.date, list[tuple[int, BeneficiaryDetails]]] = defaultdict(list)
    for i, b in enumerate(beneficiaries):
        if b.attached_to_insured and b.kind is BeneficiaryKind.CHILD:
            by_date[b.birth_date].append((i, b))
    for birth_date, group in by_date.items():
        if len(group) < 2:
            continue
        seen: dict[int, int] = {}
        for i, b in group:
            if b.birth_rank is None:
                errors.add(BIRTH_RANK_REQUIRED(f"{field}[{i}].birth_rank", birth_date=birth_date))
            elif b.birth_rank in seen:
                errors.add(
                    BIRTH_RANK_DUPLICATE(f"{field}[{i}].birth_rank", birth_date=birth_date, rank=b.birth_rank)
                )
            else:
                seen[b.birth_rank] = i
    errors.raise_if_any()


def check_beneficiaries(
    household: Household, beneficiaries: Sequence[BeneficiaryDetails], rules: JourneyRules
) -> None:
    """The details must describe the household of step 2 (same spouse, same children's birth dates)."""
    spouses = [b for b in beneficiaries if b.kind is BeneficiaryKind.SPOUSE]
    children = sorted(b.birth_date for b in beneficiaries if b.kind is BeneficiaryKind.CHILD)
    expected_children = sorted(c.birth_date for c in household.children)
    ok = (
        len(spouses) == (1 if household.spouse else 0)
        and (household.spouse is None or spouses[0].birth_date == household.spouse.birth_date)
        and children == expected_children
    )
    if not ok:
        raise HOUSEHOLD_MISMATCH("beneficiaries", expected=household.description)
    check_birth_ranks(beneficiaries)


# --- step 6 and 7: contact and bank ----------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ContactDetails:
    """Postal address, e-mail, mobile and the marketing consent."""

    address: PostalAddress
    email: Email
    mobile: Phone | None = None
    marketing_consent: bool = False


@attrs.frozen(kw_only=True)
class ContactForm:
    """Step 6 as typed."""

    address_lines: tuple[str, ...]
    postal_code: str
    city: str
    email: str
    country: str = "FR"
    mobile: str = ""
    marketing_consent: bool = False

    def validate(self) -> ContactDetails:
        """Validated contact data; every problem at once."""
        errors = ErrorCollector()
        address = errors.capture(
            "address", PostalAddress.parse, self.address_lines, self.postal_code, self.city, self.country
        )
        email = errors.capture("email", Email.parse, self.email)
        mobile = errors.capture("mobile", Phone.parse, self.mobile) if self.mobile.strip() else None
        errors.raise_if_any()
        assert address is not None and email is not None
        return ContactDetails(
            address=address, email=email, mobile=mobile, marketing_consent=self.marketing_consent
        )


@attrs.frozen(kw_only=True)
class BankDetails:
    """The account used for debits and reimbursements (mandatory, with its holder)."""

    account: BankAccount


@attrs.frozen(kw_only=True)
class BankForm:
    """Step 7 as typed: IBAN and holder, both mandatory."""

    iban: str
    holder: str

    def validate(self) -> BankDetails:
        """The validated account."""
        errors = ErrorCollector()
        if not self.holder.strip():
            errors.add(HOLDER_REQUIRED("holder"))
        account = (
            errors.capture("iban", BankAccount.parse, self.iban, holder=self.holder.strip() or None)
            if self.iban.strip()
            else None
        )
        if not self.iban.strip():
            errors.add(REQUIRED("iban"))
        errors.raise_if_any()
        assert account is not None
        return BankDetails(account=account)


# --- the journey -----------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Journey:
    """The validated steps so far (saved after each one)."""

    regime: SocialRegime | None = None
    household: Household | None = None
    formula: FormulaChoice | None = None
    personal: PersonalDetails | None = None
    beneficiaries: tuple[BeneficiaryDetails, ...] | None = None
    contact: ContactDetails | None = None
    bank: BankDetails | None = None

    @property
    def started(self) -> bool:
        """True once a step was saved."""
        return self.regime is not None

    @property
    def next_step(self) -> JourneyStep:
        """Where the employee resumes."""
        order: list[tuple[JourneyStep, object]] = [
            (JourneyStep.REGIME, self.regime),
            (JourneyStep.HOUSEHOLD, self.household),
            (JourneyStep.FORMULA, self.formula),
            (JourneyStep.PERSONAL, self.personal),
            (JourneyStep.BENEFICIARIES, self.beneficiaries),
            (JourneyStep.CONTACT, self.contact),
            (JourneyStep.BANK, self.bank),
        ]
        for step, value in order:
            if value is None:
                return step
        return JourneyStep.SIGNATURE

    @property
    def complete(self) -> bool:
        """True when every step before the signature is done."""
        return self.next_step is JourneyStep.SIGNATURE

    def require(self, step: JourneyStep) -> None:
        """Refuse a step whose predecessors are not done (``journey.step_not_available``)."""
        steps = list(JourneyStep)
        nxt = self.next_step
        if steps.index(step) > steps.index(nxt):
            raise STEP_ORDER("step", step=nxt.label)
