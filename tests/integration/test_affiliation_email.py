"""An agent's whole affiliation on SQLite, resumed after every step, down to the e-mail in a real inbox.

The agent has a spouse and twin children (same birth date, rangs de naissance 1 and 2). After each step
the agent "logs out": the application is rebuilt on the same database file (new engine, new units of
work), the next session shows where the journey resumes, and the next step is saved from yet another
session. Signed and accepted at control, the file keeps its signature evidence, and the outbox relay
delivers the French confirmation (effective date, monthly amount) through SMTP to an aiosmtpd server
on 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Callable, Iterator
from decimal import Decimal
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from mutuelle_adapters.bootstrap import App, build_app
from mutuelle_adapters.email.relay import OutboxRelay, RelayReport
from mutuelle_adapters.email.transport import SmtpSettings, SmtpTransport
from mutuelle_adapters.memory.fakes import FixedClock, PredictableTokens
from mutuelle_adapters.sql.database import sqlite_url
from mutuelle_core.affiliation import management as mg
from mutuelle_core.affiliation import member_journey as mj
from mutuelle_core.affiliation.invitations import InvitationForm, invite_employee
from mutuelle_core.affiliation.journey import JourneyStep
from mutuelle_core.affiliation.transitions import AffiliationStatus
from mutuelle_core.errors import DomainError
from mutuelle_core.services import Services
from tests.affiliation_fixtures import (
    BANK,
    CONTACT,
    HOUSEHOLD_TWINS,
    PERSONAL,
    TWINS,
    set_up_psc,
    spouse_form,
)

START = dt.datetime(2026, 5, 4, 7, 30, tzinfo=dt.UTC)
AGENT = "benoit.dupond@example.fr"


class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, SmtpSettings]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield (
            inbox,
            SmtpSettings(
                host="127.0.0.1",
                port=port,
                starttls=False,
                timeout=5.0,
                sender_address="ne-pas-repondre@mutuelle.example",
                sender_name="Mutuelle Santé Pro",
            ),
        )
    finally:
        controller.stop()


class Sessions:
    """Each call opens a new session: the application rebuilt on the same SQLite file."""

    def __init__(self, path: Path, clock: FixedClock, tokens: PredictableTokens, smtp: SmtpSettings) -> None:
        self.url = sqlite_url(path)
        self.clock = clock
        self.tokens = tokens
        self.smtp = smtp
        self.opened = 0
        self.migrated = False

    def app(self) -> App:
        self.opened += 1
        app = build_app(
            database_url=self.url,
            clock=self.clock,
            tokens=self.tokens,
            smtp=self.smtp,
            migrate=not self.migrated,
        )
        self.migrated = True
        return app

    def run(self, use_case: Callable[[Services], Any]) -> Any:
        """Run one use case in a fresh application, then close it (the agent logs out)."""
        app = self.app()
        try:
            return use_case(app.services)
        finally:
            assert app.engine is not None
            app.engine.dispose()


def test_agent_with_spouse_and_twins_resumes_every_step_and_receives_the_confirmation(
    tmp_path: Path, smtp: tuple[Inbox, SmtpSettings]
) -> None:
    inbox, settings = smtp
    clock, tokens = FixedClock(START), PredictableTokens("journey")
    sessions = Sessions(tmp_path / "mutuelle.db", clock, tokens, settings)

    actor = sessions.run(set_up_psc)
    form = InvitationForm(civility="M", birth_name="Dupond", first_names="Benoît", email=AGENT)
    aff_id = sessions.run(lambda svc: invite_employee(svc, actor, "MENJ2026", "A1", form)).affiliation_id
    token = tokens.issued[-1]

    opened = sessions.run(lambda svc: mj.open_link(svc, token))
    assert opened.status is AffiliationStatus.IN_PROGRESS
    assert opened.next_step is JourneyStep.REGIME
    with pytest.raises(DomainError) as exc:  # the link is single use: the agent resumes from the space
        sessions.run(lambda svc: mj.open_link(svc, token))
    assert exc.value.code == "affiliation.link_invalid"

    steps: list[tuple[Callable[[Services], mj.JourneyView], JourneyStep]] = [
        (lambda svc: mj.save_regime(svc, aff_id, "general"), JourneyStep.HOUSEHOLD),
        (lambda svc: mj.save_household(svc, aff_id, HOUSEHOLD_TWINS), JourneyStep.FORMULA),
        (lambda svc: mj.save_formula(svc, aff_id, 1), JourneyStep.PERSONAL),
        (lambda svc: mj.save_personal(svc, aff_id, PERSONAL), JourneyStep.BENEFICIARIES),
        (lambda svc: mj.save_beneficiaries(svc, aff_id, (spouse_form(), *TWINS)), JourneyStep.CONTACT),
        (lambda svc: mj.save_contact(svc, aff_id, CONTACT), JourneyStep.BANK),
        (lambda svc: mj.save_bank(svc, aff_id, BANK), JourneyStep.SIGNATURE),
    ]
    for save, expected_next in steps:
        saved = sessions.run(save)
        assert saved.next_step is expected_next
        clock.advance(hours=7)  # the agent abandons the journey here...
        resumed = sessions.run(lambda svc: mj.journey_view(svc, aff_id))  # ...and resumes where it stopped
        assert resumed.next_step is expected_next
        assert resumed.status is AffiliationStatus.IN_PROGRESS
        assert resumed.journey == saved.journey

    household = resumed.journey.household
    assert household is not None and household.spouse is not None and len(household.children) == 2
    beneficiaries = resumed.journey.beneficiaries
    assert beneficiaries is not None
    twins = [b for b in beneficiaries if b.birth_rank is not None]
    assert sorted(b.birth_rank for b in twins if b.birth_rank is not None) == [1, 2]
    assert len({b.birth_date for b in twins}) == 1
    assert resumed.monthly_amount is not None
    assert resumed.monthly_amount.amount == Decimal("46.00")  # option 1: 12 + spouse 14 + 2 children x 10

    submitted = sessions.run(lambda svc: mj.sign_and_submit(svc, aff_id))
    assert submitted.status is AffiliationStatus.SUBMITTED
    assert submitted.effective_date == dt.date(2026, 5, 4)
    accepted = sessions.run(lambda svc: mg.accept_affiliation(svc, aff_id))
    assert accepted.status is AffiliationStatus.AFFILIATED

    def stored(svc: Services) -> tuple[Any, dict[str, Any]]:
        with svc.uow() as uow:
            aff = uow.affiliations.get(aff_id)
            return aff, {d.kind: d for d in uow.documents.list_for_owner(aff_id)}

    aff, documents = sessions.run(stored)
    assert aff.status is AffiliationStatus.AFFILIATED
    assert aff.adhesion_number is not None
    assert aff.effective_date == dt.date(2026, 5, 4)
    evidence = aff.signature
    assert evidence is not None
    assert evidence.signer == aff_id
    assert evidence.covers("bia") and evidence.covers("sepa_mandate") and evidence.covers("notice")
    assert {d.sha256 for d in evidence.documents} == {
        documents[k].sha256 for k in ("bia", "sepa_mandate", "notice")
    }
    bia = documents["bia"].content.decode()
    assert "rang de naissance 1" in bia and "rang de naissance 2" in bia
    assert sessions.opened >= 2 * len(steps) + 6

    relay_app = sessions.app()
    try:
        relay = OutboxRelay(relay_app.services.uow, SmtpTransport(settings), clock)
        report = relay.run_once()
        assert report.sent == len(inbox.messages) and report.failed == report.given_up == 0
        assert relay.run_once() == RelayReport()  # delivered once
    finally:
        assert relay_app.engine is not None
        relay_app.engine.dispose()

    to_agent = {
        m["Subject"]: m for m, rcpt in zip(inbox.messages, inbox.recipients, strict=True) if rcpt == [AGENT]
    }
    confirmation = to_agent["Votre demande d’adhésion a bien été prise en compte"]
    assert confirmation["To"] == AGENT
    assert confirmation["From"].addresses[0].display_name == "Mutuelle Santé Pro"
    body = confirmation.get_body(("plain",))
    assert body is not None and body.get_content_charset() == "utf-8"
    text = body.get_content()
    assert "Bonjour Benoît," in text
    assert "Formule choisie : Base + option 1" in text
    assert "Date d'effet : 04/05/2026" in text
    assert "Montant mensuel prélevé sur votre compte : 46,00\xa0€" in text
    assert "bulletin d'affiliation, mandat SEPA, notice d'information" in text

    welcome = to_agent["Bienvenue : votre affiliation est validée"]
    welcome_body = welcome.get_body(("plain",))
    assert welcome_body is not None
    assert aff.adhesion_number in welcome_body.get_content()
    assert set(to_agent) >= {
        "Votre demande d’adhésion a bien été prise en compte",
        "Bienvenue : votre affiliation est validée",
    }
