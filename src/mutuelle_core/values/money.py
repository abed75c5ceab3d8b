"""Amounts of money in euros, always exact to the cent.

A :class:`Money` holds a :class:`~decimal.Decimal` with exactly two decimal places. Nothing rounds
behind your back: the constructor refuses a sub-cent amount, :meth:`Money.of` rounds once with the
rounding mode you name, and a multiplication by anything but an integer goes through
:meth:`Money.multiply`, which takes the rounding mode as well. Splitting an amount into shares uses
:func:`allocate`, whose parts always add up to the total to the cent (largest remainder method).

The library only handles euros: cotisations, capitals and SEPA debits are all in EUR, so there is no
``currency`` field. Adding one later means an explicit migration, not a silent default.

>>> from decimal import Decimal
>>> from mutuelle_core.values.money import Money, allocate
>>> price = Money.of("42.5")
>>> price
Money('42.50')
>>> str(price + Money.cents(1))
'42.51'
>>> price * 3
Money('127.50')
>>> price.multiply(Decimal("0.6"))
Money('25.50')
>>> price.percent(Decimal("33.333"))
Money('14.17')
>>> allocate(Money.of("100"), [1, 1, 1])
[Money('33.34'), Money('33.33'), Money('33.33')]
>>> sum([Money.of("1.10"), Money.of("2.20")])
Money('3.30')
>>> Money.of("1234.5").format() == "1\\u202f234,50\\xa0€"
True
>>> Money(Decimal("0.125"))  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
mutuelle_core.errors.DomainError: [money.sub_cent] Le montant 0.125 comporte une fraction de centime...
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import (
    ROUND_05UP,
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Context,
    Decimal,
    InvalidOperation,
)
from fractions import Fraction
from typing import NoReturn

import attrs
from babel.numbers import format_currency

from mutuelle_core.errors import error_code

__all__ = [
    "CENT",
    "MONEY_INVALID",
    "MONEY_INVALID_WEIGHTS",
    "MONEY_NOT_FINITE",
    "MONEY_SUB_CENT",
    "Factor",
    "Money",
    "allocate",
]

CENT = Decimal("0.01")
"""The smallest amount a :class:`Money` holds."""
_ZERO = Decimal("0.00")

MONEY_SUB_CENT = error_code(
    "money.sub_cent",
    "Le montant {amount} comporte une fraction de centime : arrondissez-le explicitement au centime.",
)
MONEY_NOT_FINITE = error_code("money.not_finite", "Le montant {amount} n'est pas un nombre fini.")
MONEY_INVALID = error_code("money.invalid", "« {value} » n'est pas un montant valide.")
MONEY_INVALID_WEIGHTS = error_code(
    "money.invalid_weights",
    "La répartition demande des poids positifs ou nuls, dont au moins un non nul.",
)

# Wide enough that quantizing or scaling any realistic amount never rounds nor overflows.
_EXACT = Context(prec=200, Emax=10**6, Emin=-(10**6))

_ROUNDINGS = frozenset(
    {
        ROUND_05UP,
        ROUND_CEILING,
        ROUND_DOWN,
        ROUND_FLOOR,
        ROUND_HALF_DOWN,
        ROUND_HALF_EVEN,
        ROUND_HALF_UP,
        ROUND_UP,
    }
)

Factor = Decimal | int | Fraction
"""What :meth:`Money.multiply` accepts: exact numbers only (no ``float``)."""


def _exact_cents(value: Decimal | int | str) -> Decimal:
    """Convert the constructor's argument to a two-place Decimal, refusing any rounding."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise TypeError(
            f"Money needs a Decimal, an int or a str, not {type(value).__name__}; "
            "floats are inexact: use Money.of(Decimal(...)) or Money.cents(...)"
        )
    amount = _to_decimal(value)
    quantized = _quantize(amount, ROUND_HALF_UP)
    if quantized != amount:
        raise MONEY_SUB_CENT(amount=str(amount))
    return _canonical(quantized)


def _to_decimal(value: Decimal | int | str) -> Decimal:
    if isinstance(value, str):
        text = value.strip()
        if "," in text and "." not in text:
            text = text.replace(",", ".", 1)
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise MONEY_INVALID(value=value[:40]) from None
    else:
        amount = Decimal(value)
    if not amount.is_finite():
        raise MONEY_NOT_FINITE(amount=str(amount))
    return amount


def _quantize(amount: Decimal, rounding: str) -> Decimal:
    try:
        return amount.quantize(CENT, rounding=rounding, context=_EXACT)
    except InvalidOperation:  # too many digits for any amount of money
        raise MONEY_INVALID(value=str(amount)[:40]) from None


def _canonical(quantized: Decimal) -> Decimal:
    # ``-0.00`` would print with its sign: every zero is the plain ``0.00``.
    return _ZERO if quantized.is_zero() else quantized


def _check_rounding(rounding: str) -> None:
    if rounding not in _ROUNDINGS:
        raise ValueError(f"unknown rounding mode {rounding!r}: use one of the decimal.ROUND_* constants")


def _round_fraction(value: Fraction, rounding: str) -> int:
    """Round an exact rational to an integer with one of the ``decimal`` rounding modes."""
    floor = value.numerator // value.denominator
    rest = value - floor
    if rest == 0:
        return floor
    ceil = floor + 1
    toward_zero, away = (floor, ceil) if value > 0 else (ceil, floor)
    if rounding == ROUND_FLOOR:
        return floor
    if rounding == ROUND_CEILING:
        return ceil
    if rounding == ROUND_DOWN:
        return toward_zero
    if rounding == ROUND_UP:
        return away
    if rounding == ROUND_05UP:
        return away if toward_zero % 10 in (0, 5) else toward_zero
    half = Fraction(1, 2)
    if rest != half:
        return ceil if rest > half else floor
    if rounding == ROUND_HALF_UP:
        return away
    if rounding == ROUND_HALF_DOWN:
        return toward_zero
    return floor if floor % 2 == 0 else ceil  # ROUND_HALF_EVEN


def _as_fraction(factor: object) -> Fraction:
    if isinstance(factor, bool) or not isinstance(factor, Decimal | int | Fraction):
        raise TypeError(f"the factor must be a Decimal, an int or a Fraction, not {type(factor).__name__}")
    if isinstance(factor, Decimal) and not factor.is_finite():
        raise ValueError(f"the factor must be finite, not {factor}")
    return Fraction(factor)


@attrs.frozen(order=True, repr=False)
class Money:
    """An amount in euros, exact to the cent.

    ``amount`` always has exactly two decimal places. The constructor accepts a ``Decimal``, an
    ``int`` or a ``str`` that is already exact to the cent (``Money(Decimal("12.5"))`` is fine, it
    becomes ``12.50``); anything finer raises ``money.sub_cent`` and NaN or infinities raise
    ``money.not_finite``. To round, say how: :meth:`Money.of`. ``float`` is refused with a
    ``TypeError``.

    Arithmetic: ``+``, ``-`` between amounts, unary ``-``, ``abs``, ordering, ``sum(...)`` (thanks to
    ``0 + money``), and ``money * n`` for an ``int`` ``n`` are exact. Multiplying by a ``Decimal`` or a
    ``Fraction`` must name its rounding: :meth:`multiply`, :meth:`percent`; ``money * Decimal(...)``
    raises ``TypeError``. Division is :func:`allocate`.

    A ``Money`` is always truthy (even zero): test :attr:`is_zero` explicitly.

    Attributes:
        amount: the amount in euros, a ``Decimal`` with exactly two decimal places.

    >>> Money(12), Money("-3.4"), Money(Decimal("0.10"))
    (Money('12.00'), Money('-3.40'), Money('0.10'))
    >>> Money.of("10.005"), Money.of(Decimal("10.005"), rounding=ROUND_HALF_EVEN)
    (Money('10.01'), Money('10.00'))
    >>> Money("1") < Money("2") and Money("2.00") == Money(2)
    True
    """

    amount: Decimal = attrs.field(converter=_exact_cents)

    # -- construction -------------------------------------------------------------------------------

    @classmethod
    def of(cls, value: Decimal | int | str, rounding: str = ROUND_HALF_UP) -> Money:
        """Build an amount from ``value``, rounded to the cent with ``rounding``.

        Args:
            value: a ``Decimal``, an ``int`` or a string such as ``"12.345"`` (a French decimal comma,
                ``"12,5"``, is accepted when there is no dot).
            rounding: a ``decimal.ROUND_*`` mode, ``ROUND_HALF_UP`` by default.

        Returns:
            The amount, exact to the cent.

        Raises:
            DomainError: ``money.invalid`` for a string that is not a number, ``money.not_finite`` for
                NaN or infinities.
            TypeError: for a ``float`` or any other type.

        >>> Money.of("2.675"), Money.of("-2.675"), Money.of("2.675", rounding=ROUND_DOWN)
        (Money('2.68'), Money('-2.68'), Money('2.67'))
        >>> Money.of("12,5")
        Money('12.50')
        """
        _check_rounding(rounding)
        if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
            raise TypeError(f"Money.of needs a Decimal, an int or a str, not {type(value).__name__}")
        amount = _to_decimal(value)
        return cls(_quantize(amount, rounding))

    @classmethod
    def zero(cls) -> Money:
        """Zero euros.

        >>> Money.zero()
        Money('0.00')
        """
        return cls(0)

    @classmethod
    def cents(cls, cents: int) -> Money:
        """Build an amount from a number of cents (the storage form of amounts).

        >>> Money.cents(123456), Money.cents(-5)
        (Money('1234.56'), Money('-0.05'))
        """
        if isinstance(cents, bool) or not isinstance(cents, int):
            raise TypeError(f"Money.cents needs an int, not {type(cents).__name__}")
        return cls(Decimal(cents).scaleb(-2, context=_EXACT))

    @classmethod
    def total(cls, amounts: Iterable[Money]) -> Money:
        """Add up ``amounts``; unlike the builtin ``sum``, an empty iterable gives ``Money.zero()``.

        >>> Money.total([]), Money.total([Money(1), Money(2)])
        (Money('0.00'), Money('3.00'))
        """
        return sum(amounts, cls.zero())

    def to_cents(self) -> int:
        """The amount as an integer number of cents (how amounts are stored).

        >>> Money.of("1234.56").to_cents()
        123456
        """
        return int(self.amount.scaleb(2, context=_EXACT))

    # -- predicates --------------------------------------------------------------------------------

    @property
    def is_zero(self) -> bool:
        """Whether the amount is zero."""
        return self.amount.is_zero()

    @property
    def is_negative(self) -> bool:
        """Whether the amount is strictly below zero."""
        return self.amount < 0

    @property
    def is_positive(self) -> bool:
        """Whether the amount is strictly above zero."""
        return self.amount > 0

    # -- arithmetic --------------------------------------------------------------------------------

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money.cents(self.to_cents() + other.to_cents())

    def __radd__(self, other: Money | int) -> Money:
        # ``sum()`` starts from the int 0.
        if isinstance(other, int) and not isinstance(other, bool) and other == 0:
            return self
        if isinstance(other, Money):
            return other.__add__(self)
        return NotImplemented

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money.cents(self.to_cents() - other.to_cents())

    def __neg__(self) -> Money:
        return Money.cents(-self.to_cents())

    def __pos__(self) -> Money:
        return self

    def __abs__(self) -> Money:
        return Money.cents(abs(self.to_cents()))

    def __mul__(self, factor: int) -> Money:
        product = self._times(factor)
        return NotImplemented if product is None else product

    def __rmul__(self, factor: int) -> Money:
        product = self._times(factor)
        return NotImplemented if product is None else product

    def _times(self, factor: object) -> Money | None:
        if isinstance(factor, int) and not isinstance(factor, bool):
            return Money.cents(self.to_cents() * factor)
        if isinstance(factor, Decimal | Fraction | float):
            raise TypeError(
                f"Money * {type(factor).__name__} would have to round: "
                "use Money.multiply(factor, rounding=...) to say how"
            )
        return None

    def __truediv__(self, other: object) -> NoReturn:
        raise TypeError("dividing an amount must say where the cents go: use allocate() or Money.multiply()")

    def multiply(self, factor: Factor, rounding: str = ROUND_HALF_UP) -> Money:
        """Multiply by an exact ``factor`` and round the exact product once to the cent.

        Args:
            factor: a ``Decimal``, an ``int`` or a ``Fraction`` (``Fraction(1, 3)`` is exact).
            rounding: a ``decimal.ROUND_*`` mode, ``ROUND_HALF_UP`` by default.

        Returns:
            The product, rounded to the cent.

        >>> Money.of("100").multiply(Fraction(1, 3))
        Money('33.33')
        >>> nickel = Money.of("0.05")
        >>> nickel.multiply(Decimal("0.5")), nickel.multiply(Decimal("0.5"), ROUND_HALF_EVEN)
        (Money('0.03'), Money('0.02'))
        """
        _check_rounding(rounding)
        exact = Fraction(self.to_cents()) * _as_fraction(factor)
        return Money.cents(_round_fraction(exact, rounding))

    def percent(self, rate: Factor, rounding: str = ROUND_HALF_UP) -> Money:
        """``rate`` percent of this amount, rounded to the cent.

        >>> Money.of("4005").percent(Decimal("1.25"))
        Money('50.06')
        """
        return self.multiply(_as_fraction(rate) / 100, rounding)

    def allocate(self, weights: Sequence[Decimal | int | Fraction]) -> list[Money]:
        """Split this amount in proportion to ``weights``; see :func:`allocate`.

        >>> Money.of("10").allocate([1, 2])
        [Money('3.33'), Money('6.67')]
        """
        return allocate(self, weights)

    # -- text --------------------------------------------------------------------------------------

    def format(self, locale: str = "fr_FR") -> str:
        """The amount for people, with Babel: ``1 234,50 €`` in French.

        French output separates thousands with a narrow no-break space (U+202F) and puts a no-break
        space (U+00A0) before the sign: compare exact strings.

        >>> Money.of("1234.5").format() == "1\\u202f234,50\\xa0€"
        True
        >>> Money.of("-1234.5").format("en_GB")
        '-€1,234.50'
        """
        return format_currency(self.amount, "EUR", locale=locale)

    def __str__(self) -> str:
        return f"{self.amount:f}"

    def __repr__(self) -> str:
        return f"Money('{self}')"

    def __format__(self, spec: str) -> str:
        # ``f"{price}"`` is ``str(price)``; a spec formats the Decimal: ``f"{price:>10,}"``.
        return format(self.amount, spec) if spec else str(self)


def allocate(total: Money, weights: Sequence[Decimal | int | Fraction]) -> list[Money]:
    """Split ``total`` in proportion to ``weights``: parts add up exactly to ``total``.

    Largest remainder method, in cents: every part first gets the cents of its exact share rounded
    toward zero; the cents left over go, one each, to the parts with the largest dropped fractions,
    the earlier position first on ties. Hence each part is within one cent of its exact share
    ``total × weight / sum(weights)``, a zero weight gets exactly zero, and a negative total is split
    as the opposite of the positive one.

    Args:
        total: the amount to split.
        weights: one non-negative weight per part, at least one of them non-zero.

    Returns:
        The parts, in the order of ``weights``.

    Raises:
        DomainError: ``money.invalid_weights`` when ``weights`` is empty, has a negative or non-finite
            weight, or only zeros.

    >>> allocate(Money.of("0.05"), [1, 1, 1])
    [Money('0.02'), Money('0.02'), Money('0.01')]
    >>> allocate(Money.of("-0.05"), [1, 1, 1])
    [Money('-0.02'), Money('-0.02'), Money('-0.01')]
    >>> allocate(Money.of("100"), [Decimal("0.5"), 0, Decimal("0.25")])
    [Money('66.67'), Money('0.00'), Money('33.33')]
    >>> allocate(Money.of("100"), [0, 0])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mutuelle_core.errors.DomainError: [money.invalid_weights] La répartition demande des poids positifs...
    """
    exact_weights: list[Fraction] = []
    for weight in weights:
        if isinstance(weight, bool) or not isinstance(weight, Decimal | int | Fraction):
            raise TypeError(f"a weight must be a Decimal, an int or a Fraction, not {type(weight).__name__}")
        if isinstance(weight, Decimal) and not weight.is_finite():
            raise MONEY_INVALID_WEIGHTS()
        exact_weights.append(Fraction(weight))
    weight_sum = sum(exact_weights, Fraction(0))
    if not exact_weights or any(w < 0 for w in exact_weights) or weight_sum == 0:
        raise MONEY_INVALID_WEIGHTS()
    cents = total.to_cents()
    sign, magnitude = (-1, -cents) if cents < 0 else (1, cents)
    shares = [magnitude * w / weight_sum for w in exact_weights]
    parts = [share.numerator // share.denominator for share in shares]
    left_over = magnitude - sum(parts)
    by_fraction = sorted(range(len(shares)), key=lambda i: (-(shares[i] - parts[i]), i))
    for i in by_fraction[:left_over]:
        parts[i] += 1
    return [Money.cents(sign * part) for part in parts]
