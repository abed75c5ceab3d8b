"""The affiliation state machine explored by Hypothesis through the real use cases, on every adapter.

A :class:`~hypothesis.stateful.RuleBasedStateMachine` drives a few employees through every action of
:data:`~mutuelle_core.affiliation.transitions.TRANSITIONS`, each through its use case: invitations (one
at a time, or CSV rows), the link (current, stale or unknown token), each journey step (valid data, and
invalid data that must be refused), signature, control (accept, reject, refuse), reminders (one, all),
close, remove, consult, forced base enrolment, dispense (request, accept, refuse, renounce), the
employer's complete affiliation, the time-driven jobs after the clock moves by random days (reminders,
link expiry, the 21-day automatic enrolment, end of dispense, end of portability), departures
(radiation with or without portability, proofs, Evin, maintien) and beneficiaries (add, radiate). It
keeps a model of every file.

The employees work on the PSC contract of ``tests/affiliation_fixtures.py`` and on a private-sector
contract whose automatic enrolment comes after 45 days: on the PSC contract the 21-day enrolment
always comes before the link expires (1 month), so *lien expiré* and its actions are only reachable on
the private one, which also has its own dispense motives and refuses the PSC-only renunciation.

* An action the table does not allow in the file's state must raise ``TransitionNotAllowed`` (bad input
  is checked first and raises the use case's documented error) and leave the stored files, their
  documents and the outbox unchanged.
* After every step every file is loaded fresh and compared with the model (status, history, link,
  journey progress, enrolment, effective date, dispense, departure, reminders, dates), and the
  invariants are checked: never both dispensed and affiliated; closed and removed files accept nothing
  but consult; an affiliated person has a signed BIA and SEPA mandate (stored, same SHA-256), a NIR
  matching civilité and birth date and an IBAN, unless enrolled in the base by force or automatically
  (base only, no dependant from the journey); ``broken_invariants()`` is empty; no link is sent twice,
  and every pending link was sent.

The machine class is built per backend (memory, SQLite, PostgreSQL when ``MUTUELLE_TEST_POSTGRES_URL``
is set); each example gets fresh adapters in ``__init__``.
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import re
import shutil
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import attrs
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine

from mutuelle_adapters.memory import MemoryDatabase
from mutuelle_adapters.memory.fakes import FixedClock, PredictableTokens, SequentialIds
from mutuelle_adapters.signature import LocalSignatureService
from mutuelle_adapters.sql.database import make_engine, sqlite_url
from mutuelle_adapters.sql.uow import SqlUnitOfWorkFactory
from mutuelle_core.affiliation import follow_up as fu
from mutuelle_core.affiliation import invitations as inv
from mutuelle_core.affiliation import management as mg
from mutuelle_core.affiliation import member_journey as mj
from mutuelle_core.affiliation.affiliation import Affiliation, EnrolmentKind, person_key
from mutuelle_core.affiliation.dispense import DispenseMotive
from mutuelle_core.affiliation.jobs import JobReport, run_affiliation_jobs
from mutuelle_core.affiliation.journey import (
    BankForm,
    BeneficiaryForm,
    ChildForm,
    ContactForm,
    HouseholdForm,
    PersonalForm,
)
from mutuelle_core.affiliation.transitions import (
    RESUME,
    TRANSITIONS,
    Action,
    AffiliationStatus,
    allowed_actions,
)
from mutuelle_core.contracts import back_office as bo
from mutuelle_core.contracts import correspondent
from mutuelle_core.contracts import employer_space as es
from mutuelle_core.contracts.contract import ContractSettings, ProductLevel
from mutuelle_core.contracts.correspondent import hash_token
from mutuelle_core.departures import use_cases as dep
from mutuelle_core.departures.departure import EvinIncome, PortabilityEndReason
from mutuelle_core.departures.motives import DepartureMotive
from mutuelle_core.departures.portability import portability_period
from mutuelle_core.errors import DomainError, TransitionNotAllowed
from mutuelle_core.families import use_cases as fam
from mutuelle_core.ports import UnitOfWork
from mutuelle_core.services import Services
from mutuelle_core.values.bank import BankAccount
from mutuelle_core.values.dates import add_months
from mutuelle_core.values.identity import Email, PersonName
from tests.affiliation_fixtures import (
    BANK,
    CONTACT,
    HOUSEHOLD_TWINS,
    PERSONAL,
    PSC_GRID,
    TWINS,
    set_up_psc,
    spouse_form,
)
from tests.conftest import BACKENDS, START, _truncate

S = AffiliationStatus
A = Action
CONTRACT_EFFECTIVE = dt.date(2026, 5, 1)
EMPLOYMENT_START = dt.date(2024, 9, 1)
VALIDITY_MONTHS = 1
REMIND_AFTER_DAYS = 8
EVIN_MONTHS = MAINTIEN_MONTHS = 6
MAINTIEN_PAYER = dep.MaintienPayer(
    name="Claudia Dupond", account=BankAccount.parse("FR7630004000031234567890143", holder="Claudia Dupond")
)
PSC_MOTIVES = frozenset(
    {"psc_css", "psc_individual_contract", "psc_contract_agent_cdd", "psc_other_collective"}
)
PRIVATE_MOTIVES = frozenset(m.value for m in DispenseMotive) - PSC_MOTIVES

# --- contracts, people, households and forms --------------------------------------------------------


@attrs.frozen
class Contract:
    number: str
    psc: bool
    auto_enrol_days: int


PSC = Contract("MENJ2026", psc=True, auto_enrol_days=21)
PRIVATE = Contract("PRIV2026", psc=False, auto_enrol_days=45)
CONTRACTS = (PSC, PRIVATE)
GROUP = "A1"


def set_up_private(svc: Services) -> str:
    """A private-sector contract like the PSC one, enrolling after 45 days; returns its principal's id."""
    bo.set_up_employer(
        svc, bo.EmployerSetup(employer_id="emp-priv", name="Redwater", email="rh@redwater.example")
    )
    bo.set_up_contract(
        svc,
        bo.ContractSetup(
            number=PRIVATE.number,
            employer_id="emp-priv",
            kind="health",
            regime="private",
            effective_date=CONTRACT_EFFECTIVE,
            settings=ContractSettings(
                auto_enrol_delay_days=PRIVATE.auto_enrol_days,
                dispense_request_email=Email.parse("dispenses@redwater.example"),
                price_grid=PSC_GRID,
            ),
            groups=tuple(
                bo.GroupSetup(code=f"{c}1", category=c, label=label)
                for c, label in (("A", "Actifs"), ("P", "Portabilité"), ("E", "Evin"), ("M", "Maintien"))
            ),
            products=tuple(
                bo.ProductSetup(
                    code=f"PRIV-{level}",
                    label=label,
                    level=level,
                    group_code=GROUP,
                    start_date=CONTRACT_EFFECTIVE,
                )
                for level, label in enumerate(["Base", "Base + option 1", "Base + option 2"])
            ),
        ),
    )
    principal = bo.create_principal_correspondent(
        svc,
        bo.PrincipalSetup(
            employer_id="emp-priv",
            login="rh-priv2026",
            birth_name="Roux",
            first_names="Paul",
            email="rh-priv2026@redwater.example",
            contracts=(PRIVATE.number,),
        ),
    )
    es.activate_correspondent(svc, svc.tokens.issued[-1], "correct horse 42 battery")  # type: ignore[attr-defined]
    return principal.correspondent_id


def _fast_hash(password: str, salt: str) -> str:
    return f"sha256${salt}${hashlib.sha256((salt + password).encode()).hexdigest()}"


def _nir(body: str) -> str:
    from stdnum.fr import nir

    key = nir.calc_check_digits(body)
    return f"{body[0]} {body[1:3]} {body[3:5]} {body[5:7]} {body[7:10]} {body[10:13]} {key}"


def _shout(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)).upper()


@attrs.frozen
class Person:
    """An employee of the roster; ``email`` empty: invited by letter."""

    civility: str
    birth_name: str
    first_names: str
    email: str
    birth_date: str
    nir: str
    contact_email: str
    birth_city: str = "Paris"

    def invitation(self, shout: bool = False) -> inv.InvitationForm:
        return inv.InvitationForm(civility=self.civility, **self._identity(shout))

    def csv_line(self, shout: bool) -> list[str]:
        identity = self._identity(shout)
        return [self.civility, identity["birth_name"], identity["first_names"], identity["email"]]

    def _identity(self, shout: bool) -> dict[str, str]:
        if not shout:
            return {"birth_name": self.birth_name, "first_names": self.first_names, "email": self.email}
        return {
            "birth_name": _shout(self.birth_name),
            "first_names": _shout(self.first_names),
            "email": self.email.upper(),
        }

    @property
    def invited_key(self) -> str:
        email = Email.parse(self.email) if self.email else None
        return person_key(PersonName.parse(self.birth_name, self.first_names), email)

    @property
    def letter_key(self) -> str:
        return person_key(PersonName.parse(self.birth_name, self.first_names), None)

    @property
    def completed_key(self) -> str:
        return person_key(
            PersonName.parse(self.birth_name, self.first_names), Email.parse(self.contact_email)
        )

    def personal(self) -> PersonalForm:
        return attrs.evolve(
            PERSONAL,
            civility=self.civility,
            birth_name=self.birth_name,
            first_names=self.first_names,
            birth_date=self.birth_date,
            nir=self.nir,
            birth_city=self.birth_city,
        )

    def contact(self) -> ContactForm:
        return attrs.evolve(CONTACT, email=self.contact_email)

    def bank(self) -> BankForm:
        return attrs.evolve(BANK, holder=f"{self.first_names} {self.birth_name}")


PEOPLE = (
    Person(
        "M",
        "Dupond",
        "Benoît",
        "benoit.dupond@example.fr",
        "03/05/1985",
        PERSONAL.nir,
        "benoit.dupond@example.fr",
    ),
    Person(
        "MME",
        "Petit",
        "Anaïs",
        "anais.petit@example.fr",
        "12/05/1990",
        _nir("2900554395557"),
        "anais.petit@example.fr",
    ),
    Person(
        "MME",
        "N'Diaye",
        "Aïssatou",
        "a.ndiaye@example.fr",
        "29/02/1988",
        _nir("2880275114023"),
        "a.ndiaye@example.fr",
    ),
    Person("M", "Lefèvre", "Noé", "", "01/02/1979", _nir("1790269123045"), "noe.lefevre@example.fr", "Lyon"),
)

CHILD_BIRTH = "17/03/2012"
HOUSEHOLDS = {
    "alone": HouseholdForm(),
    "twins": HOUSEHOLD_TWINS,
    "child": HouseholdForm(children=(ChildForm(birth_date=CHILD_BIRTH, student_or_apprentice=True),)),
}


def beneficiaries_for(household: str, person: Person) -> tuple[BeneficiaryForm, ...]:
    if household == "twins":
        return (spouse_form(), *TWINS)
    if household == "child":
        child = BeneficiaryForm(
            kind="child",
            civility="M",
            birth_name=person.birth_name,
            first_names="Léo",
            birth_date=CHILD_BIRTH,
            birth_city="Lyon",
        )
        return (child,)
    return ()


STEPS = ("regime", "household", "formula", "personal", "beneficiaries", "contact", "bank")
SIGNATURE = len(STEPS)
REGIMES = ("general", "alsace_moselle", "agricultural", "other_french")
SAVERS: dict[str, Callable[..., mj.JourneyView]] = {
    "regime": mj.save_regime,
    "household": mj.save_household,
    "formula": mj.save_formula,
    "personal": mj.save_personal,
    "beneficiaries": mj.save_beneficiaries,
    "contact": mj.save_contact,
    "bank": mj.save_bank,
}

Codes = frozenset[str] | None
"""The codes an input must be refused with (``None``: any, as long as it is not a transition error)."""


def _valid(step: str, person: Person, choice: int, household: str) -> tuple[Any, object]:
    """Data step ``step`` accepts, and what the model remembers of it."""
    h = sorted(HOUSEHOLDS)[choice % len(HOUSEHOLDS)]
    return {
        "regime": (REGIMES[choice % len(REGIMES)], REGIMES[choice % len(REGIMES)]),
        "household": (HOUSEHOLDS[h], h),
        "formula": (choice % 3, ProductLevel(choice % 3)),
        "personal": (person.personal(), True),
        "beneficiaries": (beneficiaries_for(household, person), household),
        "contact": (person.contact(), True),
        "bank": (person.bank(), True),
    }[step]


def _invalid(step: str, person: Person, choice: int, psc: bool) -> tuple[Any, Codes]:
    """Data step ``step`` must refuse on the contract, and the error codes."""
    other = PEOPLE[(PEOPLE.index(person) + 1) % len(PEOPLE)]
    options: dict[str, list[tuple[Any, Codes]]] = {
        "regime": [("martian", frozenset({"not_found"}))],
        "household": [
            (
                HouseholdForm(children=(ChildForm(birth_date="01/01/2000"),)),
                frozenset({"journey.child_too_old"}),
            ),
            (
                HouseholdForm(spouse=True, spouse_birth_date="09/10/1972", spouse_regime="foreign"),
                frozenset({"journey.not_french_social_security"}),
            ),
            (
                HouseholdForm(children=(ChildForm(birth_date="31/02/2015"),)),
                frozenset({"birth_date.invalid"}),
            ),
        ],
        "formula": [
            (3, frozenset({"journey.formula_unavailable"})),
            (9, frozenset({"journey.formula_unavailable"})),
        ],
        "personal": [
            (attrs.evolve(person.personal(), nir=other.nir), None),
            (attrs.evolve(person.personal(), birth_city=" "), frozenset({"field.required"})),
        ],
        "beneficiaries": [
            ((attrs.evolve(spouse_form(), nir=""),), frozenset({"beneficiary.spouse_needs_own_nir"})),
            ((attrs.evolve(TWINS[0], birth_rank=None), TWINS[1]), None),
        ],
        "contact": [(attrs.evolve(person.contact(), email="pas-un-mail"), frozenset({"email.invalid"}))],
        "bank": [
            (attrs.evolve(person.bank(), iban=""), frozenset({"field.required"})),
            (attrs.evolve(person.bank(), holder=" "), frozenset({"bank.holder_required"})),
            (
                attrs.evolve(person.bank(), iban="FR76 3000 6000 0112 3456 7890 180"),
                frozenset({"iban.invalid_checksum"}),
            ),
        ],
    }
    if psc:  # refused on a PSC contract only (accepted on the private one)
        options["regime"].append(("polynesia_cps", frozenset({"journey.regime_not_eligible"})))
        civil_servant = HouseholdForm(
            spouse=True, spouse_birth_date="09/10/1972", spouse_state_civil_servant=True
        )
        options["household"].append((civil_servant, frozenset({"journey.spouse_state_civil_servant"})))
    return options[step][choice % len(options[step])]


# --- the model ------------------------------------------------------------------------------------

PENDING = "pending"
"""A new link the model expects but whose token it learns from the stored hash (jobs, bulk reminders)."""


@attrs.define
class FileModel:
    """What one affiliation file should be."""

    person: int
    contract: Contract
    key: str
    status: AffiliationStatus
    invited_at: dt.datetime
    last_activity: dt.datetime
    history: list[tuple[Action, AffiliationStatus]]
    group: str = GROUP
    token: str | None = None
    expires: dt.datetime | None = None
    old_tokens: list[str] = attrs.field(factory=list)
    steps: dict[str, object] = attrs.field(factory=dict)
    enrolment: EnrolmentKind | None = None
    effective: dt.date | None = None
    level: ProductLevel | None = None
    adhesion: bool = False
    journey_dependants: int = 0
    added: list[str] = attrs.field(factory=list)
    dispense: bool = False
    dispense_end: dt.date | None = None
    reminders: int = 0
    last_day: dt.date | None = None
    motive: DepartureMotive | None = None
    portability_end: dt.date | None = None
    portability_ended_on: dt.date | None = None
    evin_income: bool = False
    evin_offered: bool = False
    continuation: str | None = None

    @property
    def next_step(self) -> int:
        return next((i for i, s in enumerate(STEPS) if s not in self.steps), SIGNATURE)

    @property
    def started(self) -> bool:
        return "regime" in self.steps

    @property
    def evin_reference(self) -> dt.date | None:
        return self.portability_ended_on or self.portability_end or self.last_day

    def allows(self, action: Action) -> bool:
        return (self.status, action) in TRANSITIONS

    def apply(self, action: Action) -> None:
        """Move along the table (the caller checked ``allows``)."""
        target = TRANSITIONS[(self.status, action)].target
        if action in {A.ADD_BENEFICIARY, A.RADIATE_BENEFICIARY}:
            target = self.status
        elif target is RESUME:
            target = S.IN_PROGRESS if self.started else S.INVITED
        assert isinstance(target, AffiliationStatus)
        self.status = target
        self.history.append((action, target))

    def enrol(self, kind: EnrolmentKind) -> None:
        """Signed, completed or enrolled: cover from the contract's effective date or the invitation."""
        self.enrolment = kind
        self.effective = max(CONTRACT_EFFECTIVE, self.invited_at.date())

    def new_link(self, token: str, at: dt.datetime) -> None:
        self.drop_link()
        self.token, self.expires = token, _add_months(at, VALIDITY_MONTHS)

    def drop_link(self) -> None:
        if self.token is not None and self.token != PENDING:
            self.old_tokens.append(self.token)
        self.token = self.expires = None


def _add_months(moment: dt.datetime, months: int) -> dt.datetime:
    return dt.datetime.combine(add_months(moment.date(), months), moment.timetz())


def _end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=dt.UTC)


@attrs.frozen
class Refused:
    """How an attempt must fail: a transition refused, or bad input with these codes (``None``: either)."""

    transition: bool | None = False
    codes: Codes = None


NOT_ALLOWED = Refused(transition=True)


def _codes(err: DomainError) -> frozenset[str]:
    return frozenset(e.code for e in err.leaves())


_LINK = re.compile(r"jeton=([0-9a-f]{64})")
_FAR = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)

Snapshot = tuple[dict[str, Affiliation], dict[str, tuple[tuple[str, str], ...]], int]


def can(action: Action) -> Callable[[Any], bool]:
    """Precondition: some file allows ``action`` (the rule then also tries it on other files)."""
    return lambda machine: any(f.allows(action) for f in machine.model.values())


pick = st.integers(0, 2**16)
aim = st.sampled_from([True, True, True, False])
"""Most attempts aim at a file whose state allows the action; the others pick any file."""


# --- the adapters ---------------------------------------------------------------------------------


@attrs.define
class Adapters:
    """Fresh adapters for one example."""

    uow: Callable[[], UnitOfWork]
    close: Callable[[], None] = lambda: None


AdapterFactory = Callable[[FixedClock, SequentialIds], Adapters]


def _memory_adapters(clock: FixedClock, ids: SequentialIds) -> Adapters:
    return Adapters(MemoryDatabase(clock=clock, ids=ids).unit_of_work)


def _sqlite_adapters(template: Path, folder: Path) -> AdapterFactory:
    counter = iter(range(1, 10**9))

    def build(clock: FixedClock, ids: SequentialIds) -> Adapters:
        path = folder / f"example-{next(counter)}.db"
        shutil.copy(template, path)
        engine = make_engine(sqlite_url(path))

        def close() -> None:
            engine.dispose()
            path.unlink(missing_ok=True)

        return Adapters(SqlUnitOfWorkFactory(engine, clock=clock, ids=ids), close)

    return build


def _postgres_adapters(engine: Engine) -> AdapterFactory:
    def build(clock: FixedClock, ids: SequentialIds) -> Adapters:
        _truncate(engine)
        return Adapters(SqlUnitOfWorkFactory(engine, clock=clock, ids=ids))

    return build


# --- the machine ----------------------------------------------------------------------------------


def machine_for(make_adapters: AdapterFactory) -> type[RuleBasedStateMachine]:
    """The state machine class over adapters built by ``make_adapters`` (one set per example)."""

    class AffiliationMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.clock = FixedClock(START)
            self.tokens = PredictableTokens()
            ids = SequentialIds()
            self.adapters = make_adapters(self.clock, ids)
            self.svc = Services(
                uow=self.adapters.uow,
                clock=self.clock,
                ids=ids,
                tokens=self.tokens,
                signature=LocalSignatureService(),
            )
            # the correspondents' passwords are not under test here: skip scrypt (half the run time otherwise)
            with mock.patch.object(correspondent, "hash_password", _fast_hash):
                self.actors = {PSC.number: set_up_psc(self.svc), PRIVATE.number: set_up_private(self.svc)}
            self.model: dict[str, FileModel] = {}
            self.newborns = 0

        def teardown(self) -> None:
            self.adapters.close()

        # --- helpers ---------------------------------------------------------------------------

        def now(self) -> dt.datetime:
            return self.clock.now()

        def today(self) -> dt.date:
            return self.clock.today()

        def choose(self, n: int, aimed: bool, wanted: Callable[[FileModel], bool]) -> tuple[str, FileModel]:
            ids = sorted(self.model)
            if aimed:
                ids = [i for i in ids if wanted(self.model[i])] or ids
            aff_id = ids[n % len(ids)]
            return aff_id, self.model[aff_id]

        def stored(self, aff_id: str) -> Affiliation:
            with self.svc.uow() as uow:
                return uow.affiliations.get(aff_id)

        def snapshot(self) -> Snapshot:
            with self.svc.uow() as uow:
                files = {
                    a.affiliation_id: a
                    for c in CONTRACTS
                    for a in uow.affiliations.list_for_contract(c.number)
                }
                documents = {
                    i: tuple((d.document_id, d.sha256) for d in uow.documents.list_for_owner(i))
                    for i in files
                }
                outbox = len(uow.outbox.pending(_FAR, limit=10**6))
            return files, documents, outbox

        def refused(self, call: Callable[[], object], expected: Refused) -> None:
            """``call`` must fail as ``expected`` and change nothing."""
            before = self.snapshot()
            try:
                call()
            except DomainError as err:
                self.check_refusal(err, expected)
            else:
                raise AssertionError(f"should have been refused ({expected})")
            assert self.snapshot() == before, "a refused action changed the stored state"

        @staticmethod
        def check_refusal(err: DomainError, expected: Refused) -> None:
            transition = isinstance(err, TransitionNotAllowed)
            if expected.transition is not None:
                assert transition == expected.transition, (
                    f"{err!r} for {expected}: bad input is reported first"
                )
            if transition:
                assert err.code == "state.transition_not_allowed"
            elif expected.codes is not None:
                assert _codes(err) == expected.codes, f"{set(_codes(err))} != {set(expected.codes)}"

        @staticmethod
        def not_allowed_in_group(f: FileModel, code: str, looks_up_product: bool = True) -> Refused:
            """Not allowed; the use case looks the group's product up before the table is consulted, so that
            a file moved to a P, E or M group (no product on these contracts) gets ``code`` instead."""
            if looks_up_product and f.group != GROUP:
                return Refused(transition=None, codes=frozenset({code}))
            return NOT_ALLOWED

        def maybe(self, call: Callable[[], object], refused: Refused) -> bool:
            """An action whose guard the model does not decide: done, or refused as ``refused`` with no change."""
            before = self.snapshot()
            try:
                call()
            except DomainError as err:
                self.check_refusal(err, refused)
                assert self.snapshot() == before, "a refused action changed the stored state"
                return False
            return True

        def add_file(
            self, aff_id: str, person: int, contract: Contract, key: str, history: list[tuple[Action, S]]
        ) -> FileModel:
            assert aff_id not in self.model
            f = FileModel(
                person=person,
                contract=contract,
                key=key,
                status=history[-1][1],
                invited_at=self.now(),
                last_activity=self.now(),
                history=history,
            )
            self.model[aff_id] = f
            return f

        def counting(self, contract: Contract, key: str) -> list[FileModel]:
            return [
                f
                for f in self.model.values()
                if f.contract == contract and f.key == key and f.status.counts_as_existing
            ]

        def adopt_links(self, issued_before: int) -> None:
            """Learn the tokens of the links the model expects (``PENDING``) among those just issued."""
            new = {hash_token(t): t for t in self.tokens.issued[issued_before:]}
            for aff_id, f in self.model.items():
                if f.token == PENDING:
                    link = self.stored(aff_id).link
                    assert link is not None, f"{aff_id}: a new link was expected"
                    assert link.token_hash in new, f"{aff_id}: the link is not a new token"
                    f.token = new[link.token_hash]

        # --- invitations ---------------------------------------------------------------------------

        @initialize(
            invited=st.lists(
                st.tuples(st.integers(0, len(PEOPLE) - 1), st.sampled_from(CONTRACTS)),
                max_size=6,
                unique=True,
            )
        )
        def invite_a_few(self, invited: list[tuple[int, Contract]]) -> None:
            """Start with some invitations, so that the rules have files to work on."""
            for person, contract in invited:
                self.invite_one(person, contract, shout=False)

        @precondition(
            lambda self: sum(f.status.counts_as_existing for f in self.model.values()) < 2 * len(PEOPLE)
        )
        @rule(
            person=st.integers(0, len(PEOPLE) - 1), contract=st.sampled_from(CONTRACTS), shout=st.booleans()
        )
        def invite_one(self, person: int, contract: Contract, shout: bool) -> None:
            p = PEOPLE[person]
            actor = self.actors[contract.number]

            def call() -> Affiliation:
                return inv.invite_employee(self.svc, actor, contract.number, GROUP, p.invitation(shout))

            if self.counting(contract, p.invited_key):
                self.refused(call, Refused(codes=frozenset({"invitation.already_invited"})))
                return
            aff = call()
            f = self.add_file(aff.affiliation_id, person, contract, p.invited_key, [(A.INVITE, S.INVITED)])
            f.new_link(self.tokens.issued[-1], self.now())

        @rule(
            contract=st.sampled_from(CONTRACTS),
            lines=st.lists(
                st.one_of(
                    st.tuples(st.just("person"), st.integers(0, len(PEOPLE) - 1), st.booleans()),
                    st.sampled_from([("header",), ("empty",), ("short",), ("civility",)]),
                ),
                min_size=1,
                max_size=5,
            ),
        )
        def invite_rows(self, contract: Contract, lines: list[tuple[Any, ...]]) -> None:
            rows: list[tuple[int, list[str]]] = []
            expected: dict[int, frozenset[str]] = {}
            first: dict[str, int] = {}
            invited: list[int] = []
            for n, kind in enumerate(lines, start=1):
                if kind[0] == "person":
                    p = PEOPLE[kind[1]]
                    rows.append((n, p.csv_line(kind[2])))
                    if not p.email:
                        expected[n] = frozenset({"field.required"})
                    elif p.invited_key in first:
                        expected[n] = frozenset({"invitation.duplicate_in_file"})
                    else:
                        first[p.invited_key] = n
                        if self.counting(contract, p.invited_key):
                            expected[n] = frozenset({"invitation.already_invited"})
                        else:
                            invited.append(kind[1])
                    continue
                row, code = {
                    "header": (["Civilité", "Nom", "Prénom", "E-mail"], "invitation.header_line"),
                    "empty": (["", " ", "", ""], "invitation.empty_line"),
                    "short": (["M", "Petit", "Luc"], "invitation.wrong_column_count"),
                    "civility": (["X", "Martin", "Paul", "paul.martin@example.fr"], "civility.invalid"),
                }[kind[0]]
                rows.append((n, row))
                expected[n] = frozenset({code})
            issued = len(self.tokens.issued)
            report = inv.invite_rows(self.svc, self.actors[contract.number], contract.number, GROUP, rows)
            assert {r.line: frozenset(e.code for e in r.errors) for r in report.rejected} == expected
            assert len(report.invited) == len(invited)
            for aff_id, person in zip(report.invited, invited, strict=True):
                key = PEOPLE[person].invited_key
                f = self.add_file(aff_id, person, contract, key, [(A.INVITE, S.INVITED)])
                f.token, f.expires = PENDING, _add_months(self.now(), VALIDITY_MONTHS)
            self.adopt_links(issued)

        # --- the employee ----------------------------------------------------------------------------

        @precondition(lambda self: any(f.token for f in self.model.values()))
        @rule(n=pick, aimed=aim, which=st.sampled_from(["current", "current", "current", "stale", "unknown"]))
        def open_link(self, n: int, aimed: bool, which: str) -> None:
            aff_id, f = self.choose(n, aimed, lambda f: f.allows(A.OPEN_LINK) and f.token is not None)
            if which == "current" and f.token is not None:
                token = f.token
            elif which == "stale" and f.old_tokens:
                token = f.old_tokens[-1]
            else:
                token = hashlib.sha256(f"unknown:{aff_id}".encode()).hexdigest()

            def call() -> mj.JourneyView:
                return mj.open_link(self.svc, token)

            if token != f.token:
                self.refused(call, Refused(codes=frozenset({"affiliation.link_invalid"})))
            elif f.expires is not None and self.now() >= f.expires:
                self.refused(call, Refused(codes=frozenset({"affiliation.link_expired"})))
            elif not f.allows(A.OPEN_LINK):
                self.refused(call, NOT_ALLOWED)
            else:
                view = call()
                f.apply(A.OPEN_LINK)
                f.drop_link()
                f.last_activity = self.now()
                assert view.status is f.status
                assert view.next_step.value == (
                    STEPS[f.next_step] if f.next_step < SIGNATURE else "signature"
                )

        def save(self, aff_id: str, f: FileModel, step: str, choice: int, invalid: bool) -> bool:
            """Save one step through its use case; True when it was saved."""
            p = PEOPLE[f.person]
            codes: Codes = None
            value: object = None
            if invalid:
                data, codes = _invalid(step, p, choice, f.contract.psc)
            else:
                data, value = _valid(step, p, choice, str(f.steps.get("household", "alone")))

            def call() -> mj.JourneyView:
                return SAVERS[step](self.svc, aff_id, data)

            if STEPS.index(step) > f.next_step:
                self.refused(call, Refused(codes=frozenset({"journey.step_not_available"})))
            elif invalid:
                self.refused(call, Refused(codes=codes))
            elif not f.allows(A.SAVE_STEP):
                product = step == "formula"
                self.refused(call, self.not_allowed_in_group(f, "journey.formula_unavailable", product))
            else:
                view = call()
                f.apply(A.SAVE_STEP)
                if step == "household" and f.steps.get("household") != value:
                    f.steps.pop("beneficiaries", None)
                f.steps[step] = value
                f.last_activity = self.now()
                assert view.status is f.status
                if "formula" in f.steps:
                    assert view.monthly_amount is not None
                return True
            return False

        @precondition(can(A.SAVE_STEP))
        @rule(
            n=pick,
            aimed=aim,
            step=st.one_of(st.none(), st.sampled_from(STEPS)),
            choice=st.integers(0, 11),
            invalid=st.sampled_from([False, False, False, True]),
        )
        def save_step(self, n: int, aimed: bool, step: str | None, choice: int, invalid: bool) -> None:
            aff_id, f = self.choose(n, aimed, lambda f: f.allows(A.SAVE_STEP))
            self.save(aff_id, f, step or STEPS[min(f.next_step, SIGNATURE - 1)], choice, invalid)

        @precondition(can(A.SAVE_STEP))
        @rule(n=pick, aimed=aim, choice=st.integers(0, 11), then_sign=st.booleans())
        def walk_the_journey(self, n: int, aimed: bool, choice: int, then_sign: bool) -> None:
            """Every remaining step with valid data, one use case call each (as far as the state allows)."""
            aff_id, f = self.choose(n, aimed, lambda f: f.allows(A.SAVE_STEP) and f.next_step < SIGNATURE)
            while f.next_step < SIGNATURE and self.save(aff_id, f, STEPS[f.next_step], choice, invalid=False):
                pass
            if then_sign and f.next_step == SIGNATURE:
                self.sign(aff_id, f)

        @precondition(can(A.SIGN))
        @rule(n=pick, aimed=aim)
        def sign_and_submit(self, n: int, aimed: bool) -> None:
            self.sign(*self.choose(n, aimed, lambda f: f.allows(A.SIGN) and f.next_step == SIGNATURE))

        def sign(self, aff_id: str, f: FileModel) -> None:

            def call() -> mj.JourneyView:
                return mj.sign_and_submit(self.svc, aff_id)

            if f.next_step < SIGNATURE:
                self.refused(call, Refused(codes=frozenset({"journey.step_not_available"})))
            elif not f.allows(A.SIGN):
                self.refused(call, self.not_allowed_in_group(f, "journey.formula_unavailable"))
            else:
                assert call().status is S.SUBMITTED
                f.apply(A.SIGN)
                f.enrol(EnrolmentKind.JOURNEY)
                f.last_activity = self.now()
                signature = self.stored(aff_id).signature
                assert signature is not None
                assert {d.kind for d in signature.documents} == {"bia", "sepa_mandate", "notice"}

        @precondition(can(A.REQUEST_DISPENSE))
        @rule(
            n=pick,
            aimed=aim,
            motive=st.sampled_from([*sorted(PSC_MOTIVES), *sorted(PRIVATE_MOTIVES), "no_such_motive"]),
            attestation=st.sampled_from([b"%PDF-1.4 attestation", b"%PDF-1.4 attestation", b""]),
            end_in_days=st.one_of(st.none(), st.integers(-60, 450)),
            valid=st.sampled_from([True, True, False]),
        )
        def request_dispense(
            self, n: int, aimed: bool, motive: str, attestation: bytes, end_in_days: int | None, valid: bool
        ) -> None:
            aff_id, f = self.choose(n, aimed, lambda f: f.allows(A.REQUEST_DISPENSE))
            today = self.today()
            if valid:  # a request the contract accepts, built from the same draws
                motives = sorted(PSC_MOTIVES if f.contract.psc else PRIVATE_MOTIVES)
                motive = motives[len(motive) % len(motives)]
                attestation = b"%PDF-1.4 attestation"
                end_in_days = 1 + abs(end_in_days or 0) % 300
            end = None if end_in_days is None else today + dt.timedelta(days=end_in_days)

            def call() -> mj.JourneyView:
                return mj.request_dispense(
                    self.svc, aff_id, motive=motive, attestation=attestation, end_date=end
                )

            if motive == "no_such_motive":
                self.refused(call, Refused(codes=frozenset({"dispense.unknown_motive"})))
                return
            m = DispenseMotive(motive)
            codes = set()
            if motive not in (PSC_MOTIVES if f.contract.psc else PRIVATE_MOTIVES):
                codes.add("dispense.motive_not_allowed")
            if not attestation:
                codes.add("dispense.attestation_required")
            if m.expires and end is None:
                codes.add("dispense.end_date_required")
            if m.expires and end is not None and end <= CONTRACT_EFFECTIVE:
                codes.add("dispense.end_date_before_effective_date")
            if m.max_months is not None and end is not None:
                latest = add_months(max(today, CONTRACT_EFFECTIVE), m.max_months) - dt.timedelta(days=1)
                if end > latest:
                    codes.add("dispense.too_long")
            if codes:
                self.refused(call, Refused(codes=frozenset(codes)))
            elif not f.allows(A.REQUEST_DISPENSE):
                self.refused(call, NOT_ALLOWED)
            else:
                call()
                f.apply(A.REQUEST_DISPENSE)
                f.dispense, f.dispense_end = True, end if m.expires else None
                f.last_activity = self.now()

        @precondition(can(A.RENOUNCE_DISPENSE))
        @rule(n=pick, aimed=aim)
        def renounce_dispense(self, n: int, aimed: bool) -> None:
            aff_id, f = self.choose(n, aimed, lambda f: f.allows(A.RENOUNCE_DISPENSE))

            def call() -> mj.JourneyView:
                return mj.renounce_dispense(self.svc, aff_id)

            if not f.contract.psc:
                self.refused(call, Refused(codes=frozenset({"dispense.renounce_psc_only"})))
            elif not f.allows(A.RENOUNCE_DISPENSE):
                self.refused(call, NOT_ALLOWED)
            else:
                view = call()
                f.apply(A.RENOUNCE_DISPENSE)
                f.dispense, f.dispense_end = False, None
                f.last_activity = self.now()
                assert view.status is f.status

        # --- management ------------------------------------------------------------------------------

        @precondition(can(A.ACCEPT))
        @rule(
            n=pick,
            aimed=aim,
            decision=st.sampled_from(["accept", "reject", "refuse"]),
            blank=st.sampled_from([False, False, False, True]),
        )
        def control(self, n: int, aimed: bool, decision: str, blank: bool) -> None:
            aff_id, f = self.choose(n, aimed, lambda f: f.allows(A.ACCEPT))
            reasons = ["  "] if blank else ["Pièce d'identité illisible"]
            action = {"accept": A.ACCEPT, "reject": A.REJECT, "refuse": A.REFUSE}[decision]
            call: Callable[[], Affiliation] = {
                "accept": lambda: mg.accept_affiliation(self.svc, aff_id),
                "reject": lambda: mg.reject_affiliation(self.svc, aff_id, reasons),
                "refuse": lambda: mg.refuse_affiliation(self.svc, aff_id, reasons),
            }[decision]
            if blank and decision != "accept":
                self.refused(call, Refused(codes=frozenset({"affiliation.reasons_required"})))
            elif not f.allows(action):
                self.refused(call, NOT_ALLOWED)
            else:
                call()
                f.apply(action)
                if action is A.ACCEPT:
                    f.adhesion = True
                    level = f.steps.get("formula")
                    f.level = level if isinstance(level, ProductLevel) else ProductLevel.BASE
                    f.journey_dependants = len(
                        beneficiaries_for(str(f.steps.get("beneficiaries")), PEOPLE[0])
                    )
                if action is A.REFUSE:
                    f.drop_link()

        @precondition(can(A.ACCEPT_DISPENSE))
        @rule(n=pick, aimed=aim, accept=st.booleans(), blank=st.sampled_from([False, False, False, True]))
        def decide_dispense(self, n: int, aimed: bool, accept: bool, blank: bool) -> None:
            aff_id, f = self.choose(n, aimed, lambda f: f.allows(A.ACCEPT_DISPENSE))
            reason = " " if blank else "Attestation non signée"

            def call() -> Affiliation:
                return mg.decide_dispense(self.svc, aff_id, accept=accept, reason=reason)

            action = A.ACCEPT_DISPENSE if accept else A.REFUSE_DISPENSE
            if not accept and blank:
                self.refused(call, Refused(codes=frozenset({"affiliation.reasons_required"})))
            elif not f.allows(action):
                self.refused(call, NOT_ALLOWED)
            else:
                call()
                f.apply(action)
                if accept:
                    f.drop_link()
                else:
                    f.dispense, f.dispense_end = False, None
                    f.last_activity = self.now()

        # --- the employer ----------------------------------------------------------------------------

        @precondition(can(A.REMIND))
        @rule(n=pick, aimed=aim)
        def remind(self, n: int, aimed: bool) -> None:
            aff_id, f = self.choose(n, aimed, lambda f: f.allows(A.REMIND))

            def call() -> fu.FollowUpLine:
                return fu.remind(self.svc, self.actors[f.contract.number], aff_id)

            if not f.allows(A.REMIND):
                self.refused(call, NOT_ALLOWED)
                return
            line = call()
            self._reminded(f, self.tokens.issued[-1])
            assert line.status is f.status and line.reminders == f.reminders

        def _reminded(self, f: FileModel, token: str) -> None:
            f.apply(A.REMIND)
            f.new_link(token, self.now())
            f.reminders += 1
            f.last_activity = self.now()

        @precondition(can(A.REMIND))
        @rule(contract=st.sampled_from(CONTRACTS))
        def remind_all(self, contract: Contract) -> None:
            due = [f for f in self.model.values() if f.contract == contract and f.allows(A.REMIND)]
            issued = len(self.tokens.issued)
            assert fu.remind_all(self.svc, self.actors[contract.number], contract.number) == len(due)
            for f in due:
                self._reminded(f, PENDING)
            self.adopt_links(issued)

        @precondition(can(A.CLOSE))
        @rule(n=pick, aimed=st.sampled_from([True, False]))
        def close(self, n: int, aimed: bool) -> None:
            aff_id, f = self.choose(n, aimed, lambda f: f.allows(A.CLOSE))

            def call() -> fu.FollowUpLine:
                return fu.close_file(self.svc, self.actors[f.contract.number], aff_id)

            if not f.allows(A.CLOSE):
                self.refused(call, NOT_ALLOWED)
                return
            assert call().status is S.CLOSED
            f.apply(A.CLOSE)
            f.drop_link()

        @precondition(can(A.REMOVE))
        @rule(n=pick, aimed=st.sampled_from([True, False]))
        def remove(self, n: int, aimed: bool) -> None:
            aff_id, f = self.choose(n, aimed, lambda f: f.allows(A.REMOVE))
            actor = self.actors[f.contract.number]

            def call() -> fu.FollowUpLine:
                return fu.remove_from_follow_up(self.svc, actor, aff_id)

            if not f.allows(A.REMOVE):
                self.refused(call, NOT_ALLOWED)
                return
            assert call().status is S.REMOVED
            f.apply(A.REMOVE)
            f.drop_link()
            assert aff_id not in {x.affiliation_id for x in fu.follow_up(self.svc, actor, f.contract.number)}

        @precondition(can(A.FORCE_BASE))
        @rule(n=pick, aimed=st.sampled_from([True, False]))
        def force_base(self, n: int, aimed: bool) -> None:
            aff_id, f = self.choose(n, aimed, lambda f: f.allows(A.FORCE_BASE))

            def call() -> fu.FollowUpLine:
                return fu.force_base_affiliation(self.svc, self.actors[f.contract.number], aff_id)

            if not f.allows(A.FORCE_BASE):
                self.refused(call, self.not_allowed_in_group(f, "affiliation.no_base_product"))
                return
            assert call().status is S.AFFILIATED
            self._enrolled(f, A.FORCE_BASE, EnrolmentKind.FORCED_BY_EMPLOYER)

        def _enrolled(self, f: FileModel, action: Action, kind: EnrolmentKind) -> None:
            f.apply(action)
            f.enrol(kind)
            f.level, f.adhesion = ProductLevel.BASE, True
            f.drop_link()

        @precondition(lambda self: self.model)
        @rule(n=pick)
        def consult(self, n: int) -> None:
            aff_id, f = self.choose(n, False, lambda f: True)
            before = self.snapshot()
            line, history = fu.consult(self.svc, self.actors[f.contract.number], aff_id)
            assert self.snapshot() == before
            assert line.status is f.status
            assert history[-1].to_status is f.status
            shown = (A.CONSULT, A.REMIND, A.CLOSE, A.REMOVE, A.FORCE_BASE)
            assert line.actions == tuple(a for a in shown if a in allowed_actions(f.status) | {A.CONSULT})

        @rule(
            person=st.integers(0, len(PEOPLE) - 1),
            contract=st.sampled_from(CONTRACTS),
            household=st.sampled_from(sorted(HOUSEHOLDS)),
            level=st.integers(0, 2),
            valid=st.sampled_from([True, True, True, False]),
            n=pick,
            aimed=st.booleans(),
        )
        def complete_affiliation(
            self,
            person: int,
            contract: Contract,
            household: str,
            level: int,
            valid: bool,
            n: int,
            aimed: bool,
        ) -> None:
            completable = [
                f
                for _, f in sorted(self.model.items())
                if f.status.is_open and f.key in {PEOPLE[f.person].completed_key, PEOPLE[f.person].letter_key}
            ]
            if aimed and completable:  # the person of an open invitation, which the form completes
                person, contract = (
                    completable[n % len(completable)].person,
                    completable[n % len(completable)].contract,
                )
            p = PEOPLE[person]
            form = mg.CompleteAffiliationForm(
                regime="general",
                household=HOUSEHOLDS[household],
                level=level,
                personal=p.personal(),
                beneficiaries=beneficiaries_for(household, p),
                contact=p.contact(),
                bank=p.bank() if valid else BankForm(iban="", holder=""),
            )

            def call() -> Affiliation:
                return mg.complete_affiliation(
                    self.svc, self.actors[contract.number], contract.number, GROUP, form
                )

            if not valid:
                self.refused(call, Refused(codes=frozenset({"field.required", "bank.holder_required"})))
                return
            key = p.completed_key
            open_files = sorted(  # the person's open invitation, by e-mail or by letter
                i
                for i, f in self.model.items()
                if f.contract == contract and f.key in {key, p.letter_key} and f.status.is_open
            )
            # (two open files when the person was invited by letter after a file with an e-mail: the
            # duplicate check of an invitation cannot tell a homonym without e-mail; either is completed)
            by_letter = self.counting(contract, p.letter_key) if p.letter_key != key else []
            if not open_files and (self.counting(contract, key) or by_letter):
                self.refused(call, Refused(codes=frozenset({"invitation.already_invited"})))
                return
            stored = call()
            if open_files:
                assert stored.affiliation_id in open_files
                f = self.model[stored.affiliation_id]
            else:
                f = self.add_file(stored.affiliation_id, person, contract, key, [(A.INVITE, S.INVITED)])
            f.apply(A.SUBMIT_COMPLETE)
            f.drop_link()
            f.steps = {
                "regime": "general",
                "household": household,
                "formula": ProductLevel(level),
                "personal": True,
                "beneficiaries": household,
                "contact": True,
                "bank": True,
            }
            f.enrol(EnrolmentKind.EMPLOYER_COMPLETE)
            f.last_activity = self.now()
            assert stored.status is S.SUBMITTED

        # --- departures and beneficiaries --------------------------------------------------------------

        @precondition(can(A.RADIATE))
        @rule(
            n=pick,
            aimed=aim,
            motive=st.sampled_from(["014", "043", "059", "038", "066", "066", "088"]),
            last_in_days=st.integers(-45, 10),
            annuity=st.sampled_from([False, False, True]),
        )
        def radiate(self, n: int, aimed: bool, motive: str, last_in_days: int, annuity: bool) -> None:
            def wanted(f: FileModel) -> bool:  # a death leaves maintien to the people covered, if any
                return f.allows(A.RADIATE) and (motive != "066" or f.journey_dependants + len(f.added) > 0)

            aff_id, f = self.choose(n, aimed, wanted)
            last_day = self.today() + dt.timedelta(days=last_in_days)
            income = EvinIncome.INVALIDITY_ANNUITY if annuity else None

            def call() -> Affiliation:
                return dep.radiate_employee(
                    self.svc,
                    self.actors[f.contract.number],
                    aff_id,
                    last_day=last_day,
                    motive=motive,
                    employment_start=EMPLOYMENT_START,
                    evin_income=income,
                )

            m = DepartureMotive(motive)
            if f.effective is not None and last_day < f.effective - dt.timedelta(days=1):
                self.refused(call, Refused(codes=frozenset({"departure.last_day_before_cover"})))
                return
            portability = portability_period(EMPLOYMENT_START, last_day, m)
            if not f.allows(A.RADIATE):
                self.refused(call, NOT_ALLOWED)
                return
            call()
            f.apply(A.RADIATE_WITH_PORTABILITY if portability else A.RADIATE)
            f.last_day, f.motive = last_day, m
            f.portability_end = None if portability is None else portability.end
            f.evin_income = annuity or motive in {"038", "039"} or portability is not None
            f.evin_offered = portability is None and f.evin_income and not m.opens_maintien
            if portability is not None:
                f.group = "P1"

        @precondition(can(A.RECORD_PORTABILITY_PROOF))
        @rule(n=pick, aimed=aim)
        def record_portability_proof(self, n: int, aimed: bool) -> None:
            aff_id, f = self.choose(n, aimed, lambda f: f.allows(A.RECORD_PORTABILITY_PROOF))

            def call() -> Affiliation:
                return dep.record_portability_proof(self.svc, aff_id, b"%PDF-1.4 attestation France Travail")

            if not f.allows(A.RECORD_PORTABILITY_PROOF):
                self.refused(call, NOT_ALLOWED)
                return
            call()
            f.apply(A.RECORD_PORTABILITY_PROOF)

        @precondition(can(A.END_PORTABILITY))
        @rule(
            n=pick,
            aimed=aim,
            reason=st.sampled_from([PortabilityEndReason.NEW_JOB, PortabilityEndReason.END_OF_BENEFITS]),
        )
        def end_portability(self, n: int, aimed: bool, reason: PortabilityEndReason) -> None:
            aff_id, f = self.choose(n, aimed, lambda f: f.allows(A.END_PORTABILITY))
            today = self.today()

            def call() -> Affiliation:
                return dep.end_portability(self.svc, aff_id, on=today, reason=reason)

            if not f.allows(A.END_PORTABILITY):
                self.refused(call, NOT_ALLOWED)
                return
            call()
            f.apply(A.END_PORTABILITY)
            assert f.last_day is not None and f.portability_end is not None
            f.portability_ended_on = min(max(today, f.last_day), f.portability_end)
            if reason is PortabilityEndReason.END_OF_BENEFITS and f.evin_income:
                f.evin_offered = True

        @precondition(can(A.JOIN_EVIN))
        @rule(n=pick, aimed=aim)
        def request_evin(self, n: int, aimed: bool) -> None:
            aff_id, f = self.choose(n, aimed, lambda f: f.allows(A.JOIN_EVIN) and f.evin_income)

            def call() -> Affiliation:
                return dep.request_evin(self.svc, aff_id)

            reference = f.evin_reference
            if reference is None or not f.evin_income or (f.motive is not None and f.motive.opens_maintien):
                self.refused(call, Refused(codes=frozenset({"evin.not_eligible"})))
            elif self.today() > add_months(reference, EVIN_MONTHS):
                self.refused(call, Refused(codes=frozenset({"evin.request_too_late"})))
            elif not f.allows(A.JOIN_EVIN):
                self.refused(call, NOT_ALLOWED)
            else:
                call()
                f.apply(A.JOIN_EVIN)
                f.group, f.continuation = "E1", "evin"

        @precondition(can(A.JOIN_MAINTIEN))
        @rule(n=pick, aimed=aim)
        def request_maintien(self, n: int, aimed: bool) -> None:
            aff_id, f = self.choose(
                n,
                aimed,
                lambda f: f.allows(A.JOIN_MAINTIEN) and f.motive is not None and f.motive.opens_maintien,
            )

            def call() -> Affiliation:  # the people kept pay for it: their own mandate
                return dep.request_maintien(self.svc, aff_id, payer=MAINTIEN_PAYER)

            nobody = frozenset({"maintien.nobody_covered"})
            if f.motive is None or not f.motive.opens_maintien:
                self.refused(call, Refused(codes=frozenset({"maintien.not_eligible"})))
            elif f.last_day is not None and self.today() < f.last_day:
                self.refused(call, Refused(codes=frozenset({"maintien.request_before_death"})))
            elif f.last_day is not None and self.today() > add_months(f.last_day, MAINTIEN_MONTHS):
                self.refused(call, Refused(codes=frozenset({"maintien.request_too_late"})))
            elif not f.allows(A.JOIN_MAINTIEN):  # nobody covered is checked before the table
                self.refused(call, Refused(transition=None, codes=nobody))
            elif self.maybe(call, Refused(codes=nobody)):
                f.apply(A.JOIN_MAINTIEN)
                f.group, f.continuation = "M1", "maintien"

        @precondition(can(A.END_CONTINUATION))
        @rule(n=pick, aimed=aim)
        def end_continuation(self, n: int, aimed: bool) -> None:
            aff_id, f = self.choose(n, aimed, lambda f: f.allows(A.END_CONTINUATION))

            def call() -> Affiliation:
                return dep.end_continuation(self.svc, aff_id, last_day=self.today())

            if not f.allows(A.END_CONTINUATION):
                self.refused(call, NOT_ALLOWED)
                return
            call()
            f.apply(A.END_CONTINUATION)

        @precondition(can(A.ADD_BENEFICIARY))
        @rule(n=pick, aimed=aim, employer=st.booleans())
        def add_beneficiary(self, n: int, aimed: bool, employer: bool) -> None:
            aff_id, f = self.choose(n, aimed, lambda f: f.allows(A.ADD_BENEFICIARY))
            self.newborns += 1
            birth = dt.date(2025, 1, 1) + dt.timedelta(days=7 * self.newborns)
            form = BeneficiaryForm(
                kind="child",
                civility="MME",
                birth_name=PEOPLE[f.person].birth_name,
                first_names="Zoé",
                birth_date=f"{birth:%d/%m/%Y}",
                birth_city="Lyon",
            )
            bank = PEOPLE[f.person].bank()  # the child is debited: a file without mandate signs one here
            new = fam.NewBeneficiary(
                form=form,
                start=max(self.today(), f.effective or CONTRACT_EFFECTIVE),
                account=BankAccount.parse(bank.iban, holder=bank.holder),
            )
            actor = self.actors[f.contract.number] if employer else None

            def call() -> object:
                return fam.add_beneficiary(self.svc, aff_id, new, actor_id=actor)

            if not f.allows(A.ADD_BENEFICIARY):
                self.refused(call, NOT_ALLOWED)
                return
            added = fam.add_beneficiary(self.svc, aff_id, new, actor_id=actor)
            f.apply(A.ADD_BENEFICIARY)
            f.added.append(added.beneficiary_id)

        @precondition(can(A.RADIATE_BENEFICIARY))
        @rule(
            n=pick,
            aimed=aim,
            index=st.integers(0, 5),
            motive=st.sampled_from(["divorce_or_separation", "other_cover", "no_such_motive"]),
        )
        def radiate_beneficiary(self, n: int, aimed: bool, index: int, motive: str) -> None:
            aff_id, f = self.choose(
                n,
                aimed,
                lambda f: f.allows(A.RADIATE_BENEFICIARY) and f.journey_dependants + len(f.added) > 0,
            )
            covered = self.stored(aff_id).covered
            target = covered[index % len(covered)] if covered and index < 5 else None
            beneficiary_id = target.beneficiary_id if target else f"{aff_id}-nobody"
            last_day = self.today()

            def call() -> object:
                return fam.radiate_beneficiary(
                    self.svc, aff_id, beneficiary_id, motive=motive, last_day=last_day
                )

            if motive == "no_such_motive":
                self.refused(call, Refused(codes=frozenset({"beneficiary.unknown_motive"})))
            elif target is None:
                self.refused(call, Refused(codes=frozenset({"beneficiary.unknown"})))
            elif target.radiation is not None:
                self.refused(call, Refused(codes=frozenset({"beneficiary.already_radiated"})))
            elif last_day < target.period.start - dt.timedelta(days=1):
                self.refused(call, Refused(codes=frozenset({"beneficiary.radiation_before_start"})))
            elif not f.allows(A.RADIATE_BENEFICIARY):
                self.refused(call, NOT_ALLOWED)
            else:
                call()
                f.apply(A.RADIATE_BENEFICIARY)

        # --- time ------------------------------------------------------------------------------------

        @rule(days=st.integers(1, 8), hours=st.integers(0, 23))
        def pass_time(self, days: int, hours: int) -> None:
            self.clock.advance(days=days, hours=hours)

        @rule(days=st.one_of(*[st.integers(0, 9)] * 3, st.integers(10, 45)))
        def run_jobs(self, days: int) -> None:
            self.clock.advance(days=days)
            today = self.today()
            for run in (1, 2):
                issued = len(self.tokens.issued)
                expected = self.affiliation_jobs(today)
                assert run_affiliation_jobs(self.svc, today) == expected, f"run {run} of the affiliation jobs"
                self.adopt_links(issued)
                if run == 2:
                    assert expected == JobReport(), "the affiliation jobs run twice the same day changed more"
                departures = self.departure_jobs(today)
                assert dep.run_departure_jobs(self.svc, today) == departures, (
                    f"run {run} of the departure jobs"
                )
                assert run == 1 or departures == dep.DepartureJobReport()

        def affiliation_jobs(self, today: dt.date) -> JobReport:
            """What the four affiliation jobs do on ``today`` (and the model follows)."""
            moment = _end_of(today)
            flagged = expired = enrolled = ended = 0
            for f in self.model.values():
                auto = f.invited_at.date() + dt.timedelta(days=f.contract.auto_enrol_days) <= today
                if auto and f.allows(A.AUTO_ENROL):
                    self._enrolled(f, A.AUTO_ENROL, EnrolmentKind.AUTOMATIC)
                    enrolled += 1
                elif f.status is S.DISPENSED:
                    if f.dispense_end is not None and f.dispense_end < today:
                        f.apply(A.END_DISPENSE)
                        f.new_link(PENDING, moment)
                        f.dispense, f.dispense_end, f.steps = False, None, {}
                        f.last_activity = f.invited_at = moment  # a new invitation, a new delay
                        ended += 1
                elif f.allows(A.EXPIRE_LINK) and f.expires is not None and f.expires <= moment:
                    f.apply(A.EXPIRE_LINK)
                    f.drop_link()
                    expired += 1
                elif (
                    f.allows(A.FLAG_REMINDER)
                    and f.last_activity + dt.timedelta(days=REMIND_AFTER_DAYS) <= moment
                ):
                    f.apply(A.FLAG_REMINDER)
                    flagged += 1
            return JobReport(flagged, expired, enrolled, ended)

        def departure_jobs(self, today: dt.date) -> dep.DepartureJobReport:
            """What the departure jobs do on ``today``: end portability at its term (and offer Evin)."""
            ended = offers = 0
            for f in self.model.values():
                if f.status is S.PORTABILITY and f.portability_end is not None and f.portability_end < today:
                    f.apply(A.END_PORTABILITY)
                    f.portability_ended_on = f.portability_end
                    ended += 1
                    if f.evin_income and not f.evin_offered:
                        f.evin_offered = True
                        offers += 1
            return dep.DepartureJobReport(portabilities_ended=ended, evin_offers=offers)

        # --- invariants ------------------------------------------------------------------------------

        @invariant()
        def files_match_the_model_and_keep_the_invariants(self) -> None:
            with self.svc.uow() as uow:
                stored = {
                    a.affiliation_id: a
                    for c in CONTRACTS
                    for a in uow.affiliations.list_for_contract(c.number)
                }
                assert set(stored) == set(self.model)
                documents = {i: {d.document_id: d for d in uow.documents.list_for_owner(i)} for i in stored}
                outbox = uow.outbox.pending(_FAR, limit=10**6)
            for aff_id, aff in stored.items():
                self.check_file(aff, self.model[aff_id], documents[aff_id])
            self.check_people(stored)
            self.check_links(outbox, documents)

        def check_file(self, aff: Affiliation, f: FileModel, documents: dict[str, Any]) -> None:
            label = f"{aff.affiliation_id} ({aff.status.value})"
            assert aff.status is f.status, f"{label}: the model expects {f.status.value}"
            assert [(h.action, h.to_status) for h in aff.history] == f.history, label
            assert aff.broken_invariants() == [], label
            assert aff.person_key == f.key and aff.group_code == f.group, label
            assert aff.invited_at == f.invited_at and aff.last_activity_at == f.last_activity, label
            assert aff.reminders == f.reminders, label
            if f.token is None:
                assert aff.link is None, label
            else:
                assert aff.link is not None and aff.link.token_hash == hash_token(f.token), label
                assert aff.link.expires_at == f.expires, label
            assert aff.journey.started == f.started, label
            assert aff.journey.next_step.value == (
                STEPS[f.next_step] if f.next_step < SIGNATURE else "signature"
            )
            assert aff.enrolment is f.enrolment and aff.effective_date == f.effective, label
            assert (aff.dispense is not None) == f.dispense, label
            if aff.dispense is not None:
                assert aff.dispense.end_date == f.dispense_end, label
                assert aff.dispense.attestation_document_id in documents, label
            assert (aff.adhesion_number is not None) == f.adhesion, label
            self.check_departure(aff, f, label)

            if aff.status is S.DISPENSED:
                assert aff.adhesion_number is None, f"{label}: dispensed and affiliated"
            if aff.status in {S.CLOSED, S.REMOVED}:
                assert allowed_actions(aff.status) == {A.CONSULT}, label
                assert aff.link is None, label
            if aff.adhesion_number is not None:
                self.check_affiliated(aff, f, documents)

        def check_departure(self, aff: Affiliation, f: FileModel, label: str) -> None:
            departure = aff.departure
            assert (departure is not None) == (f.last_day is not None), label
            if departure is not None:
                assert departure.last_day == f.last_day and departure.motive is f.motive, label
                assert (departure.portability.end if departure.portability else None) == f.portability_end, (
                    label
                )
                assert departure.portability_ended_on == f.portability_ended_on, label
                assert (departure.evin_income is not None) == f.evin_income, label
                assert (departure.evin_offered_on is not None) == f.evin_offered, label
            continuation = aff.continuation
            assert (None if continuation is None else continuation.kind.value) == f.continuation, label

        def check_affiliated(self, aff: Affiliation, f: FileModel, documents: dict[str, Any]) -> None:
            label = f"{aff.affiliation_id} ({aff.status.value}, {aff.enrolment})"
            assert aff.enrolment is not None and aff.effective_date is not None, label
            assert aff.product_level is f.level, label
            covered = {b.beneficiary_id for b in aff.covered}
            if aff.enrolment.base_only:
                assert aff.product_level is ProductLevel.BASE, label
                assert covered <= set(f.added), (
                    f"{label}: a base-only enrolment covers no dependant of the journey"
                )
                if aff.status is S.AFFILIATED:  # the member space shows the base cover alone
                    view = mj.journey_view(self.svc, aff.affiliation_id)
                    assert view.product_label == "Base", label
                    assert view.monthly_amount is None or view.monthly_amount.amount == 0, label
                return
            if aff.status is S.AFFILIATED:
                assert len(covered - set(f.added)) == f.journey_dependants, label
            signature = aff.signature
            assert signature is not None and signature.covers("bia") and signature.covers("sepa_mandate"), (
                label
            )
            for signed in signature.documents:
                doc = documents.get(signed.document_id)
                assert doc is not None, f"{label}: signed {signed.kind} missing from the document store"
                assert doc.kind == signed.kind and doc.sha256 == signed.sha256, label
                assert hashlib.sha256(doc.content).hexdigest() == doc.sha256, label
            personal = aff.journey.personal
            assert personal is not None, label
            assert personal.nir.matches(sex=personal.civility.sex, birth_date=personal.birth_date), label
            assert aff.journey.bank is not None and aff.journey.bank.account.iban.startswith("FR"), label

        def check_people(self, stored: dict[str, Affiliation]) -> None:
            """One person (birth name, first names, e-mail: the duplicate key) has one live file per contract:
            never dispensed and affiliated, never twice. (The same name without e-mail is checked by the
            complete form's rule: it must find the file of an invitation sent by letter.)"""
            by_person: dict[tuple[int, str, str], list[Affiliation]] = collections.defaultdict(list)
            for aff_id, aff in stored.items():
                by_person[(self.model[aff_id].person, aff.contract_number, aff.person_key)].append(aff)
            for (person, contract, _), affs in by_person.items():
                who = f"{PEOPLE[person].first_names} on {contract}"
                statuses = [a.status for a in affs]
                assert not {S.AFFILIATED, S.DISPENSED} <= set(statuses), f"{who}: dispensed and affiliated"
                assert sum(s.counts_as_existing for s in statuses) <= 1, f"{who}: two live files"

        def check_links(self, outbox: Any, documents: dict[str, dict[str, Any]]) -> None:
            """No link is sent twice, and every pending link was sent (e-mail or letter)."""
            sent: collections.Counter[str] = collections.Counter()
            for entry in outbox:
                sent.update(_LINK.findall(entry.body_text))
            for docs in documents.values():
                for doc in docs.values():
                    if doc.kind == "invitation_letter":
                        sent.update(_LINK.findall(doc.content.decode()))
            assert all(n == 1 for n in sent.values()), "one link sent twice"
            for aff_id, f in self.model.items():
                if f.token is not None:
                    assert f.token in sent, f"{aff_id}: its current link was never sent"

    return AffiliationMachine


# --- the test, per backend ------------------------------------------------------------------------

RUNS = {
    "memory": settings(max_examples=300, stateful_step_count=50),
    "sqlite": settings(max_examples=40, stateful_step_count=40),
    "postgres": settings(max_examples=25, stateful_step_count=40),
}


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_affiliation_state_machine(backend_name: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    if backend_name == "memory":
        factory: AdapterFactory = _memory_adapters
    elif backend_name == "sqlite":
        factory = _sqlite_adapters(request.getfixturevalue("sqlite_template"), tmp_path)
    else:
        factory = _postgres_adapters(request.getfixturevalue("postgres_engine"))
    run = settings(
        RUNS[backend_name],
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    run_state_machine_as_test(machine_for(factory), settings=run)


# --- the bugs the machine found (since fixed), as plain regression sequences -----------------------


@pytest.fixture
def machine() -> Iterator[Any]:
    m = machine_for(_memory_adapters)()
    yield m
    m.teardown()


def _invited(machine: Any) -> str:
    aff = inv.invite_employee(
        machine.svc, machine.actors[PSC.number], PSC.number, GROUP, PEOPLE[0].invitation()
    )
    return aff.affiliation_id


def test_accepting_a_file_not_submitted_is_a_transition_error(machine: Any) -> None:
    with pytest.raises(TransitionNotAllowed):
        mg.accept_affiliation(machine.svc, _invited(machine))


def test_accepting_a_dispense_never_requested_is_a_transition_error(machine: Any) -> None:
    with pytest.raises(TransitionNotAllowed):
        mg.decide_dispense(machine.svc, _invited(machine), accept=True)


def test_portability_actions_on_a_file_never_radiated_are_transition_errors(machine: Any) -> None:
    aff_id = _invited(machine)
    with pytest.raises(TransitionNotAllowed):
        dep.record_portability_proof(machine.svc, aff_id, b"%PDF")
    with pytest.raises(TransitionNotAllowed):
        dep.end_portability(machine.svc, aff_id, on=machine.today(), reason=PortabilityEndReason.NEW_JOB)


def test_ending_a_continuation_never_started_is_a_transition_error(machine: Any) -> None:
    with pytest.raises(TransitionNotAllowed):
        dep.end_continuation(machine.svc, _invited(machine), last_day=machine.today())


def test_automatic_enrolment_shows_the_base_cover_only(machine: Any) -> None:
    svc = machine.svc
    aff_id = _invited(machine)
    mj.open_link(svc, machine.tokens.issued[-1])
    mj.save_regime(svc, aff_id, "general")
    mj.save_household(svc, aff_id, HOUSEHOLD_TWINS)
    mj.save_formula(svc, aff_id, 2)
    machine.clock.advance(days=PSC.auto_enrol_days)
    assert run_affiliation_jobs(svc, machine.today()).auto_enrolled == 1
    view = mj.journey_view(svc, aff_id)
    assert view.status is S.AFFILIATED
    assert view.product_label == "Base"  # not the option 2 the journey had chosen
    assert view.monthly_amount is not None and view.monthly_amount.amount == 0  # no spouse nor twins


def test_end_of_dispense_gives_a_new_delay_before_automatic_enrolment(machine: Any) -> None:
    svc = machine.svc
    aff_id = _invited(machine)
    end = machine.today() + dt.timedelta(days=30)
    mj.request_dispense(svc, aff_id, motive="psc_css", attestation=b"%PDF", end_date=end)
    mg.decide_dispense(svc, aff_id, accept=True)
    machine.clock.advance(days=31)
    assert run_affiliation_jobs(svc, machine.today()) == JobReport(dispenses_ended=1)
    # invited again: a new 21-day delay, not an immediate automatic enrolment
    assert run_affiliation_jobs(svc, machine.today()) == JobReport()
    machine.clock.advance(days=PSC.auto_enrol_days)
    assert run_affiliation_jobs(svc, machine.today()).auto_enrolled == 1


def test_retroactive_radiation_with_a_beneficiary_added_since(machine: Any) -> None:
    svc, actor = machine.svc, machine.actors[PSC.number]
    aff_id = _invited(machine)
    fu.force_base_affiliation(svc, actor, aff_id)
    machine.clock.advance(days=10)
    newborn = BeneficiaryForm(
        kind="child",
        civility="MME",
        birth_name="Dupond",
        first_names="Zoé",
        birth_date="01/03/2026",
        birth_city="Lyon",
    )
    new = fam.NewBeneficiary(form=newborn, start=machine.today())
    with pytest.raises(DomainError) as exc:  # forced to the base: no mandate, and the child is debited
        fam.add_beneficiary(svc, aff_id, new)
    assert exc.value.code == "beneficiary.mandate_required"
    account = BankAccount.parse(BANK.iban, holder=BANK.holder)
    fam.add_beneficiary(svc, aff_id, attrs.evolve(new, account=account))
    last_day = machine.today() - dt.timedelta(days=5)  # the employer declares a departure 5 days ago
    radiated = dep.radiate_employee(
        svc, actor, aff_id, last_day=last_day, motive="059", employment_start=EMPLOYMENT_START
    )
    assert radiated.status is S.RADIATED
    [newborn_cover] = radiated.covered
    assert newborn_cover.cancelled and not newborn_cover.covered_on(machine.today())


def test_the_complete_form_finds_the_invitation_sent_by_letter(machine: Any) -> None:
    svc, actor, noe = machine.svc, machine.actors[PSC.number], PEOPLE[3]
    letter = inv.invite_employee(svc, actor, PSC.number, GROUP, noe.invitation())  # no e-mail: a letter
    form = mg.CompleteAffiliationForm(
        regime="general",
        household=HOUSEHOLDS["alone"],
        level=0,
        personal=noe.personal(),
        beneficiaries=(),
        contact=noe.contact(),  # now with an e-mail
        bank=noe.bank(),
    )
    completed = mg.complete_affiliation(svc, actor, PSC.number, GROUP, form)
    assert completed.affiliation_id == letter.affiliation_id  # not a second file for the same person


def test_the_complete_form_refuses_a_person_enrolled_after_a_letter(machine: Any) -> None:
    svc, actor, noe = machine.svc, machine.actors[PSC.number], PEOPLE[3]
    inv.invite_employee(svc, actor, PSC.number, GROUP, noe.invitation())  # no e-mail: a letter
    machine.clock.advance(days=PSC.auto_enrol_days)
    assert run_affiliation_jobs(svc, machine.today()).auto_enrolled == 1  # Noé is affiliated (base)
    form = mg.CompleteAffiliationForm(
        regime="general",
        household=HOUSEHOLDS["alone"],
        level=0,
        personal=noe.personal(),
        beneficiaries=(),
        contact=noe.contact(),
        bank=noe.bank(),
    )
    with pytest.raises(DomainError) as refused:  # a second file is created, in control
        mg.complete_affiliation(svc, actor, PSC.number, GROUP, form)
    assert refused.value.code == "invitation.already_invited"
