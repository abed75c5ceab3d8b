"""What the affiliation keeps of an employee's departure: dates, motive, portability, continuations.

>>> import datetime as dt
>>> from mutuelle_core.departures.departure import Departure, EvinIncome
>>> from mutuelle_core.departures.motives import DepartureMotive
>>> d = Departure.of(last_day=dt.date(2025, 4, 10), motive=DepartureMotive("043"),
...                  employment_start=dt.date(2025, 1, 1))
>>> d.portability
DateRange(start=datetime.date(2025, 4, 11), end=datetime.date(2025, 8, 10))
>>> d.evin_income is EvinIncome.REPLACEMENT_INCOME, d.evin_reference_date
(True, datetime.date(2025, 8, 10))
"""

from __future__ import annotations

import datetime as dt
import enum

import attrs

from mutuelle_core.departures.motives import DepartureMotive
from mutuelle_core.departures.portability import portability_period
from mutuelle_core.i18n import message
from mutuelle_core.values.dates import DateRange

__all__ = ["Continuation", "ContinuationKind", "Departure", "EvinIncome", "PortabilityEndReason"]

_RETIREMENT = {"038", "039"}


class EvinIncome(enum.Enum):
    """The income that opens Evin continuation (loi 89-1009 art. 4)."""

    PENSION = "pension"
    INCAPACITY_ANNUITY = "incapacity_annuity"
    INVALIDITY_ANNUITY = "invalidity_annuity"
    REPLACEMENT_INCOME = "replacement_income"

    @property
    def label(self) -> str:
        """French label."""
        return _INCOME_LABELS[self]


_INCOME_LABELS = {
    EvinIncome.PENSION: message("Pension de retraite"),
    EvinIncome.INCAPACITY_ANNUITY: message("Rente d'incapacité"),
    EvinIncome.INVALIDITY_ANNUITY: message("Rente d'invalidité"),
    EvinIncome.REPLACEMENT_INCOME: message("Revenu de remplacement (demandeur d'emploi)"),
}


class PortabilityEndReason(enum.Enum):
    """Why portability ended."""

    TERM = "term"
    NEW_JOB = "new_job"
    END_OF_BENEFITS = "end_of_benefits"

    @property
    def label(self) -> str:
        """French label."""
        return _END_LABELS[self]


_END_LABELS = {
    PortabilityEndReason.TERM: message("Terme de la portabilité"),
    PortabilityEndReason.NEW_JOB: message("Reprise d'une activité"),
    PortabilityEndReason.END_OF_BENEFITS: message("Fin de l'indemnisation chômage"),
}


@attrs.frozen(kw_only=True)
class Departure:
    """An employee's departure: last day covered as an active employee, DSN motive, portability."""

    last_day: dt.date
    motive: DepartureMotive
    employment_start: dt.date
    portability: DateRange | None = None
    portability_ended_on: dt.date | None = None
    portability_end_reason: PortabilityEndReason | None = None
    proofs: tuple[dt.date, ...] = ()
    evin_income: EvinIncome | None = None
    evin_offered_on: dt.date | None = None
    proof_reminded_on: dt.date | None = None

    @classmethod
    def of(
        cls,
        *,
        last_day: dt.date,
        motive: DepartureMotive,
        employment_start: dt.date,
        evin_income: EvinIncome | None = None,
    ) -> Departure:
        """A departure with its portability decided from the motive and the length of employment.

        Without an explicit ``evin_income``: a retirement motive (038, 039) means a pension, a motive
        opening portability means a replacement income at its end; otherwise none is assumed.
        """
        portability = portability_period(employment_start, last_day, motive)
        if evin_income is None:
            if motive.value in _RETIREMENT:
                evin_income = EvinIncome.PENSION
            elif portability is not None:
                evin_income = EvinIncome.REPLACEMENT_INCOME
        return cls(
            last_day=last_day,
            motive=motive,
            employment_start=employment_start,
            portability=portability,
            evin_income=evin_income,
        )

    @property
    def portability_last_day(self) -> dt.date | None:
        """The last day of portability (early end included), or ``None`` without portability."""
        if self.portability is None:
            return None
        return self.portability_ended_on or self.portability.end

    @property
    def evin_reference_date(self) -> dt.date:
        """The date the Evin windows run from: the end of portability, or the last day of employment."""
        return self.portability_last_day or self.last_day

    @property
    def is_death(self) -> bool:
        """True when the employee died (motive 066): maintien applies."""
        return self.motive.opens_maintien


class ContinuationKind(enum.Enum):
    """Individual continuation after the collective cover."""

    EVIN = "evin"
    MAINTIEN = "maintien"


@attrs.frozen(kw_only=True)
class Continuation:
    """An Evin or maintien continuation: from which day, until when (``None``: open)."""

    kind: ContinuationKind
    period: DateRange
    requested_on: dt.date
