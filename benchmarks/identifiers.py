"""NIR and IBAN parsing throughput, next to python-stdnum and schwifty alone, measured in the same run.

    ./dev bench identifiers            # prints a table of µs/op, ops/s and ratios
    ./dev bench identifiers --quick    # fewer repetitions (smoke run)

Targets (issue 2): ``NIR.parse`` costs at most 1.5x ``stdnum.fr.nir.validate``;
``BankAccount.parse`` at most 1.2x ``schwifty.IBAN(text, validate_bban=True)``.
The best of several repeats is taken for each side, interleaved, so that both see the same machine.
"""

from __future__ import annotations

import random
import sys
import timeit
from collections.abc import Callable

from schwifty import IBAN
from stdnum.fr import nir as stdnum_nir

from mutuelle_core.values.bank import BankAccount
from mutuelle_core.values.nir import NIR


def sample_nirs(n: int, rng: random.Random) -> list[str]:
    out = []
    for _ in range(n):
        body = (
            f"{rng.choice('12')}{rng.randrange(100):02d}{rng.randrange(1, 13):02d}{rng.randrange(1, 96):02d}"
        )
        body += f"{rng.randrange(1000):03d}{rng.randrange(1, 1000):03d}"
        out.append(
            f"{body[0]} {body[1:3]} {body[3:5]} {body[5:7]} {body[7:10]} {body[10:13]} "
            + stdnum_nir.calc_check_digits(body + "00")
        )
    return out


def sample_ibans(n: int, rng: random.Random) -> list[str]:
    out = []
    for _ in range(n):
        bank, branch, account = (
            f"{rng.randrange(10**5):05d}",
            f"{rng.randrange(10**5):05d}",
            f"{rng.randrange(10**11):011d}",
        )
        rib = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97
        bban = f"{bank}{branch}{account}{rib:02d}"
        check = 98 - int(bban + "152700") % 97
        iban = f"FR{check:02d}{bban}"
        out.append(" ".join(iban[i : i + 4] for i in range(0, len(iban), 4)))
    return out


def best_per_op(fn: Callable[[str], object], data: list[str], repeat: int) -> float:
    def run() -> None:
        for item in data:
            fn(item)

    return min(timeit.repeat(run, number=1, repeat=repeat)) / len(data)


def main() -> int:
    quick = "--quick" in sys.argv
    rng = random.Random(2026)
    n, repeat = (2_000, 3) if quick else (20_000, 7)
    nirs, ibans = sample_nirs(n, rng), sample_ibans(n // 4, rng)

    def schwifty_alone(text: str) -> object:
        return IBAN(text, validate_bban=True)

    rows = []
    pairs = [
        ("NIR", NIR.parse, stdnum_nir.validate, "stdnum.fr.nir.validate", nirs, 1.5),
        ("IBAN", BankAccount.parse, schwifty_alone, "schwifty IBAN(validate_bban=True)", ibans, 1.2),
    ]
    ok = True
    for name, ours, ref, ref_name, data, target in pairs:
        t_ref, t_ours = [], []
        for _ in range(3):  # interleave the two sides
            t_ref.append(best_per_op(ref, data, repeat))
            t_ours.append(best_per_op(ours, data, repeat))
        r, o = min(t_ref), min(t_ours)
        ratio = o / r
        ok &= ratio <= target
        rows.append((name, ref_name, r, o, ratio, target))

    print(
        f"{'what':5} {'reference':36} {'ref µs/op':>10} {'ours µs/op':>11} {'ours ops/s':>11} {'ratio':>6} {'target':>7}"
    )
    for name, ref_name, r, o, ratio, target in rows:
        verdict = "ok" if ratio <= target else "MISSED"
        print(
            f"{name:5} {ref_name:36} {r * 1e6:10.2f} {o * 1e6:11.2f} {1 / o:11,.0f} {ratio:6.2f} "
            f"{'≤' + str(target):>7} {verdict}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
