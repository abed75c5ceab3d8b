"""Every value object round-trips through the converter; strategies give valid values, near misses fail."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mutuelle_core import testing as mt
from mutuelle_core.affiliation.journey import Journey
from mutuelle_core.contracts.contract import ContractSettings
from mutuelle_core.errors import DomainError, ValidationFailed
from mutuelle_core.serialization import structure, unstructure
from mutuelle_core.values.bank import BankAccount, MandateReference, SepaCreditorId
from mutuelle_core.values.company import Siren, Siret
from mutuelle_core.values.dates import DateRange, Month
from mutuelle_core.values.identity import Civility, Email, PersonName, Phone, PostalAddress, Sex
from mutuelle_core.values.money import Money
from mutuelle_core.values.nir import NIR
from mutuelle_core.values.organisme import OrganismeCode

VALUES: dict[type[Any], st.SearchStrategy[Any]] = {
    NIR: mt.nirs().map(NIR.parse),
    BankAccount: st.builds(
        BankAccount.parse,
        mt.french_ibans(),
        holder=st.one_of(st.none(), st.sampled_from(["Jeanne Martin", "M. ou Mme Dupont"])),
    ),
    Siren: mt.sirens().map(Siren.parse),
    Siret: mt.sirets().map(Siret.parse),
    OrganismeCode: mt.organisme_codes().map(OrganismeCode.parse),
    Email: mt.emails().map(Email.parse),
    Money: mt.money(),
    PersonName: mt.person_names(),
    Phone: st.sampled_from(["06 12 34 56 78", "+33 1 44 55 66 77", "0692 12 34 56"]).map(Phone.parse),
    PostalAddress: st.builds(
        PostalAddress.parse,
        st.just(("3 rue de la Paix",)),
        st.sampled_from(["75002", "69007", "97400"]),
        st.just("Paris"),
    ),
    Civility: st.sampled_from(Civility),
    Sex: st.sampled_from(Sex),
    Month: st.builds(Month, st.integers(2000, 2100), st.integers(1, 12)),
    DateRange: st.builds(
        lambda a, n: DateRange(a, None if n is None else a + dt.timedelta(days=n)),
        st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1)),
        st.one_of(st.none(), st.integers(0, 4000)),
    ),
    SepaCreditorId: st.just(SepaCreditorId.parse("FR72ZZZ123456")),
    MandateReference: st.from_regex(r"[A-Z0-9]{1,20}(-[A-Z0-9]{1,10})?", fullmatch=True).map(
        MandateReference.parse
    ),
}


@pytest.mark.parametrize("cls", list(VALUES), ids=lambda c: c.__name__)
def test_every_value_object_round_trips_through_the_converter(cls: type[Any]) -> None:
    @given(VALUES[cls])
    def check(value: Any) -> None:
        data = unstructure(value)
        assert structure(data, cls) == value
        assert structure(unstructure(data), cls) == value

    check()


@given(
    st.from_type(NIR),
    st.from_type(BankAccount),
    st.from_type(Siren),
    st.from_type(Siret),
    st.from_type(Money),
)
def test_the_entry_point_registers_strategies_for_from_type(
    nir: NIR, account: BankAccount, siren: Siren, siret: Siret, money: Money
) -> None:
    assert isinstance(nir, NIR)
    assert isinstance(account, BankAccount)
    assert isinstance(siren, Siren)
    assert str(siret).startswith(str(siret.siren))
    assert isinstance(money, Money)


@given(mt.nirs(spaced=True))
def test_valid_nirs_parse(text: str) -> None:
    assert str(NIR.parse(text)) == text.replace(" ", "")


@given(st.data())
def test_nirs_for_a_person_match_that_person(data: st.DataObject) -> None:
    sex = data.draw(st.sampled_from(Sex))
    birth = data.draw(st.dates(dt.date(1930, 1, 1), dt.date(2025, 12, 31)))
    nir = NIR.parse(data.draw(mt.nirs(sex=sex, birth_date=birth)))
    assert nir.matches(sex=sex, birth_date=birth)


@given(mt.nir_near_misses())
def test_nir_near_misses_are_refused(text: str) -> None:
    with pytest.raises(DomainError):
        NIR.parse(text)


@given(mt.iban_near_misses())
def test_iban_near_misses_are_refused(text: str) -> None:
    with pytest.raises(DomainError):
        BankAccount.parse(text)


@given(mt.siren_near_misses())
def test_siren_near_misses_are_refused(text: str) -> None:
    with pytest.raises(DomainError):
        Siren.parse(text)


@given(mt.french_ibans(), mt.sirens(), mt.sirets(), mt.emails(), mt.organisme_codes())
def test_every_strategy_value_parses(iban: str, siren: str, siret: str, email: str, code: str) -> None:
    BankAccount.parse(iban)
    Siren.parse(siren)
    Siret.parse(siret)
    Email.parse(email)
    OrganismeCode.parse(code)


@attrs.frozen
class Beneficiary:
    nir: NIR
    email: Email


@attrs.frozen
class Household:
    beneficiaries: tuple[Beneficiary, ...]
    start: dt.date


def test_bad_input_reports_every_error_with_its_json_path() -> None:
    data = {
        "beneficiaries": [
            {"nir": "213055439555728", "email": "a@b.fr"},
            {"nir": "213055439555729", "email": "pas un mail"},
        ],
        "start": "2026-13-01",
        "extra": 1,
    }
    with pytest.raises(ValidationFailed) as exc:
        structure(data, Household)
    found = {(e.field, e.code) for e in exc.value.errors}
    assert ("$.beneficiaries[1].nir", "nir.invalid_key") in found
    assert ("$.beneficiaries[1].email", "email.invalid") in found
    assert ("$.start", "serialization.invalid_value") in found
    assert any(code == "serialization.unknown_field" for _, code in found)
    assert "213055439555729" not in str(exc.value) + repr(exc.value)


def test_money_is_refused_rather_than_rounded() -> None:
    with pytest.raises(ValidationFailed) as exc:
        structure("12.345", Money)
    assert {e.code for e in exc.value.errors} == {"money.sub_cent"}


def test_settings_and_journeys_round_trip() -> None:
    settings = ContractSettings(dispense_request_email=Email.parse("d@x.fr"), auto_enrol_delay_days=21)
    assert structure(unstructure(settings), ContractSettings) == settings
    assert structure(unstructure(Journey()), Journey) == Journey()
