"""Schedules (échéanciers): one payer's cotisations grouped by payment frequency, with due dates.

A payer (the employer, or a member for what is debited from their own account) pays monthly,
quarterly, half-yearly or yearly (seed 000, "Fréquence de règlement"; seed 001, "PRELEVEMENT BANCAIRE
(MENSUEL)"). :func:`build_schedule` groups the payer's monthly cotisations into instalments:

* periods follow the calendar from the schedule year's first month (January unless told): quarters
  January-March, April-June...; a member who joins in May has a shorter first quarter;
* each instalment is **exactly** the sum of its months' cotisations, so the schedule adds up to the
  period's cotisation to the cent; to spread a yearly amount evenly instead, :func:`spread_evenly`
  splits it with :func:`~mutuelle_core.values.money.allocate`;
* the due date is the contract's debit day: of the period's first month when cotisations are paid in
  advance (*à échoir*, the usual rule), of the month after the period when paid in arrears (*à terme
  échu*); a due date before ``earliest_collection`` (say, the day the mandate is signed plus the
  pre-notification delay) moves to the next debit day on or after it, where it may meet the next
  instalment (two collections on one day, or one if the SEPA file groups them);
* SEPA **pre-notification**: the payer of a direct debit is told the amount and date at least
  **14 calendar days** before each collection unless the mandate agrees a shorter delay (SEPA Core
  rulebook). A schedule document listing every instalment (the yearly *avis d'échéance*, seed 001:
  "Avis d'échéance annuel") is one pre-notification for all of them: it must go out by the earliest
  instalment's deadline (:attr:`Schedule.notify_by`). Otherwise each collection is pre-notified on
  its own (:attr:`Installment.notify_by`).

Due dates are nominal: moving a date that falls on a TARGET2 closing day to the next business day is
the SEPA file's job.

Who collects what: an active member's share of the base deducted from pay is paid to the insurer by
the employer, with its own share; :func:`collector` tells which payer's schedule a line belongs to.

>>> from mutuelle_core.cotisations.rules import CollectionChannel, Payer
>>> from mutuelle_core.cotisations.schedule import Frequency, build_schedule
>>> from mutuelle_core.values.dates import Month
>>> from mutuelle_core.values.money import Money
>>> months = {Month(2026, m): Money("36.00") for m in range(5, 13)}
>>> s = build_schedule(payer_id="M1", payer=Payer.MEMBER, monthly=months, frequency=Frequency.QUARTERLY,
...                    debit_day=5, channel=CollectionChannel.DIRECT_DEBIT)
>>> [(str(i.months[0]), str(i.amount), i.due_date.isoformat()) for i in s.installments]
[('2026-05', '72.00', '2026-05-05'), ('2026-07', '108.00', '2026-07-05'), ('2026-10', '108.00', '2026-10-05')]
>>> s.total, s.notify_by
(Money('288.00'), datetime.date(2026, 4, 21))
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping

import attrs

from mutuelle_core.cotisations.engine import CotisationLine
from mutuelle_core.cotisations.rules import CollectionChannel, Payer
from mutuelle_core.errors import error_code
from mutuelle_core.i18n import message
from mutuelle_core.values.dates import DateRange, Month
from mutuelle_core.values.money import Money, allocate

__all__ = [
    "PRENOTIFICATION_DAYS",
    "SCHEDULE_INVALID",
    "SCHEDULE_NEGATIVE",
    "SCHEDULE_PRENOTIFICATION_LATE",
    "Frequency",
    "Installment",
    "NoticeMode",
    "Schedule",
    "Term",
    "build_schedule",
    "check_prenotification",
    "collector",
    "earliest_collection",
    "monthly_totals",
    "prenotification_deadline",
    "spread_evenly",
]

PRENOTIFICATION_DAYS = 14
"""SEPA Core: the debtor is pre-notified 14 calendar days before collection unless agreed otherwise."""


def earliest_collection(due_date: dt.date, notified_on: dt.date, days: int = PRENOTIFICATION_DAYS) -> dt.date:
    """The first day a due told to its payer on ``notified_on`` may be collected, or chased: its due
    date at the earliest, ``days`` (14) days after the payer was told at the latest.

    The billing run and the regularisation set their dues' dates with it (see
    :mod:`~mutuelle_core.cotisations.billing`): a direct debit is pre-notified 14 days before it is
    collected, and no payer is chased for an amount called less than 14 days before.

    >>> earliest_collection(dt.date(2026, 6, 5), notified_on=dt.date(2026, 5, 4))
    datetime.date(2026, 6, 5)
    >>> earliest_collection(dt.date(2026, 5, 5), notified_on=dt.date(2026, 5, 4))
    datetime.date(2026, 5, 18)
    """
    return max(due_date, notified_on + dt.timedelta(days=days))


SCHEDULE_INVALID = error_code("schedule.invalid", "Échéancier invalide : {setting}.")
SCHEDULE_NEGATIVE = error_code(
    "schedule.negative_amount", "La cotisation de {month} est négative ({amount}) : régularisez-la à part."
)
SCHEDULE_PRENOTIFICATION_LATE = error_code(
    "schedule.prenotification_late",
    "Le prélèvement du {collection} devait être pré-notifié au plus tard le {deadline} "
    "({days} jours avant) ; la notification est du {sent_on}.",
)


class Frequency(enum.Enum):
    """How often a payer pays (seed 000: "Fréquence de règlement")."""

    MONTHLY = 1
    QUARTERLY = 3
    HALF_YEARLY = 6
    YEARLY = 12

    @property
    def months(self) -> int:
        """The number of months an instalment covers."""
        return self.value

    @property
    def label(self) -> str:
        """The French label."""
        return _FREQUENCY_LABELS[self]


_FREQUENCY_LABELS = {
    Frequency.MONTHLY: message("Mensuel"),
    Frequency.QUARTERLY: message("Trimestriel"),
    Frequency.HALF_YEARLY: message("Semestriel"),
    Frequency.YEARLY: message("Annuel"),
}


class Term(enum.Enum):
    """When an instalment falls due relative to the period it pays for."""

    IN_ADVANCE = "in_advance"
    """À échoir: at the start of the period (the debit day of its first month)."""
    IN_ARREARS = "in_arrears"
    """À terme échu: after the period (the debit day of the month that follows it)."""


class NoticeMode(enum.Enum):
    """How direct debits are pre-notified."""

    SCHEDULE_DOCUMENT = "schedule_document"
    """One document listing every instalment (yearly avis d'échéance) pre-notifies them all."""
    PER_COLLECTION = "per_collection"
    """Each collection is pre-notified on its own."""


def prenotification_deadline(collection: dt.date, days: int = PRENOTIFICATION_DAYS) -> dt.date:
    """The last day to pre-notify a direct debit collected on ``collection``.

    >>> prenotification_deadline(dt.date(2026, 3, 5))
    datetime.date(2026, 2, 19)
    """
    return collection - dt.timedelta(days=days)


def check_prenotification(sent_on: dt.date, collection: dt.date, days: int = PRENOTIFICATION_DAYS) -> None:
    """Accept a pre-notification sent on ``sent_on`` for a collection on ``collection``, or refuse it.

    Raises:
        DomainError: ``schedule.prenotification_late`` (field ``sent_on``) when sent after the deadline.

    >>> check_prenotification(dt.date(2026, 2, 19), dt.date(2026, 3, 5))
    >>> check_prenotification(dt.date(2026, 2, 20), dt.date(2026, 3, 5))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mutuelle_core.errors.DomainError: [schedule.prenotification_late] (sent_on) Le prélèvement du 05/03/2026 ...
    """
    deadline = prenotification_deadline(collection, days)
    if sent_on > deadline:
        raise SCHEDULE_PRENOTIFICATION_LATE(
            "sent_on", collection=collection, deadline=deadline, days=days, sent_on=sent_on
        )


@attrs.frozen(kw_only=True)
class Installment:
    """One line of a schedule: the months it pays for, the amount, the due date.

    Attributes:
        months: the months paid, in order.
        amount: the sum of those months' cotisations.
        due_date: the collection (or payment) date.
        notify_by: the last day to pre-notify this collection on its own (direct debit only).
    """

    months: tuple[Month, ...]
    amount: Money
    due_date: dt.date
    notify_by: dt.date | None = None

    @property
    def period(self) -> DateRange:
        """The days paid for, from the first month's first day to the last month's last day."""
        return DateRange(self.months[0].first_day, self.months[-1].last_day)


@attrs.frozen(kw_only=True)
class Schedule:
    """One payer's schedule (échéancier): instalments in date order.

    Attributes:
        payer_id: the employer's or the member's id.
        payer: which kind of payer.
        frequency: monthly, quarterly, half-yearly or yearly.
        channel: how it is collected.
        term: in advance or in arrears.
        notice: one schedule document, or a notice per collection.
        prenotification_days: the agreed pre-notification delay (14 days unless agreed shorter).
        installments: the instalments.
    """

    payer_id: str
    payer: Payer
    frequency: Frequency
    channel: CollectionChannel
    term: Term
    notice: NoticeMode
    prenotification_days: int
    installments: tuple[Installment, ...]

    @property
    def total(self) -> Money:
        """The sum of the instalments."""
        return Money.total(i.amount for i in self.installments)

    @property
    def notify_by(self) -> dt.date | None:
        """The last day to send the schedule document when it is the pre-notification (direct debit)."""
        if self.notice is not NoticeMode.SCHEDULE_DOCUMENT:
            return None
        dates = [i.notify_by for i in self.installments if i.notify_by is not None]
        return min(dates) if dates else None

    def late_installments(self, sent_on: dt.date) -> tuple[Installment, ...]:
        """The instalments a notice sent on ``sent_on`` pre-notifies too late (the schedule document
        for all of them, or a per-collection notice for the one it announces)."""
        return tuple(i for i in self.installments if i.notify_by is not None and sent_on > i.notify_by)


def _debit_date(month: Month, debit_day: int) -> dt.date:
    return dt.date(month.year, month.month, min(debit_day, month.days_in_month))


def _not_before(due: dt.date, earliest: dt.date | None, debit_day: int) -> dt.date:
    if earliest is None or due >= earliest:
        return due
    month = Month.of(earliest)
    candidate = _debit_date(month, debit_day)
    return candidate if candidate >= earliest else _debit_date(month.next(), debit_day)


def build_schedule(
    *,
    payer_id: str,
    payer: Payer,
    monthly: Mapping[Month, Money] | Iterable[tuple[Month, Money]],
    frequency: Frequency,
    debit_day: int,
    channel: CollectionChannel,
    term: Term = Term.IN_ADVANCE,
    year_start_month: int = 1,
    earliest_collection: dt.date | None = None,
    notice: NoticeMode = NoticeMode.SCHEDULE_DOCUMENT,
    prenotification_days: int = PRENOTIFICATION_DAYS,
) -> Schedule:
    """Group a payer's monthly cotisations into a schedule.

    Args:
        payer_id: the payer's id.
        payer: employer or member.
        monthly: the cotisation of each month (months may be missing; a month given twice adds up).
        frequency: the payer's frequency.
        debit_day: the contract's debit day (1 to 28).
        channel: how the payer pays; only direct debits get pre-notification dates.
        term: in advance (default) or in arrears.
        year_start_month: the first month of the schedule year (periods are aligned on it).
        earliest_collection: no due date before this day (moved to the next debit day).
        notice: a schedule document for all instalments (default) or a notice per collection.
        prenotification_days: the pre-notification delay (14; a mandate may agree a shorter one).

    Returns:
        The schedule; instalments whose months add up to zero are left out.

    Raises:
        DomainError: ``schedule.invalid`` for a debit day, start month or delay out of range,
            ``schedule.negative_amount`` for a negative month.
    """
    if not 1 <= debit_day <= 28:
        raise SCHEDULE_INVALID("debit_day", setting="debit_day")
    if not 1 <= year_start_month <= 12:
        raise SCHEDULE_INVALID("year_start_month", setting="year_start_month")
    if prenotification_days < 1:
        raise SCHEDULE_INVALID("prenotification_days", setting="prenotification_days")
    pairs = monthly.items() if isinstance(monthly, Mapping) else monthly
    cents: dict[Month, int] = {}
    for month, amount in pairs:
        if amount.is_negative:
            raise SCHEDULE_NEGATIVE("monthly", month=str(month), amount=str(amount))
        cents[month] = cents.get(month, 0) + amount.to_cents()
    step = frequency.months
    groups: dict[int, list[Month]] = {}
    for month in sorted(cents):
        index = (month.year * 12 + month.month - year_start_month) // step
        groups.setdefault(index, []).append(month)
    installments = []
    for index in sorted(groups):
        months = tuple(groups[index])
        period_cents = sum(cents[m] for m in months)
        if period_cents == 0:
            continue
        if term is Term.IN_ADVANCE:
            # the first month billed: a member who joins mid-period is not debited before cover starts
            due_month = months[0]
        else:
            last_index = index * step + step - 1 + year_start_month - 1
            due_month = Month(last_index // 12, last_index % 12 + 1).next()
        due = _not_before(_debit_date(due_month, debit_day), earliest_collection, debit_day)
        notify_by = (
            prenotification_deadline(due, prenotification_days)
            if channel is CollectionChannel.DIRECT_DEBIT
            else None
        )
        installments.append(
            Installment(months=months, amount=Money.cents(period_cents), due_date=due, notify_by=notify_by)
        )
    return Schedule(
        payer_id=payer_id,
        payer=payer,
        frequency=frequency,
        channel=channel,
        term=term,
        notice=notice,
        prenotification_days=prenotification_days,
        installments=tuple(installments),
    )


def spread_evenly(total: Money, parts: int) -> list[Money]:
    """Split a period's cotisation into ``parts`` instalments that add up to it exactly.

    >>> spread_evenly(Money("1000.00"), 12)[:5]
    [Money('83.34'), Money('83.34'), Money('83.34'), Money('83.34'), Money('83.33')]
    """
    if parts < 1:
        raise SCHEDULE_INVALID("parts", setting="parts")
    return allocate(total, [1] * parts)


def collector(line: CotisationLine) -> Payer:
    """Whose schedule a line belongs to: the employer collects its share and what it deducts from pay.

    >>> from mutuelle_core.contracts.contract import ProductLevel
    >>> from mutuelle_core.cotisations.tariff import PersonCategory
    >>> line = CotisationLine("M1", "M1", PersonCategory.INSURED, ProductLevel.BASE, Money(30),
    ...                       Payer.MEMBER, CollectionChannel.PAYROLL_DEDUCTION)
    >>> collector(line)
    <Payer.EMPLOYER: 'employer'>
    """
    if line.payer is Payer.EMPLOYER or line.channel is CollectionChannel.PAYROLL_DEDUCTION:
        return Payer.EMPLOYER
    return Payer.MEMBER


def monthly_totals(
    lines_by_month: Mapping[Month, Iterable[CotisationLine]], payer: Payer
) -> dict[Month, Money]:
    """Each month's total of the lines a payer's schedule collects (see :func:`collector`)."""
    totals: dict[Month, Money] = {}
    for month, lines in lines_by_month.items():
        totals[month] = Money.cents(sum(line.amount.to_cents() for line in lines if collector(line) is payer))
    return totals
