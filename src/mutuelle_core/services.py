"""What every use case needs besides its unit of work: clock, identifiers, secrets and portal links.

Use cases are plain functions ``use_case(services, ...)``: each opens one unit of work from
``services.uow``, does its work, and commits, so that a failed command changes nothing.
"""

from __future__ import annotations

import attrs

from mutuelle_core.ports import Clock, IdGenerator, SignatureService, TokenGenerator, UnitOfWorkFactory
from mutuelle_core.values.bank import SepaCreditorId

__all__ = ["InsurerProfile", "PortalLinks", "Services"]


@attrs.frozen
class InsurerProfile:
    """The insurer as it appears on documents: name, SEPA creditor identifier (ICS), contact."""

    name: str = "Mutuelle Exemple"
    creditor_id: SepaCreditorId = attrs.field(factory=lambda: SepaCreditorId.parse("FR72ZZZ123456"))
    address: str = "1 rue de la Santé, 75013 PARIS"


@attrs.frozen
class PortalLinks:
    """The public addresses of the portals, used to build the links sent by e-mail."""

    employer_space: str = "https://employeur.example-mutuelle.fr"
    member_space: str = "https://adherent.example-mutuelle.fr"

    def correspondent_activation(self, token: str) -> str:
        """The link a new correspondent opens to set a password."""
        return f"{self.employer_space.rstrip('/')}/activation?jeton={token}"

    def affiliation(self, token: str) -> str:
        """The link an invited employee opens to complete the affiliation."""
        return f"{self.member_space.rstrip('/')}/affiliation?jeton={token}"


@attrs.frozen
class Services:
    """The ports a use case reaches besides its unit of work."""

    uow: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator
    tokens: TokenGenerator
    signature: SignatureService
    links: PortalLinks = PortalLinks()
    insurer: InsurerProfile = InsurerProfile()
