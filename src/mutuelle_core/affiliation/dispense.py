"""Dispense (waiver of the compulsory cover): motives by regime, the attestation, end dates (DOMAIN.md §3).

A dispense needs an **attestation sur l'honneur** (the only accepted document), a motive allowed for the
contract's regime and, for motives that expire, an end date **after the contract's effective date**.
On PSC contracts the individual-contract motive lasts **12 months at most** (décret 2022-633 art. 3).
Private-sector motives of R242-1-6 CSS apply only if the contract's founding act allows them (contract
setting ``allowed_dispense_motives``); those of D911-2 and L911-7 III are always available.

>>> import datetime as dt
>>> from mutuelle_core.affiliation.dispense import DispenseMotive, motives_for
>>> from mutuelle_core.contracts.contract import Regime
>>> [m.value for m in motives_for(Regime.STATE_PSC)]
['psc_css', 'psc_individual_contract', 'psc_contract_agent_cdd', 'psc_other_collective']
>>> DispenseMotive.PSC_INDIVIDUAL_CONTRACT.max_months
12
"""

from __future__ import annotations

import datetime as dt
import enum

import attrs

from mutuelle_core.contracts.contract import Regime
from mutuelle_core.errors import ErrorCollector, error_code
from mutuelle_core.i18n import message
from mutuelle_core.values.dates import add_months

__all__ = ["DispenseMotive", "DispenseRequest", "check_dispense", "motives_for"]

DISPENSE_MOTIVE_NOT_ALLOWED = error_code(
    "dispense.motive_not_allowed", "Ce motif de dispense n'est pas ouvert sur ce contrat ({motive})."
)
DISPENSE_NO_ATTESTATION = error_code(
    "dispense.attestation_required",
    "L'attestation sur l'honneur, complétée et signée, est le seul document accepté : joignez-la.",
)
DISPENSE_END_REQUIRED = error_code(
    "dispense.end_date_required", "Ce motif de dispense prend fin : indiquez la date de fin de la dispense."
)
DISPENSE_END_BEFORE_EFFECT = error_code(
    "dispense.end_date_before_effective_date",
    "La date de fin de dispense doit être postérieure à la date d'effet du contrat ({effective_date}).",
)
DISPENSE_TOO_LONG = error_code(
    "dispense.too_long",
    "Pour ce motif, la dispense dure au plus {months} mois : date de fin au plus tard le {latest}.",
)
DISPENSE_REASON_REQUIRED = error_code("dispense.reason_required", "Indiquez le motif du refus.")


class DispenseMotive(enum.Enum):
    """A dispense motive, with its legal source, its regime and whether it expires."""

    # Private sector, R242-1-6 CSS (only if the founding act allows them)
    PRIVATE_CDD_LONG_INDIVIDUAL = "private_cdd_long_individual"
    PRIVATE_CDD_SHORT = "private_cdd_short"
    PRIVATE_PART_TIME = "private_part_time"
    # Private sector, always available (D911-2 CSS, L911-7 III)
    PRIVATE_CSS = "private_css"
    PRIVATE_INDIVIDUAL_COVER = "private_individual_cover"
    PRIVATE_OTHER_COLLECTIVE = "private_other_collective"
    PRIVATE_SHORT_CONTRACT = "private_short_contract"
    # State civil service, décret 2022-633 art. 3
    PSC_CSS = "psc_css"
    PSC_INDIVIDUAL_CONTRACT = "psc_individual_contract"
    PSC_CONTRACT_AGENT_CDD = "psc_contract_agent_cdd"
    PSC_OTHER_COLLECTIVE = "psc_other_collective"

    @property
    def info(self) -> _MotiveInfo:
        """Source, regime, expiry and label."""
        return _INFO[self]

    @property
    def label(self) -> str:
        """French label (as on the attestation)."""
        return self.info.label

    @property
    def expires(self) -> bool:
        """True when the dispense ends (an end date is required)."""
        return self.info.expires

    @property
    def max_months(self) -> int | None:
        """A cap on the dispense's length, in months."""
        return self.info.max_months


@attrs.frozen
class _MotiveInfo:
    regime: Regime
    source: str
    label: str
    expires: bool
    needs_founding_act: bool = False
    max_months: int | None = None


M = DispenseMotive
P, S = Regime.PRIVATE, Regime.STATE_PSC
_INFO = {
    M.PRIVATE_CDD_LONG_INDIVIDUAL: _MotiveInfo(
        P,
        "R242-1-6 2° a) CSS",
        message("Salarié ou apprenti en CDD d'au moins 12 mois justifiant d'une couverture individuelle"),
        True,
        True,
    ),
    M.PRIVATE_CDD_SHORT: _MotiveInfo(
        P, "R242-1-6 2° b) CSS", message("Salarié ou apprenti en CDD de moins de 12 mois"), True, True
    ),
    M.PRIVATE_PART_TIME: _MotiveInfo(
        P,
        "R242-1-6 2° c) CSS",
        message(
            "Temps partiel ou apprenti dont la cotisation atteint au moins 10 % de la rémunération brute"
        ),
        False,
        True,
    ),
    M.PRIVATE_CSS: _MotiveInfo(
        P,
        "D911-2 1° CSS",
        message("Bénéficiaire de la complémentaire santé solidaire (jusqu'à son terme)"),
        True,
    ),
    M.PRIVATE_INDIVIDUAL_COVER: _MotiveInfo(
        P,
        "D911-2 2° CSS",
        message("Couverture individuelle à la mise en place ou à l'embauche (jusqu'à son échéance)"),
        True,
    ),
    M.PRIVATE_OTHER_COLLECTIVE: _MotiveInfo(
        P,
        "D911-2 3° CSS",
        message(
            "Couvert, même en ayant droit, par un autre régime collectif obligatoire, la PSC de l'État ou "
            "d'une collectivité, un contrat Madelin, le régime Alsace-Moselle ou celui des IEG"
        ),
        False,
    ),
    M.PRIVATE_SHORT_CONTRACT: _MotiveInfo(
        P, "L911-7 III CSS", message("CDD ou mission de moins de 3 mois (versement santé)"), True
    ),
    M.PSC_CSS: _MotiveInfo(
        S,
        "décret 2022-633 art. 3 1°",
        message("Bénéficiaire de la complémentaire santé solidaire (jusqu'à son terme)"),
        True,
    ),
    M.PSC_INDIVIDUAL_CONTRACT: _MotiveInfo(
        S,
        "décret 2022-633 art. 3 2°",
        message(
            "Contrat individuel détenu à l'entrée en vigueur ou au recrutement (jusqu'à son échéance, 12 mois au plus)"
        ),
        True,
        False,
        12,
    ),
    M.PSC_CONTRACT_AGENT_CDD: _MotiveInfo(
        S,
        "décret 2022-633 art. 3 3°",
        message("Agent contractuel en CDD bénéficiant d'une couverture individuelle"),
        True,
    ),
    M.PSC_OTHER_COLLECTIVE: _MotiveInfo(
        S,
        "décret 2022-633 art. 3 4°",
        message(
            "Couvert par un autre contrat collectif obligatoire, comme assuré ou ayant droit (y compris militaire)"
        ),
        False,
    ),
}


def motives_for(
    regime: Regime, allowed: frozenset[DispenseMotive] | None = None
) -> tuple[DispenseMotive, ...]:
    """The motives open on a contract: its regime's, minus founding-act motives not in ``allowed``."""
    return tuple(
        m
        for m, info in _INFO.items()
        if info.regime is regime and (not info.needs_founding_act or allowed is None or m in allowed)
    )


@attrs.frozen(kw_only=True)
class DispenseRequest:
    """A dispense request: motive, the attestation document, the end date and when it was asked."""

    motive: DispenseMotive
    attestation_document_id: str
    requested_on: dt.date
    end_date: dt.date | None = None
    decided_on: dt.date | None = None
    refusal_reason: str | None = None

    @property
    def starts_on(self) -> dt.date:
        """The first day of the dispense (the day it was asked)."""
        return self.requested_on


def check_dispense(
    *,
    regime: Regime,
    contract_effective_date: dt.date,
    motive: DispenseMotive,
    has_attestation: bool,
    end_date: dt.date | None,
    requested_on: dt.date,
    allowed: frozenset[DispenseMotive] | None = None,
) -> None:
    """Check a dispense request against DOMAIN.md §3; every problem is reported at once."""
    errors = ErrorCollector()
    if motive not in motives_for(regime, allowed):
        errors.add(DISPENSE_MOTIVE_NOT_ALLOWED("motive", motive=motive.label))
    if not has_attestation:
        errors.add(DISPENSE_NO_ATTESTATION("attestation"))
    if motive.expires:
        if end_date is None:
            errors.add(DISPENSE_END_REQUIRED("end_date"))
        elif end_date <= contract_effective_date:
            errors.add(DISPENSE_END_BEFORE_EFFECT("end_date", effective_date=contract_effective_date))
    if motive.max_months is not None and end_date is not None:
        start = max(requested_on, contract_effective_date)
        latest = add_months(start, motive.max_months) - dt.timedelta(days=1)
        if end_date > latest:
            errors.add(DISPENSE_TOO_LONG("end_date", months=motive.max_months, latest=latest))
    errors.raise_if_any()
