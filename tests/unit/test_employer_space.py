"""Backbone use cases on every adapter: set-up, correspondents, activation, company sheet, scope."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mutuelle_adapters.memory import MemoryDatabase
from mutuelle_adapters.memory.fakes import FixedClock, PredictableTokens, SequentialIds
from mutuelle_adapters.signature import LocalSignatureService
from mutuelle_core.contracts import back_office as bo
from mutuelle_core.contracts import employer_space as es
from mutuelle_core.contracts.correspondent import ContractAccess, CorrespondentStatus
from mutuelle_core.errors import AccessDenied, DomainError, ValidationFailed
from mutuelle_core.services import Services
from tests.conftest import START, Backend

D = dt.date


def services(b: Backend) -> Services:
    return b.services()


def contract_setup(number: str, employer_id: str = "emp-1") -> bo.ContractSetup:
    return bo.ContractSetup(
        number=number,
        employer_id=employer_id,
        kind="health",
        regime="private",
        effective_date=D(2019, 9, 1),
        groups=(
            bo.GroupSetup(code="A1", category="A", label="Titulaires", population="titulaire"),
            bo.GroupSetup(
                code="A2", category="A", label="Assistants familiaux", population="assistant familial"
            ),
        ),
        products=tuple(
            bo.ProductSetup(
                code=f"{g}-B", label="Base Seule", level=0, group_code=g, start_date=D(2019, 9, 1)
            )
            for g in ("A1", "A2")
        ),
    )


def set_up_redwater(svc: Services) -> str:
    """REDWATER with two contracts and an activated principal; returns the principal's id."""
    bo.set_up_employer(svc, bo.EmployerSetup(employer_id="emp-1", name="Redwater", siren="732829320"))
    bo.set_up_contract(svc, contract_setup("M1000304"))
    bo.set_up_contract(svc, contract_setup("M1000305"))
    principal = bo.create_principal_correspondent(
        svc,
        bo.PrincipalSetup(
            employer_id="emp-1",
            login="principal",
            birth_name="Martin",
            first_names="Jeanne",
            email="jeanne.martin@redwater.example",
            contracts=("M1000304", "M1000305"),
        ),
    )
    token = svc.tokens.issued[-1]  # type: ignore[attr-defined]
    es.activate_correspondent(svc, token, "correct horse 42 battery")
    return principal.correspondent_id


def test_secondary_correspondent_gets_a_single_use_24h_link(backend: Backend) -> None:
    svc = services(backend)
    principal = set_up_redwater(svc)
    view = es.create_secondary_correspondent(
        svc,
        principal,
        es.NewCorrespondent(
            login="paul",
            birth_name="Durand",
            first_names="paul",
            email="paul.durand@redwater.example",
            contracts=(ContractAccess("M1000304", frozenset({"titulaire"})),),
        ),
    )
    assert view.status is CorrespondentStatus.PENDING_ACTIVATION
    token = backend.tokens.issued[-1]
    with backend.uow() as uow:
        stored = uow.correspondents.get(view.correspondent_id)
        assert stored.activation is not None
        assert token not in repr(stored) and stored.activation.token_hash != token
        messages = [m for m in uow.outbox.pending(backend.clock.now()) if m.recipient.startswith("paul")]
    [message] = messages
    assert f"jeton={token}" in message.body_text
    assert "Bonjour Paul" in message.body_text

    backend.clock.advance(hours=23)
    activated = es.activate_correspondent(svc, token, "un mot de passe 2026")
    assert activated.status is CorrespondentStatus.ACTIVE
    with pytest.raises(DomainError) as exc:
        es.activate_correspondent(svc, token, "un mot de passe 2026")
    assert exc.value.code == "correspondent.activation_invalid"


def test_activation_link_expires_after_24_hours(backend: Backend) -> None:
    svc = services(backend)
    set_up_redwater(svc)
    bo.create_principal_correspondent(
        svc,
        bo.PrincipalSetup(
            employer_id="emp-1",
            login="other",
            birth_name="Roux",
            first_names="Ana",
            email="ana@redwater.example",
            contracts=("M1000304",),
        ),
    )
    token = backend.tokens.issued[-1]
    backend.clock.advance(hours=24)
    with pytest.raises(DomainError) as exc:
        es.activate_correspondent(svc, token, "un mot de passe 2026")
    assert exc.value.code == "correspondent.activation_expired"


def test_bad_form_reports_every_error_and_changes_nothing(backend: Backend) -> None:
    svc = services(backend)
    principal = set_up_redwater(svc)
    with pytest.raises(ValidationFailed) as exc:
        es.create_secondary_correspondent(
            svc,
            principal,
            es.NewCorrespondent(
                login="x",
                birth_name="",
                first_names="Paul",
                email="not-an-email",
                contracts=(ContractAccess("M1000304"),),
            ),
        )
    assert {e.field for e in exc.value.errors} >= {"name.birth_name", "email"}
    with backend.uow() as uow:
        assert len(uow.correspondents.list_for_employer("emp-1")) == 1


def test_secondary_cannot_get_more_than_the_principal_has(backend: Backend) -> None:
    svc = services(backend)
    principal = set_up_redwater(svc)
    with pytest.raises(AccessDenied):
        es.create_secondary_correspondent(
            svc,
            principal,
            es.NewCorrespondent(
                login="paul",
                birth_name="Durand",
                first_names="Paul",
                email="p@redwater.example",
                contracts=(ContractAccess("M9999999"),),
            ),
        )


def test_contact_update_delete_and_listing(backend: Backend) -> None:
    svc = services(backend)
    principal = set_up_redwater(svc)
    es.create_secondary_correspondent(
        svc,
        principal,
        es.NewCorrespondent(
            login="paul",
            birth_name="Durand",
            first_names="Paul",
            email="p@redwater.example",
            contracts=(ContractAccess("M1000305"),),
        ),
    )
    assert [v.login for v in es.list_my_correspondents(svc, principal)] == ["paul"]
    with pytest.raises(ValidationFailed) as exc:
        es.update_my_contact(svc, principal, es.ContactDetails(email="bad", mobile="12"))
    assert {e.field for e in exc.value.errors} == {"email", "mobile"}
    view = es.update_my_contact(
        svc, principal, es.ContactDetails(email="jeanne@redwater.example", mobile="06 12 34 56 78")
    )
    assert view.email == "jeanne@redwater.example"
    es.delete_my_account(svc, principal)
    with pytest.raises(AccessDenied):
        es.list_my_correspondents(svc, principal)


def test_company_sheet_shows_only_visible_groups(backend: Backend) -> None:
    svc = services(backend)
    principal = set_up_redwater(svc)
    sheet = es.company_sheet(svc, principal, "M1000304")
    assert sheet.employer_name == "REDWATER"
    assert sheet.siren == "732829320"
    assert [g.code for g in sheet.groups] == ["A1", "A2"]
    es.create_secondary_correspondent(
        svc,
        principal,
        es.NewCorrespondent(
            login="paul",
            birth_name="Durand",
            first_names="Paul",
            email="p@redwater.example",
            contracts=(ContractAccess("M1000304", frozenset({"titulaire"})),),
        ),
    )
    paul_token = backend.tokens.issued[-1]
    paul = es.activate_correspondent(svc, paul_token, "un mot de passe 2026").correspondent_id
    assert [g.code for g in es.company_sheet(svc, paul, "M1000304").groups] == ["A1"]
    with pytest.raises(AccessDenied):
        es.company_sheet(svc, paul, "M1000305")


# --- property: nothing outside the scope, on the memory adapter (fast) ---------------------------

CONTRACTS = ["M1000304", "M1000305", "M1000306"]
POPULATIONS = ["titulaire", "assistant familial"]


@st.composite
def scopes(draw: st.DrawFn) -> tuple[ContractAccess, ...]:
    numbers = draw(st.lists(st.sampled_from(CONTRACTS[:2]), min_size=1, max_size=2, unique=True))
    return tuple(
        ContractAccess(n, frozenset(draw(st.lists(st.sampled_from(POPULATIONS), max_size=1, unique=True))))
        for n in numbers
    )


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scope=scopes(), target=st.sampled_from(CONTRACTS), other_scope=scopes())
def test_no_use_case_reaches_outside_the_scope(
    scope: tuple[ContractAccess, ...], target: str, other_scope: tuple[ContractAccess, ...]
) -> None:
    clock, tokens = FixedClock(START), PredictableTokens()
    db = MemoryDatabase(clock=clock, ids=SequentialIds())
    svc = Services(
        uow=db.unit_of_work,
        clock=clock,
        ids=SequentialIds("x"),
        tokens=tokens,
        signature=LocalSignatureService(),
    )
    principal = set_up_redwater(svc)
    bo.set_up_employer(svc, bo.EmployerSetup(employer_id="emp-2", name="Bluewater"))
    bo.set_up_contract(svc, contract_setup("M1000306", "emp-2"))
    es.create_secondary_correspondent(
        svc,
        principal,
        es.NewCorrespondent(
            login="sec", birth_name="Durand", first_names="Paul", email="p@r.example", contracts=scope
        ),
    )
    actor = es.activate_correspondent(svc, tokens.issued[-1], "un mot de passe 2026").correspondent_id
    allowed = {a.contract_number: a.populations for a in scope}

    # company sheet: exactly the contracts and populations in scope
    if target in allowed:
        sheet = es.company_sheet(svc, actor, target)
        pops = allowed[target]
        assert all(not pops or g.population in pops for g in sheet.groups)
        assert sheet.groups
    else:
        with pytest.raises(AccessDenied):
            es.company_sheet(svc, actor, target)

    # a secondary never creates correspondents, whatever it asks for
    with pytest.raises(AccessDenied):
        es.create_secondary_correspondent(
            svc,
            actor,
            es.NewCorrespondent(
                login="third",
                birth_name="Roux",
                first_names="Ana",
                email="a@r.example",
                contracts=other_scope,
            ),
        )
    # the listing shows no one to a secondary
    assert es.list_my_correspondents(svc, actor) == []
    with db.unit_of_work() as uow:
        assert uow.correspondents.find_by_login("third") is None


def test_a_use_case_failing_after_its_first_write_leaves_tables_and_outbox_as_before(
    backend: Backend,
) -> None:
    from tests.conftest import InjectedFailure

    svc = services(backend)
    principal = set_up_redwater(svc)
    with backend.uow() as uow:
        before = (
            [c.correspondent_id for c in uow.correspondents.list_for_employer("emp-1")],
            [m.message_id for m in uow.outbox.pending(backend.clock.now())],
        )
    backend.fail_on_write("outbox")  # the correspondent row is written first, then the e-mail
    with pytest.raises(InjectedFailure):
        es.create_secondary_correspondent(
            svc,
            principal,
            es.NewCorrespondent(
                login="paul",
                birth_name="Durand",
                first_names="Paul",
                email="p@redwater.example",
                contracts=(ContractAccess("M1000304"),),
            ),
        )
    with backend.uow() as uow:
        after = (
            [c.correspondent_id for c in uow.correspondents.list_for_employer("emp-1")],
            [m.message_id for m in uow.outbox.pending(backend.clock.now())],
        )
        assert uow.correspondents.find_by_login("paul") is None
    assert after == before
