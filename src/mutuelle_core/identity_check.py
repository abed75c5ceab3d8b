"""Checking a person's identity as typed: civilité, names, birth date, NIR and IBAN, all at once.

Used by ``mutuelle check-identities`` and by every form that collects these fields. The NIR must be
valid **and** consistent with the civilité (sex) and the birth date.

>>> from mutuelle_core.identity_check import IdentityInput, check_identity
>>> checked = check_identity(IdentityInput(civility="Mme", birth_name="Martin", first_names="Léa",
...     birth_date="12/05/2013", nir="2 13 05 54 395 557 28", iban="FR76 3000 6000 0112 3456 7890 189"))
>>> checked.name.display, checked.nir
('Léa MARTIN', NIR('2 13 ** ** *** *** 28'))
>>> check_identity(IdentityInput(civility="M", birth_name="Martin", first_names="Léo",
...     birth_date="12/05/2013", nir="2 13 05 54 395 557 28", iban=""))
Traceback (most recent call last):
...
mutuelle_core.errors.ValidationFailed: [validation.failed] La saisie comporte 2 erreur(s).
  - [nir.sex_mismatch] (nir) Le NIR ne correspond pas au sexe de la personne (civilité).
  - [field.required] (iban) Ce champ est obligatoire.
"""

from __future__ import annotations

import datetime as dt

import attrs

from mutuelle_core.errors import REQUIRED, ErrorCollector, error_code
from mutuelle_core.values.bank import BankAccount
from mutuelle_core.values.identity import Civility, PersonName
from mutuelle_core.values.nir import NIR

__all__ = ["CheckedIdentity", "IdentityInput", "check_identity", "parse_birth_date"]

BIRTH_DATE_INVALID = error_code(
    "birth_date.invalid", "La date de naissance doit être une date réelle au format JJ/MM/AAAA."
)
BIRTH_DATE_FUTURE = error_code("birth_date.in_future", "La date de naissance ne peut pas être dans le futur.")


def parse_birth_date(text: str, *, today: dt.date | None = None) -> dt.date:
    """Read ``JJ/MM/AAAA`` (also ``JJ-MM-AAAA``, ``JJ.MM.AAAA`` or ISO ``AAAA-MM-JJ``).

    >>> parse_birth_date("12/05/2013"), parse_birth_date("2013-05-12")
    (datetime.date(2013, 5, 12), datetime.date(2013, 5, 12))
    """
    text = text.strip()
    try:
        if len(text) == 10 and text[4] == "-":
            value = dt.date.fromisoformat(text)
        else:
            day, month, year = text.replace("-", "/").replace(".", "/").split("/")
            if len(year) != 4:
                raise ValueError(text)
            value = dt.date(int(year), int(month), int(day))
    except ValueError:
        raise BIRTH_DATE_INVALID(None) from None
    if today is not None and value > today:
        raise BIRTH_DATE_FUTURE(None)
    return value


@attrs.frozen(kw_only=True)
class IdentityInput:
    """The fields as typed (strings): civilité, birth name, first names, birth date, NIR, IBAN, holder."""

    civility: str
    birth_name: str
    first_names: str
    birth_date: str
    nir: str
    iban: str
    usage_name: str = ""
    holder: str = ""


@attrs.frozen(kw_only=True)
class CheckedIdentity:
    """A person whose identity, NIR and bank account were all accepted."""

    civility: Civility
    name: PersonName
    birth_date: dt.date
    nir: NIR
    bank_account: BankAccount


def check_identity(data: IdentityInput, *, today: dt.date | None = None) -> CheckedIdentity:
    """Validate every field, then the NIR against civilité and birth date; report all problems at once."""
    errors = ErrorCollector()
    civility = errors.capture("civility", Civility.parse, data.civility)
    name = errors.capture(
        "name", PersonName.parse, data.birth_name, data.first_names, data.usage_name or None
    )
    birth_date = errors.capture("birth_date", parse_birth_date, data.birth_date, today=today)
    nir = errors.capture("nir", NIR.parse, data.nir) if data.nir.strip() else None
    if not data.nir.strip():
        errors.add(REQUIRED("nir"))
    if nir is not None:
        for mismatch in nir.mismatches(sex=None if civility is None else civility.sex, birth_date=birth_date):
            errors.add(mismatch, field="nir")
    account = None
    if data.iban.strip():
        account = errors.capture("iban", BankAccount.parse, data.iban, holder=data.holder or None)
    else:
        errors.add(REQUIRED("iban"))
    errors.raise_if_any()
    assert civility and name and birth_date and nir and account
    return CheckedIdentity(civility=civility, name=name, birth_date=birth_date, nir=nir, bank_account=account)
