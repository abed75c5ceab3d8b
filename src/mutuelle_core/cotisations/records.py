"""What the billing run stores and reads: tariffs, lean affiliation projections, runs and rows.

These are the plain values the cotisation ports (:mod:`mutuelle_core.ports`) exchange with the
adapters. The billing run's hot path deals in *rows* rather than objects: the lines and schedule
lines it writes are plain tuples in a fixed column order (:data:`LINE_COLUMNS`,
:data:`SCHEDULE_COLUMNS`), built in a fraction of an object's (or a ``dict``'s) time, and small to
send from a pricing process; what the ports read back are rows keyed by column name
(:data:`Row`).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, NamedTuple

import attrs

from mutuelle_core.affiliation.affiliation import Affiliation
from mutuelle_core.affiliation.journey import SocialRegime
from mutuelle_core.affiliation.transitions import AffiliationStatus
from mutuelle_core.contracts.contract import ProductLevel
from mutuelle_core.cotisations.engine import CoveredPerson, _person
from mutuelle_core.cotisations.rules import CotisationRules
from mutuelle_core.cotisations.tariff import TariffGrid
from mutuelle_core.departures.departure import ContinuationKind
from mutuelle_core.i18n import message
from mutuelle_core.values.dates import DateRange

__all__ = [
    "BILLABLE_STATUSES",
    "LINE_COLUMNS",
    "SCHEDULE_COLUMNS",
    "BillableAffiliation",
    "BillingRun",
    "BillingRunStatus",
    "ContractTariff",
    "LineValues",
    "RegularisationRun",
    "Row",
    "ScheduleValues",
    "as_row",
]

Row = dict[str, Any]
"""A row keyed by column name (cotisation lines, schedule lines, dues...)."""

LINE_COLUMNS = (
    "affiliation_id",
    "person_id",
    "member_id",
    "product",
    "payer",
    "channel",
    "category",
    "amount_cents",
    "month",
    "run_id",
    "contract_number",
)
"""The order of a new cotisation line's values (:data:`LineValues`): who, what, how much, then what
every line of a run and contract shares (the billing run appends one shared tail to each)."""

LineValues = tuple[str, str, str, int, str, str, str, int, str, str, str]
"""A new cotisation line, its values in :data:`LINE_COLUMNS` order: ``(affiliation_id, person_id,
member_id, product, payer, channel, category, amount_cents, month, run_id, contract_number)``."""

SCHEDULE_COLUMNS = (
    "affiliation_id",
    "payer_id",
    "amount_cents",
    "month",
    "payer",
    "due_date",
    "run_id",
    "contract_number",
)
"""The order of a new schedule line's values (:data:`ScheduleValues`)."""

ScheduleValues = tuple[str, str, int, str, str, dt.date, str, str]
"""A new schedule line (a member's due), its values in :data:`SCHEDULE_COLUMNS` order:
``(affiliation_id, payer_id, amount_cents, month, payer, due_date, run_id, contract_number)``."""


def as_row(columns: tuple[str, ...], values: tuple[Any, ...]) -> Row:
    """A line or schedule line's values as a row keyed by column name.

    >>> due = ("a1", "M1", 1200, "2026-05", "member", dt.date(2026, 5, 5), "r1", "C1")
    >>> as_row(SCHEDULE_COLUMNS, due)["amount_cents"]
    1200
    """
    return dict(zip(columns, values, strict=True))


BILLABLE_STATUSES = frozenset(
    {
        AffiliationStatus.AFFILIATED,
        AffiliationStatus.RADIATED,
        AffiliationStatus.PORTABILITY,
        AffiliationStatus.EVIN,
        AffiliationStatus.MAINTIEN,
    }
)
"""The statuses a billing run reads: radiated files still owe the days before the departure."""


@attrs.frozen
class ContractTariff:
    """A contract's tariff grid and cotisation rules, as stored (one per contract).

    Attributes:
        grid: the grid (its ``contract_number`` is the key).
        rules: the employer shares, prorata, channels, debit day...
        version: optimistic concurrency, as for every stored aggregate.
    """

    grid: TariffGrid
    rules: CotisationRules
    version: int = 0

    @property
    def contract_number(self) -> str:
        """The contract priced."""
        return self.grid.contract_number


class BillableAffiliation(NamedTuple):
    """What billing needs of an affiliation file (a lean projection: no journey, no history).

    The SQL adapter reads it with one narrow ``SELECT`` per page instead of loading whole aggregates;
    the memory adapter derives it with :meth:`of`.

    Attributes:
        affiliation_id: the file (keyset order of the billing run).
        contract_number: the contract whose tariff applies.
        status: affiliated, radiated, portability, Evin or maintien.
        group_code: the current group (P, E or M once moved).
        member_id: the adhesion number (the file's id before one is given).
        level: the formula.
        effective_date: the first day of cover.
        birth_date: the insured's birth date.
        alsace_moselle: under the Alsace-Moselle local regime.
        beneficiaries: the people covered through the member, with their periods.
        departure_last_day: the last day of the employment cover, once radiated.
        continuation_kind: Evin or maintien, once joined.
        continuation_period: the continuation's cover.
    """

    affiliation_id: str
    contract_number: str
    status: AffiliationStatus
    group_code: str
    member_id: str
    level: ProductLevel | None
    effective_date: dt.date | None
    birth_date: dt.date | None = None
    alsace_moselle: bool = False
    beneficiaries: tuple[CoveredPerson, ...] = ()
    departure_last_day: dt.date | None = None
    continuation_kind: ContinuationKind | None = None
    continuation_period: DateRange | None = None

    @classmethod
    def of(cls, affiliation: Affiliation) -> BillableAffiliation:
        """The projection of a whole aggregate."""
        personal = affiliation.journey.personal
        continuation = affiliation.continuation
        departure = affiliation.departure
        return cls(
            affiliation_id=affiliation.affiliation_id,
            contract_number=affiliation.contract_number,
            status=affiliation.status,
            group_code=affiliation.group_code,
            member_id=affiliation.adhesion_number or affiliation.affiliation_id,
            level=affiliation.product_level,
            effective_date=affiliation.effective_date,
            birth_date=personal.birth_date if personal is not None else None,
            alsace_moselle=affiliation.journey.regime is SocialRegime.ALSACE_MOSELLE,
            beneficiaries=tuple(_person(b) for b in affiliation.covered),
            departure_last_day=departure.last_day if departure is not None else None,
            continuation_kind=continuation.kind if continuation is not None else None,
            continuation_period=continuation.period if continuation is not None else None,
        )


class BillingRunStatus(enum.Enum):
    """Where a billing run stands."""

    RUNNING = "running"
    """Started and not finished: a new run of the same month resumes after its cursor."""
    DONE = "done"
    """Every billable affiliation was read."""

    @property
    def label(self) -> str:
        """The French label."""
        return _RUN_LABELS[self]


_RUN_LABELS = {BillingRunStatus.RUNNING: message("En cours"), BillingRunStatus.DONE: message("Terminé")}


@attrs.frozen(kw_only=True)
class BillingRun:
    """One billing run of a month, with its resume cursor and counts.

    Attributes:
        run_id: the run.
        month: the month billed, ``"YYYY-MM"``.
        status: running or done.
        started_at: when it started.
        finished_at: when it finished.
        cursor: the last affiliation id processed and committed (keyset order), ``None`` at the start.
        affiliations: billable affiliations read so far.
        billed: affiliations given lines by this run (the others were free or billed before).
        lines: cotisation lines written by this run.
        amount_cents: their total, in cents.
        version: optimistic concurrency.
    """

    run_id: str
    month: str
    status: BillingRunStatus
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    cursor: str | None = None
    affiliations: int = 0
    billed: int = 0
    lines: int = 0
    amount_cents: int = 0
    version: int = 0


@attrs.frozen(kw_only=True)
class RegularisationRun:
    """One regularisation run of a month (see :mod:`~mutuelle_core.cotisations.regularisation`).

    Attributes:
        run_id: the run.
        month: the month whose dues and call carry the regularisations (``billed_in``), ``"YYYY-MM"``.
        status: running or done (a running one is resumed after its cursor).
        since: the affiliations read are those changed at or after this instant.
        started_at: when it started (the next run reads the changes since then).
        finished_at: when it finished.
        cursor: the last affiliation id processed and committed, ``None`` at the start.
        affiliations: changed affiliations read so far.
        regularised: affiliations given regularisation lines.
        lines: regularisation lines written.
        amount_cents: their signed total, in cents.
        added_cents: added to the payers' dues of the month (positive nets), in cents.
        credited_cents: given back as credit notes (negative nets), in cents.
        credit_notes: credit notes recorded (numbers the next one's id).
        version: optimistic concurrency.
    """

    run_id: str
    month: str
    status: BillingRunStatus
    since: dt.datetime
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    cursor: str | None = None
    affiliations: int = 0
    regularised: int = 0
    lines: int = 0
    amount_cents: int = 0
    added_cents: int = 0
    credited_cents: int = 0
    credit_notes: int = 0
    version: int = 0
