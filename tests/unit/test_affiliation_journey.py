"""The affiliation use cases on every adapter: invitations, journey, dispense, control, jobs, scope."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from mutuelle_core.affiliation import follow_up as fu
from mutuelle_core.affiliation import invitations as inv
from mutuelle_core.affiliation import management as mg
from mutuelle_core.affiliation import member_journey as mj
from mutuelle_core.affiliation.jobs import run_affiliation_jobs
from mutuelle_core.affiliation.journey import JourneyStep
from mutuelle_core.affiliation.transitions import AffiliationStatus as S
from mutuelle_core.affiliation.transitions import FollowUpFilter
from mutuelle_core.contracts.correspondent import hash_token
from mutuelle_core.errors import AccessDenied, DomainError, TransitionNotAllowed, ValidationFailed
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

FORM = inv.InvitationForm(
    civility="M", birth_name="Dupond", first_names="Benoît", email="benoit.dupond@example.fr"
)


def invite(backend: Backend) -> tuple[str, str, str]:
    svc = backend.services()
    actor = set_up_psc(svc)
    aff = inv.invite_employee(svc, actor, "MENJ2026", "A1", FORM)
    return actor, aff.affiliation_id, backend.tokens.issued[-1]


def codes(err: DomainError) -> set[str]:
    return {e.code for e in err.leaves()}


def test_link_token_is_hashed_single_use_and_expires(backend: Backend) -> None:
    svc = backend.services()
    _, aff_id, token = invite(backend)
    with backend.uow() as uow:
        stored = uow.affiliations.get(aff_id)
        assert stored.link is not None
        assert stored.link.token_hash == hash_token(token)
        assert token not in repr(stored)
        [message] = [
            m for m in uow.outbox.pending(backend.clock.now()) if m.template == "affiliation_invitation"
        ]
        assert f"jeton={token}" in message.body_text
    view = mj.open_link(svc, token)
    assert view.status is S.IN_PROGRESS
    with pytest.raises(DomainError) as exc:
        mj.open_link(svc, token)
    assert codes(exc.value) == {"affiliation.link_invalid"}

    _, _other_id, other_token = invite_second(backend)
    backend.clock.advance(days=32)
    with pytest.raises(DomainError) as exc:
        mj.open_link(svc, other_token)
    assert codes(exc.value) == {"affiliation.link_expired"}


def invite_second(backend: Backend) -> tuple[str, str, str]:
    svc = backend.services()
    with backend.uow() as uow:
        actor = uow.correspondents.find_by_login("rh-menj2026")
        assert actor is not None
    form = inv.InvitationForm(
        civility="MME", birth_name="Petit", first_names="Anaïs", email="anais@example.fr"
    )
    aff = inv.invite_employee(svc, actor.correspondent_id, "MENJ2026", "A1", form)
    return actor.correspondent_id, aff.affiliation_id, backend.tokens.issued[-1]


def test_full_journey_spouse_and_twins_resumed_at_every_step(backend: Backend) -> None:
    svc = backend.services()
    _, aff_id, token = invite(backend)
    assert mj.open_link(svc, token).next_step is JourneyStep.REGIME
    steps = [
        (JourneyStep.HOUSEHOLD, lambda: mj.save_regime(svc, aff_id, "general")),
        (JourneyStep.FORMULA, lambda: mj.save_household(svc, aff_id, HOUSEHOLD_TWINS)),
        (JourneyStep.PERSONAL, lambda: mj.save_formula(svc, aff_id, 1)),
        (JourneyStep.BENEFICIARIES, lambda: mj.save_personal(svc, aff_id, PERSONAL)),
        (JourneyStep.CONTACT, lambda: mj.save_beneficiaries(svc, aff_id, (spouse_form(), *TWINS))),
        (JourneyStep.BANK, lambda: mj.save_contact(svc, aff_id, CONTACT)),
        (JourneyStep.SIGNATURE, lambda: mj.save_bank(svc, aff_id, BANK)),
    ]
    for expected_next, step in steps:
        step()
        backend.clock.advance(hours=5)  # the employee logs out...
        resumed = mj.journey_view(svc, aff_id)  # ...and comes back: everything saved
        assert resumed.next_step is expected_next
    assert resumed.monthly_amount is not None
    assert resumed.monthly_amount.amount == Decimal("46.00")  # option 1: 12 + spouse 14 + 2 children x 10

    done = mj.sign_and_submit(svc, aff_id)
    assert done.status is S.SUBMITTED
    accepted = mg.accept_affiliation(svc, aff_id)
    assert accepted.status is S.AFFILIATED
    assert accepted.adhesion_number is not None
    assert accepted.effective_date == dt.date(2026, 5, 4)
    assert accepted.signature is not None
    with backend.uow() as uow:
        docs = {d.kind: d for d in uow.documents.list_for_owner(aff_id)}
        assert {"bia", "sepa_mandate", "notice"} <= set(docs)
        assert {d.sha256 for d in accepted.signature.documents} == {
            docs[k].sha256 for k in ("bia", "sepa_mandate", "notice")
        }
        bia = docs["bia"].content.decode()
        assert "rang de naissance 1" in bia and "rang de naissance 2" in bia
        templates = [m.template for m in uow.outbox.pending(backend.clock.now())]
        assert "affiliation_submitted" in templates
        assert "affiliation_completed_employer" in templates
        assert "affiliation_affiliated" in templates
        confirmation = next(
            m for m in uow.outbox.pending(backend.clock.now()) if m.template == "affiliation_submitted"
        )
        assert "04/05/2026" in confirmation.body_text
        assert "46,00\xa0€" in confirmation.body_text


def test_steps_validate_all_at_once_and_refuse_skipping(backend: Backend) -> None:
    svc = backend.services()
    _, aff_id, token = invite(backend)
    mj.open_link(svc, token)
    with pytest.raises(DomainError) as exc:
        mj.save_formula(svc, aff_id, 1)
    assert codes(exc.value) == {"journey.step_not_available"}
    with pytest.raises(DomainError) as exc:
        mj.save_regime(svc, aff_id, "polynesia_cps")
    assert codes(exc.value) == {"journey.regime_not_eligible"}
    mj.save_regime(svc, aff_id, "general")
    from mutuelle_core.affiliation.journey import ChildForm, HouseholdForm

    with pytest.raises(ValidationFailed) as exc:
        mj.save_household(
            svc,
            aff_id,
            HouseholdForm(
                spouse=True,
                spouse_birth_date="01/01/1980",
                spouse_state_civil_servant=True,
                spouse_regime="foreign",
                children=(ChildForm(birth_date="01/01/2000"),),
            ),
        )
    assert codes(exc.value) == {
        "journey.spouse_state_civil_servant",
        "journey.not_french_social_security",
        "journey.child_too_old",
    }
    assert mj.journey_view(svc, aff_id).next_step is JourneyStep.HOUSEHOLD


def test_twins_need_ranks(backend: Backend) -> None:
    svc = backend.services()
    _, aff_id, token = invite(backend)
    mj.open_link(svc, token)
    mj.save_regime(svc, aff_id, "general")
    mj.save_household(svc, aff_id, HOUSEHOLD_TWINS)
    mj.save_formula(svc, aff_id, 0)
    mj.save_personal(svc, aff_id, PERSONAL)
    import attrs

    no_rank = (attrs.evolve(TWINS[0], birth_rank=None), TWINS[1])
    with pytest.raises(DomainError) as exc:
        mj.save_beneficiaries(svc, aff_id, (spouse_form(), *no_rank))
    assert codes(exc.value) == {"beneficiary.birth_rank_required"}


def test_csv_import_reports_every_bad_line_and_never_invites_twice(backend: Backend) -> None:
    svc = backend.services()
    actor = set_up_psc(svc)
    rows = [
        (1, ["M", "Dupont", "Jean", "jean.dupont@example.fr"]),
        (2, ["civilite", "nom", "prenom", "email"]),
        (3, ["X", "Martin", "Paul", "paul@example.fr"]),
        (4, ["MME", "Durand", "Léa", ""]),
        (5, ["MME", "Durand", "Léa", "pas-un-mail"]),
        (6, ["M", "Petit", "Luc"]),
        (7, ["M", "Petit", "Luc", "luc@example.fr", "extra"]),
        (8, [""]),
        (9, ["M", "Dupont", "Jean", "jean.dupont@example.fr"]),
        (10, ["Mme", "Lefèvre", "Anaïs", "anais.lefevre@example.fr"]),
        (11, ["M", "", "Sans Nom", "sn@example.fr"]),
        (12, ["M", "Nom1", "", "x@example.fr"]),
        (13, ["Monsieur", "R2D2", "Robot", "r@example.fr"]),
    ]
    report = inv.invite_rows(svc, actor, "MENJ2026", "A1", rows)
    assert len(report.invited) == 2
    by_line = {r.line: codes_of(r) for r in report.rejected}
    assert by_line == {
        2: {"invitation.header_line"},
        3: {"civility.invalid"},
        4: {"field.required"},
        5: {"email.invalid"},
        6: {"invitation.wrong_column_count"},
        7: {"invitation.wrong_column_count"},
        8: {"invitation.empty_line"},
        9: {"invitation.duplicate_in_file"},
        11: {"name.empty"},
        12: {"name.empty", "name.invalid_character"},
        13: {"name.invalid_character"},
    }
    again = inv.invite_rows(svc, actor, "MENJ2026", "A1", rows)
    assert again.invited == ()
    assert {r.line for r in again.rejected if codes_of(r) == {"invitation.already_invited"}} == {1, 10}


def codes_of(r: inv.RejectedLine) -> set[str]:
    return {e.code for e in r.errors}


def test_follow_up_filters_remind_close_remove_and_jobs(backend: Backend) -> None:
    svc = backend.services()
    actor, aff_id, _ = invite(backend)
    _, other_id, _ = invite_second(backend)
    assert {
        x.affiliation_id
        for x in fu.follow_up(svc, actor, "MENJ2026", status_filter=FollowUpFilter.IN_PROGRESS)
    } == {
        aff_id,
        other_id,
    }
    with pytest.raises(TransitionNotAllowed):
        fu.remind(svc, actor, aff_id)  # not yet 8 days
    backend.clock.advance(days=8)
    report = run_affiliation_jobs(svc, backend.clock.today())
    assert report.flagged_to_remind == 2
    assert run_affiliation_jobs(svc, backend.clock.today()).flagged_to_remind == 0  # idempotent
    assert fu.remind_all(svc, actor, "MENJ2026") == 2
    fu.remove_from_follow_up(svc, actor, other_id)
    assert [x.affiliation_id for x in fu.follow_up(svc, actor, "MENJ2026")] == [aff_id]
    fu.close_file(svc, actor, aff_id)
    for action in (fu.remind, fu.remove_from_follow_up, fu.force_base_affiliation, fu.close_file):
        with pytest.raises(TransitionNotAllowed):
            action(svc, actor, aff_id)  # a closed file accepts nothing but consult
    _line, history = fu.consult(svc, actor, other_id)
    assert [h.to_status for h in history][-1] is S.REMOVED


def test_psc_auto_enrolment_after_21_days_is_base_only(backend: Backend) -> None:
    svc = backend.services()
    _, aff_id, token = invite(backend)
    mj.open_link(svc, token)
    mj.save_regime(svc, aff_id, "general")
    backend.clock.advance(days=20)
    assert run_affiliation_jobs(svc, backend.clock.today()).auto_enrolled == 0
    backend.clock.advance(days=1)
    assert run_affiliation_jobs(svc, backend.clock.today()).auto_enrolled == 1
    assert run_affiliation_jobs(svc, backend.clock.today()).auto_enrolled == 0
    with backend.uow() as uow:
        aff = uow.affiliations.get(aff_id)
    assert aff.status is S.AFFILIATED
    assert aff.product_level is not None and aff.product_level.label == "Base"
    assert aff.enrolment is not None and aff.enrolment.base_only


def test_dispense_request_decision_end_and_psc_renounce(backend: Backend) -> None:
    svc = backend.services()
    _, aff_id, token = invite(backend)
    mj.open_link(svc, token)
    with pytest.raises(ValidationFailed) as exc:
        mj.request_dispense(
            svc, aff_id, motive="psc_individual_contract", attestation=b"", end_date=dt.date(2027, 12, 31)
        )
    assert codes(exc.value) == {"dispense.attestation_required", "dispense.too_long"}
    with pytest.raises(DomainError) as exc:
        mj.request_dispense(
            svc, aff_id, motive="private_cdd_short", attestation=b"%PDF", end_date=dt.date(2026, 12, 31)
        )
    assert codes(exc.value) == {"dispense.motive_not_allowed"}
    view = mj.request_dispense(
        svc,
        aff_id,
        motive="psc_individual_contract",
        attestation=b"%PDF-1.4 attestation",
        end_date=dt.date(2026, 12, 31),
    )
    assert view.status is S.DISPENSE_REQUESTED
    with backend.uow() as uow:
        recipients = {
            m.recipient for m in uow.outbox.pending(backend.clock.now()) if m.template == "dispense_requested"
        }
        assert recipients == {"benoit.dupond@example.fr", "dispenses@menj.example"}
        assert [d.kind for d in uow.documents.list_for_owner(aff_id)] == ["dispense_attestation"]
    assert mg.decide_dispense(svc, aff_id, accept=True).status is S.DISPENSED
    backend.clock.set(dt.datetime(2027, 1, 2, 9, tzinfo=dt.UTC))
    assert run_affiliation_jobs(svc, backend.clock.today()).dispenses_ended == 1
    with backend.uow() as uow:
        assert uow.affiliations.get(aff_id).status is S.INVITED
    token2 = backend.tokens.issued[-1]
    mj.open_link(svc, token2)
    mj.request_dispense(svc, aff_id, motive="psc_other_collective", attestation=b"%PDF")
    assert mj.renounce_dispense(svc, aff_id).status is S.INVITED


def test_other_contract_correspondent_sees_and_does_nothing(backend: Backend) -> None:
    svc = backend.services()
    _, aff_id, _ = invite(backend)
    stranger = set_up_psc(svc, number="MINARM2026", employer_id="emp-minarm")
    with pytest.raises(AccessDenied):
        fu.follow_up(svc, stranger, "MENJ2026")
    for action in (fu.consult, fu.remind, fu.close_file, fu.remove_from_follow_up, fu.force_base_affiliation):
        with pytest.raises(AccessDenied):
            action(svc, stranger, aff_id)
    with pytest.raises(AccessDenied):
        inv.invite_employee(svc, stranger, "MENJ2026", "A1", FORM)


def test_complete_affiliation_by_the_employer(backend: Backend) -> None:
    svc = backend.services()
    actor, aff_id, _ = invite(backend)
    form = mg.CompleteAffiliationForm(
        regime="general",
        household=HOUSEHOLD_TWINS,
        level=2,
        personal=PERSONAL,
        beneficiaries=(spouse_form(), *TWINS),
        contact=CONTACT,
        bank=BANK,
    )
    submitted = mg.complete_affiliation(svc, actor, "MENJ2026", "A1", form)
    assert submitted.affiliation_id == aff_id  # completes the open invitation
    assert submitted.status is S.SUBMITTED
    rejected = mg.reject_affiliation(svc, aff_id, ["RIB illisible"])
    assert rejected.status is S.REJECTED
    assert mg.complete_affiliation(svc, actor, "MENJ2026", "A1", form).status is S.SUBMITTED
    assert mg.accept_affiliation(svc, aff_id).product_level is not None


def test_force_base_by_employer_and_letter_without_email(backend: Backend) -> None:
    svc = backend.services()
    actor, aff_id, _ = invite(backend)
    line = fu.force_base_affiliation(svc, actor, aff_id)
    assert line.status is S.AFFILIATED
    letter = inv.invite_employee(
        svc, actor, "MENJ2026", "A1", inv.InvitationForm(civility="MME", birth_name="Roux", first_names="Ana")
    )
    with backend.uow() as uow:
        [doc] = uow.documents.list_for_owner(letter.affiliation_id)
        assert doc.kind == "invitation_letter"
        assert "affiliation?jeton=" in doc.content.decode()


def test_company_sheet_counts_employees_and_covered_persons(backend: Backend) -> None:
    from mutuelle_core.contracts import employer_space as es

    svc = backend.services()
    actor, aff_id, _ = invite(backend)
    form = mg.CompleteAffiliationForm(
        regime="general",
        household=HOUSEHOLD_TWINS,
        level=1,
        personal=PERSONAL,
        beneficiaries=(spouse_form(), *TWINS),
        contact=CONTACT,
        bank=BANK,
    )
    mg.complete_affiliation(svc, actor, "MENJ2026", "A1", form)
    mg.accept_affiliation(svc, aff_id)
    _, other_id, _ = invite_second(backend)
    fu.force_base_affiliation(svc, actor, other_id)
    sheet = es.company_sheet(svc, actor, "MENJ2026", on=dt.date(2026, 6, 1))
    assert (sheet.employees, sheet.covered_persons) == (2, 5)
    before = es.company_sheet(svc, actor, "MENJ2026", on=dt.date(2026, 5, 3))
    assert (before.employees, before.covered_persons) == (0, 0)
