"""Organisme code: the health insurance fund a person is attached to.

The code of the *organisme d'affiliation* (printed on the carte Vitale's certificate) has 9 digits: the
grand régime (2 digits), the caisse (3) and the centre (4), written ``01 751 0000``. The régime tells
which scheme pays the basic reimbursement: 01 régime général, 02 MSA (farming), 04 SNCF, 05 RATP,
08 CNMSS (armed forces), 17 CFE (French people abroad), 91 MGEN, 95 MNH, 99 other mutuelles.
Other régimes exist and are accepted, without a name. When the member's organisme is unknown the
contract uses :data:`DEFAULT_ORGANISME_CODE`, ``91 919 0000``.

Source: DOMAIN.md §7.

>>> from mutuelle_core.values.organisme import OrganismeCode, DEFAULT_ORGANISME_CODE
>>> code = OrganismeCode.parse("01 751 0000")
>>> str(code), code.formatted, code.regime, code.caisse, code.centre
('017510000', '01 751 0000', '01', '751', '0000')
>>> code.regime_name
'Régime général'
>>> OrganismeCode.parse("42 123 4567").regime_name is None
True
>>> DEFAULT_ORGANISME_CODE
OrganismeCode('919190000')
>>> OrganismeCode.parse("91 919")
Traceback (most recent call last):
...
mutuelle_core.errors.DomainError: [organisme.invalid_format] Le code organisme doit comporter 9 chiffres ...
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar, Final

import attrs

from mutuelle_core.errors import error_code
from mutuelle_core.i18n import message

__all__ = ["DEFAULT_ORGANISME_CODE", "REGIME_NAMES", "OrganismeCode"]

ORGANISME_INVALID_FORMAT = error_code(
    "organisme.invalid_format",
    "Le code organisme doit comporter 9 chiffres : régime (2), caisse (3) et centre (4) (saisi : {value}).",
)

REGIME_NAMES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "01": message("Régime général"),
        "02": message("Mutualité sociale agricole (MSA)"),
        "04": message("Régime spécial de la SNCF"),
        "05": message("Régime spécial de la RATP"),
        "08": message("Caisse nationale militaire de sécurité sociale (CNMSS)"),
        "17": message("Caisse des Français de l'étranger (CFE)"),
        "91": message("Mutuelle générale de l'Éducation nationale (MGEN)"),
        "95": message("Mutuelle nationale des hospitaliers (MNH)"),
        "99": message("Autres mutuelles"),
    }
)
"""The names of the known grands régimes, in French, by 2-digit code (translate with ``i18n.translate``)."""

_SEPARATORS: Final = str.maketrans("", "", " .-\t\u00a0\u202f")
_SHOWN_MAX: Final = 20


def _validate_code(_instance: object, _attribute: object, value: str) -> None:
    if not isinstance(value, str) or len(value) != 9 or not value.isascii() or not value.isdigit():
        shown = str(value)
        raise ORGANISME_INVALID_FORMAT(
            None, value=shown if len(shown) <= _SHOWN_MAX else shown[:_SHOWN_MAX] + "…"
        )


@attrs.frozen(repr=False)
class OrganismeCode:
    """A valid organisme code in its compact 9-digit form (``str(code)``).

    Build it with :meth:`parse` from what a user typed; the constructor takes the compact form only
    and validates it too.
    """

    value: str = attrs.field(validator=_validate_code)

    LENGTH: ClassVar[int] = 9

    @classmethod
    def parse(cls, text: str) -> OrganismeCode:
        """Read an organisme code as typed: spaces, dots and dashes between the digits are accepted.

        Raises:
            DomainError: ``organisme.invalid_format`` when there are not exactly 9 digits.
        """
        return cls(text.translate(_SEPARATORS))

    @property
    def regime(self) -> str:
        """The grand régime, 2 digits (``01`` for the régime général)."""
        return self.value[:2]

    @property
    def caisse(self) -> str:
        """The caisse within the régime, 3 digits."""
        return self.value[2:5]

    @property
    def centre(self) -> str:
        """The centre within the caisse, 4 digits."""
        return self.value[5:]

    @property
    def regime_name(self) -> str | None:
        """The French name of the régime, or ``None`` for a régime outside :data:`REGIME_NAMES`."""
        return REGIME_NAMES.get(self.regime)

    @property
    def formatted(self) -> str:
        """The usual presentation, ``91 919 0000``."""
        return f"{self.value[:2]} {self.value[2:5]} {self.value[5:]}"

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"OrganismeCode({self.value!r})"


DEFAULT_ORGANISME_CODE: Final = OrganismeCode.parse("919190000")
"""The organisme code used when a member's own is unknown, ``91 919 0000`` (DOMAIN.md §7)."""
