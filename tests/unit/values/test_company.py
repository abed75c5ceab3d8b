import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum import luhn

from mutuelle_core.errors import DomainError, registered_codes
from mutuelle_core.i18n import translate
from mutuelle_core.values.company import Siren, Siret


def code_of(fn: object, text: str) -> str:
    assert callable(fn)
    with pytest.raises(DomainError) as exc:
        fn(text)
    return exc.value.code


def with_luhn(body: str) -> str:
    return body + luhn.calc_check_digit(body)


def change_digit(number: str, position: int, digit: str) -> str:
    return number[:position] + digit + number[position + 1 :]


# --- SIREN ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["732829320", "732 829 320", " 732.829.320 ", "404833048", "552008443"])
def test_valid_siren(text: str) -> None:
    siren = Siren.parse(text)
    assert str(siren) == text.replace(" ", "").replace(".", "")
    assert len(siren.value) == 9


def test_siren_presentation() -> None:
    siren = Siren.parse("732829320")
    assert siren.formatted == "732 829 320"
    assert repr(siren) == "Siren('732829320')"
    assert siren == Siren("732829320")
    assert hash(siren) == hash(Siren.parse("732 829 320"))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        siren.value = "404833048"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "siren.invalid_format"),
        ("73282932", "siren.invalid_format"),
        ("7328293201", "siren.invalid_format"),
        ("73282932A", "siren.invalid_format"),
        ("732-829-320", "siren.invalid_format"),
        ("732829321", "siren.invalid_checksum"),
        ("404833047", "siren.invalid_checksum"),
    ],
)
def test_invalid_siren(text: str, code: str) -> None:
    assert code_of(Siren.parse, text) == code


def test_siren_constructor_takes_the_compact_form_only() -> None:
    assert code_of(Siren, "732 829 320") == "siren.invalid_format"
    assert code_of(Siren, "732.829.3") == "siren.invalid_format"


def test_siren_error_message_shows_what_was_typed() -> None:
    with pytest.raises(DomainError) as exc:
        Siren.parse("732 829 321")
    assert exc.value.params == {"value": "732829321"}
    assert "732829321" in exc.value.message()
    assert exc.value.message("en")


sirens = st.text("0123456789", min_size=8, max_size=8).map(with_luhn)


@given(sirens)
def test_generated_sirens_are_valid(number: str) -> None:
    assert Siren.parse(number).value == number


@given(sirens, st.integers(0, 8), st.sampled_from("0123456789"))
def test_a_siren_with_one_digit_changed_is_refused(number: str, position: int, digit: str) -> None:
    assume(number[position] != digit)
    assert code_of(Siren.parse, change_digit(number, position, digit)) == "siren.invalid_checksum"


@given(sirens, st.integers(0, 7))
def test_a_siren_with_two_adjacent_digits_swapped_is_refused(number: str, position: int) -> None:
    swapped = number[:position] + number[position + 1] + number[position] + number[position + 2 :]
    # Luhn misses the 09 <-> 90 swap only
    assume(swapped != number and {number[position], number[position + 1]} != {"0", "9"})
    assert code_of(Siren.parse, swapped) == "siren.invalid_checksum"


# --- SIRET ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["73282932000074", "732 829 320 00074", "732.829.320.00074"])
def test_valid_siret(text: str) -> None:
    siret = Siret.parse(text)
    assert str(siret) == "73282932000074"
    assert siret.siren == Siren("732829320")
    assert siret.nic == "00074"
    assert siret.formatted == "732 829 320 00074"
    assert repr(siret) == "Siret('73282932000074')"


def test_la_poste_establishments_use_the_sum_of_digits() -> None:
    # La Poste (SIREN 356 000 000): the digits of an establishment's SIRET add up to a multiple of 5
    assert str(Siret.parse("356 000 000 00048")) == "35600000000048"
    assert Siret.parse("35600000049837").siren == Siren("356000000")
    assert code_of(Siret.parse, "35600000049838") == "siret.invalid_checksum"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "siret.invalid_format"),
        ("7328293200007", "siret.invalid_format"),
        ("732829320000745", "siret.invalid_format"),
        ("7328293200007A", "siret.invalid_format"),
        ("73282932000075", "siret.invalid_checksum"),
        ("73282932000079", "siret.invalid_checksum"),
    ],
)
def test_invalid_siret(text: str, code: str) -> None:
    assert code_of(Siret.parse, text) == code


def test_siret_whose_siren_part_is_wrong_is_refused() -> None:
    # a 14-digit number passing Luhn whose first 9 digits are not a valid SIREN
    body = "732829321" + "0000"
    number = with_luhn(body)
    assert luhn.is_valid(number)
    assert code_of(Siret.parse, number) == "siret.invalid_checksum"


sirets = st.tuples(sirens, st.text("0123456789", min_size=4, max_size=4)).map(
    lambda p: with_luhn(p[0] + p[1])
)


@given(sirets)
def test_generated_sirets_are_valid(number: str) -> None:
    assume(not number.startswith("356000000"))
    siret = Siret.parse(number)
    assert siret.siren.value == number[:9]


@given(sirets, st.integers(0, 13), st.sampled_from("0123456789"))
def test_a_siret_with_one_digit_changed_is_refused(number: str, position: int, digit: str) -> None:
    changed = change_digit(number, position, digit)
    assume(changed != number)
    # La Poste's establishments follow another rule (sum of digits), which a change of 5 escapes
    assume(not number.startswith("356000000") and not changed.startswith("356000000"))
    assert code_of(Siret.parse, changed) == "siret.invalid_checksum"


@pytest.mark.parametrize(
    "code",
    ["siren.invalid_format", "siren.invalid_checksum", "siret.invalid_format", "siret.invalid_checksum"],
)
def test_messages_have_english(code: str) -> None:
    template = registered_codes()[code].template
    assert translate(template, "en") != template
