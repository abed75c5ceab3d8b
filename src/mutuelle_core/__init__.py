"""mutuelle_core: the pure domain of collective complementary health and provident insurance.

The most used names are importable from here; everything else lives in its own module
(``mutuelle_core.values.nir``, ``mutuelle_core.contracts.contract``...).
"""

from mutuelle_core.departures import evin_price_cap, portability_period
from mutuelle_core.errors import AccessDenied, ConcurrencyConflict, DomainError, ValidationFailed
from mutuelle_core.values.bank import BankAccount
from mutuelle_core.values.money import Money, allocate
from mutuelle_core.values.nir import NIR

__all__ = [
    "NIR",
    "AccessDenied",
    "BankAccount",
    "ConcurrencyConflict",
    "DomainError",
    "Money",
    "ValidationFailed",
    "allocate",
    "evin_price_cap",
    "portability_period",
]
