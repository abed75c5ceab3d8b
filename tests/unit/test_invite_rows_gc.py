"""``invite_rows`` postpones full garbage collections while it runs and restores the thresholds."""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterator
from typing import Any

import pytest

from mutuelle_adapters.memory.fakes import FixedClock
from mutuelle_core.affiliation import invitations as inv


@pytest.fixture
def odd_thresholds() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    gc.set_threshold(500, 7, 3)
    try:
        yield gc.get_threshold()
    finally:
        gc.set_threshold(*before)


class _FailingServices:
    """Just enough of :class:`Services` for ``invite_rows`` to validate, then fail opening its unit of work."""

    clock = FixedClock(dt.datetime(2026, 5, 4, 8, 30, tzinfo=dt.UTC))
    seen: tuple[int, int, int] | None = None

    def uow(self) -> Any:
        self.seen = gc.get_threshold()
        raise RuntimeError("no database")


def test_the_thresholds_are_restored_after_an_error(odd_thresholds: tuple[int, int, int]) -> None:
    svc = _FailingServices()
    rows = [(1, ["MME", "Lefèvre", "Anaïs", "anais@example.fr"])]
    with pytest.raises(RuntimeError, match="no database"):
        inv.invite_rows(svc, "corr-1", "M1000304", "A2", rows)  # type: ignore[arg-type]
    assert svc.seen is not None
    assert svc.seen[:2] == odd_thresholds[:2]  # the young generations are still collected
    assert svc.seen[2] >= 1_000_000  # no full collection meanwhile
    assert gc.get_threshold() == odd_thresholds


def test_higher_thresholds_are_kept(odd_thresholds: tuple[int, int, int]) -> None:
    gc.set_threshold(500, 7, 2_000_000)
    with inv._young_collections_only():
        assert gc.get_threshold() == (500, 7, 2_000_000)
    assert gc.get_threshold() == (500, 7, 2_000_000)
