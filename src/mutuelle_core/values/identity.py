"""Identity values: sex, civility, names, e-mail address, phone number, postal address.

Each value normalises its input once, when it is built, and refuses what it cannot make sense of
with a stable error code. Values made of several fields (:class:`PersonName`,
:class:`PostalAddress`) report every problem at once in a
:class:`~mutuelle_core.errors.ValidationFailed`, each error naming its field. E-mail addresses and
phone numbers are personal data: their ``repr`` and the errors about them are masked.

>>> from mutuelle_core.values.identity import Civility, Email, PersonName, Phone, PostalAddress
>>> Civility.parse("Madame"), Civility.parse("m.").sex
(<Civility.MME: 'MME'>, <Sex.MALE: 'male'>)
>>> name = PersonName(birth_name="  lefèvre ", first_names="jean-pierre  d’arc")
>>> name.birth_name, name.first_names, name.display
('LEFÈVRE', "Jean-Pierre D'Arc", "Jean-Pierre D'Arc LEFÈVRE")
>>> email = Email.parse(" Jeanne.Martin@Example.FR ")
>>> str(email), email
('Jeanne.Martin@example.fr', Email('J***@example.fr'))
>>> phone = Phone.parse("06.12.34.56.78")
>>> phone.e164, phone.national, phone.is_mobile, phone
('+33612345678', '06 12 34 56 78', True, Phone('+33*******78'))
>>> PostalAddress(("12 rue des Lilas",), "75011", "paris").postal_lines()
('12 rue des Lilas', '75011 PARIS')
>>> PersonName(birth_name="Dupont 2", first_names="")  # doctest: +NORMALIZE_WHITESPACE
Traceback (most recent call last):
...
mutuelle_core.errors.ValidationFailed: [validation.failed] La saisie comporte 2 erreur(s).
  - [name.invalid_character] (birth_name) Caractère(s) non autorisé(s) dans un nom : 2. Seuls les
    lettres, l'espace, le trait d'union et l'apostrophe sont admis.
  - [name.empty] (first_names) Le nom ou le prénom est vide.
"""

from __future__ import annotations

import enum
import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping

import attrs
from babel import Locale

from mutuelle_core.errors import DomainError, ErrorCollector, ValidationFailed, error_code
from mutuelle_core.masking import mask_email, mask_phone

__all__ = [
    "ADDRESS_CITY_TOO_LONG",
    "ADDRESS_EMPTY_CITY",
    "ADDRESS_INVALID_COUNTRY",
    "ADDRESS_INVALID_POSTAL_CODE",
    "ADDRESS_LINE_MAX_LENGTH",
    "ADDRESS_LINE_TOO_LONG",
    "ADDRESS_MAX_LINES",
    "ADDRESS_NO_LINES",
    "ADDRESS_TOO_MANY_LINES",
    "CIVILITY_INVALID",
    "EMAIL_INVALID",
    "EMAIL_MAX_LENGTH",
    "FRENCH_CITY_MAX_LENGTH",
    "NAME_EMPTY",
    "NAME_INVALID_CHARACTER",
    "NAME_INVALID_FORMAT",
    "NAME_MAX_LENGTH",
    "NAME_TOO_LONG",
    "PHONE_INVALID",
    "Civility",
    "Email",
    "PersonName",
    "Phone",
    "PostalAddress",
    "Sex",
    "strip_accents",
]

CIVILITY_INVALID = error_code("civility.invalid", "« {value} » n'est pas une civilité reconnue (M ou MME).")
NAME_EMPTY = error_code("name.empty", "Le nom ou le prénom est vide.")
NAME_INVALID_CHARACTER = error_code(
    "name.invalid_character",
    "Caractère(s) non autorisé(s) dans un nom : {characters}. "
    "Seuls les lettres, l'espace, le trait d'union et l'apostrophe sont admis.",
)
NAME_INVALID_FORMAT = error_code(
    "name.invalid_format",
    "Un nom ou un prénom commence et finit par une lettre, sans deux séparateurs à la suite "
    "(sauf le double trait d'union).",
)
NAME_TOO_LONG = error_code("name.too_long", "Le nom ou le prénom dépasse {max_length} caractères ({length}).")
EMAIL_INVALID = error_code("email.invalid", "L'adresse e-mail {value} n'est pas valide.")
PHONE_INVALID = error_code("phone.invalid", "Le numéro de téléphone {value} n'est pas valide.")
ADDRESS_NO_LINES = error_code("address.no_lines", "L'adresse doit comporter au moins une ligne.")
ADDRESS_TOO_MANY_LINES = error_code(
    "address.too_many_lines", "L'adresse comporte {count} lignes ; {max_lines} au plus sont admises."
)
ADDRESS_LINE_TOO_LONG = error_code(
    "address.line_too_long", "Une ligne d'adresse dépasse {max_length} caractères ({length})."
)
ADDRESS_INVALID_POSTAL_CODE = error_code(
    "address.invalid_postal_code", "Le code postal « {value} » n'est pas valide pour le pays {country}."
)
ADDRESS_EMPTY_CITY = error_code("address.empty_city", "La commune est obligatoire.")
ADDRESS_CITY_TOO_LONG = error_code(
    "address.city_too_long", "Le nom de la commune dépasse {max_length} caractères ({length})."
)
ADDRESS_INVALID_COUNTRY = error_code(
    "address.invalid_country", "« {value} » n'est pas un code pays ISO 3166 à deux lettres (par exemple FR)."
)


def _shown(text: str, limit: int = 40) -> str:
    """A user's text cut short for an error message."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- sex and civility -------------------------------------------------------------------------------


class Sex(enum.StrEnum):
    """A person's sex as recorded by the civil registry (the NIR's first digit, DSN S21.G00.30.005)."""

    MALE = "male"
    FEMALE = "female"

    @property
    def iso_5218(self) -> int:
        """The ISO/IEC 5218 code, also the first digit of a permanent NIR: 1 male, 2 female.

        >>> Sex.FEMALE.iso_5218
        2
        """
        return 1 if self is Sex.MALE else 2


_CIVILITY_WORDS = {
    "m": "M",
    "mr": "M",
    "monsieur": "M",
    "mme": "MME",
    "madame": "MME",
    "mlle": "MME",
    "melle": "MME",
    "mademoiselle": "MME",
}


class Civility(enum.StrEnum):
    """The civility (``civilité``) used to address a person: ``M`` (Monsieur) or ``MME`` (Madame).

    These are the two values of the employer's pre-affiliation CSV. Since the circulaire of
    21 February 2012 the administration no longer uses ``Mademoiselle``: :meth:`parse` reads it (and
    ``Mlle``) as ``MME``.
    """

    M = "M"
    MME = "MME"

    @property
    def sex(self) -> Sex:
        """The sex the civility implies.

        >>> Civility.MME.sex
        <Sex.FEMALE: 'female'>
        """
        return Sex.MALE if self is Civility.M else Sex.FEMALE

    @property
    def abbreviation(self) -> str:
        """The French abbreviation used in front of a name: ``M.`` or ``Mme``."""
        return "M." if self is Civility.M else "Mme"

    @property
    def label(self) -> str:
        """The civility in full: ``Monsieur`` or ``Madame``."""
        return "Monsieur" if self is Civility.M else "Madame"

    @classmethod
    def of_sex(cls, sex: Sex) -> Civility:
        """The usual civility for ``sex``.

        >>> Civility.of_sex(Sex.MALE)
        <Civility.M: 'M'>
        """
        return cls.M if sex is Sex.MALE else cls.MME

    @classmethod
    def parse(cls, text: str) -> Civility:
        """Read a civility written in any case: ``M``, ``M.``, ``Mr``, ``Monsieur``, ``MME``, ``Mme``,
        ``Madame`` (and ``Mlle``, ``Mademoiselle``, read as ``MME``).

        Raises:
            DomainError: ``civility.invalid`` for anything else.

        >>> [Civility.parse(t).value for t in ("M", "m.", "Monsieur", "MME", "mme", "Madame")]
        ['M', 'M', 'M', 'MME', 'MME', 'MME']
        """
        civility = _civility_of(text)
        if civility is None:
            raise CIVILITY_INVALID(value=_shown(text.strip(), 20))
        return civility


@functools.lru_cache(maxsize=256)
def _civility_of(text: str) -> Civility | None:
    """The civility a text names, or ``None`` (cached: a file repeats a handful of spellings)."""
    value = _CIVILITY_WORDS.get(" ".join(text.split()).casefold().removesuffix("."))
    return None if value is None else Civility(value)


# -- names ----------------------------------------------------------------------------------------

NAME_MAX_LENGTH = 80
"""Longest family name, usage name or list of first names (the DSN's limit, S21.G00.30.002-.004)."""

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'"})
_SPACES = re.compile(r"\s+")
_AROUND_SEPARATOR = re.compile(r" ?([-']) ?")
_NAME_SHAPE = re.compile(r"a+(?:(?:[ '-]|--)a+)*")


def _is_name_letter(char: str) -> bool:
    return unicodedata.category(char).startswith("L") and unicodedata.name(char, "").startswith("LATIN ")


def _clean_spaces(text: str) -> str:
    text = unicodedata.normalize("NFC", text).translate(_APOSTROPHES)
    text = _SPACES.sub(" ", text).strip()
    return _AROUND_SEPARATOR.sub(r"\1", text)


def _describe(char: str) -> str:
    return char if char.isprintable() else f"U+{ord(char):04X}"


# Letters of Basic Latin, Latin-1 Supplement and Latin Extended-A: every one is a precomposed (NFC)
# ``LATIN ...`` letter, so a name made only of them and well placed separators needs no cleaning and
# no per-character check (a test holds this class to :func:`_is_name_letter`).
_PLAIN_LETTERS = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u017f"
_PLAIN_NAME = re.compile(f"[{_PLAIN_LETTERS}]+(?:(?:[ '-]|--)[{_PLAIN_LETTERS}]+)*")


def _check_name(text: str | None, *, family: bool) -> str:
    """Normalise one name field; raise every problem found in it."""
    if text and _PLAIN_NAME.fullmatch(text):
        # Fast path: nothing to clean; the normalised form is valid when it is still plain and short.
        normalised = text.upper() if family else text.title()
        if len(normalised) <= NAME_MAX_LENGTH and _PLAIN_NAME.fullmatch(normalised):
            return normalised
    return _check_name_fully(text, family=family)


def _check_name_fully(text: str | None, *, family: bool) -> str:
    """:func:`_check_name` without its fast path: clean, normalise, check every character."""
    cleaned = _clean_spaces(text or "")
    if not cleaned:
        raise NAME_EMPTY()
    normalised = cleaned.upper() if family else cleaned.title()
    problems: list[DomainError] = []
    bad = sorted({c for c in normalised if c not in " -'" and not _is_name_letter(c)})
    if bad:
        problems.append(NAME_INVALID_CHARACTER(characters=[_describe(c) for c in bad]))
    elif not _NAME_SHAPE.fullmatch(re.sub(r"[^ '-]", "a", normalised)):
        problems.append(NAME_INVALID_FORMAT())
    if len(normalised) > NAME_MAX_LENGTH:
        problems.append(NAME_TOO_LONG(max_length=NAME_MAX_LENGTH, length=len(normalised)))
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise ValidationFailed(problems)
    return normalised


_LIGATURES = str.maketrans({"Œ": "OE", "œ": "oe", "Æ": "AE", "æ": "ae", "ß": "ss", "Ø": "O", "ø": "o"})


def strip_accents(text: str) -> str:
    """``text`` without diacritics or ligatures, for media limited to ASCII letters (SEPA files).

    >>> strip_accents("LEFÈVRE-CŒUR Ærø Straße")
    'LEFEVRE-COEUR AEro Strasse'
    """
    if text.isascii():
        return text
    if _LATIN_TEXT.fullmatch(text):
        return text.translate(_LATIN_STRIPPED)
    return _strip_accents_fully(text)


def _strip_accents_fully(text: str) -> str:
    """:func:`strip_accents` without its fast paths."""
    decomposed = unicodedata.normalize("NFD", text.translate(_LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# Text made of Latin-1 and Latin Extended-A characters (no combining mark) loses its accents one
# precomposed character at a time: a translation table built with the full function does it at once.
_LATIN_TEXT = re.compile("[\u0000-\u017f]*")
_LATIN_STRIPPED = {c: _strip_accents_fully(chr(c)) for c in range(0x80, 0x180)}


@attrs.frozen
class PersonName:
    """A person's names as the civil registry records them, normalised.

    Normalisation, applied by the constructor (and therefore idempotent):

    * Unicode NFC; runs of white space become one space; leading and trailing spaces go; the
      typographic apostrophes ``’``, ``‘`` and ``ʼ`` become ``'``; spaces around a hyphen or an
      apostrophe go (``Jean - Pierre`` → ``Jean-Pierre``).
    * Family names (``birth_name``, ``usage_name``) are put in capitals **keeping their accents**, as
      the civil registry writes them: ``Lefèvre`` → ``LEFÈVRE``. Use :func:`strip_accents` where a
      medium needs plain ASCII.
    * First names are put in title case, each part after a space, hyphen or apostrophe starting with
      a capital: ``jean-pierre`` → ``Jean-Pierre``, ``D'ARTAGNAN`` → ``D'Artagnan``. Inner capitals
      are not kept (``McKenzie`` → ``Mckenzie``). Several first names are separated by spaces, in
      civil registry order.
    * An empty or blank ``usage_name`` becomes ``None``.

    Allowed: Latin letters with their accents and ligatures (``é``, ``ç``, ``ï``, ``œ``...), space,
    hyphen and apostrophe. A name starts and ends with a letter and has no two separators in a row,
    except the double hyphen ``--`` that separates the two parts of a double family name. Each field
    has at most :data:`NAME_MAX_LENGTH` (80) characters.

    Attributes:
        birth_name: the family name at birth (``nom de naissance``).
        first_names: the first names, space separated (``prénoms``).
        usage_name: the name in use (``nom d'usage``, e.g. a spouse's name), if any.

    Raises:
        ValidationFailed: with one error per problem, each naming its field (``birth_name``,
            ``first_names``, ``usage_name``): ``name.empty``, ``name.invalid_character``,
            ``name.invalid_format``, ``name.too_long``.

    >>> PersonName("martin", "MARIE  claire", usage_name="dupont--durand")
    PersonName(birth_name='MARTIN', first_names='Marie Claire', usage_name='DUPONT--DURAND')
    """

    birth_name: str
    first_names: str
    usage_name: str | None = None

    def __attrs_post_init__(self) -> None:
        try:  # fast path: a valid name, checked without collecting
            birth = _check_name(self.birth_name, family=True)
            first = _check_name(self.first_names, family=False)
            usage = self.usage_name
            if usage is not None:
                usage = _check_name(usage, family=True) if usage.strip() else None
        except DomainError:
            birth = ""
        if not birth:
            self._collect_errors()  # raises with every problem, outside the handler (no chained error)
        object.__setattr__(self, "birth_name", birth)
        object.__setattr__(self, "first_names", first)
        object.__setattr__(self, "usage_name", usage)

    def _collect_errors(self) -> None:
        """Raise every problem of every field at once, each error naming its field."""
        errors = ErrorCollector()
        errors.capture("birth_name", _check_name, self.birth_name, family=True)
        errors.capture("first_names", _check_name, self.first_names, family=False)
        if self.usage_name is not None and self.usage_name.strip():
            errors.capture("usage_name", _check_name, self.usage_name, family=True)
        errors.raise_if_any()

    @classmethod
    def parse(cls, birth_name: str, first_names: str, usage_name: str | None = None) -> PersonName:
        """Build a name from raw input (the same as the constructor, named for symmetry)."""
        return cls(birth_name, first_names, usage_name)

    @property
    def family_name(self) -> str:
        """The name the person goes by: the usage name if any, else the birth name."""
        return self.usage_name or self.birth_name

    @property
    def first_name(self) -> str:
        """The first of the first names (``Jean`` for ``Jean Paul``, ``Jean-Paul`` for ``Jean-Paul``)."""
        return self.first_names.split(" ", 1)[0]

    @property
    def display(self) -> str:
        """First names then family name, for screens and letters: ``Marie Claire DUPONT``.

        >>> PersonName("martin", "marie", usage_name="dupont").display
        'Marie DUPONT'
        """
        return f"{self.first_names} {self.family_name}"


# -- e-mail ---------------------------------------------------------------------------------------

EMAIL_MAX_LENGTH = 254
"""Longest e-mail address (RFC 5321 path limit less the angle brackets)."""

_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_DOMAIN_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_TOP_LEVEL = re.compile(r"[a-z]{2,63}|xn--[a-z0-9-]{1,59}")


# The same rules in one expression, for an address typed with a lowercase domain and no spaces.
_PLAIN_EMAIL = re.compile(
    rf"(?=[^@]{{1,64}}@){_EMAIL_LOCAL.pattern}@(?:{_DOMAIN_LABEL.pattern}\.)+"
    r"(?:[a-z]{2,63}|xn--[a-z0-9-]{0,58}[a-z0-9])"
)


def _parse_email(text: str) -> str:
    if len(text) <= EMAIL_MAX_LENGTH and _PLAIN_EMAIL.fullmatch(text):
        return text  # fast path: already normalised
    return _parse_email_fully(text)


def _parse_email_fully(text: str) -> str:
    """:func:`_parse_email` without its fast path."""
    address = text.strip()
    local, at, domain = address.rpartition("@")
    domain = domain.lower()
    labels = domain.split(".")
    valid = (
        bool(at)
        and len(address) <= EMAIL_MAX_LENGTH
        and address.isascii()
        and 0 < len(local) <= 64
        and _EMAIL_LOCAL.fullmatch(local) is not None
        and len(labels) >= 2
        and all(_DOMAIN_LABEL.fullmatch(label) for label in labels)
        and _TOP_LEVEL.fullmatch(labels[-1]) is not None
    )
    if not valid:
        raise EMAIL_INVALID(value=_shown(mask_email(address), 80))
    return f"{local}@{domain}"


@attrs.frozen(repr=False)
class Email:
    """An e-mail address, checked for a plain, deliverable syntax.

    Accepted: ``local@domain`` in ASCII, at most 254 characters, a local part of at most 64
    characters made of letters, digits and ``!#$%&'*+/=?^_`{|}~-`` in dot-separated runs (no quoted
    local parts, no comments, no IP literals), and a domain of at least two dot-separated labels
    (letters, digits, inner hyphens, 63 characters each) ending with an alphabetic or ``xn--``
    top-level domain. Surrounding spaces are removed and the domain is lowercased; the local part is
    kept as given (it is case-sensitive in principle).

    ``str()`` gives the address; ``repr()`` and error messages mask it (``j***@example.fr``).

    Attributes:
        value: the normalised address.

    Raises:
        DomainError: ``email.invalid``.

    >>> Email("jeanne@example..fr")
    Traceback (most recent call last):
    ...
    mutuelle_core.errors.DomainError: [email.invalid] L'adresse e-mail j***@example..fr n'est pas valide.
    """

    value: str = attrs.field(converter=_parse_email)

    @classmethod
    def parse(cls, text: str) -> Email:
        """Check and normalise an address typed by someone.

        >>> Email.parse("marc+mutuelle@Mail.Example.COM").value
        'marc+mutuelle@mail.example.com'
        """
        return cls(text)

    @property
    def local_part(self) -> str:
        """What comes before the ``@``."""
        return self.value.rpartition("@")[0]

    @property
    def domain(self) -> str:
        """What comes after the ``@``, lowercased."""
        return self.value.rpartition("@")[2]

    @property
    def masked(self) -> str:
        """The address masked for logs and messages: ``j***@example.fr``."""
        return mask_email(self.value)

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"Email({self.masked!r})"


# -- phone ----------------------------------------------------------------------------------------

# French overseas departments share the 9-digit national plan; their numbers dialled from France start
# with these 4 digits and are reached from abroad through their own country code.
_OVERSEAS_NATIONAL_PREFIXES = {
    "0262": "262",  # La Réunion, fixed
    "0263": "262",  # La Réunion, fixed
    "0692": "262",  # La Réunion, mobile
    "0693": "262",  # La Réunion, mobile
    "0269": "262",  # Mayotte, fixed
    "0639": "262",  # Mayotte, mobile
    "0590": "590",  # Guadeloupe, Saint-Martin, Saint-Barthélemy, fixed
    "0690": "590",  # idem, mobile
    "0691": "590",  # idem, mobile
    "0594": "594",  # Guyane, fixed
    "0694": "594",  # Guyane, mobile
    "0596": "596",  # Martinique, fixed
    "0696": "596",  # Martinique, mobile
    "0697": "596",  # Martinique, mobile
}
_NINE_DIGIT_PLANS = frozenset({"33", "262", "590", "594", "596"})
# Overseas collectivities with their own plans: country code -> national number length.
_OTHER_FRENCH_PLANS = {"508": 6, "681": 6, "687": 6, "689": 8}
_MOBILE_PREFIXES: dict[str, tuple[str, ...]] = {
    "508": ("55",),
    "681": (),  # Wallis-et-Futuna: not told apart
    "687": ("7", "8", "9"),
    "689": ("87", "88", "89"),
}
_COUNTRY_CODES = sorted(_NINE_DIGIT_PLANS | set(_OTHER_FRENCH_PLANS), key=len, reverse=True)
_SEPARATORS = re.compile(r"[\s.\-/()]")


def _parse_phone(text: str) -> str:
    raw = text.strip()
    compact = _SEPARATORS.sub("", raw.replace("(0)", ""))
    shown = compact or raw
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    number: str | None = None
    if re.fullmatch(r"0[1-9][0-9]{8}", compact):
        cc = _OVERSEAS_NATIONAL_PREFIXES.get(compact[:4], "33")
        number = f"+{cc}{compact[1:]}"
    elif re.fullmatch(r"\+[1-9][0-9]{6,14}", compact):
        number = _check_international(compact[1:])
    if number is None:
        raise PHONE_INVALID(value=_shown(mask_phone(shown), 40))
    return number


def _check_international(digits: str) -> str | None:
    cc = next((c for c in _COUNTRY_CODES if digits.startswith(c)), None)
    if cc is None:  # foreign: 9 to 15 digits (E.164 allows 15 at most; 9 covers Luxembourg, Andorra)
        return f"+{digits}" if len(digits) >= 9 else None
    national = digits[len(cc) :]
    if cc in _NINE_DIGIT_PLANS:
        if len(national) == 10 and national.startswith("0"):  # "+33 (0)6..." written without brackets
            national = national[1:]
        if not re.fullmatch(r"[1-9][0-9]{8}", national):
            return None
        if cc == "33":  # an overseas number written with +33: give it its own country code
            cc = _OVERSEAS_NATIONAL_PREFIXES.get("0" + national[:3], "33")
        return f"+{cc}{national}"
    if len(national) != _OTHER_FRENCH_PLANS[cc] or national.startswith("0"):
        return None
    return f"+{cc}{national}"


def _pairs(digits: str) -> str:
    return " ".join(digits[i : i + 2] for i in range(0, len(digits), 2))


@attrs.frozen(repr=False)
class Phone:
    """A phone number, stored in E.164 form (``+33612345678``).

    Read from the usual French ways of writing it: ``06 12 34 56 78``, ``06.12.34.56.78``,
    ``06-12-34-56-78``, ``+33 6 12 34 56 78``, ``+33 (0)6 12 34 56 78``, ``0033 6 12 34 56 78``.

    French overseas numbers get their own country code: the departments (La Réunion and Mayotte
    +262, Guadeloupe and Saint-Martin +590, Guyane +594, Martinique +596) whether written
    nationally (``06 92 12 34 56`` → ``+262692123456``) or internationally, and the collectivities
    Saint-Pierre-et-Miquelon (+508), Wallis-et-Futuna (+681), Nouvelle-Calédonie (+687) and
    Polynésie française (+689) written internationally. (+269 is the Comoros since Mayotte moved to
    +262 in 2007, so it is a foreign number.) Any other international number (``+32 470 12 34 56``)
    is accepted as a foreign number when it has 9 to 15 digits; it is not checked further.

    ``str()`` gives the E.164 form; ``repr()`` and error messages mask it (``+33*******78``).

    Attributes:
        e164: the number in E.164 form.

    Raises:
        DomainError: ``phone.invalid``.

    >>> Phone("+33 (0)1 44 55 66 77").national, Phone("0692 12 34 56").e164
    ('01 44 55 66 77', '+262692123456')
    >>> Phone("+687 75 12 34").national, Phone("+687 75 12 34").is_mobile
    ('75 12 34', True)
    >>> Phone("06 12 34 56")
    Traceback (most recent call last):
    ...
    mutuelle_core.errors.DomainError: [phone.invalid] Le numéro de téléphone ******56 n'est pas valide.
    """

    e164: str = attrs.field(converter=_parse_phone)

    @classmethod
    def parse(cls, text: str) -> Phone:
        """Check and normalise a number typed by someone.

        >>> Phone.parse("0033 7 00 11 22 33").e164
        '+33700112233'
        """
        return cls(text)

    @property
    def country_code(self) -> str | None:
        """The country code of a French number (``33``, ``262``, ``687``...), ``None`` for a foreign one."""
        digits = self.e164[1:]
        return next((c for c in _COUNTRY_CODES if digits.startswith(c)), None)

    @property
    def is_french(self) -> bool:
        """Whether the number belongs to a French plan (metropolitan or overseas)."""
        return self.country_code is not None

    @property
    def is_mobile(self) -> bool:
        """Whether the number is a mobile one (it can receive text messages).

        In the 9-digit plans (France and overseas departments), mobiles start with 6 or 7 (``06``,
        ``07``, ``0692``, ``0690``...). For Saint-Pierre-et-Miquelon (55), Nouvelle-Calédonie (7, 8, 9)
        and Polynésie française (87, 88, 89) the national prefixes are used; Wallis-et-Futuna and
        foreign numbers are reported as not mobile, since they cannot be told apart here.
        """
        cc = self.country_code
        if cc is None:
            return False
        national = self.e164[1 + len(cc) :]
        if cc in _NINE_DIGIT_PLANS:
            return national[0] in "67"
        return national.startswith(_MOBILE_PREFIXES[cc])

    @property
    def national(self) -> str:
        """The number as written at home: ``06 12 34 56 78``; ``+…`` for a foreign number."""
        cc = self.country_code
        if cc is None:
            return self.e164
        national = self.e164[1 + len(cc) :]
        return _pairs("0" + national) if cc in _NINE_DIGIT_PLANS else _pairs(national)

    @property
    def international(self) -> str:
        """The number written for abroad: ``+33 6 12 34 56 78``, ``+262 692 12 34 56``.

        >>> Phone("0612345678").international, Phone("0262123456").international
        ('+33 6 12 34 56 78', '+262 262 12 34 56')
        """
        cc = self.country_code
        if cc is None:
            return self.e164
        national = self.e164[1 + len(cc) :]
        if cc == "33":
            return f"+33 {national[0]} {_pairs(national[1:])}"
        if cc in _NINE_DIGIT_PLANS:
            return f"+{cc} {national[:3]} {_pairs(national[3:])}"
        return f"+{cc} {_pairs(national)}"

    @property
    def masked(self) -> str:
        """The number masked for logs and messages: ``+33*******78``."""
        return mask_phone(self.e164)

    def __str__(self) -> str:
        return self.e164

    def __repr__(self) -> str:
        return f"Phone({self.masked!r})"


# -- postal address -------------------------------------------------------------------------------

ADDRESS_MAX_LINES = 4
"""Address lines besides the recipient and the postal code + city line (NF Z10-011: 6 lines in all)."""
ADDRESS_LINE_MAX_LENGTH = 38
"""Characters per line of a postal address (NF Z10-011)."""
FRENCH_CITY_MAX_LENGTH = 32
"""Characters left for the city on the last line, after the 5-digit postal code and a space."""

# Territories whose addresses use the French 5-digit postal codes (overseas and Monaco included).
_FRENCH_POSTAL_SYSTEM = frozenset(
    {"FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF", "WF", "PF", "NC", "MC"}
)
_FRENCH_POSTAL_CODE = re.compile(r"(?:0[1-9]|[1-8][0-9]|9[0-8])[0-9]{3}")
_FOREIGN_POSTAL_CODE = re.compile(r"[A-Z0-9][A-Z0-9 -]{0,14}")
_NOT_COUNTRIES = frozenset({"EU", "EZ", "QO", "UN", "ZZ"})


@functools.cache
def _territories() -> Mapping[str, str]:
    """ISO 3166 codes and their French names, from Babel's CLDR data."""
    return dict(Locale("fr").territories)


def _lines_tuple(lines: Iterable[str]) -> tuple[str, ...]:
    """Accept any iterable of lines (a lone string is one line, not a list of characters)."""
    return (lines,) if isinstance(lines, str) else tuple(lines)


@attrs.frozen
class PostalAddress:
    """A postal address, normalised to the French postal norm (NF Z10-011).

    Normalisation, applied by the constructor: in every part, runs of white space become one space
    and surrounding spaces go; blank lines are dropped; the country code and the city are put in
    capitals (accents kept, like names; see :func:`strip_accents`); a French postal code loses its
    inner spaces (``75 011`` → ``75011``). Lines keep their case.

    Rules: 1 to 4 address lines (street, building, lieu-dit...: the recipient's name and the
    postal code + city line are not part of them) of at most 38 characters each; a city; an ISO
    3166-1 alpha-2 country code. In France, its overseas territories and Monaco, the postal code has
    five digits from 01000 to 98999 (``00…`` does not exist; a code that lost its leading zero in a
    spreadsheet, ``1000``, is refused, not guessed) and the city at most 32 characters. Abroad the
    postal code may be empty or up to 15 letters, digits, spaces and hyphens, and the city at most
    38 characters.

    Attributes:
        lines: the address lines, in order.
        postal_code: the postal code.
        city: the city (``commune``), in capitals.
        country: the ISO 3166-1 alpha-2 country code, ``FR`` by default.

    Raises:
        ValidationFailed: with every problem, each naming its field (``lines``, ``lines[1]``,
            ``postal_code``, ``city``, ``country``): ``address.no_lines``, ``address.too_many_lines``,
            ``address.line_too_long``, ``address.invalid_postal_code``, ``address.empty_city``,
            ``address.city_too_long``, ``address.invalid_country``.

    >>> PostalAddress(["Rue de la Loi 16"], "1000", "Bruxelles", country="be").postal_lines()
    ('Rue de la Loi 16', '1000 BRUXELLES', 'BELGIQUE')
    """

    lines: tuple[str, ...] = attrs.field(converter=_lines_tuple)
    postal_code: str
    city: str
    country: str = "FR"

    def __attrs_post_init__(self) -> None:
        errors = ErrorCollector()
        country = " ".join(self.country.split()).upper()
        if not (
            re.fullmatch(r"[A-Z]{2}", country) and country in _territories() and country not in _NOT_COUNTRIES
        ):
            errors.add(ADDRESS_INVALID_COUNTRY(value=_shown(self.country, 20)), field="country")
        french_system = country in _FRENCH_POSTAL_SYSTEM

        lines = tuple(line for line in (" ".join(raw.split()) for raw in self.lines) if line)
        if not lines:
            errors.add(ADDRESS_NO_LINES(), field="lines")
        elif len(lines) > ADDRESS_MAX_LINES:
            errors.add(ADDRESS_TOO_MANY_LINES(count=len(lines), max_lines=ADDRESS_MAX_LINES), field="lines")
        for index, line in enumerate(lines):
            if len(line) > ADDRESS_LINE_MAX_LENGTH:
                errors.add(
                    ADDRESS_LINE_TOO_LONG(max_length=ADDRESS_LINE_MAX_LENGTH, length=len(line)),
                    field=f"lines[{index}]",
                )

        postal_code = " ".join(self.postal_code.split()).upper()
        if french_system:
            postal_code = postal_code.replace(" ", "")
        pattern = _FRENCH_POSTAL_CODE if french_system else _FOREIGN_POSTAL_CODE
        if (postal_code or french_system) and not pattern.fullmatch(postal_code):
            errors.add(
                ADDRESS_INVALID_POSTAL_CODE(value=_shown(self.postal_code, 20), country=country),
                field="postal_code",
            )

        city = " ".join(self.city.split()).upper()
        city_max = FRENCH_CITY_MAX_LENGTH if french_system else ADDRESS_LINE_MAX_LENGTH
        if not city:
            errors.add(ADDRESS_EMPTY_CITY(), field="city")
        elif len(city) > city_max:
            errors.add(ADDRESS_CITY_TOO_LONG(max_length=city_max, length=len(city)), field="city")

        errors.raise_if_any()
        object.__setattr__(self, "lines", lines)
        object.__setattr__(self, "postal_code", postal_code)
        object.__setattr__(self, "city", city)
        object.__setattr__(self, "country", country)

    @classmethod
    def parse(cls, lines: Iterable[str], postal_code: str, city: str, country: str = "FR") -> PostalAddress:
        """Build an address from raw input (the same as the constructor, named for symmetry)."""
        return cls(lines, postal_code, city, country)

    @property
    def is_french(self) -> bool:
        """Whether the address is in France (country ``FR``, overseas departments included)."""
        return self.country == "FR"

    def postal_lines(self) -> tuple[str, ...]:
        """The lines to print under the recipient's name: address lines, postal code and city, then
        the country's French name in capitals when it is not France.

        >>> PostalAddress(("Résidence Les Pins", "3 allée Verte"), "01000", "Bourg-en-Bresse").postal_lines()
        ('Résidence Les Pins', '3 allée Verte', '01000 BOURG-EN-BRESSE')
        """
        last = f"{self.postal_code} {self.city}".strip()
        if self.is_french:
            return (*self.lines, last)
        return (*self.lines, last, _territories()[self.country].upper())
