"""Contract rules for cotisations: who pays what share, how partial months count, how lines round.

:class:`CotisationRules` is the frozen settings object the engine reads. Every choice the law leaves to
the contract is a field, with DOMAIN.md's default; the legal floors and caps are checked when the
rules are built (``validation.failed`` listing each problem).

**Employer share, private sector** (L911-7 II CSS: "l'employeur assure au minimum la moitié du
financement" of the employee's compulsory health cover): the employer pays a share of the insured
employee's **base** cotisation, as a percentage (at least 50 %) or a fixed amount per month. A
percentage below 50 % is refused (``cotisation.employer_share_below_legal``); a fixed amount is
checked against the grid's base prices when the engine compiles the contract (and for prices in % of
the PMSS, against each month's price). The contract may also fund options and dependants
(``employer_options``, ``employer_dependants``; nothing by default).

**Employer share, State PSC** (décret 2022-633 and the interministerial agreement of 26 January 2022;
figures of DOMAIN.md §5 and seed 002):

* the employer pays **50 %** of the agent's base cotisation (the contract's "cotisation d'équilibre");
  a contract whose agents' base price differs from the cotisation d'équilibre (solidarity by pay)
  states the employer's amount as a fixed share (50 % of the cotisation d'équilibre) instead;
* toward the agent's **option** the employer pays what the contract says (``employer_options``,
  nothing by default, as in seed 002 where the agent pays the whole 12 € / 16 € supplement), and
  **never more than 5 €** a month (:data:`PSC_OPTION_CAP`; a fixed option share above it is refused,
  a percentage is capped when applied);
* **Alsace-Moselle: 26.81 € a month.** Our reading: agents under the Alsace-Moselle local regime get
  better reimbursements from the régime local, so their base cover costs less and the contract states
  the employer's participation in their base cotisation as a fixed **26.81 € a month** (which is 50 %
  of a cotisation d'équilibre of 53.62 €), **in place of** 50 % of the grid's base price. It is
  capped at the base price actually charged (the employer never pays more than the cotisation) and
  prorated like any line; the option participation (up to 5 €) comes on top, as for every agent.
  Should the contract mean a ceiling instead ("50 %, at most 26.81 €"), set ``alsace_moselle_mode``
  to :attr:`AlsaceMoselleMode.CAP`;
* **dependants** (spouse, children) pay the negotiated price with **no employer share**: a PSC rule
  giving dependants a share is refused.

**Portability** (L911-8 CSS) costs the former employee nothing: no line at all. **Evin** prices
(loi 89-1009 art. 4, décret 2017-372) are capped by year against the active group's global price
(:func:`~mutuelle_core.departures.evin.evin_price_cap`); the survivors of a deceased employee
(maintien) follow the same caps. **Partial months** are charged whole or by days
(:class:`~mutuelle_core.contracts.contract.ProrataRule`). Each line is rounded **half up** to the
cent; a total split between payers is split with the largest-remainder rule of
:func:`~mutuelle_core.values.money.allocate`, so the parts always add up to it.

>>> from decimal import Decimal
>>> from mutuelle_core.cotisations.rules import CotisationRules, EmployerShare
>>> rules = CotisationRules.psc()
>>> rules.employer_base, rules.alsace_moselle_base
(EmployerShare(percent=Decimal('50'), amount=None), Money('26.81'))
>>> CotisationRules.private(employer_base=EmployerShare.of_percent(40))  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
mutuelle_core.errors.ValidationFailed: [validation.failed] La saisie comporte 1 erreur(s).
  - [cotisation.employer_share_below_legal] (employer_base) La part de l'employeur ... 50 % ...
"""

from __future__ import annotations

import enum
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs

from mutuelle_core.contracts.contract import ContractSettings, ProrataRule, Regime
from mutuelle_core.errors import DomainError, ErrorCollector, error_code
from mutuelle_core.i18n import message
from mutuelle_core.values.money import Money

__all__ = [
    "LEGAL_EMPLOYER_MINIMUM_PERCENT",
    "PSC_ALSACE_MOSELLE_BASE",
    "PSC_BASE_PERCENT",
    "PSC_OPTION_CAP",
    "RULES_BELOW_LEGAL",
    "RULES_INVALID",
    "RULES_PSC_BASE",
    "RULES_PSC_DEPENDANTS",
    "RULES_PSC_OPTION_CAP",
    "AgeBasis",
    "AlsaceMoselleMode",
    "CollectionChannel",
    "CotisationRules",
    "DunningRegime",
    "EmployerShare",
    "Payer",
    "round_half_up",
]

LEGAL_EMPLOYER_MINIMUM_PERCENT = Decimal(50)
"""L911-7 II CSS: the private employer funds at least half of the employee's compulsory cover."""
PSC_BASE_PERCENT = Decimal(50)
"""Décret 2022-633: the State employer pays half of the agent's base cotisation d'équilibre."""
PSC_OPTION_CAP = Money(5)
"""The most a State employer pays toward an agent's option, per month (DOMAIN.md §5)."""
PSC_ALSACE_MOSELLE_BASE = Money("26.81")
"""The State employer's monthly participation for Alsace-Moselle agents (DOMAIN.md §5; see module)."""

RULES_INVALID = error_code("cotisation.rules_invalid", "Paramètre de cotisation invalide : {setting}.")
RULES_BELOW_LEGAL = error_code(
    "cotisation.employer_share_below_legal",
    "La part de l'employeur ({share}) est inférieure au minimum légal de 50 % de la cotisation de base "
    "du salarié (article L911-7 du code de la sécurité sociale).",
)
RULES_PSC_BASE = error_code(
    "cotisation.psc_base_share",
    "La participation de l'employeur public est de 50 % de la cotisation d'équilibre de la base ({share}).",
)
RULES_PSC_OPTION_CAP = error_code(
    "cotisation.psc_option_share_above_cap",
    "La participation de l'employeur public à une option est d'au plus {cap} par mois ({share}).",
)
RULES_PSC_DEPENDANTS = error_code(
    "cotisation.psc_dependants_share",
    "Les ayants droit d'un agent public paient le tarif négocié sans participation de l'employeur.",
)


def round_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up (away from zero on ties), in exact integers.

    The engine's one rounding: an amount in cents times a fraction, back to whole cents.

    >>> round_half_up(5, 2), round_half_up(-5, 2), round_half_up(1601 * 12, 31)
    (3, -3, 620)
    """
    if denominator <= 0:
        raise ValueError("the denominator must be positive")
    if numerator >= 0:
        return (2 * numerator + denominator) // (2 * denominator)
    return -((2 * -numerator + denominator) // (2 * denominator))


class Payer(enum.Enum):
    """Who pays a cotisation line (seed 000: "Part employeur", "Part salarié")."""

    EMPLOYER = "employer"
    MEMBER = "member"

    @property
    def label(self) -> str:
        """The French label."""
        return _PAYER_LABELS[self]


_PAYER_LABELS = {Payer.EMPLOYER: message("Part employeur"), Payer.MEMBER: message("Part salarié")}


class DunningRegime(enum.Enum):
    """The legal regime of unpaid cotisations a payer falls under (a contract setting)."""

    L221_7 = "L221-7"
    L113_3 = "L113-3"
    L221_8_I = "L221-8 I"
    L221_8_II = "L221-8 II"
    L221_8_III = "L221-8 III"
    L932_9_I = "L932-9 I"
    L932_9_II = "L932-9 II"
    L932_9_III = "L932-9 III"


class CollectionChannel(enum.Enum):
    """How the insurer collects a line (seed 000 and 001: "Mode de règlement")."""

    PAYROLL_DEDUCTION = "payroll_deduction"
    """Deducted from pay by the employer (précompte), which pays it with its own share."""
    DIRECT_DEBIT = "direct_debit"
    """SEPA direct debit from the payer's account (prélèvement)."""
    CHEQUE = "cheque"
    TRANSFER = "transfer"
    CREDIT_NOTE = "credit_note"
    """A credit note (avoir) of a regularisation: what a payer was billed too much, given back on its
    account as a payment. Never a tariff's channel (the rules refuse it), never imported, never debited."""

    @property
    def label(self) -> str:
        """The French label."""
        return _CHANNEL_LABELS[self]


_CHANNEL_LABELS = {
    CollectionChannel.PAYROLL_DEDUCTION: message("Précompte sur salaire"),
    CollectionChannel.DIRECT_DEBIT: message("Prélèvement bancaire"),
    CollectionChannel.CHEQUE: message("Chèque"),
    CollectionChannel.TRANSFER: message("Virement"),
    CollectionChannel.CREDIT_NOTE: message("Avoir (régularisation)"),
}


class AlsaceMoselleMode(enum.Enum):
    """How the PSC Alsace-Moselle amount applies to the agent's base."""

    FIXED = "fixed"
    """The employer pays that amount (at most the base price) in place of 50 %."""
    CAP = "cap"
    """The employer pays 50 % of the base, at most that amount."""


class AgeBasis(enum.Enum):
    """Which age picks a tariff's age band."""

    MONTH_START = "month_start"
    """The age on the first day of the month priced."""
    CIVIL_YEAR = "civil_year"
    """The age reached during the calendar year (year minus birth year)."""


def _percent(value: Decimal | int | str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _amount(value: Money | Decimal | int | str | None) -> Money | None:
    if value is None or isinstance(value, Money):
        return value
    return Money(value)


@attrs.frozen
class EmployerShare:
    """The employer's share of one cotisation: a percentage of it, or a fixed amount per month.

    Exactly one of ``percent`` and ``amount`` is set. A fixed amount is prorated like the line it
    funds and never exceeds it.

    Attributes:
        percent: the percentage of the line the employer pays (0 to 100).
        amount: the fixed amount per whole month the employer pays.

    >>> EmployerShare.of_percent(60).cents(1001), EmployerShare.of_amount("20").cents(1500)
    (601, 1500)
    >>> EmployerShare.of_amount("20").cents(3000, Fraction(1, 2))
    1000
    """

    percent: Decimal | None = attrs.field(default=None, converter=_percent)
    amount: Money | None = attrs.field(default=None, converter=_amount)
    _fraction: Fraction | None = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        if (self.percent is None) == (self.amount is None):
            raise RULES_INVALID("employer_share", setting="percent / amount")
        if self.percent is not None and not 0 <= self.percent <= 100:
            raise RULES_INVALID("employer_share", setting=f"{self.percent} %")
        if self.amount is not None and self.amount.is_negative:
            raise RULES_INVALID("employer_share", setting=str(self.amount))
        object.__setattr__(self, "_fraction", None if self.percent is None else Fraction(self.percent) / 100)

    @classmethod
    def of_percent(cls, percent: Decimal | int | str) -> EmployerShare:
        """The employer pays ``percent`` % of the line."""
        return cls(percent=Decimal(percent))

    @classmethod
    def of_amount(cls, amount: Money | Decimal | int | str) -> EmployerShare:
        """The employer pays a fixed ``amount`` per whole month (at most the line)."""
        return cls(amount=_amount(amount))

    @classmethod
    def nothing(cls) -> EmployerShare:
        """No employer share."""
        return cls(percent=Decimal(0))

    @property
    def is_nothing(self) -> bool:
        """True when the employer pays nothing."""
        return (self.percent is not None and self.percent == 0) or (
            self.amount is not None and self.amount.is_zero
        )

    def cents(self, total_cents: int, factor: Fraction | tuple[int, int] | None = None) -> int:
        """The employer's part, in cents, of a line of ``total_cents``.

        A percentage splits the line as ``allocate(total, [percent, 100 - percent])`` does (the
        employer's part rounded half up: the largest remainder with ties to the first share). A fixed
        amount is multiplied by ``factor`` (the prorata of a partial month, as a ``Fraction`` or a
        ``(numerator, denominator)`` pair), rounded half up, and capped at the line.
        """
        fraction = self._fraction
        if fraction is not None:
            return round_half_up(total_cents * fraction.numerator, fraction.denominator)
        assert self.amount is not None
        fixed = self.amount.to_cents()
        if factor is not None:
            num, den = (factor.numerator, factor.denominator) if isinstance(factor, Fraction) else factor
            fixed = round_half_up(fixed * num, den)
        return min(fixed, total_cents)

    def describe(self) -> str:
        """``50 %`` or ``30.00 €``, for messages."""
        return f"{self.percent} %" if self.percent is not None else f"{self.amount} €"


_NOTHING = EmployerShare.nothing()
_HALF = EmployerShare.of_percent(50)


@attrs.frozen(kw_only=True)
class CotisationRules:
    """The cotisation settings of one contract (frozen; build with :meth:`private` or :meth:`psc`).

    Attributes:
        regime: private sector or State PSC: decides the legal checks.
        employer_base: the employer's share of the insured's base (at least 50 % in the private
            sector; 50 % of the cotisation d'équilibre on PSC contracts).
        employer_options: the employer's share of the insured's option supplement (PSC: at most
            :data:`PSC_OPTION_CAP` a month).
        employer_dependants: the employer's share of the dependants' lines (never on PSC contracts).
        psc_option_cap: the monthly ceiling of the PSC option participation.
        alsace_moselle_base: the PSC employer's monthly participation for Alsace-Moselle agents
            (``None``: they get the same share as everyone).
        alsace_moselle_mode: whether that amount replaces 50 % or caps it.
        free_from_child_rank: children from this rank on (eldest first) are free (``None``: all pay).
        prorata: whole month or days for a partial month.
        debit_day: the day of the month direct debits are collected (1 to 28).
        age_basis: which age picks an age band.
        employer_channel: how the employer's shares are collected (seed 000: cheque, monthly).
        payroll_channel: how the insured's part of the base is collected while active (payroll).
        member_channel: how the member's other lines are collected (options, dependants, Evin).
        evin_reference_group: the active group whose global price caps Evin prices.
        evin_uncapped_multiplier: the multiple of the active price charged from the 4th Evin year
            when the Evin group has no price of its own (150 % by default: the last cap).
        employer_dunning: the unpaid-cotisation regime of what the employer pays or deducts from pay
            (L221-8 I for a mutuelle, L932-9 I for an institution de prévoyance).
        member_dunning: the regime of what a member pays the insurer directly (options, dependants,
            Evin): L221-8 II by default (collective, optional, member pays), L221-7 for an individual
            contract.
    """

    regime: Regime
    employer_base: EmployerShare = _HALF
    employer_options: EmployerShare = _NOTHING
    employer_dependants: EmployerShare = _NOTHING
    psc_option_cap: Money = PSC_OPTION_CAP
    alsace_moselle_base: Money | None = None
    alsace_moselle_mode: AlsaceMoselleMode = AlsaceMoselleMode.FIXED
    free_from_child_rank: int | None = None
    prorata: ProrataRule = ProrataRule.WHOLE_MONTH
    debit_day: int = 5
    age_basis: AgeBasis = AgeBasis.MONTH_START
    employer_channel: CollectionChannel = CollectionChannel.TRANSFER
    payroll_channel: CollectionChannel = CollectionChannel.PAYROLL_DEDUCTION
    member_channel: CollectionChannel = CollectionChannel.DIRECT_DEBIT
    evin_reference_group: str | None = None
    evin_uncapped_multiplier: Decimal = attrs.field(default=Decimal("1.50"), converter=Decimal)
    employer_dunning: DunningRegime = DunningRegime.L221_8_I
    member_dunning: DunningRegime = DunningRegime.L221_8_II

    def __attrs_post_init__(self) -> None:
        errors = ErrorCollector()
        for field, problem in self.problems():
            errors.add(problem, field=field)
        errors.raise_if_any()

    def problems(self) -> list[tuple[str, DomainError]]:
        """Every problem of these settings, with the field at fault."""
        found: list[tuple[str, DomainError]] = []
        base = self.employer_base
        if self.regime is Regime.PRIVATE:
            if base.percent is not None and base.percent < LEGAL_EMPLOYER_MINIMUM_PERCENT:
                found.append(("employer_base", RULES_BELOW_LEGAL(share=base.describe())))
        else:
            if base.percent is not None and base.percent != PSC_BASE_PERCENT:
                found.append(("employer_base", RULES_PSC_BASE(share=base.describe())))
            option = self.employer_options.amount
            if option is not None and option > self.psc_option_cap:
                found.append(
                    (
                        "employer_options",
                        RULES_PSC_OPTION_CAP(cap=f"{self.psc_option_cap} €", share=f"{option} €"),
                    )
                )
            if not self.employer_dependants.is_nothing:
                found.append(("employer_dependants", RULES_PSC_DEPENDANTS()))
        checks = {
            "free_from_child_rank": self.free_from_child_rank is None or self.free_from_child_rank >= 1,
            "debit_day": 1 <= self.debit_day <= 28,
            "evin_uncapped_multiplier": self.evin_uncapped_multiplier >= 1,
            "psc_option_cap": not self.psc_option_cap.is_negative,
            "alsace_moselle_base": self.alsace_moselle_base is None
            or not self.alsace_moselle_base.is_negative,
            "employer_channel": self.employer_channel is not CollectionChannel.CREDIT_NOTE,
            "payroll_channel": self.payroll_channel is not CollectionChannel.CREDIT_NOTE,
            "member_channel": self.member_channel is not CollectionChannel.CREDIT_NOTE,
        }
        found.extend((name, RULES_INVALID(setting=name)) for name, ok in checks.items() if not ok)
        return found

    @property
    def is_psc(self) -> bool:
        """True for a State PSC contract."""
        return self.regime is Regime.STATE_PSC

    @classmethod
    def private(cls, **settings: Any) -> CotisationRules:
        """Private-sector rules: the employer pays 50 % of the insured's base unless told more."""
        return cls(regime=Regime.PRIVATE, **settings)

    @classmethod
    def psc(cls, **settings: Any) -> CotisationRules:
        """State PSC rules: 50 % of the base, nothing toward options unless told (at most 5 €),
        26.81 € for Alsace-Moselle agents, no share for dependants; options and dependants are
        debited from the agent's account and the agent's base share is deducted from pay (seed 002)."""
        settings.setdefault("alsace_moselle_base", PSC_ALSACE_MOSELLE_BASE)
        return cls(regime=Regime.STATE_PSC, **settings)

    @classmethod
    def from_contract(cls, regime: Regime, settings: ContractSettings, **overrides: Any) -> CotisationRules:
        """The rules of a contract: prorata, debit day and free child rank come from its settings."""
        values: dict[str, Any] = {
            "prorata": settings.prorata,
            "debit_day": settings.debit_day,
            "free_from_child_rank": settings.free_from_child_rank,
        }
        values.update(overrides)
        return cls.psc(**values) if regime is Regime.STATE_PSC else cls.private(**values)
