"""The employer (entreprise), subscriber of collective contracts (seed 000, "Fiche entreprise").

>>> from mutuelle_core.contracts.employer import Employer
>>> Employer.create(employer_id="emp-1", name="  Redwater  ").name
'REDWATER'
"""

from __future__ import annotations

import attrs

from mutuelle_core.errors import error_code
from mutuelle_core.events import DomainEvent
from mutuelle_core.values.company import Siren, Siret
from mutuelle_core.values.identity import Email, PostalAddress

__all__ = ["Employer"]

EMPLOYER_NAME_EMPTY = error_code("employer.name_empty", "La raison sociale de l'entreprise est obligatoire.")
EMPLOYER_SIRET_MISMATCH = error_code(
    "employer.siret_mismatch", "Le SIRET ne correspond pas au SIREN de l'entreprise."
)


def _normalise_name(value: str) -> str:
    return " ".join(value.split()).upper()


@attrs.frozen(kw_only=True)
class Employer:
    """A company or public employer: name, SIREN/SIRET, address and e-mail (each optional but the name)."""

    employer_id: str
    name: str = attrs.field(converter=_normalise_name)
    siren: Siren | None = None
    siret: Siret | None = None
    address: PostalAddress | None = None
    email: Email | None = None
    version: int = 0
    pending_events: tuple[DomainEvent, ...] = attrs.field(default=(), eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if not self.name:
            raise EMPLOYER_NAME_EMPTY("name")
        if self.siren is not None and self.siret is not None and self.siret.siren != self.siren:
            raise EMPLOYER_SIRET_MISMATCH("siret")

    @classmethod
    def create(
        cls,
        *,
        employer_id: str,
        name: str,
        siren: Siren | None = None,
        siret: Siret | None = None,
        address: PostalAddress | None = None,
        email: Email | None = None,
    ) -> Employer:
        """A new employer; the SIREN is derived from the SIRET when only the latter is given."""
        if siren is None and siret is not None:
            siren = siret.siren
        return cls(employer_id=employer_id, name=name, siren=siren, siret=siret, address=address, email=email)
