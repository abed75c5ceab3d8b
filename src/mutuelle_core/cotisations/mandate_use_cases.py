"""The SEPA mandate of an affiliation: stored when the member signs, amended when the IBAN changes.

The mandate is signed with the BIA (seed 002: "mandat de prélèvement SEPA"): the signature step stores
it (:func:`store_signed_mandate`), and a new signature of the same file (after a rejection at control,
say) revokes the previous one. A change of bank account in the member space keeps the mandate and its
RUM: :func:`change_bank_account` records the *amendment* that the next collection carries (the original
IBAN, or ``SMNDA`` and ``FRST`` again when the new account is in another bank).
"""

from __future__ import annotations

import attrs

from mutuelle_core.cotisations.account_records import StoredMandate
from mutuelle_core.cotisations.mandates import Mandate
from mutuelle_core.errors import error_code
from mutuelle_core.ports import UnitOfWork
from mutuelle_core.services import Services
from mutuelle_core.values.bank import BankAccount

__all__ = ["MANDATE_NONE", "change_bank_account", "store_signed_mandate"]

MANDATE_NONE = error_code("mandate.none", "L'adhésion {affiliation} n'a pas de mandat de prélèvement actif.")


def store_signed_mandate(uow: UnitOfWork, affiliation_id: str, mandate: Mandate) -> StoredMandate:
    """Store the mandate just signed for an affiliation, revoking the one it replaces (if any)."""
    previous = uow.mandates.active_for([affiliation_id]).get(affiliation_id)
    if previous is not None:
        uow.mandates.update(attrs.evolve(previous, mandate=previous.mandate.revoke(mandate.signed_on)))
    return uow.mandates.add(StoredMandate(mandate, affiliation_id))


def change_bank_account(svc: Services, affiliation_id: str, iban: str, holder: str | None = None) -> Mandate:
    """The member changes the account debited: the mandate is amended (same RUM).

    Raises:
        DomainError: the IBAN's own errors (``bank.*``); ``mandate.none`` without an active mandate;
            ``mandate.*`` for a change the mandate refuses.
    """
    account = BankAccount.parse(iban, holder=holder)
    with svc.uow() as uow:
        stored = uow.mandates.active_for([affiliation_id]).get(affiliation_id)
        if stored is None:
            raise MANDATE_NONE("affiliation_id", affiliation=affiliation_id)
        amended = stored.mandate.amend_account(account, svc.clock.today())
        if holder:
            amended = attrs.evolve(amended, debtor_name=holder)
        uow.mandates.update(attrs.evolve(stored, mandate=amended))
        uow.commit()
    return amended
