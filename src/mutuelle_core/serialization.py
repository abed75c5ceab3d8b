"""The one cattrs converter: value objects, commands and aggregates to JSON-ready primitives and back.

Value objects travel as their canonical string (a NIR as its 15 characters, money as ``"1234.50"``,
a month as ``"2026-05"``), dates as ISO strings, enums as their value; attrs classes as dicts.
Structuring validates everything and reports **every** problem at once as a
:class:`~mutuelle_core.errors.ValidationFailed` whose errors carry the JSON path of the field at
fault.

>>> import datetime as dt
>>> from mutuelle_core.serialization import converter, structure, unstructure
>>> from mutuelle_core.values.nir import NIR
>>> from mutuelle_core.values.money import Money
>>> unstructure(NIR.parse("2 13 05 54 395 557 28")), unstructure(Money.of("12.5"))
('213055439555728', '12.50')
>>> structure("213055439555728", NIR)
NIR('2 13 ** ** *** *** 28')
>>> structure(["213055439555728", "213055439555729"], list[NIR])
Traceback (most recent call last):
...
mutuelle_core.errors.ValidationFailed: [validation.failed] La saisie comporte 1 erreur(s).
  - [nir.invalid_key] ($[1]) La clé du NIR ne correspond pas au numéro : vérifiez chaque chiffre.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import cattrs
from cattrs.errors import (
    AttributeValidationNote,
    BaseValidationError,
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.strategies import configure_tagged_union

from mutuelle_core.designation.clauses import (
    Clause,
    LapseRule,
    ParticularClause,
    Relationship,
    StandardClause,
)
from mutuelle_core.errors import REQUIRED, DomainError, ValidationFailed, error_code
from mutuelle_core.values.bank import BankAccount, MandateReference, SepaCreditorId
from mutuelle_core.values.company import Siren, Siret
from mutuelle_core.values.dates import Month
from mutuelle_core.values.identity import Civility, Email, Phone, Sex
from mutuelle_core.values.money import Money
from mutuelle_core.values.nir import NIR
from mutuelle_core.values.organisme import OrganismeCode

__all__ = ["converter", "register_scalar", "structure", "unstructure"]

T = TypeVar("T")

INVALID_VALUE = error_code("serialization.invalid_value", "Valeur invalide : {expected} attendu.")
UNKNOWN_FIELD = error_code("serialization.unknown_field", "Champ inconnu : {name}.")

converter = cattrs.Converter(detailed_validation=True, forbid_extra_keys=True)
"""The package's converter. Register your own value types with :func:`register_scalar`."""


def register_scalar(cls: type[T], parse: Callable[[str], T], dump: Callable[[T], str] = str) -> None:
    """Make ``cls`` travel as a string: ``dump`` to unstructure, ``parse`` to structure (and validate)."""

    def _structure(value: Any, _type: Any) -> T:
        if isinstance(value, cls):
            return value
        if not isinstance(value, str):
            raise INVALID_VALUE(None, expected=cls.__name__)
        return parse(value)

    converter.register_unstructure_hook(cls, dump)
    converter.register_structure_hook(cls, _structure)


def _structure_decimal(value: Any, _type: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise INVALID_VALUE(None, expected="nombre décimal")
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise INVALID_VALUE(None, expected="nombre décimal") from None
    if not result.is_finite():
        raise INVALID_VALUE(None, expected="nombre décimal")
    return result


def _structure_date(value: Any, _type: Any) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise INVALID_VALUE(None, expected="date AAAA-MM-JJ") from None


def _structure_datetime(value: Any, _type: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    try:
        parsed = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise INVALID_VALUE(None, expected="date et heure ISO 8601") from None
    if parsed.tzinfo is None:
        raise INVALID_VALUE(None, expected="date et heure avec fuseau")
    return parsed


def _structure_enum(value: Any, cls: type[enum.Enum]) -> enum.Enum:
    try:
        return cls(value)
    except ValueError:
        raise INVALID_VALUE(None, expected=" | ".join(str(m.value) for m in cls)) from None


converter.register_unstructure_hook(Decimal, str)
converter.register_structure_hook(Decimal, _structure_decimal)
converter.register_unstructure_hook(dt.date, dt.date.isoformat)
converter.register_structure_hook(dt.date, _structure_date)
converter.register_unstructure_hook(dt.datetime, dt.datetime.isoformat)
converter.register_structure_hook(dt.datetime, _structure_datetime)
converter.register_structure_hook_func(
    lambda t: isinstance(t, type) and issubclass(t, enum.Enum), _structure_enum
)
converter.register_unstructure_hook_func(
    lambda t: isinstance(t, type) and issubclass(t, enum.Enum), lambda e: e.value
)

register_scalar(NIR, NIR.parse)
register_scalar(Siren, Siren.parse)
register_scalar(Siret, Siret.parse)
register_scalar(OrganismeCode, OrganismeCode.parse)
register_scalar(SepaCreditorId, SepaCreditorId.parse)
register_scalar(MandateReference, MandateReference.parse)
register_scalar(Email, Email.parse)
register_scalar(Phone, Phone.parse)
register_scalar(Month, Month.parse)
register_scalar(Money, Money)  # exact to the cent: "1.234" is refused, never rounded behind your back
for _enum in (Civility, Sex):
    converter.register_structure_hook(_enum, _structure_enum)
    converter.register_unstructure_hook(_enum, lambda e: e.value)


def _unstructure_bank_account(account: BankAccount) -> dict[str, Any]:
    return {"iban": account.iban, "holder": account.holder, "bic": account.bic_override}


def _structure_bank_account(value: Any, _type: Any) -> BankAccount:
    if isinstance(value, BankAccount):
        return value
    if isinstance(value, str):
        return BankAccount.parse(value)
    if not isinstance(value, dict):
        raise INVALID_VALUE(None, expected="compte bancaire")
    extra = set(value) - {"iban", "holder", "bic"}
    if extra:
        raise UNKNOWN_FIELD(None, name=", ".join(sorted(extra)))
    if not value.get("iban"):
        raise REQUIRED("iban")
    return BankAccount.parse(value["iban"], holder=value.get("holder"), bic=value.get("bic"))


converter.register_unstructure_hook(BankAccount, _unstructure_bank_account)
converter.register_structure_hook(BankAccount, _structure_bank_account)

# A beneficiary clause travels tagged by its kind: {"kind": "standard"} or {"kind": "particular", ...}
# (unstructure it as ``Clause`` to get the tag). The standard clause has no field, so without the tag a
# particular clause missing its ranks would silently read as the standard one.
for _clause_enum in (Relationship, LapseRule):
    converter.register_structure_hook(_clause_enum, _structure_enum)
    converter.register_unstructure_hook(_clause_enum, lambda e: e.value)
_CLAUSE_TAGS: dict[Any, str] = {StandardClause: "standard", ParticularClause: "particular"}
configure_tagged_union(Clause, converter, tag_generator=_CLAUSE_TAGS.__getitem__, tag_name="kind")


def unstructure(value: Any) -> Any:
    """JSON-ready primitives for any value object, command or aggregate."""
    return converter.unstructure(value)


def structure(data: Any, cls: Any) -> Any:
    """Build ``cls`` from primitives; every problem is reported with its JSON path.

    Raises:
        ValidationFailed: with one :class:`DomainError` per field at fault, ``field`` = its path.
    """
    try:
        return converter.structure(data, cls)
    except (BaseValidationError, DomainError, KeyError, ValueError, TypeError) as exc:
        errors = _collect(exc, "$")
        raise ValidationFailed(errors) from None


def _collect(exc: BaseException, path: str) -> list[DomainError]:
    if isinstance(exc, ForbiddenExtraKeysError):
        return [UNKNOWN_FIELD(path, name=", ".join(sorted(exc.extra_fields)))]
    if isinstance(exc, ClassValidationError | IterableValidationError):
        found: list[DomainError] = []
        with_notes, without = exc.group_exceptions()
        for sub, note in with_notes:
            note_: object = note
            if isinstance(note_, AttributeValidationNote):
                sub_path = f"{path}.{note_.name}"
            elif isinstance(note_, IterableValidationNote):
                sub_path = f"{path}[{note_.index}]"
            else:  # pragma: no cover - mapping notes
                sub_path = path
            found.extend(_collect(sub, sub_path))
        for sub in without:
            found.extend(_collect(sub, path))
        return found
    if isinstance(exc, BaseValidationError):
        return [leaf for sub in exc.exceptions for leaf in _collect(sub, path)]
    if isinstance(exc, DomainError):
        return [leaf.at(path) for leaf in exc.leaves()]
    if isinstance(exc, KeyError):
        return [REQUIRED(path)]
    return [INVALID_VALUE(path, expected=type(exc).__name__)]
