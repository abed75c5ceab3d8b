"""SEPA mandates: FRST then RCUR, account amendments (same bank, other bank), revocation, instructions."""

from __future__ import annotations

import datetime as dt

import pytest

from mutuelle_core.cotisations.mandates import (
    AmendmentInfo,
    DirectDebitInstruction,
    Mandate,
    MandateStatus,
    SequenceType,
    same_bank,
    sepa_text,
)
from mutuelle_core.errors import DomainError
from mutuelle_core.values.bank import BankAccount
from mutuelle_core.values.money import Money

D = dt.date
CA_1 = "FR7630006000011234567890189"  # Crédit Agricole (30006)
CA_2 = "FR7630006000019876543210173"  # same bank, another account
BANQUE_POSTALE = "FR1420041010050500013M02606"  # 20041
DE = "DE89370400440532013000"


def mandate(**overrides: object) -> Mandate:
    values: dict[str, object] = {
        "rum": "MUT-2026-000042",
        "debtor_name": "  Anaïs   Lefèvre ",
        "account": CA_1,
        "signed_on": D(2026, 1, 10),
    }
    values.update(overrides)
    return Mandate(**values)  # type: ignore[arg-type]


def code_of(exc: pytest.ExceptionInfo[DomainError]) -> str:
    return exc.value.code


def test_first_collection_is_frst_then_rcur() -> None:
    m = mandate()
    assert m.debtor_name == "Anaïs Lefèvre"
    assert m.status is MandateStatus.ACTIVE
    assert m.next_sequence_type() is SequenceType.FRST
    m = m.record_collection(D(2026, 2, 5))
    assert m.next_sequence_type() is SequenceType.RCUR
    assert m.last_collection == D(2026, 2, 5)
    m = m.record_collection(D(2026, 3, 5))
    assert m.next_sequence_type() is SequenceType.RCUR
    assert m.next_sequence_type(final=True) is SequenceType.FNAL


def test_final_collection_completes_the_mandate() -> None:
    m = mandate().record_collection(D(2026, 2, 5)).record_collection(D(2026, 3, 5), final=True)
    assert m.status is MandateStatus.COMPLETED
    with pytest.raises(DomainError) as exc:
        m.next_sequence_type()
    assert code_of(exc) == "mandate.not_active"


def test_one_off_mandate_is_ooff_once() -> None:
    m = mandate(recurrent=False)
    assert m.next_sequence_type() is SequenceType.OOFF
    m = m.record_collection(D(2026, 2, 5))
    assert m.status is MandateStatus.COMPLETED
    with pytest.raises(DomainError, match=r"mandate\.not_active"):
        m.record_collection(D(2026, 3, 5))


def test_amendment_in_the_same_bank_keeps_rcur_and_carries_the_original_account() -> None:
    m = mandate().record_collection(D(2026, 2, 5))
    amended = m.amend_account(BankAccount.parse(CA_2), D(2026, 2, 20))
    assert amended.rum == m.rum
    assert amended.account.iban == CA_2
    assert amended.next_sequence_type() is SequenceType.RCUR
    assert amended.pending_amendment == AmendmentInfo(original_account=BankAccount(CA_1), other_bank=False)
    (history,) = amended.amendments
    assert (history.on, history.old_iban_masked, history.new_iban) == (
        D(2026, 2, 20),
        BankAccount(CA_1).masked,
        CA_2,
    )
    assert history.old_iban_masked.endswith("0189") and "3000600001" not in history.old_iban_masked
    debit = amended.instruction(
        end_to_end_id="E2E-1",
        amount=Money("36.00"),
        collection_date=D(2026, 3, 5),
        notified_on=D(2026, 2, 19),
        remittance_info="Cotisation mars",
    )
    assert debit.amendment is not None and debit.amendment.original_account.iban == CA_1
    assert debit.account.iban == CA_2
    after = amended.record_collection(D(2026, 3, 5))
    assert after.pending_amendment is None
    assert after.next_sequence_type() is SequenceType.RCUR


def test_amendment_to_another_bank_makes_the_next_collection_frst_again() -> None:
    m = mandate().record_collection(D(2026, 2, 5))
    amended = m.amend_account(BANQUE_POSTALE, D(2026, 2, 20))
    assert amended.next_sequence_type() is SequenceType.FRST
    assert amended.pending_amendment is not None and amended.pending_amendment.other_bank
    assert amended.amendments[0].other_bank
    again = amended.record_collection(D(2026, 3, 5))
    assert again.next_sequence_type() is SequenceType.RCUR
    assert again.pending_amendment is None


def test_two_amendments_before_a_collection_compare_with_the_last_collected_account() -> None:
    m = mandate().record_collection(D(2026, 2, 5))
    m = m.amend_account(BANQUE_POSTALE, D(2026, 2, 10)).amend_account(CA_2, D(2026, 2, 12))
    assert m.pending_amendment == AmendmentInfo(original_account=BankAccount(CA_1), other_bank=False)
    assert m.next_sequence_type() is SequenceType.RCUR
    assert len(m.amendments) == 2
    back = m.amend_account(CA_1, D(2026, 2, 13))
    assert back.pending_amendment is None


def test_amendment_before_any_collection_just_replaces_the_account() -> None:
    m = mandate().amend_account(DE, D(2026, 1, 15))
    assert m.account.iban == DE and m.pending_amendment is None
    assert m.next_sequence_type() is SequenceType.FRST
    assert len(m.amendments) == 1


def test_amendment_refusals() -> None:
    with pytest.raises(DomainError, match=r"mandate\.same_account"):
        mandate().amend_account(CA_1, D(2026, 2, 1))
    with pytest.raises(DomainError, match=r"mandate\.date_before_signature"):
        mandate().amend_account(CA_2, D(2026, 1, 1))


def test_revoke() -> None:
    m = mandate().record_collection(D(2026, 2, 5)).revoke(D(2026, 2, 15))
    assert m.status is MandateStatus.REVOKED
    assert m.revoked_on == D(2026, 2, 15)
    for action in (
        m.next_sequence_type,
        lambda: m.record_collection(D(2026, 3, 5)),
        lambda: m.amend_account(CA_2, D(2026, 3, 1)),
        lambda: m.revoke(D(2026, 3, 1)),
    ):
        with pytest.raises(DomainError) as exc:
            action()
        assert code_of(exc) == "mandate.not_active"
        assert "Révoqué" in exc.value.message()


def test_mandate_lapses_after_36_months_without_collection() -> None:
    m = mandate().record_collection(D(2026, 2, 5))
    assert m.lapses_on() == D(2029, 2, 5)
    assert not m.is_lapsed(D(2029, 2, 4)) and m.is_lapsed(D(2029, 2, 5))
    with pytest.raises(DomainError, match=r"mandate\.lapsed"):
        m.instruction(
            end_to_end_id="E2E-9",
            amount=Money("1.00"),
            collection_date=D(2029, 3, 5),
            notified_on=D(2029, 2, 1),
            remittance_info="x",
        )


def test_mandate_fields_are_validated() -> None:
    with pytest.raises(DomainError, match=r"rum\.too_long"):
        mandate(rum="R" * 36)
    with pytest.raises(DomainError, match=r"iban\.not_sepa"):
        mandate(account="BR1800360305000010009795493C1")
    with pytest.raises(DomainError, match=r"direct_debit\.text_empty"):
        mandate(debtor_name="  ")


def instruction(**overrides: object) -> DirectDebitInstruction:
    values: dict[str, object] = {
        "end_to_end_id": "E2E-1",
        "rum": "MUT-2026-000042",
        "mandate_signed_on": D(2026, 1, 10),
        "sequence_type": SequenceType.FRST,
        "amount": Money("36.00"),
        "debtor_name": "Anaïs Lefèvre",
        "account": CA_1,
        "collection_date": D(2026, 2, 5),
        "notified_on": D(2026, 1, 20),
        "remittance_info": "Cotisation",
    }
    values.update(overrides)
    return DirectDebitInstruction(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"amount": Money("0.00")}, "direct_debit.amount_not_positive", "amount"),
        ({"amount": Money("-1.00")}, "direct_debit.amount_not_positive", "amount"),
        ({"amount": Money("1000000000.00")}, "direct_debit.amount_too_large", "amount"),
        ({"rum": "X" * 36}, "rum.too_long", None),
        ({"end_to_end_id": "E2E_1"}, "direct_debit.invalid_id", "end_to_end_id"),
        ({"end_to_end_id": "E" * 36}, "direct_debit.invalid_id", "end_to_end_id"),
        ({"account": "BR1800360305000010009795493C1"}, "iban.not_sepa", "iban"),
        ({"notified_on": D(2026, 1, 23)}, "direct_debit.collection_too_early", "collection_date"),
        (
            {"collection_date": D(2026, 1, 5), "notified_on": D(2025, 12, 1)},
            "direct_debit.before_signature",
            "collection_date",
        ),
        ({"debtor_name": "«»"}, "direct_debit.text_empty", "debtor_name"),
        ({"remittance_info": "x" * 141}, "direct_debit.text_too_long", "remittance_info"),
        (
            {
                "sequence_type": SequenceType.RCUR,
                "amendment": AmendmentInfo(original_account=BankAccount(BANQUE_POSTALE), other_bank=True),
            },
            "direct_debit.new_bank_not_first",
            "sequence_type",
        ),
    ],
)
def test_invalid_instructions_are_refused_with_their_code(
    overrides: dict[str, object], code: str, field: str | None
) -> None:
    with pytest.raises(DomainError) as exc:
        instruction(**overrides)
    assert exc.value.code == code
    assert exc.value.field == field
    assert exc.value.message()  # a French message renders


def test_prenotification_delay_is_exactly_14_days_unless_agreed() -> None:
    assert instruction(notified_on=D(2026, 1, 22)).earliest_collection == D(2026, 2, 5)
    assert instruction(notified_on=D(2026, 2, 1), prenotification_days=2).collection_date == D(2026, 2, 5)


def test_texts_are_transliterated_to_the_sepa_character_set() -> None:
    debit = instruction(debtor_name="Françoise L’Hôte-Bœuf & Cie", remittance_info="Échéance n° 3 – été")
    assert debit.debtor_name == "Francoise L'Hote-Boeuf + Cie"
    assert debit.remittance_info == "Echeance no 3 - ete"
    assert sepa_text("Ærøskøbing ßtraße") == "AEroskobing sstrasse"


def test_same_bank() -> None:
    assert same_bank(BankAccount(CA_1), BankAccount(CA_2))
    assert not same_bank(BankAccount(CA_1), BankAccount(BANQUE_POSTALE))
    assert not same_bank(BankAccount(CA_1), BankAccount(DE))
