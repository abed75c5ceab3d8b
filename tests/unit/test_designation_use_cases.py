"""The designation use cases on every adapter: member space, second authentication, employer, back office."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import attrs
import pytest

from mutuelle_adapters.strong_auth import StrongAuthByEmail
from mutuelle_core.affiliation.journey import BeneficiaryForm
from mutuelle_core.designation import (
    Child,
    Designation,
    DesignationStatus,
    FamilyAtDeath,
    ParticularClause,
    Spouse,
    StandardClause,
)
from mutuelle_core.designation import use_cases as uc
from mutuelle_core.errors import AccessDenied, DomainError, TransitionNotAllowed, ValidationFailed
from mutuelle_core.families import use_cases as fam
from mutuelle_core.strong_auth import SIGN_DESIGNATION, VIEW_DESIGNATION, StrongAuthProof
from mutuelle_core.values.identity import PersonName
from mutuelle_core.values.money import Money
from tests.affiliation_fixtures import set_up_psc
from tests.conftest import Backend
from tests.designation_fixtures import affiliated_member

D = dt.date


def codes(err: DomainError) -> set[str]:
    return {e.code for e in err.leaves()}


def auth_for(backend: Backend) -> StrongAuthByEmail:
    return StrongAuthByEmail(backend.uow_factory, backend.clock, backend.ids, backend.tokens)  # type: ignore[arg-type]


def proof(backend: Backend, aff_id: str, purpose: str = VIEW_DESIGNATION) -> StrongAuthProof:
    """The member asks for a code, reads it in the e-mail, types it back."""
    auth = auth_for(backend)
    challenge = uc.request_strong_authentication(backend.services(), auth, aff_id, purpose)
    with backend.uow() as uow:
        message = [m for m in uow.outbox.pending(backend.clock.now()) if m.template == "strong_auth_code"][-1]
    assert message.recipient == "benoit.dupond@example.fr"
    [typed] = re.findall(r"^\s+(\d{6})$", message.body_text, re.MULTILINE)
    return auth.confirm(challenge, typed)


def spouse_id(backend: Backend, aff_id: str) -> str:
    with backend.uow() as uow:
        covered = uow.affiliations.get(aff_id).covered
    return next(b.beneficiary_id for b in covered if b.details.kind.value == "spouse")


def entry(first: str, share: str, **more: str) -> uc.BeneficiaryEntry:
    fields = {"birth_name": "Dupond", "birth_date": "12/05/2013", "relationship": "child", **more}
    return uc.BeneficiaryEntry(first_names=first, share=share, **fields)  # type: ignore[arg-type]


def fifty_thirty_twenty(spouse: str = "") -> uc.ParticularDesignationForm:
    """Isalyne 50 %, Nathaniel 30 %, Claudia (the covered spouse) 20 %; failing them all, a grandfather."""
    return uc.ParticularDesignationForm(
        beneficiaries=(
            entry("Isalyne", "50"),
            entry("Nathaniel", "30"),
            entry(
                "Claudia",
                "20",
                birth_name="Duzu",
                usage_name="Dupond",
                birth_date="09/10/1972",
                relationship="spouse",
                person_id=spouse,
            ),
            uc.BeneficiaryEntry(
                rank="2",
                birth_name="Dupond",
                first_names="Marcel",
                birth_date="01/02/1950",
                relationship="parent",
                share="100",
                address_lines=("3 rue des Carmes",),
                postal_code="54000",
                city="Nancy",
            ),
        ),
        lapse_rule="standard_clause",
    )


def sign(backend: Backend, aff_id: str, designation_id: str) -> Designation:
    return uc.sign_designation(
        backend.services(), aff_id, designation_id, proof(backend, aff_id, SIGN_DESIGNATION)
    )


def test_particular_50_30_20_signed_in_force_the_previous_kept_in_history(backend: Backend) -> None:
    svc = backend.services()
    _, aff_id = affiliated_member(svc)
    summary = uc.designation_summary(svc, aff_id)
    assert (summary.designated, summary.kind, summary.beneficiaries) == (False, "standard", 0)
    assert summary.reminder.startswith("En cas de changement de situation familiale")

    standard = uc.choose_standard_clause(svc, aff_id)
    assert standard.status is DesignationStatus.DRAFT
    first = sign(backend, aff_id, standard.designation_id)
    assert first.status is DesignationStatus.IN_FORCE

    backend.clock.advance(days=40)
    draft = uc.enter_particular_designation(svc, aff_id, fifty_thirty_twenty(spouse_id(backend, aff_id)))
    assert draft.replaces_id == first.designation_id
    assert isinstance(draft.clause, ParticularClause)
    assert [str(b.share) for b in draft.clause.ranks[0].beneficiaries] == ["50", "30", "20"]
    assert draft.clause.ranks[0].beneficiaries[2].person_id == spouse_id(backend, aff_id)
    second = sign(backend, aff_id, draft.designation_id)
    assert second.status is DesignationStatus.IN_FORCE
    assert second.in_force_at == backend.clock.now()

    history = uc.designation_history(svc, aff_id, proof(backend, aff_id))
    assert [(d.designation_id, d.status) for d in history] == [
        (first.designation_id, DesignationStatus.SUPERSEDED),
        (second.designation_id, DesignationStatus.IN_FORCE),
    ]
    assert history[0].superseded_by == second.designation_id
    assert isinstance(history[0].clause, StandardClause)

    summary = uc.designation_summary(svc, aff_id)
    assert (summary.designated, summary.kind, summary.beneficiaries, summary.ranks) == (
        True,
        "particular",
        4,
        2,
    )
    assert summary.in_force_at == second.in_force_at
    assert "Isalyne" not in repr(summary) and "DUPOND" not in repr(summary)

    # The evidence is persisted and points at the stored document the member signed.
    signature = second.signature
    assert signature is not None and signature.document_id is not None
    assert signature.signer == aff_id and signature.provider == "local"
    with backend.uow() as uow:
        document = uow.documents.get(signature.document_id)
        assert uow.designations.get(second.designation_id).signature == signature
        # Owned by the designation: no listing of the affiliation's documents shows it.
        assert all(d.kind != uc.CLAUSE_DOCUMENT_KIND for d in uow.documents.list_for_owner(aff_id))
        templates = [m.template for m in uow.outbox.pending(backend.clock.now())]
    assert document.kind == uc.CLAUSE_DOCUMENT_KIND and document.owner == second.designation_id
    assert hashlib.sha256(document.content).hexdigest() == signature.document_sha256 == document.sha256
    text = document.content.decode()
    assert "- Isalyne DUPOND, né(e) le 12/05/2013, enfant : 50 %" in text
    assert "Claudia DUPOND (nom de naissance DUZU)" in text
    assert templates.count("designation_signed") == 2

    detail = uc.view_designation(svc, aff_id, proof(backend, aff_id))
    assert detail.current == second and detail.clause_text == text and detail.draft is None


def test_the_form_reports_every_problem_at_once(backend: Backend) -> None:
    svc = backend.services()
    _, aff_id = affiliated_member(svc)
    form = uc.ParticularDesignationForm(
        beneficiaries=(
            entry("Isalyne", "50"),
            entry("Nathaniel", "30"),
            entry("Zoé", "10", birth_date="31/02/2013"),
            entry("Luc", "100", rank="3", relationship="neighbour"),
            entry("Ana", "abc", rank="4"),
        ),
        lapse_rule="whatever",
    )
    with pytest.raises(ValidationFailed) as exc:
        uc.enter_particular_designation(svc, aff_id, form)
    assert {(e.code, e.field) for e in exc.value.errors} == {
        ("designation.unknown_lapse_rule", "lapse_rule"),
        ("birth_date.invalid", "beneficiaries[2].birth_date"),
        ("designation.unknown_relationship", "beneficiaries[3].relationship"),
        ("designation.share_invalid", "beneficiaries[4].share"),
        ("designation.rank_missing", "beneficiaries"),  # rank 2 is empty
        ("designation.shares_not_100", "ranks[0]"),  # 50 + 30 + 10
    }
    [not_100] = [e for e in exc.value.errors if e.code == "designation.shares_not_100"]
    assert not_100.params == {"rank": 1, "total": not_100.params["total"]}
    assert str(not_100.params["total"]) == "90"
    with backend.uow() as uow:
        assert uow.designations.list_for_affiliation(aff_id) == []

    only_shares = uc.ParticularDesignationForm(
        beneficiaries=(entry("Isalyne", "50"), entry("Nathaniel", "49,99"))
    )
    with pytest.raises(ValidationFailed) as exc:
        uc.enter_particular_designation(svc, aff_id, only_shares)
    assert codes(exc.value) == {"designation.shares_not_100"}


def test_an_unsigned_designation_cannot_be_put_in_force(backend: Backend) -> None:
    svc = backend.services()
    _, aff_id = affiliated_member(svc)
    draft = uc.enter_particular_designation(svc, aff_id, fifty_thirty_twenty())
    with pytest.raises(TransitionNotAllowed) as exc:
        uc.put_designation_in_force(svc, aff_id, draft.designation_id)
    assert codes(exc.value) == {"designation.unsigned"}
    with backend.uow() as uow:
        assert uow.designations.get(draft.designation_id).status is DesignationStatus.DRAFT
        assert uow.designations.in_force_for(aff_id) is None


def test_a_change_against_an_accepting_beneficiary_is_refused(backend: Backend) -> None:
    svc = backend.services()
    _, aff_id = affiliated_member(svc)
    current = sign(
        backend, aff_id, uc.enter_particular_designation(svc, aff_id, fifty_thirty_twenty()).designation_id
    )
    assert isinstance(current.clause, ParticularClause)
    isalyne = current.clause.ranks[0].beneficiaries[0].person_id
    accepted = uc.record_acceptance(svc, aff_id, isalyne)
    assert accepted.accepted_person_ids == {isalyne}

    without_her = uc.ParticularDesignationForm(beneficiaries=(entry("Nathaniel", "100"),))
    with pytest.raises(DomainError) as exc:
        uc.enter_particular_designation(svc, aff_id, without_her)
    assert codes(exc.value) == {"designation.irrevocable_beneficiary"}
    with pytest.raises(DomainError) as exc:
        uc.choose_standard_clause(svc, aff_id)
    assert codes(exc.value) == {"designation.irrevocable_beneficiary"}

    keeping_her = uc.ParticularDesignationForm(
        beneficiaries=(entry("Isalyne", "60", person_id=isalyne), entry("Nathaniel", "40")),
    )
    replacement = sign(
        backend, aff_id, uc.enter_particular_designation(svc, aff_id, keeping_her).designation_id
    )
    assert replacement.accepted_person_ids == {isalyne}  # the acceptance carries over


def test_viewing_needs_a_fresh_proof_of_that_member_for_that_purpose(backend: Backend) -> None:
    svc = backend.services()
    _, aff_id = affiliated_member(svc)
    sign(backend, aff_id, uc.choose_standard_clause(svc, aff_id).designation_id)
    with pytest.raises(AccessDenied) as exc:
        uc.view_designation(svc, aff_id, None)
    assert codes(exc.value) == {"strong_auth.required"}
    with pytest.raises(AccessDenied):
        uc.designation_history(svc, aff_id, None)

    fresh = proof(backend, aff_id)
    detail = uc.view_designation(svc, aff_id, fresh)
    assert detail.current is not None and isinstance(detail.current.clause, StandardClause)
    assert detail.clause_text is not None and detail.clause_text.startswith("DÉSIGNATION DE BÉNÉFICIAIRES")

    for wrong in (
        attrs.evolve(fresh, subject="someone-else"),
        attrs.evolve(fresh, purpose=SIGN_DESIGNATION),
    ):
        with pytest.raises(AccessDenied) as exc:
            uc.view_designation(svc, aff_id, wrong)
        assert codes(exc.value) == {"strong_auth.required"}
    backend.clock.advance(minutes=5, seconds=1)
    with pytest.raises(AccessDenied) as exc:
        uc.view_designation(svc, aff_id, fresh)
    assert codes(exc.value) == {"strong_auth.proof_too_old"}
    with pytest.raises(AccessDenied) as exc:  # signing needs its own proof
        uc.sign_designation(
            svc, aff_id, uc.choose_standard_clause(svc, aff_id).designation_id, proof(backend, aff_id)
        )
    assert codes(exc.value) == {"strong_auth.required"}


def test_employer_and_back_office_see_only_that_a_designation_exists_and_since_when(backend: Backend) -> None:
    svc = backend.services()
    actor, aff_id = affiliated_member(svc)
    assert uc.designation_status(svc, aff_id, actor_id=actor) == uc.DesignationStatusView(
        affiliation_id=aff_id, exists=False, in_force_at=None
    )
    backend.clock.advance(days=3)
    signed = sign(
        backend, aff_id, uc.enter_particular_designation(svc, aff_id, fifty_thirty_twenty()).designation_id
    )
    view = uc.designation_status(svc, aff_id, actor_id=actor)
    assert (view.exists, view.in_force_at) == (True, signed.in_force_at)
    assert set(attrs.fields_dict(uc.DesignationStatusView)) == {"affiliation_id", "exists", "in_force_at"}
    assert uc.designation_status(svc, aff_id) == view  # back office
    stranger = set_up_psc(svc)
    with pytest.raises(AccessDenied):
        uc.designation_status(svc, aff_id, actor_id=stranger)


def test_100000_euros_allocated_by_the_designation_in_force_at_death_add_up_exactly(backend: Backend) -> None:
    svc = backend.services()
    _, aff_id = affiliated_member(svc)
    first = sign(backend, aff_id, uc.choose_standard_clause(svc, aff_id).designation_id)
    backend.clock.advance(days=10)
    second = sign(
        backend, aff_id, uc.enter_particular_designation(svc, aff_id, fifty_thirty_twenty()).designation_id
    )
    assert isinstance(second.clause, ParticularClause)
    isalyne, nathaniel, claudia = (b.person_id for b in second.clause.ranks[0].beneficiaries)
    names = {p: PersonName("Dupond", f) for p, f in [(isalyne, "Isalyne"), (nathaniel, "Nathaniel")]}
    family = FamilyAtDeath(
        spouse=Spouse(claudia, PersonName("Duzu", "Claudia", "Dupond")),
        children=(*(Child(p, n) for p, n in names.items()), Child("x-3", PersonName("Dupond", "Lou"))),
        predeceased={nathaniel},
    )
    capital = Money.of("100000")
    death = backend.clock.now() + dt.timedelta(days=100)
    result = uc.allocate_death_capital(svc, aff_id, capital, family, death_at=death)
    assert result.total == capital and result.clause_kind == "particular"
    # Nathaniel died first: his 30 % go to the standard clause (lapse rule), i.e. to the spouse.
    assert result.amount_for(isalyne) == Money.of("50000")
    assert result.amount_for(claudia) == Money.of("50000")

    thirds = FamilyAtDeath(
        children=(
            Child(isalyne, names[isalyne]),
            Child("x-2", PersonName("Dupond", "Eva")),
            Child("x-3", PersonName("Dupond", "Lou")),
        ),
        predeceased={nathaniel, claudia},
    )
    result = uc.allocate_death_capital(svc, aff_id, capital, thirds, death_at=death)
    assert result.total == capital
    assert result.amount_for(isalyne) == Money.of("50000") + Money.of("16666.67")
    assert {str(result.amount_for(p)) for p in ("x-2", "x-3")} == {"16666.67", "16666.66"}

    before = first.in_force_at + dt.timedelta(days=1)  # type: ignore[operator]
    earlier = uc.allocate_death_capital(svc, aff_id, capital, thirds, death_at=before)
    assert earlier.clause_kind == "standard" and earlier.total == capital


def test_a_stale_draft_cannot_be_signed_and_a_failed_signature_leaves_nothing(backend: Backend) -> None:
    svc = backend.services()
    _, aff_id = affiliated_member(svc)
    one = uc.choose_standard_clause(svc, aff_id)
    two = uc.enter_particular_designation(svc, aff_id, fifty_thirty_twenty())
    sign(backend, aff_id, one.designation_id)
    with pytest.raises(DomainError) as exc:
        sign(backend, aff_id, two.designation_id)
    assert codes(exc.value) == {"designation.stale_previous"}

    three = uc.enter_particular_designation(svc, aff_id, fifty_thirty_twenty())
    ready = proof(backend, aff_id, SIGN_DESIGNATION)
    backend.fail_on_write("designations")
    with pytest.raises(Exception, match="injected failure"):
        uc.sign_designation(svc, aff_id, three.designation_id, ready)
    with backend.uow() as uow:
        assert uow.designations.get(three.designation_id).status is DesignationStatus.DRAFT
        assert uow.documents.list_for_owner(three.designation_id) == []
        assert uow.designations.get(one.designation_id).status is DesignationStatus.IN_FORCE
    assert sign(backend, aff_id, three.designation_id).status is DesignationStatus.IN_FORCE


def test_a_family_change_reminds_to_review_the_designation(backend: Backend) -> None:
    svc = backend.services()
    _, aff_id = affiliated_member(svc)
    spouse = spouse_id(backend, aff_id)
    assert uc.notify_family_change(svc, aff_id, "birth") is None  # no designation in force yet
    sign(
        backend,
        aff_id,
        uc.enter_particular_designation(svc, aff_id, fifty_thirty_twenty(spouse)).designation_id,
    )

    fam.radiate_beneficiary(svc, aff_id, spouse, motive="divorce_or_separation", last_day=D(2026, 7, 31))
    with backend.uow() as uow:
        [reminder] = [
            m for m in uow.outbox.pending(backend.clock.now()) if m.template == "designation_review_reminder"
        ]
    assert reminder.recipient == "benoit.dupond@example.fr"
    assert reminder.subject == "Pensez à mettre à jour votre désignation de bénéficiaires"
    assert "divorce ou séparation" in reminder.body_text
    assert "l'un des bénéficiaires que vous avez désignés" in reminder.body_text
    assert "Claudia" not in reminder.body_text  # no content in the e-mail

    twin = _covered_children(backend, aff_id)[0]
    fam.radiate_beneficiary(svc, aff_id, twin, motive="other_cover", last_day=D(2026, 7, 31))
    child = BeneficiaryForm(
        kind="child", civility="M", birth_name="Dupond", first_names="Hugo", birth_date="02/05/2026"
    )
    fam.add_beneficiary(svc, aff_id, fam.NewBeneficiary(form=child, start=D(2026, 5, 4)))
    message_id = uc.notify_family_change(svc, aff_id, "death")
    with backend.uow() as uow:
        reminders = [
            m for m in uow.outbox.pending(backend.clock.now()) if m.template == "designation_review_reminder"
        ]
        assert uow.outbox.get(message_id or "").template == "designation_review_reminder"
    assert len(reminders) == 3  # divorce, the child added, the death notified (not the other cover)
    assert "un enfant est désormais couvert" in reminders[1].body_text
    with pytest.raises(DomainError) as exc:
        uc.notify_family_change(svc, aff_id, "lottery")
    assert codes(exc.value) == {"designation.unknown_family_change"}


def _covered_children(backend: Backend, aff_id: str) -> list[str]:
    with backend.uow() as uow:
        covered = uow.affiliations.get(aff_id).covered
    return sorted(
        b.beneficiary_id for b in covered if b.details.kind.value == "child" and b.radiation is None
    )


def test_health_contracts_have_no_designation(backend: Backend) -> None:
    from tests.unit.test_departures_use_cases import affiliated as health_affiliated

    svc = backend.services()
    _, aff_id = health_affiliated(backend)
    with pytest.raises(DomainError) as exc:
        uc.designation_summary(svc, aff_id)
    assert codes(exc.value) == {"designation.not_provident"}
    assert uc.notify_family_change(svc, aff_id, "death") is None
