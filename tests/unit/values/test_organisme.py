import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mutuelle_core.errors import DomainError
from mutuelle_core.i18n import translate
from mutuelle_core.values.organisme import DEFAULT_ORGANISME_CODE, REGIME_NAMES, OrganismeCode


@pytest.mark.parametrize("text", ["919190000", "91 919 0000", " 91.919.0000 ", "91-919-0000", "91 9190 000"])
def test_spaces_dots_and_dashes_are_accepted(text: str) -> None:
    code = OrganismeCode.parse(text)
    assert str(code) == "919190000"
    assert code.formatted == "91 919 0000"


def test_parts() -> None:
    code = OrganismeCode.parse("01 751 0123")
    assert (code.regime, code.caisse, code.centre) == ("01", "751", "0123")
    assert code.regime_name == "Régime général"
    assert repr(code) == "OrganismeCode('017510123')"


@pytest.mark.parametrize(
    ("regime", "name"),
    [
        ("01", "Régime général"),
        ("02", "Mutualité sociale agricole (MSA)"),
        ("04", "Régime spécial de la SNCF"),
        ("05", "Régime spécial de la RATP"),
        ("08", "Caisse nationale militaire de sécurité sociale (CNMSS)"),
        ("17", "Caisse des Français de l'étranger (CFE)"),
        ("91", "Mutuelle générale de l'Éducation nationale (MGEN)"),
        ("95", "Mutuelle nationale des hospitaliers (MNH)"),
        ("99", "Autres mutuelles"),
    ],
)
def test_regime_names_of_domain_table(regime: str, name: str) -> None:
    assert OrganismeCode.parse(f"{regime}1230000").regime_name == name
    assert translate(name, "en") != name


@pytest.mark.parametrize("regime", ["00", "03", "10", "42", "90"])
def test_unknown_regimes_are_accepted_without_a_name(regime: str) -> None:
    code = OrganismeCode.parse(f"{regime}1234567")
    assert code.regime == regime
    assert code.regime_name is None


def test_default_code_when_unknown() -> None:
    assert OrganismeCode("919190000") == DEFAULT_ORGANISME_CODE
    assert DEFAULT_ORGANISME_CODE.formatted == "91 919 0000"
    assert DEFAULT_ORGANISME_CODE.regime_name == REGIME_NAMES["91"]


@pytest.mark.parametrize(
    "text",
    ["", "91919000", "9191900000", "91 919 000A", "91/919/0000", "٩١٩١٩٠٠٠٠", "９１９１９００００"],
)
def test_invalid_format(text: str) -> None:
    with pytest.raises(DomainError) as exc:
        OrganismeCode.parse(text)
    assert exc.value.code == "organisme.invalid_format"
    assert exc.value.message()
    assert exc.value.message("en")


def test_constructor_takes_the_compact_form_only() -> None:
    with pytest.raises(DomainError):
        OrganismeCode("91 919 0000")
    code = OrganismeCode("919190000")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        code.value = "017510000"  # type: ignore[misc]


@given(st.text("0123456789", min_size=9, max_size=9))
def test_any_nine_digits_round_trip_through_their_formatted_form(digits: str) -> None:
    code = OrganismeCode.parse(digits)
    assert OrganismeCode.parse(code.formatted) == code
    assert code.regime + code.caisse + code.centre == digits
    assert hash(code) == hash(OrganismeCode(digits))


@given(st.text("0123456789", max_size=20).filter(lambda t: len(t) != 9))
def test_other_lengths_are_refused(digits: str) -> None:
    with pytest.raises(DomainError):
        OrganismeCode.parse(digits)


def test_every_message_of_the_module_has_english() -> None:
    from mutuelle_core.errors import registered_codes

    for code in ["organisme.invalid_format"]:
        template = registered_codes()[code].template
        assert translate(template, "en") != template
