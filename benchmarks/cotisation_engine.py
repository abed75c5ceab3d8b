"""Time cotisation_for_month per member (µs) for 0-3 beneficiaries; run from the repo root."""

from __future__ import annotations

import datetime as dt
import gc
import sys
import time

sys.path.insert(0, ".")

from tests.unit.cotisations.seed002 import INS, O2, B, agent, psc_lines

from mutuelle_core.contracts.contract import ProrataRule
from mutuelle_core.cotisations.engine import ContractPricing, cotisation_for_month
from mutuelle_core.cotisations.rules import CotisationRules, EmployerShare
from mutuelle_core.cotisations.tariff import Price, TariffGrid, TariffLine
from mutuelle_core.values.dates import Month

N = 80_000


def run(label: str, pricing: ContractPricing, members: list, month: Month) -> None:
    for m in members[:1000]:
        cotisation_for_month(m, month, pricing)  # warm the caches
    best = float("inf")
    for _ in range(5):
        gc.collect()
        t0 = time.perf_counter()
        for m in members:
            cotisation_for_month(m, month, pricing)
        best = min(best, time.perf_counter() - t0)
    lines = len(cotisation_for_month(members[0], month, pricing))
    print(f"{label:<48} {best / len(members) * 1e6:6.2f} µs/member  ({lines} lines)")


def main() -> None:
    may = Month(2026, 5)
    whole = ContractPricing(
        TariffGrid("M", psc_lines()), CotisationRules.psc(employer_options=EmployerShare.of_percent(50))
    )
    days = ContractPricing(
        TariffGrid("M", psc_lines()),
        CotisationRules.psc(prorata=ProrataRule.DAYS, employer_options=EmployerShare.of_percent(50)),
    )
    pmss_lines = [line for line in psc_lines() if not (line.product is B and line.category is INS)]
    pmss_lines.append(TariffLine(group_code="A1", product=B, category=INS, price=Price.pmss_percent("1.46")))
    pmss = ContractPricing(TariffGrid("M", pmss_lines), CotisationRules.private())
    for n in range(4):
        spouse = n >= 1
        children = max(n - 1, 0)
        base = [agent(B, spouse=spouse, children=children) for _ in range(N // 4)]
        opt = [agent(O2, spouse=spouse, children=children) for _ in range(N // 4)]
        mid = [agent(O2, spouse=spouse, children=children, start=dt.date(2026, 5, 17)) for _ in range(N // 4)]
        run(f"{n} beneficiaries, base, whole month", whole, base, may)
        run(f"{n} beneficiaries, option 2, whole month", whole, opt, may)
        run(f"{n} beneficiaries, option 2, joined 17th, days", days, mid, may)
        run(f"{n} beneficiaries, option 2, PMSS base, private", pmss, opt, may)


if __name__ == "__main__":
    main()
