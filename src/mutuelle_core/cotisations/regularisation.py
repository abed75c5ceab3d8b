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

from collections.abc import Iterable

from mutuelle_core.cotisations.billing import LineKey, priced_rows
from mutuelle_core.cotisations.engine import ContractPricing
from mutuelle_core.cotisations.records import BILLABLE_STATUSES, BillableAffiliation, Row
from mutuelle_core.cotisations.rules import CollectionChannel, Payer
from mutuelle_core.values.dates import Month

__all__ = ["Difference", "line_key", "payer_split", "regularisation_diff", "totals_by_key"]

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
