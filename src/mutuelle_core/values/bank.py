"""Bank accounts (IBAN, BIC), SEPA creditor identifiers (ICS) and mandate references (RUM).

An **IBAN** (ISO 13616) is a country code, two check digits (ISO 7064 mod 97-10 over the whole
number) and the national account number (BBAN). In France the BBAN is the RIB: bank code (5 digits),
branch code (5), account number (11 letters or digits) and the **RIB key** (2 digits), a national
check computed as ``97 - ((89 × bank + 15 × branch + 3 × account) mod 97)``, letters of the account
counting as digits (A and J as 1, B, K and S as 2, ...). The French overseas territories (Guadeloupe,
Martinique, Guyane, La Réunion, Mayotte, Saint-Pierre-et-Miquelon, Saint-Barthélemy, Saint-Martin,
Nouvelle-Calédonie, Polynésie, Wallis-et-Futuna, TAAF) and Monaco issue IBANs with the same RIB.

``schwifty`` checks the ISO check digits but not the RIB key unless asked, and not at all for the
overseas territories: :class:`BankAccount` checks the RIB key of every French-format IBAN itself and
lets ``schwifty`` check the other countries' national keys. Direct debits are SEPA only, so IBANs from
outside the SEPA zone are refused. The BIC is optional (IBAN-only payments); when no BIC was given it
is looked up in ``schwifty``'s bank registry, lazily.

The **ICS** (identifiant créancier SEPA, AT-02) names the organisation that collects direct debits:
``FRkkZZZnnnnnn`` in France, ``kk`` being ISO 7064 mod 97-10 check digits computed without the
3-character business code ``ZZZ``. The **RUM** (référence unique du mandat) is the creditor's reference
of a mandate: 1 to 35 characters of the SEPA character set.

Sources: ISO 13616; EPC SEPA Direct Debit rulebook (AT-01 mandate reference, AT-02 creditor
identifier; EPC262-08 for the character set); Banque de France, structure du RIB; DOMAIN.md §7.

>>> from mutuelle_core.values.bank import BankAccount, MandateReference, SepaCreditorId
>>> account = BankAccount.parse("fr76 3000 6000 0112 3456 7890 189", holder="  Jeanne   Martin ")
>>> str(account), account.country, account.last4
('FR7630006000011234567890189', 'FR', '0189')
>>> account.formatted
'FR76 3000 6000 0112 3456 7890 189'
>>> account
BankAccount(iban='FR*********************0189', holder='J. M.')
>>> account.holder, account.bic
('Jeanne Martin', 'AGRIFRPPXXX')
>>> BankAccount.parse("DE89 3704 0044 0532 0130 00", bic="cobadeff").bic
'COBADEFF'
>>> from mutuelle_core.errors import DomainError
>>> try:
...     BankAccount.parse("FR06 3000 6000 0112 3456 7890 188")  # ISO check digits right, RIB key wrong
... except DomainError as err:
...     print(err.code, err.params)
iban.invalid_national_check {'iban': 'FR*********************0188'}
>>> str(SepaCreditorId.parse("fr 72 zzz 123456"))
'FR72ZZZ123456'
>>> str(MandateReference.parse("RUM-2024/000123"))
'RUM-2024/000123'
"""

from __future__ import annotations

import functools
import re
from typing import ClassVar, Final

import attrs
from schwifty import BIC, IBAN
from schwifty import exceptions as schwifty_errors
from schwifty import registry as schwifty_registry
from schwifty.checksum import algorithms as schwifty_algorithms
from schwifty.domain import Component
from stdnum.eu import at_02

from mutuelle_core.errors import DomainError, error_code
from mutuelle_core.masking import mask_tail

__all__ = [
    "HOLDER_MAX_LENGTH",
    "BankAccount",
    "MandateReference",
    "SepaCreditorId",
    "mask_iban",
    "rib_key",
]

IBAN_INVALID_FORMAT = error_code(
    "iban.invalid_format",
    "L'IBAN {iban} n'a pas un format valide : 2 lettres du pays, 2 chiffres de contrôle, puis le numéro "
    "de compte (lettres et chiffres).",
)
IBAN_INVALID_CHECKSUM = error_code(
    "iban.invalid_checksum",
    "Les chiffres de contrôle de l'IBAN {iban} ne correspondent pas au numéro : vérifiez chaque caractère.",
)
IBAN_INVALID_NATIONAL_CHECK = error_code(
    "iban.invalid_national_check",
    "La clé de contrôle nationale (clé RIB en France) de l'IBAN {iban} est fausse : vérifiez chaque chiffre.",
)
IBAN_INVALID_LENGTH = error_code(
    "iban.invalid_length",
    "Un IBAN du pays {country} comporte {expected} caractères ({length} saisis).",
)
IBAN_UNKNOWN_COUNTRY = error_code(
    "iban.unknown_country", "L'IBAN commence par « {country} », qui n'est pas un code pays connu."
)
IBAN_NOT_SEPA = error_code(
    "iban.not_sepa",
    "L'IBAN {iban} est tenu dans un pays hors de la zone SEPA ({country}) : le prélèvement est impossible.",
)
BIC_INVALID = error_code(
    "bic.invalid", "Le BIC {bic} n'est pas valide : il comporte 8 ou 11 lettres et chiffres."
)
BIC_MISMATCH = error_code(
    "bic.mismatch",
    "Le BIC {bic} désigne une banque du pays {bic_country}, alors que l'IBAN est du pays {country}.",
)
HOLDER_TOO_LONG = error_code(
    "bank.holder_too_long", "Le nom du titulaire du compte dépasse {max} caractères ({length} saisis)."
)
ICS_INVALID_FORMAT = error_code(
    "ics.invalid_format",
    "L'identifiant créancier SEPA (ICS) {ics} n'a pas un format valide (en France : FRkkZZZnnnnnn, "
    "13 caractères).",
)
ICS_INVALID_CHECKSUM = error_code(
    "ics.invalid_checksum",
    "Les chiffres de contrôle de l'identifiant créancier SEPA (ICS) {ics} sont faux.",
)
RUM_EMPTY = error_code("rum.empty", "La référence unique du mandat (RUM) est obligatoire.")
RUM_TOO_LONG = error_code(
    "rum.too_long", "La référence unique du mandat (RUM) dépasse {max} caractères ({length} saisis)."
)
RUM_INVALID_CHARACTER = error_code(
    "rum.invalid_character",
    "La référence unique du mandat (RUM) ne peut pas contenir « {char} » en position {position}.",
)

HOLDER_MAX_LENGTH: Final = 70
"""Longest account holder name a SEPA message carries (AT-14, 70 characters)."""

# Countries whose IBAN carries a French RIB (bank 5, branch 5, account 11, key 2).
_RIB_COUNTRIES: Final = frozenset(
    {"FR", "MC", "GF", "GP", "MQ", "RE", "YT", "PM", "BL", "MF", "NC", "PF", "WF", "TF"}
)
# Countries whose banks may use another country's BICs (territories without their own BIC country).
_BIC_COUNTRY_GROUPS: Final = (
    _RIB_COUNTRIES,
    frozenset({"FI", "AX"}),
    frozenset({"GB", "GG", "JE", "IM"}),
)
_BIC_COUNTRY: Final = {cc: group for group in _BIC_COUNTRY_GROUPS for cc in group}

_RIB_LETTERS: Final = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "12345678912345678923456789")
_WHITESPACE: Final = re.compile(r"\s+")
_MASK_UNKNOWN: Final = "?"

# How the national check of a country is done: by the French RIB key here, by schwifty, or not at all
# (schwifty knows no algorithm for the country and would only warn).
_CHECK_RIB: Final = 0
_CHECK_SCHWIFTY: Final = 1
_CHECK_NONE: Final = 2
_COUNTRY_RULES: dict[str, tuple[int, bool]] = {}


def _country_rules(country: str) -> tuple[int, bool]:
    """National check mode and SEPA membership of a country known to schwifty (cached)."""
    rules = _COUNTRY_RULES.get(country)
    if rules is None:
        spec = schwifty_registry.get_iban_spec(country)
        if country in _RIB_COUNTRIES:
            mode = _CHECK_RIB
        else:
            position = spec.positions.get(Component.NATIONAL_CHECKSUM_DIGITS)
            has_key_field = position is not None and not position.is_empty
            known = f"{country}:default" in schwifty_algorithms
            mode = _CHECK_NONE if has_key_field and not known else _CHECK_SCHWIFTY
        rules = _COUNTRY_RULES[country] = (mode, bool(spec.in_sepa_zone))
    return rules


def rib_key(bank: str, branch: str, account: str) -> str:
    """The French RIB key of a bank code, branch code and account number.

    >>> rib_key("30006", "00001", "12345678901")
    '89'
    >>> rib_key("20041", "01005", "0500013M026")
    '06'
    """
    total = 89 * int(bank) + 15 * int(branch) + 3 * int(account.upper().translate(_RIB_LETTERS))
    return f"{97 - total % 97:02d}"


def mask_iban(text: str) -> str:
    """Mask an IBAN (or what was typed as one) for messages and logs: country and last 4 only.

    >>> mask_iban("fr76 3000 6000 0112 3456 7890 189")
    'FR*********************0189'
    """
    return mask_tail(_WHITESPACE.sub("", text).upper(), keep_head=2, keep_tail=4)


def _iban_error(failure: type[Exception], text: str) -> DomainError:
    """The DomainError for a schwifty refusal; its params hold only the masked IBAN and its country."""
    compact = _WHITESPACE.sub("", text).upper()
    country, masked = compact[:2], mask_iban(compact)
    if failure is schwifty_errors.InvalidCountryCode:
        return IBAN_UNKNOWN_COUNTRY("iban", country=country, iban=masked)
    if failure is schwifty_errors.InvalidLength:
        expected = schwifty_registry.get_iban_spec(country).iban_length
        return IBAN_INVALID_LENGTH(
            "iban", country=country, expected=expected, length=len(compact), iban=masked
        )
    if failure is schwifty_errors.InvalidChecksumDigits:
        return IBAN_INVALID_CHECKSUM("iban", iban=masked)
    if failure is schwifty_errors.InvalidBBANChecksum:
        return IBAN_INVALID_NATIONAL_CHECK("iban", iban=masked)
    return IBAN_INVALID_FORMAT("iban", iban=masked)


def _canonical_iban(text: str) -> str:
    """Validate an IBAN as typed and return its compact form (the ``iban`` field's converter)."""
    if not isinstance(text, str):
        raise IBAN_INVALID_FORMAT("iban", iban=_MASK_UNKNOWN)
    # A schwifty exception is turned into a DomainError outside the ``except`` block, so that the
    # DomainError has no ``__context__``: schwifty's messages quote the whole IBAN.
    failure: type[Exception] | None = None
    try:
        iban = IBAN(text)
        mode, in_sepa = _country_rules(iban.country_code)
        if mode == _CHECK_RIB:
            if rib_key(iban[4:9], iban[9:14], iban[14:25]) != iban[25:27]:
                failure = schwifty_errors.InvalidBBANChecksum
        elif mode == _CHECK_SCHWIFTY:
            iban.bban.validate_national_checksum()
    except schwifty_errors.SchwiftyException as exc:
        failure = type(exc)
    except schwifty_errors.NationalChecksumNotVerified:  # the warning turned into an error: accepted
        pass
    if failure is not None:
        raise _iban_error(failure, text)
    if not in_sepa:
        raise IBAN_NOT_SEPA("iban", iban=mask_iban(text), country=iban.country_code)
    return str(iban)


def _normalize_holder(text: str | None) -> str | None:
    """Collapse the spaces of a holder name; ``None`` when blank (the ``holder`` field's converter)."""
    if text is None:
        return None
    holder = " ".join(str(text).split())
    if not holder:
        return None
    if len(holder) > HOLDER_MAX_LENGTH:
        raise HOLDER_TOO_LONG("holder", max=HOLDER_MAX_LENGTH, length=len(holder))
    return holder


def _mask_bic_input(text: str) -> str:
    return text if len(text) <= 11 else mask_tail(text, keep_head=2, keep_tail=4)


def _canonical_bic(text: str | None) -> str | None:
    """Validate an explicit BIC and return it compact and upper case; ``None`` when blank."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise BIC_INVALID("bic", bic=_MASK_UNKNOWN)
    compact = _WHITESPACE.sub("", text).upper()
    if not compact:
        return None
    valid = True
    try:
        BIC(compact)
    except schwifty_errors.SchwiftyException:
        valid = False
    if not valid:
        raise BIC_INVALID("bic", bic=_mask_bic_input(compact))
    return compact


def _check_bic_country(instance: BankAccount, _attribute: object, bic: str | None) -> None:
    """An explicit BIC must be from the IBAN's country (or the same banking area)."""
    if bic is None:
        return
    country, bic_country = instance.iban[:2], bic[4:6]
    if bic_country != country and bic_country not in _BIC_COUNTRY.get(country, ()):
        raise BIC_MISMATCH("bic", bic=bic, bic_country=bic_country, country=country)


def _initials(name: str) -> str:
    return " ".join(f"{word[0]}." for word in (w.lstrip("'-.(") for w in name.split()) if word)


@attrs.frozen(repr=False)
class BankAccount:
    """A SEPA bank account: a valid IBAN, its holder's name and an optional explicit BIC.

    Build it with :meth:`parse` from what a user typed. The constructor validates too (through the
    fields' converters), so an invalid ``BankAccount`` cannot exist.

    Attributes:
        iban: the IBAN in compact canonical form (upper case, no spaces), also ``str(account)``.
        holder: the account holder's name, spaces collapsed, at most 70 characters, or ``None``.
        bic_override: the BIC given explicitly (constructor argument ``bic``), or ``None``; see
            :attr:`bic` for the BIC to use.
    """

    iban: str = attrs.field(converter=_canonical_iban)
    holder: str | None = attrs.field(default=None, converter=_normalize_holder)
    bic_override: str | None = attrs.field(
        default=None, converter=_canonical_bic, validator=_check_bic_country, alias="bic"
    )

    HOLDER_MAX_LENGTH: ClassVar[int] = HOLDER_MAX_LENGTH

    @classmethod
    def parse(cls, iban: str, *, holder: str | None = None, bic: str | None = None) -> BankAccount:
        """Read a bank account as typed: spaces and lower case accepted in the IBAN and the BIC.

        The IBAN's ISO check digits and its national key (the RIB key for French-format IBANs) are
        checked; the BIC is not looked up here (see :attr:`bic`), which keeps parsing fast.

        Args:
            iban: the IBAN, compact or in groups of 4.
            holder: the account holder's name; spaces are collapsed, blank means ``None``.
            bic: an explicit BIC, which must be from the IBAN's country.

        Raises:
            DomainError: ``iban.invalid_format``, ``iban.invalid_length``, ``iban.unknown_country``,
                ``iban.invalid_checksum``, ``iban.invalid_national_check``, ``iban.not_sepa`` (field
                ``iban``); ``bank.holder_too_long`` (field ``holder``); ``bic.invalid``,
                ``bic.mismatch`` (field ``bic``). Parameters carry the IBAN masked.
        """
        return cls(iban, holder, bic)

    @functools.cached_property
    def bic(self) -> str | None:
        """The explicit BIC, else the one ``schwifty``'s registry knows for the bank code, else ``None``.

        The registry lookup happens on first access only, never in :meth:`parse`.
        """
        if self.bic_override is not None:
            return self.bic_override
        derived = IBAN(self.iban, allow_invalid=True).bic
        return None if derived is None else str(derived)

    @property
    def country(self) -> str:
        """The ISO 3166 country code of the account (``FR``)."""
        return self.iban[:2]

    @property
    def last4(self) -> str:
        """The last 4 characters, the part of the IBAN shown to people (``0189``)."""
        return self.iban[-4:]

    @property
    def masked(self) -> str:
        """The IBAN with all but the country and the last 4 characters masked."""
        return mask_tail(self.iban, keep_head=2, keep_tail=4)

    @property
    def formatted(self) -> str:
        """The IBAN in groups of 4 characters, as printed on a RIB."""
        iban = self.iban
        return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))

    @property
    def is_french_rib(self) -> bool:
        """True for IBANs built on a French RIB (France, Monaco and the French overseas territories)."""
        return self.iban[:2] in _RIB_COUNTRIES

    def __str__(self) -> str:
        return self.iban

    def __repr__(self) -> str:
        holder = "None" if self.holder is None else repr(_initials(self.holder))
        bic = "" if self.bic_override is None else f", bic={self.bic_override!r}"
        return f"BankAccount(iban={self.masked!r}, holder={holder}{bic})"


_ICS_GENERIC: Final = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{3}[A-Z0-9]{1,28}")
_ICS_FRENCH: Final = re.compile(r"FR[0-9]{2}[A-Z0-9]{3}[A-Z0-9]{6}")
_ICS_SEPARATORS: Final = str.maketrans("", "", " \t\u00a0\u202f-")


def _validate_ics(_instance: object, _attribute: object, value: str) -> None:
    if not isinstance(value, str):
        raise ICS_INVALID_FORMAT(None, ics=_MASK_UNKNOWN)
    shown = value if len(value) <= 35 else value[:35] + "…"
    pattern = _ICS_FRENCH if value[:2] == "FR" else _ICS_GENERIC
    if not pattern.fullmatch(value) or not _is_sepa_country(value[:2]):
        raise ICS_INVALID_FORMAT(None, ics=shown)
    if at_02.calc_check_digits(value) != value[2:4]:
        raise ICS_INVALID_CHECKSUM(None, ics=value)


@functools.cache
def _is_sepa_country(country: str) -> bool:
    try:
        return bool(schwifty_registry.get_iban_spec(country).in_sepa_zone)
    except schwifty_errors.SchwiftyException:
        return False


@attrs.frozen(repr=False)
class SepaCreditorId:
    """A SEPA creditor identifier (ICS, AT-02), compact and upper case (``str(ics)``).

    French identifiers are ``FRkkZZZnnnnnn`` (13 characters); other SEPA countries' are accepted with
    their generic structure (country, check digits, 3-character business code, national identifier of
    up to 28 characters). The check digits are ISO 7064 mod 97-10 over the national identifier and
    the country code, the business code left out, as ``stdnum.eu.at_02`` computes them.

    >>> ics = SepaCreditorId.parse("FR72 ZZZ 123456")
    >>> ics.country, ics.business_code, ics.national_id, ics.formatted
    ('FR', 'ZZZ', '123456', 'FR72 ZZZ 123456')
    >>> SepaCreditorId.parse("FR73ZZZ123456")
    Traceback (most recent call last):
    ...
    mutuelle_core.errors.DomainError: [ics.invalid_checksum] Les chiffres de contrôle ...
    """

    value: str = attrs.field(validator=_validate_ics)

    @classmethod
    def parse(cls, text: str) -> SepaCreditorId:
        """Read an ICS as typed: spaces, dashes and lower case accepted.

        Raises:
            DomainError: ``ics.invalid_format``, ``ics.invalid_checksum``.
        """
        return cls(text.translate(_ICS_SEPARATORS).upper())

    @property
    def country(self) -> str:
        """The country code of the creditor (``FR``)."""
        return self.value[:2]

    @property
    def business_code(self) -> str:
        """The creditor business code, free for the creditor (``ZZZ`` when unused)."""
        return self.value[4:7]

    @property
    def national_id(self) -> str:
        """The national identifier of the creditor (6 characters in France)."""
        return self.value[7:]

    @property
    def formatted(self) -> str:
        """``FR72 ZZZ 123456``: country and check digits, business code, national identifier."""
        return f"{self.value[:4]} {self.value[4:7]} {self.value[7:]}"

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"SepaCreditorId({self.value!r})"


_RUM_ALLOWED: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/-?:().,'+ ")


def _validate_rum(_instance: object, _attribute: object, value: str) -> None:
    if not isinstance(value, str):
        raise RUM_INVALID_CHARACTER(None, char=_MASK_UNKNOWN, position=1)
    if not value:
        raise RUM_EMPTY(None)
    if len(value) > MandateReference.MAX_LENGTH:
        raise RUM_TOO_LONG(None, max=MandateReference.MAX_LENGTH, length=len(value))
    for position, char in enumerate(value, start=1):
        if char not in _RUM_ALLOWED:
            raise RUM_INVALID_CHARACTER(None, char=char, position=position)
    if value[0] == "/":
        raise RUM_INVALID_CHARACTER(None, char="/", position=1)
    if value[-1] == "/":
        raise RUM_INVALID_CHARACTER(None, char="/", position=len(value))
    double = value.find("//")
    if double >= 0:
        raise RUM_INVALID_CHARACTER(None, char="/", position=double + 2)


@attrs.frozen(repr=False)
class MandateReference:
    """A SEPA mandate reference (RUM, AT-01): 1 to 35 characters of the SEPA character set.

    Allowed: letters ``A-Z a-z``, digits, space and ``/ - ? : ( ) . , ' +``; the reference may not
    start or end with ``/`` nor contain ``//``. Case is kept as given.

    >>> MandateReference.parse("  MUT-2024-000042 ")
    MandateReference('MUT-2024-000042')
    >>> MandateReference.parse("MUT_42").value
    Traceback (most recent call last):
    ...
    mutuelle_core.errors.DomainError: [rum.invalid_character] La référence ... « _ » en position 4.
    """

    value: str = attrs.field(validator=_validate_rum)

    MAX_LENGTH: ClassVar[int] = 35

    @classmethod
    def parse(cls, text: str) -> MandateReference:
        """Read a RUM as typed: surrounding spaces are dropped.

        Raises:
            DomainError: ``rum.empty``, ``rum.too_long``, ``rum.invalid_character``.
        """
        return cls(text.strip())

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"MandateReference({self.value!r})"
