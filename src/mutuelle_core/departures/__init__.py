"""Departures: radiation motives, portability, Evin and maintien after death, as pure rules (DOMAIN.md §4).

* :mod:`~mutuelle_core.departures.motives`: the reviewed table of DSN departure motives
  (S21.G00.62.002) and whether each opens portability;
* :mod:`~mutuelle_core.departures.portability`: the portability period (L911-8 CSS);
* :mod:`~mutuelle_core.departures.evin`: Evin price caps and time windows (loi 89-1009 art. 4,
  décret 2017-372);
* :mod:`~mutuelle_core.departures.maintien`: continued cover of the people covered through a deceased
  employee (loi 89-1009 art. 4).

>>> import datetime as dt
>>> from mutuelle_core.departures import portability_period, evin_price_cap
>>> portability_period(dt.date(2025, 1, 1), dt.date(2025, 4, 10), "043")
DateRange(start=datetime.date(2025, 4, 11), end=datetime.date(2025, 8, 10))
>>> evin_price_cap(dt.date(2025, 8, 11), dt.date(2026, 9, 1))
Decimal('1.25')
"""

from mutuelle_core.departures.evin import (
    check_evin_request,
    evin_offer_deadline,
    evin_price_cap,
    evin_request_deadline,
    evin_year,
)
from mutuelle_core.departures.maintien import (
    check_maintien_request,
    maintien_period,
    maintien_request_deadline,
)
from mutuelle_core.departures.motives import (
    MOTIVE_TABLE,
    DepartureMotive,
    MotiveRow,
    PortabilityRule,
    motive_table_markdown,
)
from mutuelle_core.departures.portability import (
    PORTABILITY_MAX_MONTHS,
    portability_months,
    portability_period,
)

__all__ = [
    "MOTIVE_TABLE",
    "PORTABILITY_MAX_MONTHS",
    "DepartureMotive",
    "MotiveRow",
    "PortabilityRule",
    "check_evin_request",
    "check_maintien_request",
    "evin_offer_deadline",
    "evin_price_cap",
    "evin_request_deadline",
    "evin_year",
    "maintien_period",
    "maintien_request_deadline",
    "motive_table_markdown",
    "portability_months",
    "portability_period",
]
