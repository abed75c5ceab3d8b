import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.fr import nir as stdnum_nir

from mutuelle_core.errors import DomainError, ValidationFailed
from mutuelle_core.values.identity import Sex
from mutuelle_core.values.nir import NIR


def codes(exc: DomainError) -> set[str]:
    return {e.code for e in exc.leaves()}


def test_girl_born_12_05_2013() -> None:
    nir = NIR.parse("2 13 05 54 395 557 28")
    assert str(nir) == "213055439555728"
    assert nir.sex is Sex.FEMALE
    assert nir.birth_year == 13
    assert nir.birth_month == 5
    assert nir.department == "54"
    assert nir.matches(sex=Sex.FEMALE, birth_date=dt.date(2013, 5, 12))
    nir.ensure_matches(sex=Sex.FEMALE, birth_date=dt.date(2013, 5, 12))


def test_wrong_key_is_refused_and_the_right_key_is_44() -> None:
    with pytest.raises(DomainError) as exc:
        NIR.parse("1 82 05 57 227 132 04")
    assert exc.value.code == "nir.invalid_key"
    assert stdnum_nir.calc_check_digits("1820557227132") == "44"
    assert str(NIR.parse("1 82 05 57 227 132 44")) == "182055722713244"


def test_two_field_form_and_worked_example() -> None:
    nir = NIR.parse("1850575123456", key="73")
    assert nir.key == "73"
    assert nir.without_key == "1850575123456"
    assert NIR.parse("1.85.05.75.123.456.73") == nir


@pytest.mark.parametrize(("dept", "digits"), [("2A", "19"), ("2B", "18")])
def test_corsica_validates_with_substitution(dept: str, digits: str) -> None:
    body = f"18505{dept}123456"
    key = f"{97 - int(body.replace(dept, digits)) % 97:02d}"
    nir = NIR.parse(body + key)
    assert nir.department == dept
    wrong = f"{(int(key) + 1) % 97:02d}"
    with pytest.raises(DomainError) as exc:
        NIR.parse(body + wrong)
    assert exc.value.code == "nir.invalid_key"


def with_key(body13: str) -> str:
    return body13 + stdnum_nir.calc_check_digits(body13 + "00")


def test_sex_digit_5_is_refused_with_its_own_code() -> None:
    with pytest.raises(DomainError) as exc:
        NIR.parse(with_key("5850575123456"))
    assert exc.value.code == "nir.invalid_sex"


def test_month_13_is_refused_with_its_own_code() -> None:
    with pytest.raises(DomainError) as exc:
        NIR.parse(with_key("1851375123456"))
    assert exc.value.code == "nir.invalid_month"


@pytest.mark.parametrize("month", ["20", "42", "50", "99"])
def test_incomplete_civil_record_months_are_accepted(month: str) -> None:
    nir = NIR.parse(with_key(f"185{month}75123456"))
    assert nir.birth_month is None
    assert nir.matches(sex=Sex.MALE, birth_date=dt.date(1985, 7, 1))


@pytest.mark.parametrize("month", ["00", "43", "49"])
def test_other_months_are_refused(month: str) -> None:
    with pytest.raises(DomainError) as exc:
        NIR.parse(with_key(f"185{month}75123456"))
    assert exc.value.code == "nir.invalid_month"


@pytest.mark.parametrize("dept", ["00", "96", "98"])
def test_departments_outside_the_list_are_refused(dept: str) -> None:
    with pytest.raises(DomainError) as exc:
        NIR.parse(with_key(f"18505{dept}123456"))
    assert exc.value.code == "nir.invalid_department"


@pytest.mark.parametrize("dept", ["01", "95", "971", "976", "99"])
def test_departments_in_the_list_are_accepted(dept: str) -> None:
    body = f"18505{dept}{'123456'[: 6 - (len(dept) - 2)]}"
    assert NIR.parse(with_key(body)).department == dept


def test_thirteen_digits_without_key_have_their_own_code() -> None:
    with pytest.raises(DomainError) as exc:
        NIR.parse("1850575123456")
    assert exc.value.code == "nir.missing_key"
    with pytest.raises(DomainError) as exc:
        NIR.parse("1850575123456", key=" ")
    assert exc.value.code == "nir.missing_key"


@pytest.mark.parametrize(
    ("text", "code"),
    [("", "nir.empty"), ("1850575A23456 73", "nir.invalid_format"), ("18505751234567", "nir.invalid_length")],
)
def test_format_errors(text: str, code: str) -> None:
    with pytest.raises(DomainError) as exc:
        NIR.parse(text)
    assert exc.value.code == code


def test_several_problems_are_reported_together() -> None:
    with pytest.raises(ValidationFailed) as exc:
        NIR.parse("5851375123456" + "00")
    assert codes(exc.value) == {"nir.invalid_sex", "nir.invalid_month", "nir.invalid_key"}


def test_sex_contradicting_the_civility_is_refused_by_matches() -> None:
    nir = NIR.parse("1850575123456", key="73")
    assert not nir.matches(sex=Sex.FEMALE)
    with pytest.raises(DomainError) as exc:
        nir.ensure_matches(sex=Sex.FEMALE, birth_date=dt.date(1985, 5, 3))
    assert exc.value.code == "nir.sex_mismatch"
    assert exc.value.field == "nir"


def test_birth_date_mismatches() -> None:
    nir = NIR.parse("1850575123456", key="73")
    assert {e.code for e in nir.mismatches(birth_date=dt.date(1986, 6, 1))} == {
        "nir.birth_year_mismatch",
        "nir.birth_month_mismatch",
    }


def test_repr_and_errors_mask_the_number() -> None:
    nir = NIR.parse("1850575123456", key="73")
    assert repr(nir) == "NIR('1 85 ** ** *** *** 73')"
    assert "75123456" not in repr(nir)
    with pytest.raises(DomainError) as exc:
        NIR.parse("1850575123456 74")
    err = exc.value
    assert "75123456" not in str(err) + repr(err) + str(err.to_dict())


def test_constructor_validates_too() -> None:
    with pytest.raises(DomainError):
        NIR("185057512345674")


def test_english_message() -> None:
    with pytest.raises(DomainError) as exc:
        NIR.parse("1850575123456")
    assert "key" in exc.value.message("en").lower()


@given(st.integers(min_value=0, max_value=10**13 - 1), st.integers(min_value=0, max_value=14), st.data())
def test_one_changed_digit_is_always_refused(body: int, pos: int, data: st.DataObject) -> None:
    base = with_key(f"1850575{body % 10**6:06d}")
    original = base[pos]
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != original]))
    mutated = base[:pos] + digit + base[pos + 1 :]
    with pytest.raises(DomainError):
        NIR.parse(mutated)
