import pickle
import string
import warnings

import attrs
import pytest
import schwifty
from hypothesis import assume, given
from hypothesis import strategies as st
from schwifty import IBAN
from schwifty.checksum import algorithms as schwifty_algorithms
from stdnum.eu import at_02

from mutuelle_core.errors import DomainError, ErrorCollector, ValidationFailed, registered_codes
from mutuelle_core.i18n import translate
from mutuelle_core.values.bank import (
    HOLDER_MAX_LENGTH,
    BankAccount,
    MandateReference,
    SepaCreditorId,
    mask_iban,
    rib_key,
)

VALID_FR = "FR7630006000011234567890189"


def iso_check_digits(country: str, bban: str) -> str:
    """ISO 13616 check digits, computed independently of schwifty."""
    number = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    return f"{98 - number % 97:02d}"


def make_iban(country: str, bban: str) -> str:
    return country + iso_check_digits(country, bban) + bban


def parse_error(text: str, **kwargs: str) -> DomainError:
    with pytest.raises(DomainError) as exc:
        BankAccount.parse(text, **kwargs)
    return exc.value


# --- valid accounts ---------------------------------------------------------------------------------


def test_french_iban_is_read_in_compact_form() -> None:
    account = BankAccount.parse(VALID_FR)
    assert account.iban == VALID_FR
    assert str(account) == VALID_FR
    assert account.country == "FR"
    assert account.last4 == "0189"
    assert account.formatted == "FR76 3000 6000 0112 3456 7890 189"
    assert account.is_french_rib
    assert account.holder is None
    assert account.bic_override is None


@pytest.mark.parametrize(
    "text",
    [
        "fr76 3000 6000 0112 3456 7890 189",
        "  FR76 3000 6000 0112 3456 7890 189  ",
        "fr7630006000011234567890189",
        "FR76\t3000\u00a06000 0112 3456 7890 189",
    ],
)
def test_spaces_and_lower_case_are_accepted(text: str) -> None:
    assert BankAccount.parse(text) == BankAccount.parse(VALID_FR)


@pytest.mark.parametrize(
    "text",
    [
        "DE89370400440532013000",
        "BE68539007547034",
        "IT60X0542811101000000123456",
        "ES9121000418450200051332",
        "NL91ABNA0417164300",
        "PT50000201231234567890154",
        "CH9300762011623852957",
        "GB29NWBK60161331926819",
        "LU280019400644750000",
        "AT611904300234573201",
        "IE29AIBK93115212345678",
        "FI2112345600000785",
        "PL61109010140000071219812874",
        "GR1601101250000000012300695",
        "MC5811222000010123456789030",
        "NO9386011117947",
        "SM86U0322509800000000270100",
    ],
)
def test_valid_sepa_ibans_of_several_countries(text: str) -> None:
    account = BankAccount.parse(text)
    assert str(account) == text
    assert account.country == text[:2]


@pytest.mark.parametrize("text", ["HU42117730161111101800000000", "SE4550000000058398257466"])
def test_countries_whose_national_key_schwifty_cannot_check_are_accepted_without_warning(text: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert str(BankAccount.parse(text)) == text


@pytest.mark.parametrize("country", ["GP", "MQ", "GF", "RE", "YT", "PM", "NC", "PF", "BL", "MF", "WF", "TF"])
def test_overseas_territories_use_the_french_rib_key(country: str) -> None:
    body = "12345" + "67890" + "0000012345A"
    good = make_iban(country, body + rib_key("12345", "67890", "0000012345A"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        account = BankAccount.parse(good)
    assert account.is_french_rib
    assert account.country == country
    wrong_key = f"{(int(good[-2:]) + 1) % 97:02d}"
    err = parse_error(make_iban(country, body + wrong_key))
    assert err.code == "iban.invalid_national_check"


# --- the RIB key --------------------------------------------------------------------------------------


def test_iso_checksum_right_but_rib_key_wrong_is_refused() -> None:
    bban = VALID_FR[4:]
    assert bban[-2:] == "89"
    wrong = make_iban("FR", bban[:-2] + "88")
    assert wrong == "FR0630006000011234567890188"
    # schwifty alone, without validate_bban, accepts it: only the RIB key is wrong
    assert IBAN(wrong).is_valid
    err = parse_error(wrong)
    assert err.code == "iban.invalid_national_check"
    assert err.field == "iban"
    assert err.params == {"iban": "FR*********************0188"}
    with pytest.raises(schwifty.exceptions.InvalidBBANChecksum):
        IBAN(wrong, validate_bban=True)


def test_rib_key_worked_examples() -> None:
    assert rib_key("30006", "00001", "12345678901") == "89"
    # letters count as digits: A and J are 1, B, K and S are 2, ...
    assert rib_key("20041", "01005", "0500013M026") == "06"
    assert rib_key("20041", "01005", "0500013m026") == "06"


rib_bodies = st.tuples(
    st.text("0123456789", min_size=5, max_size=5),
    st.text("0123456789", min_size=5, max_size=5),
    st.text(string.digits + string.ascii_uppercase, min_size=11, max_size=11),
)


@given(rib_bodies)
def test_rib_key_agrees_with_schwifty(parts: tuple[str, str, str]) -> None:
    bank, branch, account = parts
    assert rib_key(bank, branch, account) == schwifty_algorithms["FR:default"].compute(
        [bank, branch, account]
    )


@given(rib_bodies, st.integers(0, 99))
def test_random_french_ribs(parts: tuple[str, str, str], key: int) -> None:
    bank, branch, account = parts
    key_text = f"{key:02d}"
    text = make_iban("FR", bank + branch + account + key_text)
    if key_text == rib_key(bank, branch, account):
        assert str(BankAccount.parse(text)) == text
        assert IBAN(text, validate_bban=True)
    else:
        assert parse_error(text).code == "iban.invalid_national_check"


@given(
    st.sampled_from([VALID_FR, "DE89370400440532013000", "BE68539007547034", "NL91ABNA0417164300"]),
    st.data(),
)
def test_one_character_changed_is_refused(text: str, data: st.DataObject) -> None:
    """A digit replaced by a digit, or a letter by a letter, changes the ISO 13616 remainder: refused."""
    position = data.draw(st.integers(2, len(text) - 1), label="position")
    same_class = string.digits if text[position].isdigit() else string.ascii_uppercase
    replacement = data.draw(st.sampled_from(same_class), label="replacement")
    assume(replacement != text[position])
    with pytest.raises(DomainError):
        BankAccount.parse(text[:position] + replacement + text[position + 1 :])


def test_a_digit_replaced_by_a_letter_can_escape_both_checks() -> None:
    """A known limit of ISO 13616 and of the RIB key: '2' -> 'B' here keeps both checks valid.

    The letter B counts as 11 in the ISO remainder and as 2 in the RIB key; on this number both still
    match, and schwifty accepts it too. Documented so that nobody relies on the checksums for this case.
    """
    mutated = "FR7630006000011B34567890189"
    assert str(BankAccount.parse(mutated)) == mutated
    assert IBAN(mutated, validate_bban=True)


# --- refusals, each with its own code -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "iban.invalid_format"),
        ("FR", "iban.invalid_format"),
        ("FR76!0006000011234567890189", "iban.invalid_format"),
        ("FR763000600001123456789018A", "iban.invalid_format"),
        ("7630006000011234567890189FR", "iban.invalid_format"),
        ("FR7730006000011234567890189", "iban.invalid_checksum"),
        ("FR763000600001123456789018", "iban.invalid_length"),
        ("FR76300060000112345678901890", "iban.invalid_length"),
        ("XX7630006000011234567890189", "iban.unknown_country"),
        ("SA0380000000608010167519", "iban.not_sepa"),
        ("TR330006100519786457841326", "iban.not_sepa"),
        ("BR1800360305000010009795493C1", "iban.not_sepa"),
        ("BE68539007547035", "iban.invalid_checksum"),
    ],
)
def test_refusals_have_distinct_codes(text: str, code: str) -> None:
    err = parse_error(text)
    assert err.code == code
    assert err.field == "iban"
    assert err.message()
    assert err.message("en")


def test_belgian_national_check_is_checked() -> None:
    bban = "539007547034"
    wrong = make_iban("BE", bban[:-2] + "35")
    assert IBAN(wrong).is_valid
    assert parse_error(wrong).code == "iban.invalid_national_check"


def test_length_error_says_the_expected_length() -> None:
    err = parse_error("FR76 3000 6000 0112 3456 7890 18")
    assert err.params["expected"] == 27
    assert err.params["length"] == 26
    assert err.params["country"] == "FR"
    assert "27" in err.message()


def test_not_sepa_names_the_country() -> None:
    err = parse_error("SA0380000000608010167519")
    assert err.params["country"] == "SA"


def test_non_string_input_is_a_format_error() -> None:
    with pytest.raises(DomainError) as exc:
        BankAccount(12345)  # type: ignore[arg-type]
    assert exc.value.code == "iban.invalid_format"


def test_the_constructor_validates_too() -> None:
    with pytest.raises(DomainError) as exc:
        BankAccount("FR0630006000011234567890188")
    assert exc.value.code == "iban.invalid_national_check"
    assert BankAccount("fr76 3000 6000 0112 3456 7890 189").iban == VALID_FR
    with pytest.raises(DomainError):
        attrs.evolve(BankAccount.parse(VALID_FR), iban="FR7730006000011234567890189")


# --- no IBAN in clear in repr, errors, tracebacks --------------------------------------------------


def test_repr_masks_iban_and_shows_holder_initials_only() -> None:
    account = BankAccount.parse(VALID_FR, holder="Jeanne Martin-Durand", bic="AGRIFRPP")
    text = repr(account)
    assert VALID_FR not in text
    assert "30006000011234567890" not in text
    assert "Martin" not in text
    assert "Jeanne" not in text
    assert text == "BankAccount(iban='FR*********************0189', holder='J. M.', bic='AGRIFRPP')"
    assert repr(BankAccount.parse(VALID_FR)) == "BankAccount(iban='FR*********************0189', holder=None)"
    assert account.masked == "FR*********************0189"


BAD_INPUTS = [
    "FR0630006000011234567890188",
    "FR7730006000011234567890189",
    "FR76300060000112345678901",
    "XX7630006000011234567890189",
    "FR76!0006000011234567890189",
    "FR763000600001123456789018A",
    "SA0380000000608010167519",
    "fr06 3000 6000 0112 3456 7890 188",
]


@pytest.mark.parametrize("text", BAD_INPUTS)
def test_errors_carry_only_the_masked_iban(text: str) -> None:
    compact = text.replace(" ", "").upper()
    err = parse_error(text)
    middle = compact[2:-4]
    for shown in (str(err), repr(err), err.message(), err.message("en"), str(err.to_dict()), str(err.params)):
        assert compact not in shown
        assert middle not in shown
    # no schwifty exception (whose message quotes the IBAN) is chained to the error
    assert err.__cause__ is None
    assert err.__context__ is None
    assert compact not in str(pickle.loads(pickle.dumps(err)).params)


@given(st.text(alphabet=string.ascii_letters + string.digits + " ", max_size=40))
def test_any_input_is_accepted_or_refused_with_a_domain_error_that_masks_it(text: str) -> None:
    compact = "".join(text.split()).upper()
    error: DomainError | None = None
    try:
        BankAccount.parse(text)
    except DomainError as err:
        error = err
    if error is not None:
        assert error.code.startswith("iban.")
        assert error.__context__ is None
        if len(compact) >= 7:
            assert compact not in str(error)
            assert compact not in repr(error)


def test_mask_iban() -> None:
    assert mask_iban("fr76 3000 6000 0112 3456 7890 189") == "FR*********************0189"
    assert mask_iban("FR76") == "****"


# --- holder -----------------------------------------------------------------------------------------


def test_holder_is_stripped_and_spaces_collapsed() -> None:
    account = BankAccount.parse(VALID_FR, holder="  Jeanne \t  Martin  ")
    assert account.holder == "Jeanne Martin"
    assert BankAccount.parse(VALID_FR, holder="   ").holder is None


def test_holder_at_most_70_characters() -> None:
    assert HOLDER_MAX_LENGTH == 70
    assert BankAccount.parse(VALID_FR, holder="A" * 70).holder == "A" * 70
    assert BankAccount.parse(VALID_FR, holder=" " + "A" * 35 + "     " + "B" * 34).holder is not None
    err = parse_error(VALID_FR, holder="A" * 71)
    assert err.code == "bank.holder_too_long"
    assert err.field == "holder"
    assert err.params == {"max": 70, "length": 71}


# --- BIC -------------------------------------------------------------------------------------------


def test_bic_is_derived_from_the_registry_for_a_known_french_bank() -> None:
    assert BankAccount.parse(VALID_FR).bic == "AGRIFRPPXXX"
    bnp = make_iban("FR", "30004" + "00001" + "00012345678" + rib_key("30004", "00001", "00012345678"))
    bic = BankAccount.parse(bnp).bic
    assert bic is not None
    assert bic.startswith("BNPAFRPP")


def test_bic_is_none_when_the_bank_is_unknown() -> None:
    body = "12345" + "67890" + "0000012345A"
    account = BankAccount.parse(make_iban("GP", body + rib_key("12345", "67890", "0000012345A")))
    assert account.bic is None


def test_bic_lookup_is_lazy_and_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    original = schwifty.BIC.from_bank_code.__func__  # type: ignore[attr-defined]

    def counting(cls: type[schwifty.BIC], country_code: str, bank_code: str) -> schwifty.BIC:
        calls.append(country_code)
        return original(cls, country_code, bank_code)  # type: ignore[no-any-return]

    monkeypatch.setattr(schwifty.BIC, "from_bank_code", classmethod(counting))
    account = BankAccount.parse(VALID_FR)
    assert calls == []
    assert account.bic == "AGRIFRPPXXX"
    assert account.bic == "AGRIFRPPXXX"
    assert calls == ["FR"]


def test_explicit_bic_is_normalized_and_wins() -> None:
    account = BankAccount.parse(VALID_FR, bic=" bnpa fr pp ")
    assert account.bic_override == "BNPAFRPP"
    assert account.bic == "BNPAFRPP"
    assert BankAccount.parse(VALID_FR, bic="  ").bic_override is None


@pytest.mark.parametrize("bic", ["BNPAFR", "BNPAFRPPX", "BNPA-FRPP", "BNPAXXPP", "BNPAFRPPXXXXXXXXX"])
def test_invalid_bic(bic: str) -> None:
    err = parse_error(VALID_FR, bic=bic)
    assert err.code == "bic.invalid"
    assert err.field == "bic"


def test_bic_of_another_country_is_refused() -> None:
    err = parse_error(VALID_FR, bic="COBADEFFXXX")
    assert err.code == "bic.mismatch"
    assert err.field == "bic"
    assert err.params == {"bic": "COBADEFFXXX", "bic_country": "DE", "country": "FR"}


def test_french_bic_for_an_overseas_iban_is_accepted() -> None:
    body = "12345" + "67890" + "0000012345A"
    text = make_iban("RE", body + rib_key("12345", "67890", "0000012345A"))
    assert BankAccount.parse(text, bic="BNPAFRPP").bic == "BNPAFRPP"


# --- value semantics ---------------------------------------------------------------------------------


def test_equality_hash_pickle_and_immutability() -> None:
    a = BankAccount.parse(VALID_FR, holder="Jeanne Martin")
    b = BankAccount.parse("fr76 3000 6000 0112 3456 7890 189", holder=" Jeanne  Martin ")
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert a != BankAccount.parse(VALID_FR)
    assert pickle.loads(pickle.dumps(a)) == a
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        a.iban = "x"  # type: ignore[misc]


def test_errors_collect_under_the_form_field() -> None:
    errors = ErrorCollector()
    errors.capture("bank_account", BankAccount.parse, VALID_FR, holder="A" * 80)
    errors.capture("other_account", BankAccount.parse, "FR0630006000011234567890188")
    with pytest.raises(ValidationFailed) as exc:
        errors.raise_if_any()
    assert [(e.code, e.field) for e in exc.value.errors] == [
        ("bank.holder_too_long", "bank_account.holder"),
        ("iban.invalid_national_check", "other_account.iban"),
    ]


# --- SEPA creditor identifier (ICS) ----------------------------------------------------------------


def test_french_ics() -> None:
    ics = SepaCreditorId.parse("fr72 zzz 123456")
    assert str(ics) == "FR72ZZZ123456"
    assert ics.country == "FR"
    assert ics.business_code == "ZZZ"
    assert ics.national_id == "123456"
    assert ics.formatted == "FR72 ZZZ 123456"
    assert repr(ics) == "SepaCreditorId('FR72ZZZ123456')"
    assert ics == SepaCreditorId("FR72ZZZ123456")


@pytest.mark.parametrize("text", ["ES23ZZZ47690558N", "DE98ZZZ09999999999", "IT66ZZZA1B2C3D4E5F6G7H8"])
def test_other_sepa_countries_ics(text: str) -> None:
    assert str(SepaCreditorId.parse(text)) == text


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "ics.invalid_format"),
        ("FR72ZZZ12345", "ics.invalid_format"),
        ("FR72ZZZ1234567", "ics.invalid_format"),
        ("FR7AZZZ123456", "ics.invalid_format"),
        ("FR72ZZZ12345_", "ics.invalid_format"),
        ("US72ZZZ123456", "ics.invalid_format"),
        ("XX72ZZZ123456", "ics.invalid_format"),
        ("DE98ZZZ" + "1" * 29, "ics.invalid_format"),
        ("FR73ZZZ123456", "ics.invalid_checksum"),
        ("FR72ZZZ123465", "ics.invalid_checksum"),
    ],
)
def test_ics_refusals(text: str, code: str) -> None:
    with pytest.raises(DomainError) as exc:
        SepaCreditorId.parse(text)
    assert exc.value.code == code


@given(
    st.text("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=6, max_size=6),
    st.text("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3),
)
def test_ics_check_digits_ignore_the_business_code(national: str, business: str) -> None:
    digits = at_02.calc_check_digits(f"FR00ZZZ{national}")
    assert str(SepaCreditorId.parse(f"FR{digits}{business}{national}")) == f"FR{digits}{business}{national}"
    wrong = f"{(int(digits) + 1) % 100:02d}"
    with pytest.raises(DomainError) as exc:
        SepaCreditorId.parse(f"FR{wrong}{business}{national}")
    assert exc.value.code == "ics.invalid_checksum"


# --- mandate reference (RUM) -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["A", "RUM-2024/000123", "mut 42 (annexe) : 1.0, +'x'?", "A" * 35, "a/b/c", "0"]
)
def test_valid_rum(text: str) -> None:
    rum = MandateReference.parse(text)
    assert str(rum) == text
    assert repr(rum) == f"MandateReference({text!r})"


def test_rum_is_stripped() -> None:
    assert MandateReference.parse("  MUT-1  ").value == "MUT-1"


@pytest.mark.parametrize(
    ("text", "code", "position"),
    [
        ("", "rum.empty", None),
        ("   ", "rum.empty", None),
        ("A" * 36, "rum.too_long", None),
        ("MUT_42", "rum.invalid_character", 4),
        ("Réf-1", "rum.invalid_character", 2),
        ("A;B", "rum.invalid_character", 2),
        ("/ABC", "rum.invalid_character", 1),
        ("ABC/", "rum.invalid_character", 4),
        ("AB//C", "rum.invalid_character", 4),
    ],
)
def test_rum_refusals(text: str, code: str, position: int | None) -> None:
    with pytest.raises(DomainError) as exc:
        MandateReference.parse(text)
    assert exc.value.code == code
    if position is not None:
        assert exc.value.params["position"] == position
    if code == "rum.too_long":
        assert exc.value.params == {"max": 35, "length": 36}


RUM_ALPHABET = string.ascii_letters + string.digits + "/-?:().,'+ "


@given(st.text(RUM_ALPHABET, min_size=1, max_size=35))
def test_rum_from_the_sepa_alphabet(text: str) -> None:
    stripped = text.strip()
    valid = bool(stripped) and not stripped.startswith("/") and not stripped.endswith("/")
    valid = valid and "//" not in stripped
    if valid:
        assert MandateReference.parse(text).value == stripped
    else:
        with pytest.raises(DomainError):
            MandateReference.parse(text)


@given(st.text(RUM_ALPHABET, max_size=16), st.characters(), st.text(RUM_ALPHABET, max_size=16))
def test_rum_with_a_character_outside_the_sepa_set_is_refused(before: str, char: str, after: str) -> None:
    assume(char not in RUM_ALPHABET and not char.isspace())
    with pytest.raises(DomainError) as exc:
        MandateReference("A" + before + char + after + "A")
    assert exc.value.code == "rum.invalid_character"


BANK_CODES = [
    "iban.invalid_format",
    "iban.invalid_checksum",
    "iban.invalid_national_check",
    "iban.invalid_length",
    "iban.unknown_country",
    "iban.not_sepa",
    "bic.invalid",
    "bic.mismatch",
    "bank.holder_too_long",
    "ics.invalid_format",
    "ics.invalid_checksum",
    "rum.empty",
    "rum.too_long",
    "rum.invalid_character",
]


@pytest.mark.parametrize("code", BANK_CODES)
def test_messages_have_english(code: str) -> None:
    template = registered_codes()[code].template
    assert translate(template, "en") != template


def test_english_message_of_a_refusal() -> None:
    err = parse_error("FR0630006000011234567890188")
    assert err.message("en") == (
        "The national check digits (the RIB key in France) of the IBAN FR*********************0188 "
        "are wrong: check each digit."
    )
