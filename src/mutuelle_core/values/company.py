"""SIREN and SIRET, the identifiers INSEE gives French companies and their establishments.

The **SIREN** (Système d'identification du répertoire des entreprises) identifies a company: 9 digits,
the last one a Luhn check digit. The **SIRET** (Système d'identification du répertoire des
établissements) identifies one establishment of that company: the SIREN followed by a 5-digit
establishment number (NIC), the whole 14 digits passing the Luhn check, except for La Poste's
establishments (SIREN ``356 000 000``) whose digits must add up to a multiple of 5.

The checks are ``stdnum.fr.siren`` and ``stdnum.fr.siret``. Sources: INSEE, répertoire Sirene
(www.insee.fr/fr/metadonnees/definition/c2047); DOMAIN.md §7.

>>> from mutuelle_core.values.company import Siren, Siret
>>> siren = Siren.parse("732 829 320")
>>> str(siren), siren.formatted
('732829320', '732 829 320')
>>> siret = Siret.parse("732 829 320 00074")
>>> str(siret), siret.formatted, siret.siren, siret.nic
('73282932000074', '732 829 320 00074', Siren('732829320'), '00074')
>>> Siren.parse("732 829 321")
Traceback (most recent call last):
...
mutuelle_core.errors.DomainError: [siren.invalid_checksum] Le numéro SIREN 732829321 est faux ...
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Final

import attrs
from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

from mutuelle_core.errors import ErrorCode, error_code

__all__ = ["Siren", "Siret"]

SIREN_INVALID_FORMAT = error_code(
    "siren.invalid_format", "Le numéro SIREN doit comporter 9 chiffres (saisi : {value})."
)
SIREN_INVALID_CHECKSUM = error_code(
    "siren.invalid_checksum",
    "Le numéro SIREN {value} est faux (chiffre de contrôle) : vérifiez chaque chiffre.",
)
SIRET_INVALID_FORMAT = error_code(
    "siret.invalid_format", "Le numéro SIRET doit comporter 14 chiffres (saisi : {value})."
)
SIRET_INVALID_CHECKSUM = error_code(
    "siret.invalid_checksum",
    "Le numéro SIRET {value} est faux (chiffre de contrôle) : vérifiez chaque chiffre.",
)

_SEPARATORS: Final = str.maketrans("", "", " .\t\u00a0\u202f")
_SHOWN_MAX: Final = 20


def _shown(value: str) -> str:
    """What the user typed, cut short for a message."""
    return value if len(value) <= _SHOWN_MAX else value[:_SHOWN_MAX] + "…"


def _check(
    value: str, validate: Callable[[str], str], bad_format: ErrorCode, bad_checksum: ErrorCode
) -> None:
    """Run a stdnum ``validate`` on a compact value, raising the matching DomainError."""
    failure: ErrorCode | None = None
    try:
        validate(value)
    except InvalidChecksum:
        failure = bad_checksum
    except ValidationError:
        failure = bad_format
    if failure is not None:
        raise failure(None, value=_shown(value))


def _validate_siren(_instance: object, _attribute: object, value: str) -> None:
    if not isinstance(value, str) or len(value) != 9:  # the field holds the compact form only
        raise SIREN_INVALID_FORMAT(None, value=_shown(str(value)))
    _check(value, stdnum_siren.validate, SIREN_INVALID_FORMAT, SIREN_INVALID_CHECKSUM)


def _validate_siret(_instance: object, _attribute: object, value: str) -> None:
    if not isinstance(value, str) or len(value) != 14:
        raise SIRET_INVALID_FORMAT(None, value=_shown(str(value)))
    _check(value, stdnum_siret.validate, SIRET_INVALID_FORMAT, SIRET_INVALID_CHECKSUM)


@attrs.frozen(repr=False)
class Siren:
    """A valid SIREN in its compact 9-digit form (``str(siren)``).

    Build it with :meth:`parse` from what a user typed; the constructor takes the compact form only
    and validates it too.
    """

    value: str = attrs.field(validator=_validate_siren)

    LENGTH: ClassVar[int] = 9

    @classmethod
    def parse(cls, text: str) -> Siren:
        """Read a SIREN as typed: spaces and dots between the digits are accepted.

        Raises:
            DomainError: ``siren.invalid_format`` (not 9 digits), ``siren.invalid_checksum``.
        """
        return cls(text.translate(_SEPARATORS))

    @property
    def formatted(self) -> str:
        """The usual presentation in groups of 3 digits, ``732 829 320``."""
        return str(stdnum_siren.format(self.value))

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"Siren({self.value!r})"


@attrs.frozen(repr=False)
class Siret:
    """A valid SIRET in its compact 14-digit form (``str(siret)``): SIREN then establishment number.

    Build it with :meth:`parse` from what a user typed; the constructor takes the compact form only
    and validates it too.
    """

    value: str = attrs.field(validator=_validate_siret)

    LENGTH: ClassVar[int] = 14

    @classmethod
    def parse(cls, text: str) -> Siret:
        """Read a SIRET as typed: spaces and dots between the digits are accepted.

        Raises:
            DomainError: ``siret.invalid_format`` (not 14 digits), ``siret.invalid_checksum``.
        """
        return cls(text.translate(_SEPARATORS))

    @property
    def siren(self) -> Siren:
        """The SIREN of the company the establishment belongs to (the first 9 digits)."""
        return Siren(self.value[:9])

    @property
    def nic(self) -> str:
        """The establishment's internal number within the company (NIC, the last 5 digits)."""
        return self.value[9:]

    @property
    def formatted(self) -> str:
        """The usual presentation, ``732 829 320 00074``."""
        return str(stdnum_siret.format(self.value))

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"Siret({self.value!r})"
