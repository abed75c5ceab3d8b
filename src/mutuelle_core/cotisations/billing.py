"""The monthly billing run: every billable affiliation of every contract to cotisation and schedule lines.

:func:`bill` is **idempotent**, **resumable** and **streaming**:

* it reads the affiliations page by page in ``affiliation_id`` order
  (:meth:`~mutuelle_core.ports.AffiliationRepository.billable_after`, lean projections rather than
  aggregates), so its memory does not grow with the number of members;
* it commits once per page (``batch_size`` affiliations): the lines, the schedule lines and the run's
  cursor (the last affiliation id of the page) in the same transaction. A run that stops midway (a
  crash, a raising ``progress`` callback) stays ``running``; the next :func:`bill` of the same month
  resumes after its cursor;
* an affiliation that already has lines for the month is skipped (a second run of a finished month
  adds nothing), and the lines' unique key ``(affiliation_id, month, person_id, product, payer,
  channel)`` is the last line of defence: a batch that would bill someone twice fails as a whole.

Lines come from the pure engine (:func:`~mutuelle_core.cotisations.engine.cotisation_for_month`) with
each contract's :class:`~mutuelle_core.cotisations.engine.ContractPricing` compiled once per run, and
are turned into rows (tuples of plain values in
:data:`~mutuelle_core.cotisations.records.LINE_COLUMNS` order, amounts in integer cents) for one bulk
insert per page. Members of a
contract mostly share a few household shapes (status, group, formula, dates, the categories and
periods of the people covered...): each shape is priced once per run and its lines reused, person for
person, for the next affiliations of that shape, which get exactly the lines the engine would give
them (the shape holds every input of the engine but the ids; birth dates only when the grid prices
by age or ranks children). An affiliation whose member pays part of it gets one schedule line, the
member's due (see :func:`~mutuelle_core.cotisations.schedule.collector`); what the employer pays for
it (its share and what it deducts from pay) is added, page by page in the same transaction, to the
contract's **employer due** of the month: one row per contract and month, however many members.
Both fall due on the contract's debit day of the month, or 14 days after the billing day when the
month is billed later than 14 days before it (:func:`~mutuelle_core.cotisations.schedule.earliest_collection`):
the billing tells the payers (the member space shows a member's due, the cotisation call the
employer's), a direct debit is pre-notified 14 days before it is collected, and no payer is chased
(:mod:`~mutuelle_core.cotisations.dunning_run`) for an amount called less than 14 days before.

An affiliation the engine cannot price (a price missing in the grid, no tariff for its contract...) is
left unbilled and reported; the run goes on with the others.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Generator, Sequence
from typing import cast

import attrs

from mutuelle_core.affiliation.transitions import AffiliationStatus
from mutuelle_core.cotisations.engine import (
    ENGINE_SNAPSHOT_INVALID,
    ContractPricing,
    CotisationLine,
    CoverStatus,
    MemberSnapshot,
)
from mutuelle_core.cotisations.records import (
    BillableAffiliation,
    BillingRun,
    BillingRunStatus,
    ContractTariff,
    LineValues,
    ScheduleValues,
)
from mutuelle_core.cotisations.rules import CollectionChannel, CotisationRules, Payer
from mutuelle_core.cotisations.schedule import earliest_collection
from mutuelle_core.departures.departure import ContinuationKind
from mutuelle_core.errors import DomainError, error_code
from mutuelle_core.ports import UnitOfWork
from mutuelle_core.services import Services
from mutuelle_core.values.dates import DateRange, Month

__all__ = [
    "BILLING_BATCH_INVALID",
    "BILLING_TARIFF_MISSING",
    "BillingProgress",
    "BillingReport",
    "PagePricer",
    "PageSource",
    "PricedPage",
    "bill",
    "priced_pages",
    "priced_rows",
    "set_tariff",
    "snapshots_for",
]

BILLING_TARIFF_MISSING = error_code(
    "billing.tariff_missing", "Le contrat {contract} n'a pas de tarif : ses adhérents ne sont pas facturés."
)
BILLING_BATCH_INVALID = error_code(
    "billing.batch_invalid", "La taille des lots de facturation doit être un entier positif (reçu : {size})."
)

MAX_REPORTED_ERRORS = 100
"""How many unbilled affiliations a report lists (the count is always exact)."""

_MOVED = frozenset({AffiliationStatus.PORTABILITY, AffiliationStatus.EVIN, AffiliationStatus.MAINTIEN})


@attrs.frozen(kw_only=True)
class BillingProgress:
    """Where a run stands after a committed batch (what the progress callback receives).

    Attributes:
        run_id: the run.
        affiliations: billable affiliations read so far by this run (including before a resume).
        lines: lines written so far by this run.
        cursor: the last affiliation id committed.
    """

    run_id: str
    affiliations: int
    lines: int
    cursor: str | None


@attrs.frozen(kw_only=True)
class BillingReport:
    """What a billing run did.

    Attributes:
        run_id: the run (the resumed one when ``resumed``).
        month: the month billed.
        resumed: the run continued an interrupted one.
        affiliations: billable affiliations read by this run, resumed part included.
        billed: affiliations given lines.
        already_billed: affiliations skipped because the month was already billed for them.
        lines: cotisation lines written.
        schedule_lines: members' schedule lines written (by this call).
        employer_amount_cents: added to the employers' dues of the month (by this call), in cents.
        amount_cents: total of the lines written, in cents.
        unbilled: how many affiliations could not be priced.
        errors: the first of them, as ``(affiliation_id, error code)``.
    """

    run_id: str
    month: Month
    resumed: bool
    affiliations: int
    billed: int
    already_billed: int
    lines: int
    schedule_lines: int
    employer_amount_cents: int
    amount_cents: int
    unbilled: int
    errors: tuple[tuple[str, str], ...] = ()


def set_tariff(svc: Services, tariff: ContractTariff) -> ContractTariff:
    """Store (or replace) a contract's tariff grid and cotisation rules; returns it stored.

    The contract must exist (``not_found`` otherwise); the grid and rules are compiled once to check
    them (a private employer's fixed share below the legal 50 %, say, is refused here).
    """
    ContractPricing(tariff.grid, tariff.rules)
    with svc.uow() as uow:
        uow.contracts.get(tariff.contract_number)
        current = uow.tariffs.find(tariff.contract_number)
        stored = uow.tariffs.put(attrs.evolve(tariff, version=0 if current is None else current.version))
        uow.commit()
    return stored


def snapshots_for(
    member: BillableAffiliation, rules: CotisationRules, month: Month | None = None
) -> tuple[MemberSnapshot, ...]:
    """The engine snapshots of an affiliation: its active cover, then its Evin or maintien cover.

    Like :func:`~mutuelle_core.cotisations.engine.snapshots_from_affiliation`, from the lean projection.
    Portability gets no snapshot (free). Once the file has moved to a P, E or M group, its former
    active group is not stored: the active days (a departure within the month billed) are priced in
    the contract's ``rules.evin_reference_group``. Given ``month``, an active cover that ended before
    it is left out.

    Raises:
        DomainError: ``cotisation.snapshot_invalid`` when active days of a moved file must be priced
            and the rules name no reference group.
    """
    effective, level = member.effective_date, member.level
    if effective is None or level is None:
        return ()
    last_day = member.departure_last_day
    out: list[MemberSnapshot] = []
    ended_before = month is not None and last_day is not None and last_day < month.first_day
    if (last_day is None or last_day >= effective) and not ended_before:
        group = member.group_code
        if member.status in _MOVED:
            if rules.evin_reference_group is None:
                raise ENGINE_SNAPSHOT_INVALID(
                    "active_group_code", rule="le groupe des actifs n'est pas connu"
                )
            group = rules.evin_reference_group
        out.append(
            MemberSnapshot(
                member_id=member.member_id,
                group_code=group,
                level=level,
                cover=DateRange(effective, last_day),
                birth_date=member.birth_date,
                beneficiaries=member.beneficiaries,
                alsace_moselle=member.alsace_moselle,
            )
        )
    period = member.continuation_period
    if member.continuation_kind is not None and period is not None:
        evin = member.continuation_kind is ContinuationKind.EVIN
        out.append(
            MemberSnapshot(
                member_id=member.member_id,
                group_code=member.group_code,
                level=level,
                cover=period,
                status=CoverStatus.EVIN if evin else CoverStatus.MAINTIEN,
                insured_covered=evin,
                birth_date=member.birth_date,
                beneficiaries=member.beneficiaries,
                alsace_moselle=member.alsace_moselle,
                continuation_start=period.start,
            )
        )
    return tuple(out)


_EMPLOYER, _MEMBER = Payer.EMPLOYER, Payer.MEMBER
_MEMBER_VALUE = _MEMBER.value
_PAYROLL = CollectionChannel.PAYROLL_DEDUCTION


class PricedPage:
    """One page of a billing run, priced: the rows to write and what to report.

    Plain values only (it pickles): an adapter may price pages in another process (see
    :data:`PageSource`). ``lines`` and ``schedule`` are tuples of values in
    :data:`~mutuelle_core.cotisations.records.LINE_COLUMNS` and
    :data:`~mutuelle_core.cotisations.records.SCHEDULE_COLUMNS` order, as
    :class:`~mutuelle_core.ports.CotisationRepository` takes them; ``employer`` is the employers'
    total of the page by contract, due on ``due_dates[contract]``.
    """

    __slots__ = (
        "already",
        "amount",
        "billed",
        "cursor",
        "due_dates",
        "employer",
        "errors",
        "lines",
        "read",
        "schedule",
        "unbilled",
    )

    def __init__(self, cursor: str | None = None, read: int = 0) -> None:
        self.cursor = cursor
        """The last affiliation id of the page (the run's cursor once it is committed)."""
        self.read = read
        """Billable affiliations read in the page."""
        self.already = 0
        """Affiliations skipped: already billed for the month."""
        self.lines: list[LineValues] = []
        self.schedule: list[ScheduleValues] = []
        self.employer: dict[str, int] = {}
        self.due_dates: dict[str, dt.date] = {}
        self.billed = 0
        """Affiliations given lines."""
        self.amount = 0
        """Total of the lines, in cents."""
        self.unbilled = 0
        """Affiliations that could not be priced."""
        self.errors: list[tuple[str, str]] = []
        """The first of them, as ``(affiliation_id, error code)``."""

    def __getstate__(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state: dict[str, object]) -> None:
        for name, value in state.items():
            setattr(self, name, value)


_Batch = PricedPage


_Spec = tuple[int, int, str, str, str, int]
"""One row of a priced household: (index of the person, product, payer, channel, category, cents);
the person is the insured at index 0, then the beneficiaries in order."""
_Priced = tuple[tuple[_Spec, ...], int, int] | None
"""A priced household: its rows, the employer's and the member's totals; ``None`` bills nothing."""
_Key = tuple[object, ...]

MAX_MEMOISED_HOUSEHOLDS = 50_000
"""How many household shapes a run keeps priced (then it starts again): memory stays bounded."""


def _household(member: BillableAffiliation, pricing: ContractPricing) -> _Key:
    """Everything the lines of ``member`` depend on, except who the people are.

    Two affiliations of a contract with the same key get the same lines, person for person (by
    position), in the month of the run: the key holds every input of :func:`snapshots_for` and of the
    engine but the ids (the affiliation, the adhesion, the beneficiaries), birth dates only when the
    grid prices by age or ranks children, and then the order of the beneficiaries' ids, which breaks
    ties between children born the same day.
    """
    people = member.beneficiaries
    by_age, by_rank = pricing.prices_by_age, pricing.prices_by_child_rank
    shape: tuple[object, ...] = ()
    if people:
        if by_age or by_rank:
            shape = tuple(
                (p.category._value_, p.period.start, p.period.end, p.birth_date, p.birth_rank) for p in people
            )
            if by_rank:
                ids = [p.person_id for p in people]
                shape += (tuple(sorted(range(len(ids)), key=ids.__getitem__)),)
        else:
            shape = tuple((p.category._value_, p.period.start, p.period.end) for p in people)
    period = member.continuation_period
    kind = member.continuation_kind
    return (
        member.contract_number,
        member.status._value_,
        member.group_code,
        member.level,
        member.effective_date,
        member.departure_last_day,
        None if kind is None else kind._value_,
        None if period is None else period.start,
        None if period is None else period.end,
        member.alsace_moselle,
        member.birth_date if by_age else None,
        shape,
    )


def _price(member: BillableAffiliation, pricing: ContractPricing, month: Month) -> _Priced:
    """Price one affiliation through the engine, as a household (rows by person index, merged).

    A line whose key ``(person, product, payer, channel)`` appears in two covers of the month (active,
    then Evin) is one row, the sum of both.

    Raises:
        DomainError: what :func:`snapshots_for` and the engine raise.
    """
    snapshots = snapshots_for(member, pricing.rules, month)
    if not snapshots:
        return None
    lines: list[CotisationLine] = []
    for snapshot in snapshots:
        lines.extend(pricing.lines_for(snapshot, month))
    if not lines:
        return None
    index = {member.member_id: 0}
    for i, person in enumerate(member.beneficiaries, 1):
        index.setdefault(person.person_id, i)
    rows: dict[tuple[int, int, str, str], list[object]] = {}
    employer_total = member_total = 0
    for line in lines:
        cents = line.amount.to_cents()
        payer, channel = line.payer, line.channel
        key = (index[line.person_id], line.product.value, payer.value, channel.value)
        row = rows.get(key)
        if row is None:
            rows[key] = [*key, line.category.value, cents]
        else:  # the same key in two covers of the month (active, then Evin): one line
            row[5] = cast(int, row[5]) + cents
        if payer is _EMPLOYER or channel is _PAYROLL:
            employer_total += cents
        else:
            member_total += cents
    specs = tuple(cast(_Spec, tuple(row)) for row in rows.values())
    return specs, employer_total, member_total


LineKey = tuple[str, int, str, str]
"""The key of a cotisation line within an affiliation and month: ``(person_id, product, payer, channel)``."""


def priced_rows(
    member: BillableAffiliation, pricing: ContractPricing, month: Month
) -> dict[LineKey, tuple[str, int]]:
    """What the billing run would bill ``member`` for ``month`` now: ``(category, cents)`` per line key.

    The same pricing and the same merge by key as the monthly run (a key in two covers of the
    month is one line, the sum of both); empty when nothing is billed. The regularisation
    (:mod:`~mutuelle_core.cotisations.regularisation`) compares it with what was billed.

    Raises:
        DomainError: what :func:`snapshots_for` and the engine raise.
    """
    priced = _price(member, pricing, month)
    if priced is None:
        return {}
    ids = [member.member_id, *(p.person_id for p in member.beneficiaries)]
    out: dict[LineKey, tuple[str, int]] = {}
    for person, product, payer, channel, category, cents in priced[0]:
        out[(ids[person], product, payer, channel)] = (category, cents)
    return out


_LineTail = tuple[int, str, str, str, int, str, str, str]
"""What a household's line shares with the same line of every household of that shape in the run:
``(product, payer, channel, category, amount_cents, month, run_id, contract_number)``."""
_Entry = tuple[tuple[tuple[int, _LineTail], ...], int, int, tuple[str, str, dt.date, str, str]] | None
"""A priced household ready to bill: each line as (index of the person, its tail), the employer's
and the member's totals, the tail of the member's schedule line; ``None`` bills nothing."""
_UNSEEN: _Entry = ((), -1, -1, ("", "", dt.date.min, "", ""))
"""A marker for a household shape not priced yet in the run."""


def _entry(priced: _Priced, key: str, run_id: str, number: str, due_date: dt.date) -> _Entry:
    if priced is None:
        return None
    specs, employer_total, member_total = priced
    lines = tuple(
        (person, (product, payer, channel, category, cents, key, run_id, number))
        for person, product, payer, channel, category, cents in specs
    )
    return lines, employer_total, member_total, (key, _MEMBER_VALUE, due_date, run_id, number)


def _bill_one(
    member: BillableAffiliation,
    pricing: ContractPricing,
    month: Month,
    key: str,
    run_id: str,
    due_date: dt.date,
    batch: _Batch,
    memo: dict[_Key, _Entry],
) -> None:
    aff_id, number, member_id = member.affiliation_id, member.contract_number, member.member_id
    people = member.beneficiaries
    ids = [member_id]
    if people:
        ids.extend([p.person_id for p in people])
    if len(ids) == 1 or len(set(ids)) == len(ids):
        household = _household(member, pricing)
        entry = memo.get(household, _UNSEEN)
        if entry is _UNSEEN:
            entry = _entry(_price(member, pricing, month), key, run_id, number, due_date)
            if len(memo) >= MAX_MEMOISED_HOUSEHOLDS:
                memo.clear()
            memo[household] = entry
    else:  # one id for two people: its lines merge by id, unlike a household's (not memoised)
        entry = _entry(_price(member, pricing, month), key, run_id, number, due_date)
    if entry is None:
        return
    lines, employer_total, member_total, schedule_tail = entry
    head = (aff_id, member_id, member_id)
    if len(ids) == 1:  # the insured alone: every line is theirs
        batch.lines.extend([head + tail for _, tail in lines])
    else:
        # tuple concatenation: about half the time of ``(..., *tail)`` (a list built, then a tuple)
        batch.lines.extend([(aff_id, ids[person], member_id) + tail for person, tail in lines])  # noqa: RUF005
    if employer_total:
        employer = batch.employer
        employer[number] = employer.get(number, 0) + employer_total
    if member_total:
        batch.schedule.append((aff_id, member_id, member_total) + schedule_tail)  # noqa: RUF005
    batch.billed += 1
    batch.amount += employer_total + member_total


class PagePricer:
    """Prices the pages of one run of a month: each contract's tariff compiled once per run, each
    household shape priced once (see the module docstring)."""

    def __init__(
        self, month: Month, run_id: str, *, check_billed: bool, billed_on: dt.date | None = None
    ) -> None:
        self.month = month
        self.run_id = run_id
        self.check_billed = check_billed
        self.billed_on = billed_on
        """The day the pages are billed: no due falls due less than 14 days after it (``None``: the
        contract's debit day, whatever the day)."""
        self._key = str(month)
        self._pricings: dict[str, ContractPricing | None] = {}
        self._due_dates: dict[str, dt.date] = {}
        self._memo: dict[_Key, _Entry] = {}

    def price(self, uow: UnitOfWork, page: Sequence[BillableAffiliation]) -> PricedPage:
        """The rows of a page (read through ``uow``: tariffs, and lines already billed when the
        month was billed before), and what could not be billed."""
        batch = PricedPage(page[-1].affiliation_id if page else None, len(page))
        if not page:
            return batch
        key, month = self._key, self.month
        done = (
            uow.cotisations.billed_among(key, [m.affiliation_id for m in page])
            if self.check_billed
            else set()
        )
        pricings, due_dates = self._pricings, self._due_dates
        for member in page:
            if member.affiliation_id in done:
                batch.already += 1
                continue
            number = member.contract_number
            if number not in pricings:
                tariff = uow.tariffs.find(number)
                pricings[number] = None if tariff is None else ContractPricing(tariff.grid, tariff.rules)
                if tariff is not None:
                    day = min(tariff.rules.debit_day, month.days_in_month)
                    due = dt.date(month.year, month.month, day)
                    due_dates[number] = (
                        due if self.billed_on is None else earliest_collection(due, self.billed_on)
                    )
            pricing = pricings[number]
            try:
                if pricing is None:
                    raise BILLING_TARIFF_MISSING("contract_number", contract=number)
                _bill_one(member, pricing, month, key, self.run_id, due_dates[number], batch, self._memo)
            except DomainError as error:
                batch.unbilled += 1
                if len(batch.errors) < MAX_REPORTED_ERRORS:
                    batch.errors.append((member.affiliation_id, error.code))
        batch.due_dates = {number: due_dates[number] for number in batch.employer}
        return batch


PageSource = Callable[[Month, str, "str | None", int, bool, dt.date], Generator[PricedPage, None, None]]
"""Where a run's priced pages come from: called with ``(month, run_id, cursor, batch_size,
check_billed, billed_on)``, it yields the pages after ``cursor``, in ``affiliation_id`` order, each of
at most ``batch_size`` billable affiliations, priced by a :class:`PagePricer` of that month, run,
``check_billed`` and ``billed_on``; it stops after the last page. It may read them ahead (committed data: a billing run
writes no affiliation), in another thread or process; the run closes it when it stops early.
:func:`priced_pages` is one, reading through a unit of work of its own."""


def priced_pages(
    uow_factory: Callable[[], UnitOfWork],
    month: Month,
    run_id: str,
    cursor: str | None,
    batch_size: int,
    check_billed: bool,
    billed_on: dt.date | None = None,
) -> Generator[PricedPage, None, None]:
    """A :data:`PageSource` reading and pricing through a unit of work of its own, one short read
    transaction per page (an adapter runs it in another process to price while the run writes).

    The first pages are smaller (an eighth of ``batch_size``, then doubling up to it): the run, which
    waits for the first page before it can write anything, gets one sooner.
    """
    pricer = PagePricer(month, run_id, check_billed=check_billed, billed_on=billed_on)
    size = max(1, batch_size // 8)
    with uow_factory() as uow:
        while True:
            page = uow.affiliations.billable_after(cursor, size)
            if not page:
                return
            priced = pricer.price(uow, page)
            uow.rollback()  # end the read transaction: nothing is written here
            yield priced
            cursor = priced.cursor
            size = min(batch_size, size * 2)


def bill(
    svc: Services,
    month: Month,
    *,
    batch_size: int = 2000,
    progress: Callable[[BillingProgress], None] | None = None,
    pages: PageSource | None = None,
) -> BillingReport:
    """Bill ``month`` for every billable affiliation of every contract (see the module docstring).

    Args:
        svc: the services (the unit of work, the clock and the ids are used).
        month: the month billed.
        batch_size: affiliations per page and per transaction.
        progress: called after each committed batch; an exception it raises stops the run, which the
            next call resumes.
        pages: where the priced pages come from; by default they are read and priced on the run's
            own unit of work, the next page while the adapter writes the current one. An adapter's
            source may price them elsewhere (another process: see
            :class:`mutuelle_adapters.sql.billing_worker.ForkedPricing`); the rows are the same.

    Returns:
        What the run did (the resumed run's counts include what was done before the interruption).

    Raises:
        DomainError: ``billing.batch_invalid`` for a batch size below 1.
    """
    if batch_size < 1:
        raise BILLING_BATCH_INVALID("batch_size", size=batch_size)
    key = str(month)
    with svc.uow() as uow:
        run = uow.cotisations.latest_run(key)
        resumed = run is not None and run.status is BillingRunStatus.RUNNING
        # Lines of this month can exist past the cursor only when a finished run billed it before: a
        # first run, or a resumed one (lines up to its cursor only), skips the per-page lookup. The
        # unique key on the lines stays the last line of defence.
        check_billed = run is not None and not resumed
        if run is None or not resumed:
            run = uow.cotisations.add_run(
                BillingRun(
                    run_id=svc.ids.new_id(),
                    month=key,
                    status=BillingRunStatus.RUNNING,
                    started_at=svc.clock.now(),
                )
            )
            uow.commit()
        already = schedule_lines = employer_cents = unbilled = 0
        errors: list[tuple[str, str]] = []
        run_id = run.run_id
        billed_on = svc.clock.today()

        def inline(cursor: str | None) -> Generator[PricedPage, None, None]:
            pricer = PagePricer(month, run_id, check_billed=check_billed, billed_on=billed_on)
            while True:
                page = uow.affiliations.billable_after(cursor, batch_size)
                if not page:
                    return
                yield pricer.price(uow, page)
                cursor = page[-1].affiliation_id

        source = (
            inline(run.cursor)
            if pages is None
            else pages(month, run_id, run.cursor, batch_size, check_billed, billed_on)
        )
        try:
            batch = next(source, None)
            while batch is not None:
                # the adapter may write these behind (SQL): the next page is read and priced meanwhile,
                # and committed with its own cursor only after this one
                uow.cotisations.add_lines(batch.lines)
                uow.cotisations.add_schedule_lines(batch.schedule)
                uow.cotisations.add_to_employer_dues(
                    [
                        {
                            "contract_number": number,
                            "month": key,
                            "due_date": batch.due_dates[number],
                            "amount_cents": cents,
                            "run_id": run_id,
                        }
                        for number, cents in sorted(batch.employer.items())
                    ]
                )
                following = next(source, None)
                already += batch.already
                unbilled += batch.unbilled
                errors.extend(batch.errors[: MAX_REPORTED_ERRORS - len(errors)])
                schedule_lines += len(batch.schedule)
                employer_cents += sum(batch.employer.values())
                run = uow.cotisations.update_run(
                    attrs.evolve(
                        run,
                        cursor=batch.cursor,
                        affiliations=run.affiliations + batch.read,
                        billed=run.billed + batch.billed,
                        lines=run.lines + len(batch.lines),
                        amount_cents=run.amount_cents + batch.amount,
                    )
                )
                uow.commit()
                if progress is not None:
                    progress(
                        BillingProgress(
                            run_id=run.run_id,
                            affiliations=run.affiliations,
                            lines=run.lines,
                            cursor=run.cursor,
                        )
                    )
                batch = following
        finally:
            source.close()
        run = uow.cotisations.update_run(
            attrs.evolve(run, status=BillingRunStatus.DONE, finished_at=svc.clock.now())
        )
        uow.commit()
    return BillingReport(
        run_id=run.run_id,
        month=month,
        resumed=resumed,
        affiliations=run.affiliations,
        billed=run.billed,
        already_billed=already,
        lines=run.lines,
        schedule_lines=schedule_lines,
        employer_amount_cents=employer_cents,
        amount_cents=run.amount_cents,
        unbilled=unbilled,
        errors=tuple(errors),
    )
