"""Use cases' e-mails delivered through a real SMTP server on loopback (aiosmtpd), from the SQL outbox."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest

from mutuelle_adapters.email.relay import OutboxRelay
from mutuelle_adapters.email.transport import SmtpTransport
from mutuelle_core.affiliation import management as mg
from mutuelle_core.contracts import back_office as bo
from mutuelle_core.contracts import employer_space as es
from mutuelle_core.contracts.correspondent import CorrespondentStatus
from mutuelle_core.departures import use_cases as dep
from tests.affiliation_fixtures import (
    BANK,
    CONTACT,
    HOUSEHOLD_TWINS,
    PERSONAL,
    TWINS,
    set_up_psc,
    spouse_form,
)
from tests.conftest import Backend
from tests.integration.test_email import Collector, SmtpServer

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpServer, Collector]]:
    collector = Collector()
    server = SmtpServer(collector).start()
    yield server, collector
    server.stop()


def relay(backend: Backend, server: SmtpServer) -> OutboxRelay:
    return OutboxRelay(backend.uow_factory, SmtpTransport(server.settings()), backend.clock)


def body(message: object) -> str:
    part = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    return str(part.get_content())


def test_new_correspondent_gets_one_french_message_with_a_working_link(
    backend: Backend, smtp: tuple[SmtpServer, Collector]
) -> None:
    server, collector = smtp
    svc = backend.services()
    bo.set_up_employer(svc, bo.EmployerSetup(employer_id="emp-1", name="Redwater"))
    bo.set_up_contract(
        svc,
        bo.ContractSetup(
            number="M1000304",
            employer_id="emp-1",
            kind="health",
            regime="private",
            effective_date=dt.date(2019, 9, 1),
            groups=(bo.GroupSetup(code="A2", category="A", label="Actifs"),),
        ),
    )
    bo.create_principal_correspondent(
        svc,
        bo.PrincipalSetup(
            employer_id="emp-1",
            login="jmartin",
            birth_name="Martin",
            first_names="Jeanne",
            email="jeanne.martin@redwater.example",
            contracts=("M1000304",),
        ),
    )
    report = relay(backend, server).run_once()
    assert report.sent == 1
    [message] = collector.messages
    assert message["To"] == "jeanne.martin@redwater.example"
    assert message["Subject"] == "Activez votre accès à l’espace entreprise REDWATER"
    text = body(message)
    assert "Bonjour Jeanne," in text
    token = re.search(r"jeton=([0-9a-f]+)", text)
    assert token is not None
    view = es.activate_correspondent(svc, token.group(1), "un mot de passe 2026")
    assert view.status is CorrespondentStatus.ACTIVE
    assert relay(backend, server).run_once().sent == 0


def test_radiation_with_portability_states_the_exact_dates(
    backend: Backend, smtp: tuple[SmtpServer, Collector]
) -> None:
    server, collector = smtp
    svc = backend.services()
    actor = set_up_psc(svc)
    form = mg.CompleteAffiliationForm(
        regime="general",
        household=HOUSEHOLD_TWINS,
        level=1,
        personal=PERSONAL,
        beneficiaries=(spouse_form(), *TWINS),
        contact=CONTACT,
        bank=BANK,
    )
    aff = mg.complete_affiliation(svc, actor, "MENJ2026", "A1", form)
    mg.accept_affiliation(svc, aff.affiliation_id)
    radiated = dep.radiate_employee(
        svc,
        actor,
        aff.affiliation_id,
        last_day=dt.date(2026, 9, 10),
        motive="031",
        employment_start=dt.date(2026, 5, 4),
    )
    assert radiated.group_code == "P1"
    assert {b.period.end for b in radiated.covered} == {dt.date(2027, 2, 10)}
    relay(backend, server).run_once()
    [notice] = [m for m in collector.messages if "portabilité" in str(m["Subject"])]
    assert notice["To"] == "benoit.dupond@example.fr"
    text = " ".join(body(notice).split())
    assert "du 11/09/2026 au 10/02/2027 inclus (5 mois)" in text
    assert "prennent fin le 10/09/2026" in text
