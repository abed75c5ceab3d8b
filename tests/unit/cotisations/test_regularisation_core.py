"""The pure regularisation: billed + regularised == the pricing now, per key and to the cent."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from mutuelle_core.cotisations.billing import priced_rows
from mutuelle_core.cotisations.records import BILLABLE_STATUSES, Row
from mutuelle_core.cotisations.regularisation import regularisation_diff, totals_by_key
from mutuelle_core.errors import DomainError
from mutuelle_core.values.dates import Month
from tests.unit.cotisations.test_billing_households import PRICINGS, member

MONTHS = [Month(2026, 4), Month(2026, 5), Month(2026, 6)]


def nonzero(totals: dict[object, tuple[str, int]]) -> dict[object, int]:
    return {key: cents for key, (_category, cents) in totals.items() if cents}


@given(
    name=st.sampled_from(sorted(PRICINGS)),
    seeds=st.lists(st.integers(0, 10**6), min_size=1, max_size=6),
    month=st.sampled_from(MONTHS),
)
def test_billed_plus_regularised_is_the_pricing_now(name: str, seeds: list[int], month: Month) -> None:
    """Any sequence of versions of one affiliation (people, dates, status all change): after each
    regularisation the rows add up to the fresh pricing per key; regularising again adds nothing."""
    pricing = PRICINGS[name]
    rows: list[Row] = []
    for seed in seeds:
        version = member(random.Random(seed), 1)
        if seed % 7 == 0:
            version = version._replace(effective_date=None)
        try:
            diff = regularisation_diff(version, pricing, month, rows)
        except DomainError:
            continue
        for (person, product, payer, channel), category, cents in diff:
            assert cents != 0
            rows.append(
                {
                    "person_id": person,
                    "product": product,
                    "payer": payer,
                    "channel": channel,
                    "category": category,
                    "amount_cents": cents,
                }
            )
        fresh = priced_rows(version, pricing, month) if version.status in BILLABLE_STATUSES else {}
        assert nonzero(totals_by_key(rows)) == nonzero(fresh)
        assert regularisation_diff(version, pricing, month, rows) == []
