"""Beneficiaries (ayants droit) of an affiliation: who is covered, from when to when, and why it ended.

A covered beneficiary is a spouse (married, PACS partner or cohabitant), a child or another adult, with
their own NIR or attached to the insured's NIR with a rang de naissance (twins), an organisme code, a
declared médecin traitant, and a coverage period. Eligibility comes from the contract's settings:

* children are covered until the contract's age limit (21 by default), extended for students and
  apprentices (26), without limit for a disabled child (settings);
* on PSC contracts a spouse who is a State civil servant is covered by their own ministry: refused;
* a person not affiliated to French social security cannot be covered.

A beneficiary is radiated with a motive and a date (the last day covered).

>>> import datetime as dt
>>> from mutuelle_core.families.beneficiaries import child_cover_end
>>> child_cover_end(dt.date(2005, 3, 15), limit=21)
datetime.date(2026, 3, 14)
"""

from __future__ import annotations

import datetime as dt
import enum

import attrs

from mutuelle_core.affiliation.journey import (
    NOT_FRENCH_SOCIAL_SECURITY,
    SPOUSE_STATE_CIVIL_SERVANT,
    BeneficiaryDetails,
    BeneficiaryKind,
)
from mutuelle_core.contracts.contract import ContractSettings
from mutuelle_core.errors import ErrorCollector, error_code
from mutuelle_core.i18n import message
from mutuelle_core.values.dates import DateRange, add_months, age_on

__all__ = [
    "BeneficiaryRadiation",
    "BeneficiaryRadiationMotive",
    "CoveredBeneficiary",
    "check_new_beneficiary",
    "child_cover_end",
]

CHILD_OVER_LIMIT = error_code(
    "beneficiary.child_over_age_limit",
    "Cet enfant a {age} ans au {on} : la limite du contrat est {limit} ans.",
)
RADIATION_BEFORE_START = error_code(
    "beneficiary.radiation_before_start", "La date de radiation précède le début de la couverture ({start})."
)
ALREADY_RADIATED = error_code("beneficiary.already_radiated", "Ce bénéficiaire est déjà radié.")
UNKNOWN_BENEFICIARY = error_code("beneficiary.unknown", "Bénéficiaire inconnu : {beneficiary_id}.")
START_OUTSIDE_COVER = error_code(
    "beneficiary.start_outside_cover",
    "La couverture d'un bénéficiaire commence pendant celle de l'assuré (à partir du {start}).",
)


class BeneficiaryRadiationMotive(enum.Enum):
    """Why a beneficiary's cover ended (member space: "Je radie des bénéficiaires")."""

    DIVORCE_OR_SEPARATION = "divorce_or_separation"
    DEATH = "death"
    AGE_LIMIT_OR_END_OF_STUDIES = "age_limit_or_end_of_studies"
    OTHER_COVER = "other_cover"
    INSURED_DEPARTURE = "insured_departure"
    OTHER = "other"

    @property
    def label(self) -> str:
        """French label."""
        return _MOTIVE_LABELS[self]


_MOTIVE_LABELS = {
    BeneficiaryRadiationMotive.DIVORCE_OR_SEPARATION: message("Divorce ou séparation"),
    BeneficiaryRadiationMotive.DEATH: message("Décès"),
    BeneficiaryRadiationMotive.AGE_LIMIT_OR_END_OF_STUDIES: message("Limite d'âge ou fin d'études"),
    BeneficiaryRadiationMotive.OTHER_COVER: message("Couverture par un autre contrat"),
    BeneficiaryRadiationMotive.INSURED_DEPARTURE: message("Départ de l'assuré principal"),
    BeneficiaryRadiationMotive.OTHER: message("Autre motif"),
}


@attrs.frozen
class BeneficiaryRadiation:
    """The end of a beneficiary's cover: motive and last day covered."""

    motive: BeneficiaryRadiationMotive
    last_day: dt.date


@attrs.frozen(kw_only=True)
class CoveredBeneficiary:
    """A person covered through the insured, with the period of cover."""

    beneficiary_id: str
    details: BeneficiaryDetails
    period: DateRange
    student_or_apprentice: bool = False
    disabled: bool = False
    medecin_traitant_declared: bool = False
    radiation: BeneficiaryRadiation | None = None

    def covered_on(self, day: dt.date) -> bool:
        """True when the beneficiary is covered on ``day`` (a cancelled cover never is)."""
        return self.period.contains(day) and (self.radiation is None or day <= self.radiation.last_day)

    @property
    def cancelled(self) -> bool:
        """True when the cover was ended before it started (it never applied)."""
        return self.radiation is not None and self.radiation.last_day < self.period.start

    def ended(
        self, last_day: dt.date, motive: BeneficiaryRadiationMotive, *, cancel_if_not_started: bool = False
    ) -> CoveredBeneficiary:
        """The same beneficiary, radiated after ``last_day``.

        A ``last_day`` before the cover started is refused (``beneficiary.radiation_before_start``),
        unless ``cancel_if_not_started``: the insured's own retroactive radiation then cancels the cover
        of a beneficiary added since (it never applied).
        """
        if self.radiation is not None:
            raise ALREADY_RADIATED("beneficiary_id")
        if last_day < self.period.start - dt.timedelta(days=1):
            if not cancel_if_not_started:
                raise RADIATION_BEFORE_START("last_day", start=self.period.start)
            return attrs.evolve(self, radiation=BeneficiaryRadiation(motive, last_day))
        end = last_day if self.period.end is None else min(last_day, self.period.end)
        if end < self.period.start:  # radiated the day before it started: cancelled
            return attrs.evolve(self, radiation=BeneficiaryRadiation(motive, last_day))
        return attrs.evolve(
            self, period=DateRange(self.period.start, end), radiation=BeneficiaryRadiation(motive, last_day)
        )


def child_cover_end(birth_date: dt.date, *, limit: int) -> dt.date:
    """The last day a child is covered: the day before the birthday of age ``limit``."""
    return add_months(birth_date, 12 * limit) - dt.timedelta(days=1)


def age_limit_for(b: CoveredBeneficiary, settings: ContractSettings) -> int | None:
    """The age limit applying to a child (``None``: none, e.g. a disabled child)."""
    if b.details.kind is not BeneficiaryKind.CHILD:
        return None
    if b.disabled and settings.disabled_child_without_limit:
        return None
    return settings.student_age_limit if b.student_or_apprentice else settings.child_age_limit


def check_new_beneficiary(
    details: BeneficiaryDetails,
    *,
    settings: ContractSettings,
    psc: bool,
    start: dt.date,
    state_civil_servant: bool = False,
    student_or_apprentice: bool = False,
    disabled: bool = False,
) -> None:
    """Eligibility of a beneficiary added on ``start``; every problem at once."""
    errors = ErrorCollector()
    if not details.regime.is_french_social_security:
        errors.add(NOT_FRENCH_SOCIAL_SECURITY("regime"))
    if details.kind is BeneficiaryKind.SPOUSE and psc and state_civil_servant:
        errors.add(SPOUSE_STATE_CIVIL_SERVANT("kind"))
    if details.kind is BeneficiaryKind.CHILD and not (disabled and settings.disabled_child_without_limit):
        limit = settings.student_age_limit if student_or_apprentice else settings.child_age_limit
        age = age_on(details.birth_date, max(start, details.birth_date))
        if age >= limit:
            errors.add(CHILD_OVER_LIMIT("birth_date", age=age, on=start, limit=limit))
    errors.raise_if_any()
