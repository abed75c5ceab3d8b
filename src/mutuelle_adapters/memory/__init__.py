"""In-memory adapters: every port of the core, for unit tests and users' own suites."""

from mutuelle_adapters.memory.store import MemoryDatabase
from mutuelle_adapters.memory.uow import MemoryUnitOfWorkImpl

__all__ = ["MemoryDatabase", "MemoryUnitOfWorkImpl"]
