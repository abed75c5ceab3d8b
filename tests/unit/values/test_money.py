"""Money: exact to the cent, explicit rounding, allocation that adds up, French formatting."""

from __future__ import annotations

import pickle
import re
from decimal import (
    ROUND_05UP,
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
    localcontext,
)
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mutuelle_core.errors import DomainError, registered_codes
from mutuelle_core.i18n import translate
from mutuelle_core.values.money import Money, allocate

ROUNDINGS = [
    ROUND_05UP,
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
]

cents = st.integers(min_value=-(10**12), max_value=10**12)
monies = cents.map(Money.cents)
weights = st.one_of(
    st.integers(min_value=0, max_value=10**6),
    st.decimals(min_value=0, max_value=10**4, places=4, allow_nan=False, allow_infinity=False),
)


# -- construction ---------------------------------------------------------------------------------


def test_constructor_keeps_two_places() -> None:
    assert Money(Decimal("12.5")).amount.as_tuple().exponent == -2
    assert str(Money(Decimal("12.5"))) == "12.50"
    assert str(Money(7)) == "7.00"
    assert str(Money("0.1")) == "0.10"
    assert Money(Decimal("1E+2")) == Money(100)


@pytest.mark.parametrize("value", [Decimal("0.001"), Decimal("12.345"), "0.005", Decimal("-1.999")])
def test_constructor_refuses_sub_cent(value: Decimal | str) -> None:
    with pytest.raises(DomainError) as caught:
        Money(value)
    assert caught.value.code == "money.sub_cent"


def test_trailing_zeros_below_the_cent_are_exact() -> None:
    assert Money(Decimal("1.2300")) == Money(Decimal("1.23"))
    assert str(Money(Decimal("1.2300"))) == "1.23"


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"), "nan", "inf"])
def test_non_finite_refused(value: Decimal | str) -> None:
    with pytest.raises(DomainError) as caught:
        Money(value)
    assert caught.value.code == "money.not_finite"
    with pytest.raises(DomainError) as caught:
        Money.of(value)
    assert caught.value.code == "money.not_finite"


@pytest.mark.parametrize("value", [1.5, None, True, [1]])
def test_constructor_refuses_other_types(value: object) -> None:
    with pytest.raises(TypeError):
        Money(value)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money.of(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["abc", "", "1.2.3", "12 €"])
def test_of_refuses_garbage(text: str) -> None:
    with pytest.raises(DomainError) as caught:
        Money.of(text)
    assert caught.value.code == "money.invalid"


def test_negative_zero_is_plain_zero() -> None:
    assert str(Money(Decimal("-0.00"))) == "0.00"
    assert str(-Money.zero()) == "0.00"
    assert str(Money.of("-0.001")) == "0.00"
    assert not Money.of("-0.001").is_negative


@pytest.mark.parametrize(
    ("value", "rounding", "expected"),
    [
        ("2.675", ROUND_HALF_UP, "2.68"),
        ("-2.675", ROUND_HALF_UP, "-2.68"),
        ("2.665", ROUND_HALF_EVEN, "2.66"),
        ("2.675", ROUND_HALF_EVEN, "2.68"),
        ("2.675", ROUND_DOWN, "2.67"),
        ("2.671", ROUND_UP, "2.68"),
        ("-2.671", ROUND_FLOOR, "-2.68"),
        ("-2.679", ROUND_CEILING, "-2.67"),
        ("12,5", ROUND_HALF_UP, "12.50"),
        (" 3 ", ROUND_HALF_UP, "3.00"),
        (5, ROUND_HALF_UP, "5.00"),
    ],
)
def test_of_rounds_explicitly(value: str | int, rounding: str, expected: str) -> None:
    assert str(Money.of(value, rounding=rounding)) == expected


def test_of_refuses_unknown_rounding() -> None:
    with pytest.raises(ValueError, match="rounding"):
        Money.of("1", rounding="ROUND_WHATEVER")


def test_of_is_independent_of_the_decimal_context() -> None:
    with localcontext() as ctx:
        ctx.prec = 3
        assert str(Money.of("123456.785")) == "123456.79"
        assert str(Money.cents(123456789) + Money.cents(1)) == "1234567.90"


def test_cents_round_trip() -> None:
    assert Money.cents(123456).amount == Decimal("1234.56")
    assert Money.of("1234.56").to_cents() == 123456
    assert Money.cents(-5).to_cents() == -5
    assert Money.zero() == Money.cents(0) == Money(0)
    with pytest.raises(TypeError):
        Money.cents(Decimal(1))  # type: ignore[arg-type]


@given(cents)
def test_cents_round_trip_property(n: int) -> None:
    assert Money.cents(n).to_cents() == n
    assert Money(Money.cents(n).amount) == Money.cents(n)
    assert Money.of(str(Money.cents(n))) == Money.cents(n)


# -- arithmetic -----------------------------------------------------------------------------------


def test_operators() -> None:
    a, b = Money.of("10.10"), Money.of("0.95")
    assert a + b == Money.of("11.05")
    assert a - b == Money.of("9.15")
    assert b - a == Money.of("-9.15")
    assert -a == Money.of("-10.10")
    assert +a == a
    assert abs(Money.of("-3")) == Money.of("3")
    assert a * 3 == 3 * a == Money.of("30.30")
    assert a * -2 == Money.of("-20.20")
    assert a * 0 == Money.zero()


def test_sum_and_total() -> None:
    parts = [Money.of("0.10")] * 3
    assert sum(parts) == Money.of("0.30")
    assert Money.total(parts) == Money.of("0.30")
    assert Money.total([]) == Money.zero()
    assert sum([], Money.zero()) == Money.zero()


def test_mixing_with_numbers_is_refused() -> None:
    a = Money.of("1")
    with pytest.raises(TypeError):
        a + 1  # type: ignore[operator]
    with pytest.raises(TypeError):
        a + Decimal(1)  # type: ignore[operator]
    with pytest.raises(TypeError):
        5 + a
    with pytest.raises(TypeError):
        a - 0  # type: ignore[operator]
    with pytest.raises(TypeError, match="multiply"):
        a * Decimal("1.5")  # type: ignore[operator]
    with pytest.raises(TypeError, match="multiply"):
        Decimal("1.5") * a  # type: ignore[operator]
    with pytest.raises(TypeError, match="multiply"):
        a * 1.5  # type: ignore[operator]
    with pytest.raises(TypeError, match="multiply"):
        a * Fraction(1, 3)  # type: ignore[operator]
    with pytest.raises(TypeError):
        a * a  # type: ignore[operator]
    with pytest.raises(TypeError, match="allocate"):
        a / 3


def test_ordering() -> None:
    assert Money.of("1") < Money.of("1.01") <= Money.of("1.01") < Money.of("2")
    assert Money.of("-1") < Money.zero()
    assert max(Money.of("3"), Money.of("12"), Money.of("-40")) == Money.of("12")
    assert sorted([Money.of("2"), Money.of("-1"), Money.of("0.5")]) == [
        Money.of("-1"),
        Money.of("0.5"),
        Money.of("2"),
    ]
    with pytest.raises(TypeError):
        _ = Money.of("1") < 2  # type: ignore[operator]
    assert Money.of("1") != Decimal(1)


def test_hash_and_equality() -> None:
    assert hash(Money(Decimal("1.5"))) == hash(Money(Decimal("1.50")))
    assert len({Money.of("1.5"), Money.cents(150), Money(Decimal("1.50"))}) == 1


def test_predicates() -> None:
    assert Money.zero().is_zero
    assert not Money.zero().is_negative
    assert not Money.zero().is_positive
    assert Money.of("-0.01").is_negative
    assert Money.of("0.01").is_positive
    assert bool(Money.zero())  # documented: always truthy, use is_zero


def test_is_immutable_and_picklable() -> None:
    money = Money.of("12.34")
    with pytest.raises(AttributeError):
        money.amount = Decimal(1)  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(money)) == money


@given(monies, monies, monies)
def test_addition_laws(a: Money, b: Money, c: Money) -> None:
    assert a + b == b + a
    assert (a + b) + c == a + (b + c)
    assert a + Money.zero() == a
    assert a - a == Money.zero()
    assert a + (-a) == Money.zero()
    assert (a + b) - b == a
    negated = -a
    assert -negated == a
    assert abs(a) >= Money.zero()
    assert (a + b).to_cents() == a.to_cents() + b.to_cents()


@given(monies, monies, st.integers(min_value=-1000, max_value=1000))
def test_integer_multiplication_laws(a: Money, b: Money, n: int) -> None:
    assert (a + b) * n == a * n + b * n
    assert a * n == n * a
    assert a * n == Money.cents(a.to_cents() * n)
    assert a.multiply(n) == a * n


@given(monies, monies)
def test_ordering_agrees_with_cents(a: Money, b: Money) -> None:
    assert (a < b) == (a.to_cents() < b.to_cents())
    assert (a == b) == (a.to_cents() == b.to_cents())
    assert (a < b) == (-b < -a)


@given(st.lists(monies, max_size=20))
def test_sum_is_exact(items: list[Money]) -> None:
    assert Money.total(items).to_cents() == sum(m.to_cents() for m in items)
    if items:
        assert sum(items) == Money.total(items)


# -- multiply and percent -------------------------------------------------------------------------


def test_multiply_rounds_once_and_explicitly() -> None:
    assert Money.of("100").multiply(Fraction(1, 3)) == Money.of("33.33")
    assert Money.of("100").multiply(Fraction(2, 3)) == Money.of("66.67")
    assert Money.of("0.05").multiply(Decimal("0.5")) == Money.of("0.03")
    assert Money.of("0.05").multiply(Decimal("0.5"), ROUND_HALF_EVEN) == Money.of("0.02")
    assert Money.of("0.05").multiply(Decimal("0.5"), ROUND_DOWN) == Money.of("0.02")
    assert Money.of("-0.05").multiply(Decimal("0.5")) == Money.of("-0.03")
    assert Money.of("-0.05").multiply(Decimal("0.5"), ROUND_FLOOR) == Money.of("-0.03")
    assert Money.of("-0.05").multiply(Decimal("0.5"), ROUND_CEILING) == Money.of("-0.02")
    assert Money.of("3925").multiply(Decimal("0.0125")) == Money.of("49.06")


def test_multiply_refuses_floats_and_bad_modes() -> None:
    with pytest.raises(TypeError):
        Money.of("1").multiply(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="finite"):
        Money.of("1").multiply(Decimal("NaN"))
    with pytest.raises(ValueError, match="rounding"):
        Money.of("1").multiply(2, rounding="nope")


@given(cents, st.decimals(min_value=-1000, max_value=1000, places=6), st.sampled_from(ROUNDINGS))
def test_multiply_matches_decimal_rounding(n: int, factor: Decimal, rounding: str) -> None:
    """The exact rational rounding agrees with Decimal's own quantize on exactly representable products."""
    with localcontext() as ctx:
        ctx.prec = 100
        expected = (Money.cents(n).amount * factor).quantize(Decimal("0.01"), rounding=rounding)
    assert Money.cents(n).multiply(factor, rounding) == Money(expected)


@given(cents, st.fractions(max_denominator=1000).filter(lambda f: abs(f) < 1000))
def test_multiply_is_within_half_a_cent(n: int, factor: Fraction) -> None:
    result = Money.cents(n).multiply(factor)
    assert abs(Fraction(result.to_cents()) - n * factor) <= Fraction(1, 2)


def test_percent() -> None:
    assert Money.of("4005").percent(Decimal("1.25")) == Money.of("50.06")
    assert Money.of("200").percent(50) == Money.of("100")
    assert Money.of("10").percent(Decimal("33.333")) == Money.of("3.33")
    assert Money.of("0.01").percent(50, rounding=ROUND_HALF_EVEN) == Money.zero()


# -- allocate -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        ("100", [1, 1, 1], ["33.34", "33.33", "33.33"]),
        ("0.05", [1, 1, 1], ["0.02", "0.02", "0.01"]),
        ("-0.05", [1, 1, 1], ["-0.02", "-0.02", "-0.01"]),
        ("10", [1, 2], ["3.33", "6.67"]),
        ("100", [Decimal("0.5"), 0, Decimal("0.25")], ["66.67", "0.00", "33.33"]),
        ("1", [0, 0, 3], ["0.00", "0.00", "1.00"]),
        ("0", [1, 2, 3], ["0.00", "0.00", "0.00"]),
        ("0.01", [1, 1], ["0.01", "0.00"]),
        ("0.02", [1, 1, 1, 1], ["0.01", "0.01", "0.00", "0.00"]),
        ("7", [7], ["7.00"]),
        ("100", [Decimal("33.3"), Decimal("33.3"), Decimal("33.4")], ["33.30", "33.30", "33.40"]),
    ],
)
def test_allocate_examples(total: str, weights: list[Decimal | int], expected: list[str]) -> None:
    parts = allocate(Money.of(total), weights)
    assert [str(p) for p in parts] == expected
    assert Money.of(total).allocate(weights) == parts


def test_allocate_ties_go_to_earlier_positions() -> None:
    assert [str(p) for p in allocate(Money.of("0.10"), [1, 1, 1])] == ["0.04", "0.03", "0.03"]
    # largest fraction first, whatever the position
    assert [str(p) for p in allocate(Money.of("0.10"), [1, 2])] == ["0.03", "0.07"]


@pytest.mark.parametrize(
    "bad", [[], [0], [0, 0], [1, -1], [Decimal("-0.5"), 2], [Decimal("NaN")], [Decimal("Infinity"), 1]]
)
def test_allocate_refuses_invalid_weights(bad: list[Decimal | int]) -> None:
    with pytest.raises(DomainError) as caught:
        allocate(Money.of("10"), bad)
    assert caught.value.code == "money.invalid_weights"


def test_allocate_refuses_float_weights() -> None:
    with pytest.raises(TypeError):
        allocate(Money.of("10"), [0.5, 0.5])  # type: ignore[list-item]


@given(monies, st.lists(weights, min_size=1, max_size=12).filter(lambda ws: any(w > 0 for w in ws)))
def test_allocate_sums_exactly_and_parts_are_within_a_cent(total: Money, ws: list[Decimal | int]) -> None:
    parts = allocate(total, ws)
    assert len(parts) == len(ws)
    assert Money.total(parts) == total
    weight_sum = sum(Fraction(w) for w in ws)
    for part, weight in zip(parts, ws, strict=True):
        exact_share = Fraction(total.to_cents()) * Fraction(weight) / weight_sum
        assert abs(Fraction(part.to_cents()) - exact_share) < 1
        if weight == 0:
            assert part.is_zero


@given(monies, st.lists(weights, min_size=1, max_size=12).filter(lambda ws: any(w > 0 for w in ws)))
def test_allocate_negative_total_is_symmetric(total: Money, ws: list[Decimal | int]) -> None:
    assert allocate(-total, ws) == [-p for p in allocate(total, ws)]


@given(monies, st.lists(weights, min_size=1, max_size=8).filter(lambda ws: any(w > 0 for w in ws)))
def test_allocate_parts_have_the_sign_of_the_total(total: Money, ws: list[Decimal | int]) -> None:
    for part in allocate(total, ws):
        assert part.is_zero or part.is_negative == total.is_negative


# -- text -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "locale", "expected"),
    [
        ("1234.5", "fr_FR", "1\u202f234,50\xa0€"),
        ("-1234.5", "fr_FR", "-1\u202f234,50\xa0€"),
        ("1234567.89", "fr_FR", "1\u202f234\u202f567,89\xa0€"),
        ("0", "fr_FR", "0,00\xa0€"),
        ("5", "fr", "5,00\xa0€"),
        ("1234.5", "en_GB", "€1,234.50"),
        ("-1234.5", "en_GB", "-€1,234.50"),
    ],
)
def test_format_exact_strings(value: str, locale: str, expected: str) -> None:
    assert Money.of(value).format(locale) == expected


def test_format_defaults_to_french() -> None:
    assert Money.of("1234.5").format() == "1\u202f234,50\xa0€"


def test_str_and_repr() -> None:
    assert str(Money.of("1234.5")) == "1234.50"
    assert str(Money.of("-0.5")) == "-0.50"
    assert str(Money.cents(10**20)) == "1000000000000000000.00"
    assert repr(Money.of("1234.5")) == "Money('1234.50')"
    assert f"{Money.of('3')}" == "3.00"
    assert f"{Money.of('3'):>8}" == "    3.00"
    assert f"{Money.of('1234567.5'):,}" == "1,234,567.50"
    assert eval(repr(Money.of("-2.5")), {"Money": Money}) == Money.of("-2.5")


def test_error_message_is_french_with_english_catalog() -> None:
    with pytest.raises(DomainError) as caught:
        Money(Decimal("0.125"))
    assert caught.value.params == {"amount": "0.125"}
    assert "0.125" in caught.value.message()


@pytest.mark.parametrize(
    "code",
    ["money.sub_cent", "money.not_finite", "money.invalid", "money.invalid_weights"],
)
def test_messages_are_translated_to_english(code: str) -> None:
    template = registered_codes()[code].template
    english = translate(template, "en")
    assert english != template
    assert sorted(re.findall(r"{\w+}", english)) == sorted(re.findall(r"{\w+}", template))
