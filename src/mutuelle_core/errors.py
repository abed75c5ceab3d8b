"""Typed domain errors with stable codes, the field at fault and a French message.

Every rejection in ``mutuelle`` is a :class:`DomainError`. An error carries:

* a stable dotted ``code`` (``nir.invalid_key``) that scripts and tests match on;
* the ``field`` at fault, as a path (``nir``, ``$.beneficiaries[1].nir``), or ``None``;
* ``params``, the values the message needs (never raw personal data: callers pass masked values);
* a message, French by default, English through the package's Babel message catalog.

Codes are declared once, next to the rule they belong to, with :func:`error_code`::

    >>> from mutuelle_core.errors import error_code, DomainError
    >>> TOO_OLD = error_code("doc.too_old", "L'enfant a plus de {limit} ans.")
    >>> err = TOO_OLD(field="birth_date", limit=26)
    >>> err.code, err.field
    ('doc.too_old', 'birth_date')
    >>> err.message()
    "L'enfant a plus de 26 ans."
    >>> isinstance(err, DomainError)
    True

Validation of a whole input reports every problem at once: :class:`ValidationFailed` groups per-field
errors, and :class:`ErrorCollector` gathers them while a form is checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar, TypeVar

import attrs

from mutuelle_core import i18n

__all__ = [
    "AccessDenied",
    "ConcurrencyConflict",
    "DomainError",
    "ErrorCode",
    "ErrorCollector",
    "NotFound",
    "TransitionNotAllowed",
    "ValidationFailed",
    "error_code",
    "registered_codes",
]

T = TypeVar("T")


class DomainError(Exception):
    """A rule of the domain refused something.

    Attributes:
        code: the stable dotted code, e.g. ``nir.invalid_key``.
        field: the path of the field at fault, or ``None`` when the error is about the whole input.
        params: the values interpolated in the message.
    """

    code: str
    field: str | None
    params: Mapping[str, object]

    def __init__(
        self,
        code: ErrorCode | str,
        *,
        field: str | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        spec = code if isinstance(code, ErrorCode) else _REGISTRY.get(code)
        self.code = code.code if isinstance(code, ErrorCode) else code
        self._template = spec.template if spec is not None else self.code
        self.field = field
        self.params = dict(params or {})
        super().__init__(self.code)

    def message(self, locale: str = "fr") -> str:
        """Render the message in ``locale`` (French by default, ``"en"`` for English)."""
        return i18n.render(self._template, self.params, locale)

    def at(self, prefix: str) -> DomainError:
        """Return a copy of this error whose field path is rooted under ``prefix``.

        >>> from mutuelle_core.errors import DomainError
        >>> DomainError("x.y", field="nir").at("$.beneficiaries[1]").field
        '$.beneficiaries[1].nir'
        """
        clone = self._copy()
        clone.field = join_path(prefix, self.field)
        return clone

    def leaves(self) -> Iterator[DomainError]:
        """Yield the individual errors (itself, for a simple error)."""
        yield self

    def to_dict(self, locale: str = "fr") -> dict[str, object]:
        """JSON-ready form: code, field, message and params (params are already masked)."""
        return {
            "code": self.code,
            "field": self.field,
            "message": self.message(locale),
            "params": {k: _jsonable(v) for k, v in self.params.items()},
        }

    def _copy(self) -> DomainError:
        clone = self.__class__.__new__(self.__class__)
        clone.__dict__.update(self.__dict__)
        clone.params = dict(self.params)
        Exception.__init__(clone, self.code)
        return clone

    def __str__(self) -> str:
        where = f" ({self.field})" if self.field else ""
        return f"[{self.code}]{where} {self.message()}"

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(code={self.code!r}, field={self.field!r}, params={self.params!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.__class__, self.__dict__))


def _rebuild(cls: type[DomainError], state: dict[str, Any]) -> DomainError:
    err = cls.__new__(cls)
    err.__dict__.update(state)
    Exception.__init__(err, state["code"])
    return err


class ValidationFailed(DomainError):
    """Several problems found in one input, all reported at once.

    >>> from mutuelle_core.errors import DomainError, ValidationFailed
    >>> err = ValidationFailed([DomainError("a.b", field="x"), DomainError("c.d", field="y")])
    >>> [e.field for e in err.errors]
    ['x', 'y']
    >>> err.code
    'validation.failed'
    """

    errors: tuple[DomainError, ...]

    def __init__(
        self, errors: list[DomainError] | tuple[DomainError, ...], *, field: str | None = None
    ) -> None:
        flat = tuple(leaf for e in errors for leaf in e.leaves())
        super().__init__(VALIDATION_FAILED, field=field, params={"count": len(flat)})
        self.errors = flat

    def leaves(self) -> Iterator[DomainError]:
        """Yield every per-field error."""
        yield from self.errors

    def at(self, prefix: str) -> ValidationFailed:
        """Return a copy whose errors are all rooted under ``prefix``."""
        return ValidationFailed([e.at(prefix) for e in self.errors], field=join_path(prefix, self.field))

    def to_dict(self, locale: str = "fr") -> dict[str, object]:
        """JSON-ready form with every per-field error under ``errors``."""
        data = super().to_dict(locale)
        data["errors"] = [e.to_dict(locale) for e in self.errors]
        return data

    def __str__(self) -> str:
        lines = [super().__str__()]
        lines.extend(f"  - {e}" for e in self.errors)
        return "\n".join(lines)


class AccessDenied(DomainError):
    """The acting user may not read or change this object (outside its scope)."""


class NotFound(DomainError):
    """The object asked for does not exist (or is not visible to the caller)."""


class ConcurrencyConflict(DomainError):
    """Someone else changed the object since it was loaded; nothing was written."""


class TransitionNotAllowed(DomainError):
    """An action is not allowed in the current state of a state machine."""


@attrs.frozen
class ErrorCode:
    """A stable error code, its French message template and the exception class it raises.

    Calling the code builds the error: ``NIR_INVALID_KEY(field="nir", expected="44")``.
    """

    code: str
    template: str
    kind: type[DomainError] = DomainError

    def __call__(self, field: str | None = None, **params: object) -> DomainError:
        """Build the error for ``field`` with ``params``."""
        return self.kind(self, field=field, params=params)


_REGISTRY: dict[str, ErrorCode] = {}


def error_code(code: str, template: str, kind: type[DomainError] = DomainError) -> ErrorCode:
    """Declare an error code once, next to its rule. Declaring a code twice is a programming error."""
    existing = _REGISTRY.get(code)
    if existing is not None and existing.template != template:
        raise ValueError(f"error code {code!r} declared twice with different messages")
    spec = ErrorCode(code, template, kind)
    _REGISTRY[code] = spec
    return spec


def registered_codes() -> Mapping[str, ErrorCode]:
    """Every error code declared so far (the modules that declare them must be imported)."""
    return dict(_REGISTRY)


VALIDATION_FAILED = error_code("validation.failed", "La saisie comporte {count} erreur(s).", ValidationFailed)
REQUIRED = error_code("field.required", "Ce champ est obligatoire.")
ACCESS_DENIED = error_code("access.denied", "Vous n'avez pas accès à cet élément ({what}).", AccessDenied)
NOT_FOUND = error_code("not_found", "Élément introuvable : {what}.", NotFound)
ALREADY_EXISTS = error_code("storage.duplicate", "{what} existe déjà.")
CONCURRENCY_CONFLICT = error_code(
    "concurrency.conflict",
    "L'élément {what} a été modifié par ailleurs depuis sa lecture ; rechargez-le et recommencez.",
    ConcurrencyConflict,
)
TRANSITION_NOT_ALLOWED = error_code(
    "state.transition_not_allowed",
    "L'action « {action} » n'est pas possible dans l'état « {state} ».",
    TransitionNotAllowed,
)


class ErrorCollector:
    """Gather every error of a form, then raise them together.

    >>> from mutuelle_core.errors import ErrorCollector, DomainError
    >>> def parse_age(text: str) -> int:
    ...     if not text.isdigit():
    ...         raise DomainError("age.invalid")
    ...     return int(text)
    >>> errors = ErrorCollector()
    >>> errors.capture("age", parse_age, "12")
    12
    >>> errors.capture("other_age", parse_age, "x") is None
    True
    >>> errors.raise_if_any()
    Traceback (most recent call last):
    ...
    mutuelle_core.errors.ValidationFailed: [validation.failed] La saisie comporte 1 erreur(s).
      - [age.invalid] (other_age) age.invalid
    """

    _default_kind: ClassVar[type[ValidationFailed]] = ValidationFailed

    def __init__(self, prefix: str | None = None) -> None:
        self.prefix = prefix
        self.errors: list[DomainError] = []

    def capture(self, field: str | None, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T | None:
        """Call ``fn``; on a :class:`DomainError`, record it under ``field`` and return ``None``."""
        try:
            return fn(*args, **kwargs)
        except DomainError as err:
            self.add(err, field=field)
            return None

    def add(self, err: DomainError, *, field: str | None = None) -> None:
        """Record ``err``; ``field`` names the input field it belongs to (replacing the error's own)."""
        for leaf in err.leaves():
            located = leaf._copy()
            if field is not None:
                located.field = field if leaf.field in (None, "", field) else join_path(field, leaf.field)
            if self.prefix:
                located = located.at(self.prefix)
            self.errors.append(located)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        """Raise :class:`ValidationFailed` with everything collected, if anything was."""
        if self.errors:
            raise ValidationFailed(self.errors)


def join_path(prefix: str | None, field: str | None) -> str | None:
    """Join two field paths: ``join_path("$.a[1]", "nir") == "$.a[1].nir"``.

    >>> join_path("$.people[0]", "nir"), join_path("$", "[2]"), join_path(None, "x"), join_path("p", None)
    ('$.people[0].nir', '$[2]', 'x', 'p')
    """
    if not prefix:
        return field
    if not field:
        return prefix
    field = field.removeprefix("$")
    if field.startswith("[") or field.startswith("."):
        return prefix + field
    return f"{prefix}.{field}"


def _jsonable(value: object) -> object:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return str(value)
