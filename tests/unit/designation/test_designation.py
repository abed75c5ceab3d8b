"""The designation's life: signed, in force, superseded; acceptance and irrevocability; reminders."""

from __future__ import annotations

import datetime as dt
import hashlib

import attrs
import pytest

from mutuelle_core.designation import (
    BeneficiaryAccepted,
    Designation,
    DesignationReviewReminder,
    DesignationStatus,
    FamilyChange,
    FamilySituationChanged,
    LapseRule,
    SignatureEvidence,
    StandardClause,
    clause_document_sha256,
    current_designation,
    render_clause_text,
    replace_designation,
)
from mutuelle_core.designation.clauses import Clause
from mutuelle_core.errors import DomainError, TransitionNotAllowed, registered_codes
from mutuelle_core.values.identity import PersonName, PostalAddress
from tests.unit.designation.builders import NOW, fifty_thirty_twenty, in_force, named, particular, signed

LATER = NOW + dt.timedelta(days=30)
PRO_RATA = fifty_thirty_twenty(LapseRule.PRO_RATA)


def draft(clause: Clause, designation_id: str = "d2", replacing: Designation | None = None) -> Designation:
    return Designation.draft(
        designation_id=designation_id,
        affiliation_id="aff-1",
        member_id="m1",
        clause=clause,
        now=NOW,
        replacing=replacing,
    )


# -- signature and coming into force --------------------------------------------------------------


def test_the_full_life_of_a_replacement() -> None:
    first = in_force(StandardClause())
    assert first.status is DesignationStatus.IN_FORCE and first.in_force_at == NOW
    second = signed(draft(PRO_RATA, replacing=first), LATER)
    new, old = replace_designation(first, second, at=LATER)
    assert new.status is DesignationStatus.IN_FORCE and new.replaces_id == "d1"
    assert old is not None and old.status is DesignationStatus.SUPERSEDED
    assert (old.superseded_by, old.superseded_at) == ("d2", LATER)
    assert old.clause == StandardClause()  # kept as it was, for the history
    assert current_designation([old, new]) is new
    assert [e.name for e in new.pending_events] == [
        "DesignationDrafted",
        "DesignationSigned",
        "DesignationPutInForce",
    ]
    assert old.pending_events[-1].name == "DesignationSuperseded"
    assert new.signature is not None and new.signature.document_sha256 == clause_document_sha256(new)


def test_a_first_designation_replaces_nothing() -> None:
    new, old = replace_designation(None, signed(draft(PRO_RATA)), at=NOW)
    assert old is None and new.is_in_force
    assert current_designation([]) is None


def test_an_unsigned_designation_cannot_come_into_force() -> None:
    with pytest.raises(TransitionNotAllowed) as caught:
        draft(PRO_RATA).put_in_force(at=NOW)
    assert caught.value.code == "designation.unsigned"
    first = in_force(StandardClause())
    with pytest.raises(TransitionNotAllowed) as caught:
        first.supersede(by=draft(PRO_RATA, replacing=first), at=NOW)
    assert caught.value.code == "designation.unsigned"


def test_the_signature_must_cover_this_clause_text() -> None:
    designation = draft(PRO_RATA)
    other = hashlib.sha256(b"another text").hexdigest()
    with pytest.raises(DomainError) as caught:
        designation.sign(SignatureEvidence(signer="m1", signed_at=NOW, document_sha256=other))
    assert caught.value.code == "designation.signature_mismatch"
    with pytest.raises(DomainError) as caught:
        SignatureEvidence(signer="m1", signed_at=NOW, document_sha256="ABC")
    assert caught.value.code == "designation.invalid_sha256"


def test_transitions_out_of_order_are_refused() -> None:
    done = signed(draft(PRO_RATA))
    with pytest.raises(TransitionNotAllowed) as caught:
        signed(done)
    assert caught.value.code == "state.transition_not_allowed"
    live = done.put_in_force(at=NOW)
    with pytest.raises(TransitionNotAllowed):
        live.put_in_force(at=NOW)
    with pytest.raises(TransitionNotAllowed):
        done.supersede(by=live, at=NOW)


def test_a_replacement_must_replace_the_designation_in_force() -> None:
    first = in_force(StandardClause())
    prepared = signed(draft(PRO_RATA, "d2", replacing=first))
    meanwhile = in_force(fifty_thirty_twenty(LapseRule.STANDARD_CLAUSE), "d3", previous=first)
    superseded = first.supersede(by=meanwhile, at=NOW)
    with pytest.raises(DomainError) as caught:
        prepared.put_in_force(at=LATER, previous=meanwhile)
    assert caught.value.code == "designation.stale_previous"
    with pytest.raises(DomainError) as caught:
        prepared.put_in_force(at=LATER, previous=None)
    assert caught.value.code == "designation.stale_previous"
    with pytest.raises(DomainError) as caught:
        signed(draft(PRO_RATA, "d4")).put_in_force(at=LATER, previous=meanwhile)
    assert caught.value.code == "designation.stale_previous"
    with pytest.raises(DomainError) as caught:
        draft(PRO_RATA, "d5", replacing=superseded)
    assert caught.value.code == "designation.stale_previous"


def test_designations_of_other_affiliations_do_not_mix() -> None:
    first = in_force(StandardClause())
    stranger = attrs.evolve(first, affiliation_id="aff-2")
    with pytest.raises(DomainError) as caught:
        draft(PRO_RATA, replacing=stranger)
    assert caught.value.code == "designation.other_affiliation"


def test_two_designations_in_force_is_a_broken_history() -> None:
    with pytest.raises(DomainError) as caught:
        current_designation([in_force(StandardClause()), in_force(PRO_RATA, "d2")])
    assert caught.value.code == "designation.several_in_force"


# -- acceptance and irrevocability ----------------------------------------------------------------


def accepted(person_id: str = "b", clause: Clause = PRO_RATA) -> Designation:
    return in_force(clause).accept(person_id, NOW)


def test_acceptance_is_recorded_once() -> None:
    designation = accepted()
    assert designation.accepted_person_ids == {"b"}
    assert isinstance(designation.pending_events[-1], BeneficiaryAccepted)
    assert designation.accept("b", LATER) is designation


def test_only_a_named_beneficiary_accepts_a_particular_designation() -> None:
    with pytest.raises(DomainError) as caught:
        in_force(PRO_RATA).accept("z", NOW)
    assert caught.value.code == "designation.accepting_not_named"
    with pytest.raises(TransitionNotAllowed):
        draft(PRO_RATA).accept("b", NOW)


@pytest.mark.parametrize(
    "replacement",
    [
        pytest.param(StandardClause(), id="back to the standard clause"),
        pytest.param(particular([named("a", "alice", 70), named("c", "chloé", 30)]), id="removed"),
        pytest.param(
            particular([named("a", "alice", 60), named("b", "bruno", 20), named("c", "chloé", 20)]),
            id="reduced",
        ),
        pytest.param(
            particular([named("a", "alice", 100)], [named("b", "bruno", 30), named("c", "chloé", 70)]),
            id="moved to a later rank",
        ),
        pytest.param(fifty_thirty_twenty(LapseRule.STANDARD_CLAUSE), id="loses the lapsed shares"),
    ],
)
def test_a_change_against_an_accepting_beneficiary_is_refused(replacement: Clause) -> None:
    current = accepted("b")
    with pytest.raises(DomainError) as caught:
        draft(replacement, replacing=current)
    assert caught.value.code == "designation.irrevocable_beneficiary"
    assert caught.value.params == {"person_id": "b"}


def test_irrevocability_is_checked_again_when_the_acceptance_came_after_the_draft() -> None:
    current = in_force(PRO_RATA)
    prepared = signed(draft(particular([named("a", "alice", 100)]), replacing=current))
    current = current.accept("b", NOW)
    with pytest.raises(DomainError) as caught:
        prepared.put_in_force(at=LATER, previous=current)
    assert caught.value.code == "designation.irrevocable_beneficiary"
    with pytest.raises(DomainError):
        current.supersede(by=prepared, at=LATER)


@pytest.mark.parametrize(
    "replacement",
    [
        pytest.param(
            particular([named("a", "alice", 40), named("b", "bruno", 40), named("c", "chloé", 20)]), id="more"
        ),
        pytest.param(particular([named("b", "bruno", 30), named("d", "david", 70)]), id="others change"),
        pytest.param(
            particular(
                [named("a", "alice", 50), named("b", "bruno", 30), named("c", "chloé", 20)],
                [named("d", "dan", 100)],
            ),
            id="a later rank added",
        ),
    ],
)
def test_a_change_that_keeps_an_accepting_beneficiary_s_rights_is_allowed(replacement: Clause) -> None:
    current = accepted("b")
    new, old = replace_designation(current, signed(draft(replacement, replacing=current)), at=LATER)
    assert new.is_in_force and old is not None and old.status is DesignationStatus.SUPERSEDED
    assert new.accepted_person_ids == {"b"}  # the acceptance carries over


def test_a_carried_acceptance_still_protects_the_beneficiary() -> None:
    current = accepted("b")
    keep = particular([named("b", "bruno", 30), named("d", "david", 70)])
    second, _ = replace_designation(current, signed(draft(keep, replacing=current)), at=LATER)
    with pytest.raises(DomainError) as caught:
        draft(particular([named("d", "david", 100)]), "d3", replacing=second)
    assert caught.value.code == "designation.irrevocable_beneficiary"


def test_an_acceptance_under_the_standard_clause_freezes_it() -> None:
    current = accepted("spouse-1", StandardClause())
    with pytest.raises(DomainError) as caught:
        draft(particular([named("spouse-1", "anne", 100)]), replacing=current)
    assert caught.value.code == "designation.irrevocable_beneficiary"
    assert draft(StandardClause(), replacing=current).replaces_id == "d1"


# -- reminders ------------------------------------------------------------------------------------


def change(kind: FamilyChange, person_id: str | None = None, member_id: str = "m1") -> FamilySituationChanged:
    return FamilySituationChanged(occurred_at=LATER, member_id=member_id, change=kind, person_id=person_id)


@pytest.mark.parametrize("kind", list(FamilyChange))
def test_a_family_change_reminds_the_member_to_review_the_designation(kind: FamilyChange) -> None:
    designation = in_force(PRO_RATA).notice_family_change(change(kind))
    reminder = designation.pending_events[-1]
    assert isinstance(reminder, DesignationReviewReminder)
    assert (reminder.member_id, reminder.designation_id, reminder.change) == ("m1", "d1", kind)
    assert reminder.occurred_at == LATER and not reminder.beneficiary_concerned
    assert "pensez à mettre à jour votre désignation de bénéficiaires" in reminder.text
    assert kind.label


def test_the_death_of_a_named_beneficiary_is_flagged() -> None:
    reminder = in_force(PRO_RATA).notice_family_change(change(FamilyChange.DEATH, "b")).pending_events[-1]
    assert isinstance(reminder, DesignationReviewReminder) and reminder.beneficiary_concerned


def test_no_reminder_from_a_draft_a_superseded_designation_or_another_member() -> None:
    prepared = draft(PRO_RATA)
    assert prepared.notice_family_change(change(FamilyChange.BIRTH)) is prepared
    live = in_force(PRO_RATA)
    assert live.notice_family_change(change(FamilyChange.BIRTH, member_id="m2")) is live


def test_a_member_without_designation_is_reminded_too() -> None:
    reminder = DesignationReviewReminder.after(change(FamilyChange.MARRIAGE))
    assert reminder.designation_id is None and reminder.affiliation_id is None


# -- the clause document --------------------------------------------------------------------------


def test_the_particular_clause_text() -> None:
    address = PostalAddress(["12 rue des Lilas"], "75011", "Paris")
    clause = particular(
        [named("a", "alice", "33.33"), named("b", "bruno", "66.67")],
        [
            attrs.evolve(
                named("c", "chloé", 100), address=address, name=PersonName("martin", "chloé", "durand")
            ),
        ],
        rule=LapseRule.STANDARD_CLAUSE,
    )
    text = render_clause_text(draft(clause))
    assert "Désignation : d2\nAdhésion : aff-1\n" in text
    assert "Au rang 1 :\n- Alice MARTIN, né(e) le 01/01/1990, enfant : 33,33 %\n" in text
    assert "- Bruno MARTIN, né(e) le 01/01/1990, enfant : 66,67 %\n" in text
    assert "À défaut de tous les bénéficiaires du rang 1, au rang 2 :\n" in text
    assert (
        "- Chloé DURAND (nom de naissance MARTIN), né(e) le 01/01/1990, enfant, "
        "demeurant 12 rue des Lilas, 75011 PARIS : 100 %\n"
    ) in text
    assert "sa part est versée selon la désignation standard" in text
    assert "enfants nés ou à naître, vivants ou représentés" in text
    assert "L132-9" in text


def test_the_clause_text_and_its_hash_are_stable_and_specific() -> None:
    one = draft(PRO_RATA)
    assert render_clause_text(one) == render_clause_text(draft(PRO_RATA))
    assert clause_document_sha256(one) == hashlib.sha256(render_clause_text(one).encode()).hexdigest()
    assert clause_document_sha256(one) != clause_document_sha256(
        draft(fifty_thirty_twenty(LapseRule.STANDARD_CLAUSE))
    )
    assert clause_document_sha256(one) != clause_document_sha256(draft(PRO_RATA, "d9"))
    # the status does not change the document
    assert clause_document_sha256(signed(one).put_in_force(at=NOW)) == clause_document_sha256(one)


def test_each_refusal_has_its_own_code_with_a_french_message() -> None:
    codes = registered_codes()
    for code in [
        "designation.shares_not_100",
        "designation.unsigned",
        "designation.irrevocable_beneficiary",
        "designation.free_text_refused",
    ]:
        assert code in codes
    assert "100 %" in codes["designation.shares_not_100"].template
    assert "signée" in codes["designation.unsigned"].template
    assert "L132-9" in codes["designation.irrevocable_beneficiary"].template


def test_an_acceptance_given_before_coming_into_force_is_kept_once() -> None:
    current = accepted("b")
    prepared = signed(draft(PRO_RATA, replacing=current)).accept("b", LATER).accept("a", LATER)
    new, _ = replace_designation(current, prepared, at=LATER)
    assert [(a.person_id, a.accepted_at) for a in new.acceptances] == [("b", NOW), ("a", LATER)]
