"""Identity values: civility, names, e-mail, phone, postal address."""

from __future__ import annotations

import pickle
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mutuelle_core.errors import DomainError, ErrorCollector, ValidationFailed, registered_codes
from mutuelle_core.i18n import translate
from mutuelle_core.values.identity import (
    Civility,
    Email,
    PersonName,
    Phone,
    PostalAddress,
    Sex,
    strip_accents,
)


def codes(err: ValidationFailed) -> list[tuple[str, str | None]]:
    return [(e.code, e.field) for e in err.errors]


# -- sex and civility -----------------------------------------------------------------------------


def test_sex() -> None:
    assert Sex.MALE.iso_5218 == 1
    assert Sex.FEMALE.iso_5218 == 2
    assert Sex("female") is Sex.FEMALE


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("M", Civility.M),
        ("m", Civility.M),
        ("M.", Civility.M),
        ("m.", Civility.M),
        ("Mr", Civility.M),
        ("MONSIEUR", Civility.M),
        (" monsieur ", Civility.M),
        ("MME", Civility.MME),
        ("Mme", Civility.MME),
        ("mme.", Civility.MME),
        ("Madame", Civility.MME),
        ("MADAME", Civility.MME),
        ("Mlle", Civility.MME),
        ("Mademoiselle", Civility.MME),
    ],
)
def test_civility_parse(text: str, expected: Civility) -> None:
    assert Civility.parse(text) is expected


@pytest.mark.parametrize("text", ["", "X", "Mm", "Dr", "Mme Martin", "M..", "Messieurs"])
def test_civility_parse_refuses(text: str) -> None:
    with pytest.raises(DomainError) as caught:
        Civility.parse(text)
    assert caught.value.code == "civility.invalid"


def test_civility_properties() -> None:
    assert Civility.M.sex is Sex.MALE
    assert Civility.MME.sex is Sex.FEMALE
    assert Civility.M.abbreviation == "M."
    assert Civility.MME.abbreviation == "Mme"
    assert Civility.M.label == "Monsieur"
    assert Civility.MME.label == "Madame"
    assert Civility.of_sex(Sex.FEMALE) is Civility.MME
    assert Civility.of_sex(Sex.MALE) is Civility.M
    assert Civility("MME") is Civility.MME
    assert str(Civility.MME) == "MME"


# -- names ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "first", "usage", "expected"),
    [
        ("dupont", "jean-pierre", None, ("DUPONT", "Jean-Pierre", None)),
        ("  Lefèvre  ", "MARIE  ÉLODIE", None, ("LEFÈVRE", "Marie Élodie", None)),
        ("o’neil", "d'artagnan", None, ("O'NEIL", "D'Artagnan", None)),
        ("Dupont - Durand", "jean - pierre", None, ("DUPONT-DURAND", "Jean-Pierre", None)),
        ("martin", "marie", "dupont--durand", ("MARTIN", "Marie", "DUPONT--DURAND")),
        ("martin", "marie", "   ", ("MARTIN", "Marie", None)),
        ("martin", "marie", "", ("MARTIN", "Marie", None)),
        ("cœur", "zoé", None, ("CŒUR", "Zoé", None)),
        ("N’Diaye", "aïssatou", None, ("N'DIAYE", "Aïssatou", None)),
        ("de la fontaine", "jean", None, ("DE LA FONTAINE", "Jean", None)),
        ("Martin\tDurand", "Anne\nSophie", None, ("MARTIN DURAND", "Anne Sophie", None)),
        ("McKenzie", "McKenzie", None, ("MCKENZIE", "Mckenzie", None)),
    ],
)
def test_person_name_normalisation(
    birth: str, first: str, usage: str | None, expected: tuple[str, str, str | None]
) -> None:
    name = PersonName(birth, first, usage)
    assert (name.birth_name, name.first_names, name.usage_name) == expected
    assert PersonName.parse(birth, first, usage) == name


def test_person_name_nfc() -> None:
    decomposed = "Le\u0301a"  # "Léa" with a combining accent
    assert PersonName("martin", decomposed).first_names == "L\u00e9a"


def test_person_name_display() -> None:
    assert PersonName("martin", "marie claire").display == "Marie Claire MARTIN"
    married = PersonName("martin", "marie claire", usage_name="dupont")
    assert married.display == "Marie Claire DUPONT"
    assert married.family_name == "DUPONT"
    assert married.first_name == "Marie"
    assert PersonName("martin", "jean-paul marc").first_name == "Jean-Paul"


def test_person_name_reports_every_problem_at_once() -> None:
    with pytest.raises(ValidationFailed) as caught:
        PersonName(birth_name="Dup0nt", first_names="  ", usage_name="x@y")
    assert codes(caught.value) == [
        ("name.invalid_character", "birth_name"),
        ("name.empty", "first_names"),
        ("name.invalid_character", "usage_name"),
    ]
    assert caught.value.errors[0].params == {"characters": ["0"]}
    assert "nom : 0." in caught.value.errors[0].message()


def test_person_name_several_problems_in_one_field() -> None:
    with pytest.raises(ValidationFailed) as caught:
        PersonName(birth_name="A" * 85 + "1", first_names="Jean")
    assert codes(caught.value) == [("name.invalid_character", "birth_name"), ("name.too_long", "birth_name")]
    assert caught.value.errors[1].params == {"max_length": 80, "length": 86}


@pytest.mark.parametrize(
    ("birth", "code"),
    [
        ("", "name.empty"),
        ("   ", "name.empty"),
        ("-Dupont", "name.invalid_format"),
        ("Dupont-", "name.invalid_format"),
        ("'Dupont", "name.invalid_format"),
        ("Du---pont", "name.invalid_format"),
        ("Du-'pont", "name.invalid_format"),
        ("Dupont2", "name.invalid_character"),
        ("Du_pont", "name.invalid_character"),
        ("Dupont.", "name.invalid_character"),
        ("Ζεύς", "name.invalid_character"),  # Greek letters: not Latin
        ("Du\u200bpont", "name.invalid_character"),
        ("A" * 81, "name.too_long"),
    ],
)
def test_person_name_refusals(birth: str, code: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        PersonName(birth, "Jean")
    assert codes(caught.value) == [(code, "birth_name")]


def test_person_name_limits() -> None:
    assert PersonName("A" * 80, "B" * 80, "C" * 80).birth_name == "A" * 80


def test_person_name_invisible_character_is_described_by_code_point() -> None:
    with pytest.raises(ValidationFailed) as caught:
        PersonName("Du\u200bpont", "Jean")
    assert caught.value.errors[0].params == {"characters": ["U+200B"]}


def test_person_name_errors_nest_under_a_collector_prefix() -> None:
    errors = ErrorCollector(prefix="$.beneficiaries[1]")
    errors.capture("name", PersonName, "", "Jean")
    assert [e.field for e in errors.errors] == ["$.beneficiaries[1].name.birth_name"]


def test_person_name_is_frozen_and_picklable() -> None:
    name = PersonName("martin", "marie")
    with pytest.raises(AttributeError):
        name.birth_name = "X"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(name)) == name


name_text = st.text(
    alphabet=st.sampled_from(list("abcdeéèëçœÆzAZÉ -'’\t")) | st.characters(codec="utf-8"),
    max_size=30,
)


@given(name_text, name_text, st.none() | name_text)
def test_person_name_normalisation_is_idempotent(birth: str, first: str, usage: str | None) -> None:
    try:
        name = PersonName(birth, first, usage)
    except ValidationFailed as err:
        failure: ValidationFailed | None = err
    else:
        failure = None
    if failure is not None:
        assert failure.errors
        assert all(e.field in {"birth_name", "first_names", "usage_name"} for e in failure.errors)
        return
    again = PersonName(name.birth_name, name.first_names, name.usage_name)
    assert again == name
    assert name.birth_name == name.birth_name.upper()
    assert "’" not in name.display
    assert "  " not in name.display


def test_strip_accents() -> None:
    assert strip_accents("LEFÈVRE-CŒUR") == "LEFEVRE-COEUR"
    assert strip_accents("Zoé Ærø Straße Ça") == "Zoe AEro Strasse Ca"
    assert strip_accents("plain") == "plain"


# -- e-mail ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jeanne.martin@example.fr", "jeanne.martin@example.fr"),
        ("  Jeanne.Martin@Example.FR ", "Jeanne.Martin@example.fr"),
        ("marc+mutuelle@mail.example.com", "marc+mutuelle@mail.example.com"),
        ("o'neil@example.ie", "o'neil@example.ie"),
        ("a@b.co", "a@b.co"),
        ("x_y-z@sub-domain.example.org", "x_y-z@sub-domain.example.org"),
        ("contact@xn--caf-dma.fr", "contact@xn--caf-dma.fr"),
        ("contact@example.xn--p1ai", "contact@example.xn--p1ai"),
    ],
)
def test_email_parse(text: str, expected: str) -> None:
    email = Email.parse(text)
    assert email.value == expected
    assert str(email) == expected
    assert Email(text) == email


@pytest.mark.parametrize(
    "text",
    [
        "",
        "jeanne",
        "jeanne@",
        "@example.fr",
        "jeanne@example",
        "jeanne@@example.fr",
        "jeanne@example..fr",
        "jeanne.@example.fr",
        ".jeanne@example.fr",
        "jea..nne@example.fr",
        "jeanne martin@example.fr",
        "jeanne@exa mple.fr",
        "jeanne@-example.fr",
        "jeanne@example-.fr",
        "jeanne@example.f",
        "jeanne@example.123",
        "jeanne@example.fr.",
        "jeanne@[127.0.0.1]",
        '"jeanne"@example.fr',
        "élodie@example.fr",
        "jeanne@café.fr",
        "a" * 65 + "@example.fr",
        "a@" + "b" * 64 + ".fr",
        "a@" + ".".join(["b" * 60] * 5) + ".fr",
    ],
)
def test_email_refusals(text: str) -> None:
    with pytest.raises(DomainError) as caught:
        Email.parse(text)
    assert caught.value.code == "email.invalid"


def test_email_error_and_repr_are_masked() -> None:
    with pytest.raises(DomainError) as caught:
        Email.parse("jeanne.martin@example")
    assert caught.value.params == {"value": "j***@example"}
    assert "jeanne" not in caught.value.message()
    assert "jeanne" not in str(caught.value.to_dict())
    email = Email.parse("jeanne.martin@example.fr")
    assert repr(email) == "Email('j***@example.fr')"
    assert "jeanne" not in repr([email])
    assert email.masked == "j***@example.fr"


def test_email_parts() -> None:
    email = Email.parse("Jeanne@Example.FR")
    assert email.local_part == "Jeanne"
    assert email.domain == "example.fr"


def test_email_max_length() -> None:
    local = "a" * 64
    domain = "b" * 62 + "." + ".".join(["b" * 61] * 2) + ".fr"  # 189 characters
    address = f"{local}@{domain}"
    assert len(address) == 254
    assert Email.parse(address).value == address
    with pytest.raises(DomainError):
        Email.parse(f"{local}@c{domain}")


@given(st.emails())
def test_email_accepts_what_hypothesis_generates(address: str) -> None:
    # Hypothesis generates RFC 5322 dot-atom addresses with valid domains: all of them are accepted
    email = Email.parse(address)
    assert Email.parse(str(email)) == email
    assert email.domain == email.domain.lower()


# -- phone ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("0612345678", "+33612345678"),
        ("06.12.34.56.78", "+33612345678"),
        ("06-12-34-56-78", "+33612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+33612345678", "+33612345678"),
        ("+33 (0)6 12 34 56 78", "+33612345678"),
        ("+33 06 12 34 56 78", "+33612345678"),
        ("0033 6 12 34 56 78", "+33612345678"),
        ("0033612345678", "+33612345678"),
        ("01 44 55 66 77", "+33144556677"),
        ("07 00 11 22 33", "+33700112233"),
        ("09\u00a070\u202f12 34 56", "+33970123456"),
        ("0262 12 34 56", "+262262123456"),
        ("06 92 12 34 56", "+262692123456"),
        ("0639 12 34 56", "+262639123456"),
        ("0590 12 34 56", "+590590123456"),
        ("0690 12 34 56", "+590690123456"),
        ("0594 12 34 56", "+594594123456"),
        ("0696 12 34 56", "+596696123456"),
        ("+262 692 12 34 56", "+262692123456"),
        ("+33 6 92 12 34 56", "+262692123456"),
        ("00262 692 12 34 56", "+262692123456"),
        ("+596 696 12 34 56", "+596696123456"),
        ("+687 75 12 34", "+687751234"),
        ("+689 87 12 34 56", "+68987123456"),
        ("+508 55 12 34", "+508551234"),
        ("+681 72 12 34", "+681721234"),
        ("+32 470 12 34 56", "+32470123456"),
        ("+41 79 123 45 67", "+41791234567"),
        ("+1 (212) 555-0100", "+12125550100"),
    ],
)
def test_phone_parse(text: str, e164: str) -> None:
    phone = Phone.parse(text)
    assert phone.e164 == e164
    assert str(phone) == e164
    assert Phone(e164) == phone


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "0612",
        "06 12 34 56 7",
        "06 12 34 56 789",
        "00 12 34 56 78",
        "612345678",
        "+33 6 12 34 56",
        "+33 6 12 34 56 789",
        "+33 0 12 34 56 78",
        "+262 692 12 34 5",
        "+687 75 12 3",
        "+689 87 12 34",
        "+0 123 456 789",
        "+1234567",
        "+12345678",
        "+1234567890123456",
        "06 12 34 56 7a",
        "06+12345678",
        "\u0666" * 10,
    ],
)
def test_phone_refusals(text: str) -> None:
    with pytest.raises(DomainError) as caught:
        Phone.parse(text)
    assert caught.value.code == "phone.invalid"


def test_phone_error_and_repr_are_masked() -> None:
    with pytest.raises(DomainError) as caught:
        Phone.parse("+33 6 12 34 56")
    assert caught.value.params == {"value": "+33*****56"}
    assert "1234" not in caught.value.message()
    phone = Phone.parse("06 12 34 56 78")
    assert repr(phone) == "Phone('+33*******78')"
    assert phone.masked == "+33*******78"


@pytest.mark.parametrize(
    ("text", "national", "international", "mobile", "french"),
    [
        ("0612345678", "06 12 34 56 78", "+33 6 12 34 56 78", True, True),
        ("0712345678", "07 12 34 56 78", "+33 7 12 34 56 78", True, True),
        ("0144556677", "01 44 55 66 77", "+33 1 44 55 66 77", False, True),
        ("0970123456", "09 70 12 34 56", "+33 9 70 12 34 56", False, True),
        ("0262123456", "02 62 12 34 56", "+262 262 12 34 56", False, True),
        ("0692123456", "06 92 12 34 56", "+262 692 12 34 56", True, True),
        ("0596123456", "05 96 12 34 56", "+596 596 12 34 56", False, True),
        ("+687 75 12 34", "75 12 34", "+687 75 12 34", True, True),
        ("+687 27 12 34", "27 12 34", "+687 27 12 34", False, True),
        ("+689 87 12 34 56", "87 12 34 56", "+689 87 12 34 56", True, True),
        ("+689 40 12 34 56", "40 12 34 56", "+689 40 12 34 56", False, True),
        ("+508 41 12 34", "41 12 34", "+508 41 12 34", False, True),
        ("+32 470 12 34 56", "+32470123456", "+32470123456", False, False),
        ("+269 333 12 34", "+2693331234", "+2693331234", False, False),
    ],
)
def test_phone_views(text: str, national: str, international: str, mobile: bool, french: bool) -> None:
    phone = Phone.parse(text)
    assert phone.national == national
    assert phone.international == international
    assert phone.is_mobile is mobile
    assert phone.is_french is french


@given(st.sampled_from("1234567"), st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_phone_national_round_trips(first: str, rest: str) -> None:
    phone = Phone.parse("0" + first + rest)
    assert Phone.parse(phone.national) == phone
    assert Phone.parse(phone.international) == phone
    assert Phone.parse(phone.e164) == phone
    assert phone.is_mobile == (phone.national[:2] in {"06", "07"})


# -- postal address -------------------------------------------------------------------------------


def test_address_normalisation() -> None:
    address = PostalAddress(["  12   rue des Lilas ", "", "Bâtiment B"], " 75 011 ", "  paris  ")
    assert address.lines == ("12 rue des Lilas", "Bâtiment B")
    assert address.postal_code == "75011"
    assert address.city == "PARIS"
    assert address.country == "FR"
    assert address.is_french
    assert address.postal_lines() == ("12 rue des Lilas", "Bâtiment B", "75011 PARIS")
    assert PostalAddress.parse(["12 rue des Lilas", "Bâtiment B"], "75011", "Paris") == address


def test_address_single_string_is_one_line() -> None:
    assert PostalAddress("3 place Bellecour", "69002", "Lyon").lines == ("3 place Bellecour",)


def test_address_city_keeps_accents() -> None:
    assert PostalAddress(("1 rue X",), "42000", "Saint-Étienne").city == "SAINT-ÉTIENNE"


@pytest.mark.parametrize("code", ["01000", "20000", "75001", "97400", "97600", "98000", "98999"])
def test_address_french_postal_codes(code: str) -> None:
    assert PostalAddress(("1 rue X",), code, "Ville").postal_code == code


@pytest.mark.parametrize(
    "code", ["", "00100", "00000", "1000", "750011", "7500A", "99000", "2A000", "75-001"]
)
def test_address_french_postal_code_refused(code: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        PostalAddress(("1 rue X",), code, "Ville")
    assert codes(caught.value) == [("address.invalid_postal_code", "postal_code")]


def test_address_overseas_territories_use_french_postal_codes() -> None:
    assert PostalAddress(("1 rue X",), "97411", "Saint-Paul", "RE").postal_code == "97411"
    with pytest.raises(ValidationFailed):
        PostalAddress(("1 rue X",), "1234", "Saint-Paul", "RE")


def test_address_foreign() -> None:
    address = PostalAddress(["Rue de la Loi 16"], "1000", "Bruxelles", country=" be ")
    assert address.country == "BE"
    assert not address.is_french
    assert address.postal_lines() == ("Rue de la Loi 16", "1000 BRUXELLES", "BELGIQUE")
    assert PostalAddress(("1 Main St",), "", "Dublin", "IE").postal_lines() == (
        "1 Main St",
        "DUBLIN",
        "IRLANDE",
    )
    assert PostalAddress(("10 Downing St",), "sw1a 2aa", "London", "GB").postal_code == "SW1A 2AA"


def test_address_reports_every_problem_at_once() -> None:
    with pytest.raises(ValidationFailed) as caught:
        PostalAddress(("x" * 39, "a", "b", "c", "d"), "7501", " ", country="FR")
    assert codes(caught.value) == [
        ("address.too_many_lines", "lines"),
        ("address.line_too_long", "lines[0]"),
        ("address.invalid_postal_code", "postal_code"),
        ("address.empty_city", "city"),
    ]
    assert caught.value.errors[1].params == {"max_length": 38, "length": 39}


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"lines": ()}, [("address.no_lines", "lines")]),
        ({"lines": ("", "  ")}, [("address.no_lines", "lines")]),
        ({"city": "X" * 33}, [("address.city_too_long", "city")]),
        ({"city": "X" * 39, "country": "DE", "postal_code": "10115"}, [("address.city_too_long", "city")]),
        ({"country": "France"}, [("address.invalid_country", "country")]),
        ({"country": "ZZ"}, [("address.invalid_country", "country")]),
        ({"country": "EU"}, [("address.invalid_country", "country")]),
        ({"country": "QQ"}, [("address.invalid_country", "country")]),
        ({"country": "D1"}, [("address.invalid_country", "country")]),
        ({"country": "DE", "postal_code": "#123"}, [("address.invalid_postal_code", "postal_code")]),
        ({"country": "DE", "postal_code": "1" * 16}, [("address.invalid_postal_code", "postal_code")]),
    ],
)
def test_address_refusals(kwargs: dict[str, object], expected: list[tuple[str, str]]) -> None:
    values: dict[str, object] = {
        "lines": ("1 rue X",),
        "postal_code": "75001",
        "city": "Paris",
        "country": "FR",
    }
    values.update(kwargs)
    with pytest.raises(ValidationFailed) as caught:
        PostalAddress(**values)  # type: ignore[arg-type]
    assert codes(caught.value) == expected


def test_address_limits() -> None:
    address = PostalAddress(tuple("x" * 38 for _ in range(4)), "75001", "X" * 32)
    assert len(address.lines) == 4
    assert PostalAddress(("1 rue X",), "10115", "Y" * 38, "DE").city == "Y" * 38


@given(
    st.lists(st.text(max_size=12), min_size=1, max_size=4),
    st.from_regex(r"(0[1-9]|[1-8][0-9]|9[0-8])[0-9]{3}", fullmatch=True),
    st.text(min_size=1, max_size=20),
)
def test_address_normalisation_is_idempotent(lines: list[str], postal_code: str, city: str) -> None:
    try:
        address = PostalAddress(lines, postal_code, city)
    except ValidationFailed as err:
        failure: ValidationFailed | None = err
    else:
        failure = None
    if failure is not None:
        assert {e.code for e in failure.errors} <= {"address.no_lines", "address.empty_city"}
        return
    assert PostalAddress(address.lines, address.postal_code, address.city, address.country) == address


@pytest.mark.parametrize(
    "code",
    [
        "civility.invalid",
        "name.empty",
        "name.invalid_character",
        "name.invalid_format",
        "name.too_long",
        "email.invalid",
        "phone.invalid",
        "address.no_lines",
        "address.too_many_lines",
        "address.line_too_long",
        "address.invalid_postal_code",
        "address.empty_city",
        "address.city_too_long",
        "address.invalid_country",
    ],
)
def test_messages_are_translated_to_english(code: str) -> None:
    template = registered_codes()[code].template
    english = translate(template, "en")
    assert english != template
    assert sorted(re.findall(r"{\w+}", english)) == sorted(re.findall(r"{\w+}", template))
