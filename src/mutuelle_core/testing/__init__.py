"""Hypothesis strategies for your own test suites: valid identifiers and their near misses.

Installed through Hypothesis' entry point, so ``st.from_type(NIR)`` (and ``BankAccount``, ``Siren``,
``Siret``, ``Email``, ``Money``, ``PersonName``, ``OrganismeCode``) work in any project that installs
``mutuelle``.

>>> from hypothesis import given, strategies as st
>>> from mutuelle_core.values.nir import NIR
>>> from mutuelle_core.testing import nirs, nir_near_misses
>>> @given(nirs())
... def test_parse(text):
...     assert str(NIR.parse(text)) == text.replace(" ", "")
>>> test_parse()

This module needs ``hypothesis`` (a dependency of ``mutuelle``); the rest of the core does not import it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import strategies as st
from stdnum import luhn
from stdnum.fr import nir as stdnum_nir
from stdnum.fr import siret as stdnum_siret

from mutuelle_core.values.identity import PersonName, Sex
from mutuelle_core.values.money import Money

__all__ = [
    "emails",
    "french_ibans",
    "iban_near_misses",
    "money",
    "nir_near_misses",
    "nirs",
    "organisme_codes",
    "person_names",
    "siren_near_misses",
    "sirens",
    "sirets",
]

_DEPARTMENTS = [f"{d:02d}" for d in range(1, 96)] + ["2A", "2B", "99"]


@st.composite
def nirs(
    draw: st.DrawFn, sex: Sex | None = None, birth_date: dt.date | None = None, spaced: bool = False
) -> str:
    """Valid NIRs as text (compact by default), optionally for a given sex and birth date."""
    if sex is None:
        sex_digit = draw(st.sampled_from("1278"))
    else:
        sex_digit = draw(st.sampled_from("17" if sex is Sex.MALE else "28"))
    if birth_date is None:
        year = draw(st.integers(0, 99))
        month = draw(st.one_of(st.integers(1, 12), st.integers(20, 42), st.integers(50, 99)))
    else:
        year, month = birth_date.year % 100, birth_date.month
    if draw(st.booleans()):
        place = "97" + str(draw(st.integers(1, 6))) + f"{draw(st.integers(1, 99)):02d}"
    else:
        place = draw(st.sampled_from(_DEPARTMENTS)) + f"{draw(st.integers(1, 999)):03d}"
    order = f"{draw(st.integers(1, 999)):03d}"
    body = f"{sex_digit}{year:02d}{month:02d}{place}{order}"
    text = body + stdnum_nir.calc_check_digits(body + "00")
    return stdnum_nir.format(text) if spaced else text


@st.composite
def nir_near_misses(draw: st.DrawFn) -> str:
    """A valid NIR with exactly one digit changed: always refused (the key catches it)."""
    text = draw(nirs())
    digits = [i for i, c in enumerate(text) if c.isdigit()]
    pos = draw(st.sampled_from(digits))
    new = draw(st.sampled_from([d for d in "0123456789" if d != text[pos]]))
    return text[:pos] + new + text[pos + 1 :]


def _rib_key(bank: str, branch: str, account: str) -> str:
    return f"{97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97:02d}"


def _fr_iban(bban: str) -> str:
    check = 98 - int(bban + "152700") % 97
    return f"FR{check:02d}{bban}"


@st.composite
def french_ibans(draw: st.DrawFn) -> str:
    """Valid French IBANs (numeric account numbers) with a correct RIB key and ISO checksum."""
    bank = f"{draw(st.integers(0, 99999)):05d}"
    branch = f"{draw(st.integers(0, 99999)):05d}"
    account = f"{draw(st.integers(0, 10**11 - 1)):011d}"
    return _fr_iban(bank + branch + account + _rib_key(bank, branch, account))


@st.composite
def iban_near_misses(draw: st.DrawFn) -> str:
    """A valid French IBAN with one BBAN digit changed: refused by the ISO checksum."""
    text = draw(french_ibans())
    pos = draw(st.integers(4, len(text) - 1))
    new = draw(st.sampled_from([d for d in "0123456789" if d != text[pos]]))
    return text[:pos] + new + text[pos + 1 :]


@st.composite
def sirens(draw: st.DrawFn) -> str:
    """Valid SIRENs (Luhn checksum)."""
    body = f"{draw(st.integers(0, 10**8 - 1)):08d}"
    return body + str(luhn.calc_check_digit(body))


@st.composite
def siren_near_misses(draw: st.DrawFn) -> str:
    """A valid SIREN with one digit changed: refused by the Luhn checksum."""
    text = draw(sirens())
    pos = draw(st.integers(0, 8))
    new = draw(st.sampled_from([d for d in "0123456789" if d != text[pos]]))
    return text[:pos] + new + text[pos + 1 :]


@st.composite
def sirets(draw: st.DrawFn) -> str:
    """Valid SIRETs: a valid SIREN, a 4-digit establishment number and a Luhn key."""
    while True:
        body = draw(sirens()) + f"{draw(st.integers(1, 9999)):04d}"
        for key in "0123456789":
            if stdnum_siret.is_valid(body + key):
                return body + key


_FIRST = [
    "Jeanne",
    "Jean-Pierre",
    "Anaïs",
    "Éloïse",
    "Noël",
    "Chloé",
    "Zoé",
    "Loïc",
    "Ève",
    "Gaëlle",
    "Hélène",
]
_FAMILY = ["MARTIN", "LEFÈVRE", "D'ARTAGNAN", "DUPONT-AIGNAN", "N'DIAYE", "GARÇON", "BERNARD", "LÉGER"]


@st.composite
def person_names(draw: st.DrawFn) -> PersonName:
    """Person names with French accents, hyphens and apostrophes."""
    birth = draw(st.sampled_from(_FAMILY))
    first = " ".join(draw(st.lists(st.sampled_from(_FIRST), min_size=1, max_size=3)))
    usage = draw(st.one_of(st.none(), st.sampled_from(_FAMILY)))
    return PersonName(birth_name=birth, first_names=first, usage_name=usage)


@st.composite
def emails(draw: st.DrawFn) -> str:
    """Plain deliverable e-mail addresses."""
    alphabet = st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789")
    local = draw(st.text(alphabet, min_size=1, max_size=20))
    extra = draw(st.one_of(st.none(), st.text(alphabet, min_size=1, max_size=10)))
    domain = draw(st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz"), min_size=2, max_size=15))
    tld = draw(st.sampled_from(["fr", "com", "org", "eu"]))
    return f"{local}{'.' + extra if extra else ''}@{domain}.{tld}"


def money(min_cents: int = -(10**9), max_cents: int = 10**9) -> st.SearchStrategy[Money]:
    """Amounts in euros, exact to the cent."""
    return st.integers(min_cents, max_cents).map(lambda c: Money(Decimal(c).scaleb(-2)))


@st.composite
def organisme_codes(draw: st.DrawFn) -> str:
    """Organisme codes: 2-digit régime, 3-digit caisse, 4-digit centre."""
    regime = draw(st.sampled_from(["01", "02", "04", "05", "08", "17", "91", "95", "99"]))
    return f"{regime}{draw(st.integers(0, 999)):03d}{draw(st.integers(0, 9999)):04d}"
