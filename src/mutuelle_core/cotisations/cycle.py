"""The monthly billing cycle: bill the month, issue the cotisation calls, collect the direct debits.

:func:`run_billing_cycle` chains the use cases of a month (issue #6, item 8):

1. :func:`~mutuelle_core.cotisations.billing.bill`: cotisation lines and schedule lines, page by page,
   resuming an interrupted run of the month;
2. :func:`~mutuelle_core.cotisations.regularisation.regularise`: the months billed before, for the
   affiliations changed since the previous regularisation (added to this month's dues, or credit
   notes);
3. :func:`~mutuelle_core.cotisations.calls.issue_cotisation_calls`: each contract's call (appel de
   cotisation) for what its employer owes, the month's regularisations as their own lines;
4. :func:`~mutuelle_core.cotisations.collection.collect_direct_debits`, once per collection date of the
   month (:func:`collection_dates`): the members' pain.008 files.

The members are pre-notified by the billing run (its day, the ``started_at`` of the month's latest run,
is the pre-notification date the collection checks). A direct debit is therefore collected on the
first date the law allows: its due date (the contract's ``rules.debit_day`` in the month), or the
billing day plus :data:`~mutuelle_core.cotisations.schedule.PRENOTIFICATION_DAYS` (14) days when the
month is billed less than 14 days before its due date (:func:`earliest_collection`).

Every step is idempotent, so is the cycle: running it again for a month bills nobody twice, issues no
second call, and collects nothing already collected (the dues are paid). A cycle stopped midway (a
crash, a raising ``progress`` callback) is finished by running it again: the bill resumes after its
last committed page, then the calls and the files are made.

The due dates come from the tariffs of the contracts billed in the month (those with member lines
collected by direct debit, from :meth:`~mutuelle_core.ports.AccountRepository.month_totals`), computed
as the billing run computes the schedule's. A contract whose ``debit_day`` was changed after the month
was billed gets its collection on the new day: a due that falls after it waits for a later collection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import attrs

from mutuelle_core.cotisations.billing import BillingProgress, BillingReport, PageSource, bill
from mutuelle_core.cotisations.calls import CotisationCall, issue_cotisation_calls
from mutuelle_core.cotisations.collection import MEMBERS_PER_FILE, CollectionReport, collect_direct_debits
from mutuelle_core.cotisations.regularisation import RegularisationReport, regularise
from mutuelle_core.cotisations.rules import CollectionChannel, Payer
from mutuelle_core.cotisations.schedule import earliest_collection
from mutuelle_core.ports import DirectDebitFiles
from mutuelle_core.services import Services
from mutuelle_core.values.dates import Month
from mutuelle_core.values.money import Money

__all__ = ["BillingCycleReport", "collection_dates", "earliest_collection", "run_billing_cycle"]

_MEMBER = Payer.MEMBER.value
_DIRECT_DEBIT = CollectionChannel.DIRECT_DEBIT


@attrs.frozen(kw_only=True)
class BillingCycleReport:
    """What a billing cycle did.

    Attributes:
        month: the month.
        billing: what the billing run did.
        regularisation: what the regularisation of the months billed before did (run after the bill).
        calls: the cotisation calls issued by this cycle (none when every contract had its call).
        collections: one collection per collection date, in date order (empty when the cycle was
            run without collecting).
        collected: whether the direct debits were collected (``False`` when run without files).
    """

    month: Month
    billing: BillingReport
    regularisation: RegularisationReport
    calls: tuple[CotisationCall, ...]
    collections: tuple[CollectionReport, ...]
    collected: bool

    @property
    def published(self) -> tuple[str, ...]:
        """Where every SEPA file of the cycle was published, in date order."""
        return tuple(where for report in self.collections for where in report.published)

    @property
    def debits(self) -> int:
        """How many direct debits the cycle's files carry."""
        return sum(report.debits for report in self.collections)

    @property
    def amount(self) -> Money:
        """The total of the cycle's direct debits."""
        return Money.cents(sum(report.amount.to_cents() for report in self.collections))


def collection_dates(svc: Services, month: Month) -> list[dt.date]:
    """The collection dates of the members' direct debits of a billed month, in order.

    One per distinct due date of the contracts whose members are billed in ``month`` (lines of the
    month, or regularisations billed in it) and pay by direct debit (the contract's ``rules.debit_day`` in the month, as the billing run sets the
    schedule's), moved to :func:`earliest_collection` after the day of the month's latest billing
    run (the pre-notification). Empty when the month was never billed.
    """
    key = str(month)
    dates: set[dt.date] = set()
    with svc.uow() as uow:
        run = uow.cotisations.latest_run(key)
        if run is None:
            return []
        # the collection checks the pre-notification against this very date (the run's UTC day)
        notified_on = run.started_at.date()
        # the month's own lines, and the regularisations it bills (a member due of the month may exist
        # only because of them: a dependant added after the month was billed, from an earlier date)
        rows = [*uow.accounts.month_totals(key), *uow.cotisations.regularisation_totals(key)]
        contracts = sorted(
            {
                str(row["contract_number"])
                for row in rows
                if row["payer"] == _MEMBER and row["channel"] == _DIRECT_DEBIT.value
            }
        )
        for number in contracts:
            tariff = uow.tariffs.find(number)
            if tariff is None or tariff.rules.member_channel is not _DIRECT_DEBIT:
                continue  # collect_direct_debits would skip its members (not_direct_debit)
            day = min(tariff.rules.debit_day, month.days_in_month)  # as bill() dates the schedule
            dates.add(earliest_collection(dt.date(month.year, month.month, day), notified_on))
    return sorted(dates)


def run_billing_cycle(
    svc: Services,
    month: Month,
    files: DirectDebitFiles | None,
    *,
    batch_size: int = 2000,
    progress: Callable[[BillingProgress], None] | None = None,
    members_per_file: int = MEMBERS_PER_FILE,
    pages: PageSource | None = None,
) -> BillingCycleReport:
    """Bill ``month``, issue its cotisation calls and collect its direct debits (see the module docstring).

    Args:
        svc: the services.
        month: the month billed.
        files: where the SEPA files are built and published; ``None`` bills and calls only (the
            direct debits are then collected later, by
            :func:`~mutuelle_core.cotisations.collection.collect_direct_debits`).
        batch_size: affiliations per page and per transaction of the billing run.
        progress: called after each committed page of the billing run; an exception it raises stops
            the cycle, which the next call resumes.
        members_per_file: members per SEPA file (and per transaction) of each collection.
        pages: where the billing run's priced pages come from (see :func:`~mutuelle_core.cotisations.billing.bill`).

    Returns:
        What the cycle did.

    Raises:
        DomainError: ``billing.batch_invalid`` for a batch size below 1 (nothing is done).
    """
    billing = bill(svc, month, batch_size=batch_size, progress=progress, pages=pages)
    regularisation = regularise(svc, month)
    calls = issue_cotisation_calls(svc, month)
    collections: list[CollectionReport] = []
    if files is not None:
        for day in collection_dates(svc, month):
            collections.append(collect_direct_debits(svc, day, files, members_per_file=members_per_file))
    return BillingCycleReport(
        month=month,
        billing=billing,
        regularisation=regularisation,
        calls=tuple(calls),
        collections=tuple(collections),
        collected=files is not None,
    )
