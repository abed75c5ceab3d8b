"""NIR (numéro d'inscription au répertoire), the French social security number.

The NIR has 15 characters: sex (1 man, 2 woman; 7 and 8 for temporary numbers), year of birth (2
digits), month of birth (01-12; 20-42 or 50-99 when the civil record is incomplete), place of birth
(département 01-95, ``2A``/``2B`` for Corsica, ``97x`` overseas, ``99`` abroad, then the commune or
country), an order number (3 digits) and a 2-digit key equal to ``97 - (first 13 digits mod 97)``, with
``2A`` counted as ``19`` and ``2B`` as ``18``.

``stdnum.fr.nir`` checks the length, the format and the key; :class:`NIR` adds the sex digit, the month
and the département, and :meth:`NIR.matches` cross-checks a number against the person's sex and birth
date. Sources: INSEE, "Le NIR" (www.insee.fr/fr/metadonnees/definition/c1409); DOMAIN.md §7.

>>> from mutuelle_core.values.nir import NIR
>>> nir = NIR.parse("2 13 05 54 395 557 28")
>>> str(nir), nir.formatted
('213055439555728', '2 13 05 54 395 557 28')
>>> nir
NIR('2 13 ** ** *** *** 28')
>>> NIR.parse("1850575123456", key="73").key
'73'
>>> NIR.parse("1 82 05 57 227 132 04")
Traceback (most recent call last):
...
mutuelle_core.errors.DomainError: [nir.invalid_key] La clé du NIR ne correspond pas au numéro : vérifiez chaque chiffre.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

import attrs
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError
from stdnum.fr import nir as stdnum_nir

from mutuelle_core.errors import DomainError, ValidationFailed, error_code
from mutuelle_core.values.identity import Sex

__all__ = ["NIR"]

NIR_EMPTY = error_code("nir.empty", "Le NIR est obligatoire.")
NIR_INVALID_FORMAT = error_code(
    "nir.invalid_format",
    "Le NIR ne peut contenir que des chiffres (et 2A ou 2B pour la Corse).",
)
NIR_INVALID_LENGTH = error_code(
    "nir.invalid_length",
    "Le NIR doit comporter 13 chiffres suivis de la clé de 2 chiffres ({length} saisis).",
)
NIR_MISSING_KEY = error_code(
    "nir.missing_key",
    "La clé du NIR (2 derniers chiffres) est obligatoire : elle permet de déceler les erreurs de saisie.",
)
NIR_INVALID_KEY = error_code(
    "nir.invalid_key", "La clé du NIR ne correspond pas au numéro : vérifiez chaque chiffre."
)
NIR_INVALID_SEX = error_code(
    "nir.invalid_sex", "Le premier chiffre du NIR doit être 1, 2, 7 ou 8 (saisi : {digit})."
)
NIR_INVALID_MONTH = error_code(
    "nir.invalid_month", "Le mois de naissance du NIR doit être compris entre 01 et 12, 20 et 42 ou 50 et 99."
)
NIR_INVALID_DEPARTMENT = error_code(
    "nir.invalid_department",
    "Le département de naissance du NIR doit être 01 à 95, 2A, 2B, 97x ou 99.",
)
NIR_SEX_MISMATCH = error_code(
    "nir.sex_mismatch", "Le NIR ne correspond pas au sexe de la personne (civilité)."
)
NIR_BIRTH_YEAR_MISMATCH = error_code(
    "nir.birth_year_mismatch", "L'année de naissance du NIR ne correspond pas à la date de naissance."
)
NIR_BIRTH_MONTH_MISMATCH = error_code(
    "nir.birth_month_mismatch", "Le mois de naissance du NIR ne correspond pas à la date de naissance."
)

_SEPARATORS = str.maketrans("", "", " .\t\u00a0\u202f-")
_DIGITS = frozenset("0123456789")
_SEX_DIGITS = {"1": Sex.MALE, "7": Sex.MALE, "2": Sex.FEMALE, "8": Sex.FEMALE}


def _structure_errors(value: str) -> list[DomainError]:
    """Check sex digit, month and département of a number whose format is already valid."""
    errors: list[DomainError] = []
    if value[0] not in _SEX_DIGITS:
        errors.append(NIR_INVALID_SEX(None, digit=value[0]))
    month = int(value[3:5])
    if not (1 <= month <= 12 or 20 <= month <= 42 or 50 <= month <= 99):
        errors.append(NIR_INVALID_MONTH(None))
    dept = value[5:7]
    if not (dept in ("2A", "2B", "97", "99") or (dept.isdigit() and 1 <= int(dept) <= 95)):
        errors.append(NIR_INVALID_DEPARTMENT(None))
    return errors


def _check(value: str) -> None:
    """Validate a compact 15-character NIR; raise the errors found (all of them)."""
    try:
        stdnum_nir.validate(value)
        errors = _structure_errors(value)
    except InvalidLength:
        raise NIR_INVALID_LENGTH(None, length=len(value)) from None
    except InvalidFormat:
        raise NIR_INVALID_FORMAT(None) from None
    except InvalidChecksum:
        if len(value) == 15 and set(value[:5] + value[7:]) <= _DIGITS:
            errors = [*_structure_errors(value), NIR_INVALID_KEY(None)]
        else:  # pragma: no cover - stdnum checks the format before the key
            errors = [NIR_INVALID_FORMAT(None)]
    except ValidationError:  # pragma: no cover - any other stdnum refusal
        raise NIR_INVALID_FORMAT(None) from None
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ValidationFailed(errors)


def _validate_value(_instance: object, _attribute: object, value: str) -> None:
    _check(value)


@attrs.frozen(repr=False)
class NIR:
    """A valid NIR, in its compact 15-character form (``str(nir)``).

    Build it with :meth:`parse` from what a user typed; the constructor takes the compact form only
    and validates it too, so an invalid ``NIR`` cannot exist.
    """

    value: str = attrs.field(validator=_validate_value)

    LENGTH: ClassVar[int] = 15

    @classmethod
    def parse(cls, text: str, key: str | None = None) -> NIR:
        """Read a NIR as typed: spaces and dots allowed, key in ``text`` or in ``key`` (two-field forms).

        Raises:
            DomainError: ``nir.empty``, ``nir.invalid_format``, ``nir.invalid_length``, ``nir.missing_key``,
                ``nir.invalid_key``, ``nir.invalid_sex``, ``nir.invalid_month``, ``nir.invalid_department``
                (several at once as a :class:`ValidationFailed`).
        """
        compact = text.translate(_SEPARATORS).upper()
        if key is not None:
            key = key.translate(_SEPARATORS)
            if not key:
                raise NIR_MISSING_KEY(None)
            compact += key
        if not compact:
            raise NIR_EMPTY(None)
        if len(compact) == 13:
            raise NIR_MISSING_KEY(None)
        return cls(compact)

    @property
    def sex(self) -> Sex:
        """The sex the number was issued for (1 and 7 male, 2 and 8 female)."""
        return _SEX_DIGITS[self.value[0]]

    @property
    def is_temporary(self) -> bool:
        """True for temporary numbers (sex digit 7 or 8, NIA given while the NIR is being assigned)."""
        return self.value[0] in "78"

    @property
    def birth_year(self) -> int:
        """The last two digits of the year of birth."""
        return int(self.value[1:3])

    @property
    def birth_month(self) -> int | None:
        """The month of birth, or ``None`` when the civil record was incomplete (20-42, 50-99)."""
        month = int(self.value[3:5])
        return month if 1 <= month <= 12 else None

    @property
    def department(self) -> str:
        """The département of birth: ``01``-``95``, ``2A``, ``2B``, ``971``-``979``, or ``99`` (abroad)."""
        dept = self.value[5:7]
        return self.value[5:8] if dept == "97" else dept

    @property
    def born_abroad(self) -> bool:
        """True when the person was born outside France (département 99)."""
        return self.value[5:7] == "99"

    @property
    def key(self) -> str:
        """The two-digit control key."""
        return self.value[13:]

    @property
    def without_key(self) -> str:
        """The 13 first characters, as DSN rubrique S21.G00.30.001 carries it."""
        return self.value[:13]

    @property
    def formatted(self) -> str:
        """The usual presentation, ``2 13 05 54 395 557 28``."""
        return str(stdnum_nir.format(self.value))

    def mismatches(
        self, *, sex: Sex | None = None, birth_date: dt.date | None = None
    ) -> tuple[DomainError, ...]:
        """The inconsistencies between this number and a person's sex and birth date.

        The month is compared only when the number carries a real month (01-12).
        """
        errors: list[DomainError] = []
        if sex is not None and sex is not self.sex:
            errors.append(NIR_SEX_MISMATCH("nir"))
        if birth_date is not None:
            if birth_date.year % 100 != self.birth_year:
                errors.append(NIR_BIRTH_YEAR_MISMATCH("nir"))
            month = self.birth_month
            if month is not None and month != birth_date.month:
                errors.append(NIR_BIRTH_MONTH_MISMATCH("nir"))
        return tuple(errors)

    def matches(self, *, sex: Sex | None = None, birth_date: dt.date | None = None) -> bool:
        """True when the number is consistent with the person's sex and birth date.

        >>> nir = NIR.parse("2 13 05 54 395 557 28")
        >>> nir.matches(sex=Sex.FEMALE, birth_date=dt.date(2013, 5, 12))
        True
        >>> nir.matches(sex=Sex.MALE)
        False
        """
        return not self.mismatches(sex=sex, birth_date=birth_date)

    def ensure_matches(self, *, sex: Sex | None = None, birth_date: dt.date | None = None) -> None:
        """Raise the inconsistencies found by :meth:`mismatches` (all at once), if any."""
        errors = self.mismatches(sex=sex, birth_date=birth_date)
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise ValidationFailed(errors)

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        v = self.value
        return f"NIR('{v[0]} {v[1:3]} ** ** *** *** {v[13:]}')"
