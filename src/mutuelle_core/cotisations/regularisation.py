"""Regularisation (régularisation) of months already billed: what changed since, to the cent.

A month's lines are written once, by its billing run (:func:`~mutuelle_core.cotisations.billing.bill`).
When an affiliation changes afterwards with effect in the past (a radiation dated in a billed month, a
beneficiary added or radiated with a past date, a late affiliation effective months before its first
billing run), the lines billed no longer match what the engine gives now. The regularisation of a
month ``m`` writes **difference lines** (signed cents, per line key ``(person_id, product, payer,
channel)``, the category kept) so that, per key, what was billed for ``m`` plus every regularisation of
``m`` equals the pricing of ``m`` now (:func:`regularisation_diff`): the same pricing and the same
merge by key as the billing run (:func:`~mutuelle_core.cotisations.billing.priced_rows`). Running it
again adds nothing.

>>> import datetime as dt
>>> from mutuelle_core.affiliation.transitions import AffiliationStatus
>>> from mutuelle_core.contracts.contract import ProductLevel
>>> from mutuelle_core.cotisations.engine import ContractPricing
>>> from mutuelle_core.cotisations.records import BillableAffiliation
>>> from mutuelle_core.cotisations.rules import CotisationRules
>>> from mutuelle_core.cotisations.tariff import PersonCategory, Price, TariffGrid, TariffLine
>>> from mutuelle_core.values.dates import Month
>>> grid = TariffGrid("C1", [TariffLine(group_code="A1", product=ProductLevel.BASE,
...     category=PersonCategory.INSURED, price=Price.euros("40"))])
>>> pricing = ContractPricing(grid, CotisationRules.psc())
>>> member = BillableAffiliation("A1", "C1", AffiliationStatus.AFFILIATED, "A1", "M1",
...     ProductLevel.BASE, dt.date(2026, 5, 1))
>>> june = Month(2026, 6)
>>> [(key, cents) for key, _category, cents in regularisation_diff(member, pricing, june, [])]
[(('M1', 0, 'employer', 'transfer'), 2000), (('M1', 0, 'member', 'payroll_deduction'), 2000)]
>>> radiated = member._replace(status=AffiliationStatus.RADIATED, departure_last_day=dt.date(2026, 5, 31))
>>> rows = [{"person_id": "M1", "product": 0, "payer": p, "channel": c, "category": "insured",
...     "amount_cents": 2000} for p, c in (("employer", "transfer"), ("member", "payroll_deduction"))]
>>> [(key[2], cents) for key, _category, cents in regularisation_diff(radiated, pricing, june, rows)]
[('employer', -2000), ('member', -2000)]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

import attrs

from mutuelle_core.cotisations.account_records import PayerKey, StoredLedger
from mutuelle_core.cotisations.accounts import sync_dunnings
from mutuelle_core.cotisations.billing import (
    BILLING_BATCH_INVALID,
    BILLING_TARIFF_MISSING,
    MAX_REPORTED_ERRORS,
    LineKey,
    priced_rows,
)
from mutuelle_core.cotisations.engine import ContractPricing
from mutuelle_core.cotisations.payments import Ledger, Payment, apply_credit, record_payment
from mutuelle_core.cotisations.records import (
    BILLABLE_STATUSES,
    BillableAffiliation,
    BillingRunStatus,
    RegularisationRun,
    Row,
)
from mutuelle_core.cotisations.rules import CollectionChannel, Payer
from mutuelle_core.cotisations.schedule import earliest_collection
from mutuelle_core.errors import DomainError
from mutuelle_core.ports import UnitOfWork
from mutuelle_core.services import Services
from mutuelle_core.values.dates import Month
from mutuelle_core.values.money import Money

__all__ = [
    "Difference",
    "RegularisationProgress",
    "RegularisationReport",
    "credit_note_id",
    "line_key",
    "payer_split",
    "regularisation_diff",
    "regularise",
    "totals_by_key",
]

Difference = tuple[LineKey, str, int]
"""One regularisation line: its key, the person's category and the signed amount in cents."""

_EMPLOYER = Payer.EMPLOYER.value
_PAYROLL = CollectionChannel.PAYROLL_DEDUCTION.value


def line_key(row: Row) -> LineKey:
    """The key of a cotisation or regularisation row: ``(person_id, product, payer, channel)``."""
    return (str(row["person_id"]), int(row["product"]), str(row["payer"]), str(row["channel"]))


def totals_by_key(rows: Iterable[Row]) -> dict[LineKey, tuple[str, int]]:
    """Rows summed per key: ``(category, cents)`` (the category of the last row of the key)."""
    out: dict[LineKey, tuple[str, int]] = {}
    for row in rows:
        key = line_key(row)
        before = out.get(key)
        out[key] = (str(row["category"]), (0 if before is None else before[1]) + int(row["amount_cents"]))
    return out


def regularisation_diff(
    member: BillableAffiliation, pricing: ContractPricing, month: Month, already: Iterable[Row]
) -> list[Difference]:
    """The difference lines that bring ``already`` (the lines billed for ``month`` and its earlier
    regularisation lines) to what the billing run would bill now, sorted by key; empty when they agree.

    An affiliation in a status the billing run does not read (cancelled, dispensed...) owes nothing:
    everything billed is given back.

    Raises:
        DomainError: what the engine raises (a price missing in the grid...).
    """
    target = priced_rows(member, pricing, month) if member.status in BILLABLE_STATUSES else {}
    billed = totals_by_key(already)
    out: list[Difference] = []
    for key in sorted(target.keys() | billed.keys()):
        now = target.get(key)
        before = billed.get(key)
        cents = (0 if now is None else now[1]) - (0 if before is None else before[1])
        if cents:
            category = now[0] if now is not None else before[0]  # type: ignore[index]
            out.append((key, category, cents))
    return out


def payer_split(differences: Iterable[Difference]) -> tuple[int, int]:
    """``(member, employer)`` nets in cents: what the member pays directly (payer member, not deducted
    from pay) and what the employer pays (its share and what it deducts from pay)."""
    member = employer = 0
    for (_person, _product, payer, channel), _category, cents in differences:
        if payer == _EMPLOYER or channel == _PAYROLL:
            employer += cents
        else:
            member += cents
    return member, employer


@attrs.frozen(kw_only=True)
class RegularisationProgress:
    """Where a regularisation run stands after a committed page (what the progress callback receives)."""

    run_id: str
    affiliations: int
    lines: int
    cursor: str | None


@attrs.frozen(kw_only=True)
class RegularisationReport:
    """What a regularisation run did (the resumed run's counts include what was done before).

    Attributes:
        run_id: the run, ``None`` when nothing was ever billed (no run is stored).
        month: the month whose dues and call carry the regularisations.
        resumed: the run continued an interrupted one.
        affiliations: changed affiliations read.
        regularised: affiliations given regularisation lines.
        lines: regularisation lines written.
        amount_cents: their signed total, in cents.
        added_cents: added to the payers' dues of the month, in cents.
        credited_cents: given back as credit notes, in cents.
        credit_notes: credit notes recorded.
        unpriced: affiliations the engine could not price (left as they were).
        errors: the first of them, as ``(affiliation_id, error code)``.
    """

    run_id: str | None
    month: Month
    resumed: bool
    affiliations: int = 0
    regularised: int = 0
    lines: int = 0
    amount_cents: int = 0
    added_cents: int = 0
    credited_cents: int = 0
    credit_notes: int = 0
    unpriced: int = 0
    errors: tuple[tuple[str, str], ...] = ()


def credit_note_id(run_id: str, number: int) -> str:
    """The payment id of the ``number``-th credit note of a run: ``AVOIR-<run id>-<number>``."""
    return f"AVOIR-{run_id}-{number}"


def _due_date(pricing: ContractPricing, month: Month, today: dt.date) -> dt.date:
    """The date of a due of ``month`` raised ``today``: the contract's debit day, 14 days after today
    at the earliest (the payer is told of the new amount today)."""
    day = min(pricing.rules.debit_day, month.days_in_month)
    return earliest_collection(dt.date(month.year, month.month, day), today)


class _Page:
    """What one page of a regularisation run writes, gathered before it is written."""

    def __init__(self) -> None:
        self.lines: list[Row] = []
        self.schedule: list[Row] = []
        self.employer: dict[str, int] = {}
        self.due_dates: dict[str, dt.date] = {}
        self.credits: dict[PayerKey, int] = {}
        self.regularised = 0
        self.amount = 0
        self.added = 0
        self.unpriced = 0
        self.errors: list[tuple[str, str]] = []


def _regularise_one(
    uow: UnitOfWork,
    member: BillableAffiliation,
    pricing: ContractPricing,
    months: list[str],
    month: Month,
    run_id: str,
    page: _Page,
    today: dt.date,
) -> None:
    aff_id = member.affiliation_id
    billed: dict[str, list[Row]] = {}
    for row in (*uow.cotisations.lines_for(aff_id), *uow.cotisations.regularisation_lines_for(aff_id)):
        billed.setdefault(row["month"], []).append(row)
    start = None if member.effective_date is None else str(Month.of(member.effective_date))
    key = str(month)
    # the months of finished runs the cover touches, and every month up to ``month`` that has lines for
    # it: a month whose run is still running (interrupted) counts for the affiliations it has billed
    wanted = sorted({m for m in months if start is not None and m >= start} | {m for m in billed if m <= key})
    rows: list[Row] = []
    differences: list[Difference] = []
    for m in wanted:
        diff = regularisation_diff(member, pricing, Month.parse(m), billed.get(m, ()))
        differences.extend(diff)
        rows.extend(
            {
                "affiliation_id": aff_id,
                "month": m,
                "person_id": person,
                "product": product,
                "payer": payer,
                "channel": channel,
                "run_id": run_id,
                "billed_in": str(month),
                "contract_number": member.contract_number,
                "member_id": member.member_id,
                "category": category,
                "amount_cents": cents,
            }
            for (person, product, payer, channel), category, cents in diff
        )
    if not rows:
        return
    member_net, employer_net = payer_split(differences)
    number = member.contract_number
    if member_net > 0:
        page.schedule.append(
            {
                "affiliation_id": aff_id,
                "month": key,
                "payer": Payer.MEMBER.value,
                "run_id": run_id,
                "contract_number": number,
                "payer_id": member.member_id,
                "due_date": _due_date(pricing, month, today),
                "amount_cents": member_net,
            }
        )
        page.added += member_net
    elif member_net < 0:
        payer = PayerKey(Payer.MEMBER, member.member_id)
        page.credits[payer] = page.credits.get(payer, 0) - member_net
    if employer_net > 0:
        page.employer[number] = page.employer.get(number, 0) + employer_net
        page.due_dates[number] = _due_date(pricing, month, today)
        page.added += employer_net
    elif employer_net < 0:
        payer = PayerKey(Payer.EMPLOYER, number)
        page.credits[payer] = page.credits.get(payer, 0) - employer_net
    page.lines.extend(rows)
    page.regularised += 1
    page.amount += member_net + employer_net


def _credit(uow: UnitOfWork, page: _Page, run: RegularisationRun, on: dt.date) -> int:
    """Record the page's credit notes and pay every touched payer's open dues from its credit;
    returns how many credit notes were recorded."""
    payers = sorted({*page.credits, *(PayerKey(Payer.MEMBER, r["payer_id"]) for r in page.schedule)}, key=str)
    payers += sorted({PayerKey(Payer.EMPLOYER, n) for n in page.employer} - set(payers), key=str)
    stored = uow.accounts.ledgers(payers)
    changes: list[tuple[StoredLedger, Ledger]] = []
    notes = 0
    for key in payers:
        ledger = stored[key].ledger
        cents = page.credits.get(key, 0)
        if cents:
            notes += 1
            ledger = record_payment(
                ledger,
                Payment(
                    payment_id=credit_note_id(run.run_id, run.credit_notes + notes),
                    received_on=on,
                    amount=Money.cents(cents),
                    channel=CollectionChannel.CREDIT_NOTE,
                ),
            )
        ledger = apply_credit(ledger, on)
        if ledger != stored[key].ledger:
            changes.append((stored[key], ledger))
    uow.accounts.save_many(changes)
    for stored_ledger, ledger in changes:
        sync_dunnings(uow, stored_ledger.key, ledger, on)
    return notes


def regularise(
    svc: Services,
    month: Month,
    *,
    batch_size: int = 500,
    progress: Callable[[RegularisationProgress], None] | None = None,
) -> RegularisationReport:
    """Regularise the months billed up to ``month`` for every affiliation changed since the previous
    run (see the module docstring); the money goes to the dues of ``month`` or back as credit notes.

    The affiliations read are those stored since the start of the previous regularisation run (the
    first run: since the start of the first billing run), page by page in ``affiliation_id`` order,
    one transaction per page with the run's cursor: a run that stops midway is resumed by the next
    call for the same month. For each, every month up to ``month`` with a finished billing run that
    its cover touches, and every month up to ``month`` that has lines for it (a month whose billing
    run was interrupted included: the affiliations it has billed are compared, the others are left
    to the resumed run), is priced again and compared with what was billed and regularised. Per affiliation and run, a positive net of what the member pays directly is
    added to the member's due of ``month``, a positive net of what the employer pays to the
    contract's employer due of ``month``: a due so raised falls due on the contract's debit day, or
    14 days after the run when that is later (created at that date, or moved to it: the payer is
    told of the new amount the day of the run, a direct debit must be pre-notified 14 days before
    it is collected, and nobody is chased for an amount called less than 14 days before); a
    negative net is a credit
    note (:attr:`~mutuelle_core.cotisations.rules.CollectionChannel.CREDIT_NOTE`) on the payer's
    account, one per payer and page, which pays its oldest open dues or stays as credit. No due is
    ever lowered.

    Raises:
        DomainError: ``billing.batch_invalid`` for a batch size below 1.
    """
    if batch_size < 1:
        raise BILLING_BATCH_INVALID("batch_size", size=batch_size)
    key = str(month)
    errors: list[tuple[str, str]] = []
    unpriced = 0
    with svc.uow() as uow:
        run = uow.cotisations.latest_regularisation_run(key)
        resumed = run is not None and run.status is BillingRunStatus.RUNNING
        if run is None or not resumed:
            previous = uow.cotisations.latest_regularisation_run()
            since = previous.started_at if previous is not None else uow.cotisations.earliest_run_start()
            if since is None:
                return RegularisationReport(run_id=None, month=month, resumed=False)
            run = uow.cotisations.add_regularisation_run(
                RegularisationRun(
                    run_id=svc.ids.new_id(),
                    month=key,
                    status=BillingRunStatus.RUNNING,
                    since=since,
                    started_at=svc.clock.now(),
                )
            )
            uow.commit()
        months = list(uow.cotisations.billed_months(key))
        pricings: dict[str, ContractPricing | None] = {}
        today = svc.clock.today()
        while True:
            members = uow.affiliations.changed_since(run.since, run.cursor, batch_size)
            if not members:
                break
            page = _Page()
            for member in members:
                number = member.contract_number
                if number not in pricings:
                    tariff = uow.tariffs.find(number)
                    pricings[number] = None if tariff is None else ContractPricing(tariff.grid, tariff.rules)
                pricing = pricings[number]
                try:
                    if pricing is None:
                        if uow.cotisations.lines_for(member.affiliation_id):
                            raise BILLING_TARIFF_MISSING("contract_number", contract=number)
                        continue  # never billed: nothing to regularise
                    _regularise_one(uow, member, pricing, months, month, run.run_id, page, today)
                except DomainError as error:
                    page.unpriced += 1
                    if len(errors) < MAX_REPORTED_ERRORS:
                        errors.append((member.affiliation_id, error.code))
            unpriced += page.unpriced
            uow.cotisations.add_regularisation_lines(page.lines)
            uow.cotisations.add_to_schedule_lines(page.schedule)
            uow.cotisations.add_to_employer_dues(
                [
                    {
                        "contract_number": number,
                        "month": key,
                        "due_date": page.due_dates[number],
                        "amount_cents": cents,
                        "run_id": run.run_id,
                    }
                    for number, cents in sorted(page.employer.items())
                ]
            )
            notes = _credit(uow, page, run, today)
            run = uow.cotisations.update_regularisation_run(
                attrs.evolve(
                    run,
                    cursor=members[-1].affiliation_id,
                    affiliations=run.affiliations + len(members),
                    regularised=run.regularised + page.regularised,
                    lines=run.lines + len(page.lines),
                    amount_cents=run.amount_cents + page.amount,
                    added_cents=run.added_cents + page.added,
                    credited_cents=run.credited_cents + sum(page.credits.values()),
                    credit_notes=run.credit_notes + notes,
                )
            )
            uow.commit()
            if progress is not None:
                progress(
                    RegularisationProgress(
                        run_id=run.run_id, affiliations=run.affiliations, lines=run.lines, cursor=run.cursor
                    )
                )
        run = uow.cotisations.update_regularisation_run(
            attrs.evolve(run, status=BillingRunStatus.DONE, finished_at=svc.clock.now())
        )
        uow.commit()
    return RegularisationReport(
        run_id=run.run_id,
        month=month,
        resumed=resumed,
        affiliations=run.affiliations,
        regularised=run.regularised,
        lines=run.lines,
        amount_cents=run.amount_cents,
        added_cents=run.added_cents,
        credited_cents=run.credited_cents,
        credit_notes=run.credit_notes,
        unpriced=unpriced,
        errors=tuple(errors),
    )
