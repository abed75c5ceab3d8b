"""Authorization of the employer space, in one place.

Every employer-space use case starts with :func:`acting_correspondent` (the account exists, is activated
and not deleted) and reaches contracts, groups and other correspondents only through
:class:`EmployerScope`, which refuses anything outside the correspondent's scope with ``access.denied``.
Contracts outside the scope are refused the same way whether they exist or not, so the error tells
nothing about other employers.

>>> from mutuelle_core.contracts.access import denied
>>> denied("contrat M9").code
'access.denied'
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from mutuelle_core.contracts.contract import AssuredGroup, CollectiveContract
from mutuelle_core.contracts.correspondent import (
    AccessScope,
    Correspondent,
    CorrespondentRole,
    CorrespondentStatus,
)
from mutuelle_core.errors import ACCESS_DENIED, AccessDenied, DomainError
from mutuelle_core.ports import UnitOfWork

__all__ = ["EmployerScope", "acting_correspondent", "denied"]


def denied(what: str) -> AccessDenied:
    """The ``access.denied`` error for ``what`` (e.g. ``contrat M1000304``)."""
    err = ACCESS_DENIED(None, what=what)
    assert isinstance(err, AccessDenied)
    return err


def acting_correspondent(uow: UnitOfWork, correspondent_id: str) -> Correspondent:
    """Load the correspondent acting in the employer space; refuse unknown, inactive or deleted accounts."""
    actor = uow.correspondents.find(correspondent_id)
    if actor is None or actor.status is not CorrespondentStatus.ACTIVE:
        raise denied("espace entreprise")
    return actor


@attrs.frozen
class EmployerScope:
    """What one correspondent may see and do, checked against loaded aggregates."""

    actor: Correspondent

    @classmethod
    def load(cls, uow: UnitOfWork, correspondent_id: str) -> EmployerScope:
        """The scope of an active correspondent."""
        return cls(acting_correspondent(uow, correspondent_id))

    @property
    def access(self) -> AccessScope:
        """The actor's contracts and populations."""
        return self.actor.scope

    def contract(self, uow: UnitOfWork, number: str) -> CollectiveContract:
        """Load a contract the actor may act on (``access.denied`` otherwise, even if it does not exist)."""
        if not self.access.allows_contract(number):
            raise denied(f"contrat {number}")
        contract = uow.contracts.find(number)
        if contract is None or contract.employer_id != self.actor.employer_id:
            raise denied(f"contrat {number}")
        return contract

    def group(self, uow: UnitOfWork, number: str, group_code: str) -> tuple[CollectiveContract, AssuredGroup]:
        """Load a contract and one of its groups, checking the population filter."""
        contract = self.contract(uow, number)
        try:
            group = contract.group(group_code)
        except DomainError:
            raise denied(f"groupe {group_code}") from None
        if not self.access.allows_population(number, group.population):
            raise denied(f"groupe {group_code}")
        return contract, group

    def visible_groups(self, contract: CollectiveContract) -> tuple[AssuredGroup, ...]:
        """The groups of a contract (already checked) whose population the actor may see."""
        return tuple(
            g for g in contract.groups if self.access.allows_population(contract.number, g.population)
        )

    def visible_contracts(self, uow: UnitOfWork) -> list[CollectiveContract]:
        """Every contract in the actor's scope, by number."""
        found = (uow.contracts.find(n) for n in self.access.contract_numbers)
        return [c for c in found if c is not None and c.employer_id == self.actor.employer_id]

    def may_grant(self, scope: AccessScope) -> None:
        """Only a principal creates correspondents, and never with more access than its own."""
        if self.actor.role is not CorrespondentRole.PRINCIPAL:
            raise denied("création de correspondant")
        if not self.access.covers(scope):
            raise denied("contrats hors de votre périmètre")

    def manages(self, other: Correspondent) -> bool:
        """True when ``other`` is the actor or a secondary of the same employer within the actor's scope."""
        if other.correspondent_id == self.actor.correspondent_id:
            return True
        return (
            self.actor.role is CorrespondentRole.PRINCIPAL
            and other.employer_id == self.actor.employer_id
            and other.role is CorrespondentRole.SECONDARY
            and self.access.covers(other.scope)
        )

    def managed(self, others: Iterable[Correspondent]) -> list[Correspondent]:
        """The correspondents among ``others`` the actor manages (itself excluded)."""
        return [o for o in others if o.correspondent_id != self.actor.correspondent_id and self.manages(o)]
