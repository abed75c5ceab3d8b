"""Cotisations (DOMAIN.md §5): the pure engine that prices members and follows what they pay.

* :mod:`~mutuelle_core.cotisations.pmss`: the dated PMSS / PASS table and the salary tranches;
* :mod:`~mutuelle_core.cotisations.tariff`: tariff grids per group, product, person category, child
  rank, age band and Alsace-Moselle, in euros, % of PMSS or % of a salary tranche;
* :mod:`~mutuelle_core.cotisations.rules`: employer shares (private L911-7, State PSC), free children,
  prorata, channels: the contract's frozen cotisation settings;
* :mod:`~mutuelle_core.cotisations.engine`: :func:`cotisation_for_month`, one member and one month to
  cotisation lines per person, product, payer and collection channel;
* :mod:`~mutuelle_core.cotisations.schedule`: schedules (échéanciers) per payer, due dates and SEPA
  pre-notification;
* :mod:`~mutuelle_core.cotisations.payments`: payments imputed to the oldest due, credits, rejected
  direct debits;
* :mod:`~mutuelle_core.cotisations.dunning`: unpaid cotisations, the mise en demeure, suspension and
  termination, per legal regime.

These modules are pure: nothing in them stores or sends anything. The use cases that do, through
the ports, are their own modules (import them from there): :mod:`~mutuelle_core.cotisations.billing`
(the monthly run ``bill``), :mod:`~mutuelle_core.cotisations.calls` (appels de cotisation),
:mod:`~mutuelle_core.cotisations.collection` (SEPA direct debits), :mod:`~mutuelle_core.cotisations.cycle`
(the month's bill, calls and SEPA files in one go), :mod:`~mutuelle_core.cotisations.accounts`
(payments and statements), :mod:`~mutuelle_core.cotisations.dunning_run` (the daily dunning job) and
:mod:`~mutuelle_core.cotisations.mandate_use_cases`; the SQL, file and e-mail sides are adapters'.

>>> import datetime as dt
>>> from mutuelle_core.cotisations import (ContractPricing, CotisationRules, MemberSnapshot, Price,
...     PersonCategory, TariffGrid, TariffLine, cotisation_for_month, totals_by_payer)
>>> from mutuelle_core.contracts.contract import ProductLevel
>>> from mutuelle_core.values.dates import DateRange, Month
>>> grid = TariffGrid("M1000304", [TariffLine(group_code="A2", product=ProductLevel.BASE,
...     category=PersonCategory.INSURED, price=Price.pmss_percent("1.25"))])
>>> pricing = ContractPricing(grid, CotisationRules.private())
>>> member = MemberSnapshot(member_id="M1000312", group_code="A2", level=ProductLevel.BASE,
...                         cover=DateRange(dt.date(2026, 1, 1)))
>>> {p.value: str(m) for p, m in totals_by_payer(cotisation_for_month(member, Month(2026, 1), pricing)).items()}
{'employer': '25.03', 'member': '25.03'}
"""

from mutuelle_core.cotisations.dunning import (
    DUNNING_POLICIES,
    DunningRegime,
    DunningState,
    DunningStatus,
    dunning_step,
)
from mutuelle_core.cotisations.engine import (
    ContractPricing,
    CotisationLine,
    CoveredPerson,
    CoverStatus,
    MemberSnapshot,
    cotisation_for_month,
    debited_from_account,
    snapshots_from_affiliation,
    totals_by_payer,
)
from mutuelle_core.cotisations.payments import Due, Ledger, Payment, RejectReason
from mutuelle_core.cotisations.pmss import DEFAULT_CEILINGS, CeilingTable
from mutuelle_core.cotisations.rules import CollectionChannel, CotisationRules, EmployerShare, Payer
from mutuelle_core.cotisations.schedule import Frequency, Schedule, build_schedule
from mutuelle_core.cotisations.tariff import PersonCategory, Price, TariffGrid, TariffLine

__all__ = [
    "DEFAULT_CEILINGS",
    "DUNNING_POLICIES",
    "CeilingTable",
    "CollectionChannel",
    "ContractPricing",
    "CotisationLine",
    "CotisationRules",
    "CoverStatus",
    "CoveredPerson",
    "Due",
    "DunningRegime",
    "DunningState",
    "DunningStatus",
    "EmployerShare",
    "Frequency",
    "Ledger",
    "MemberSnapshot",
    "Payer",
    "Payment",
    "PersonCategory",
    "Price",
    "RejectReason",
    "Schedule",
    "TariffGrid",
    "TariffLine",
    "build_schedule",
    "cotisation_for_month",
    "debited_from_account",
    "dunning_step",
    "snapshots_from_affiliation",
    "totals_by_payer",
]
