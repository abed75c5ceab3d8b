"""The SEPA mandate of an affiliation: stored when the member signs, amended when the IBAN changes.

The mandate is signed with the BIA (seed 002: "mandat de prélèvement SEPA"): the signature step stores
it (:func:`store_signed_mandate`), and a new signature of the same file (after a rejection at control,
say) revokes the previous one. A change of bank account in the member space keeps the mandate and its
RUM: :func:`change_bank_account` records the *amendment* that the next collection carries (the original
IBAN, or ``SMNDA`` and ``FRST`` again when the new account is in another bank).

A member who signed no mandate at affiliation (forced to the base by her employer, enrolled
automatically) signs one later with :func:`sign_mandate`: the mandate alone is generated, signed
through the signature port and stored, e.g. when she adds a dependant debited from her account
(:func:`~mutuelle_core.families.use_cases.add_beneficiary`).
"""

from __future__ import annotations

import attrs

from mutuelle_core.affiliation.documents import sepa_mandate_document
from mutuelle_core.cotisations.account_records import StoredMandate
from mutuelle_core.cotisations.mandates import Mandate
from mutuelle_core.errors import error_code
from mutuelle_core.ports import UnitOfWork
from mutuelle_core.services import Services
from mutuelle_core.values.bank import BankAccount, MandateReference

__all__ = ["MANDATE_NONE", "change_bank_account", "next_rum", "sign_mandate", "store_signed_mandate"]

MANDATE_NONE = error_code("mandate.none", "L'adhésion {affiliation} n'a pas de mandat de prélèvement actif.")


def store_signed_mandate(uow: UnitOfWork, affiliation_id: str, mandate: Mandate) -> StoredMandate:
    """Store the mandate just signed for an affiliation, revoking the one it replaces (if any)."""
    previous = uow.mandates.active_for([affiliation_id]).get(affiliation_id)
    if previous is not None:
        uow.mandates.update(attrs.evolve(previous, mandate=previous.mandate.revoke(mandate.signed_on)))
    return uow.mandates.add(StoredMandate(mandate, affiliation_id))


def next_rum(uow: UnitOfWork, contract_number: str) -> MandateReference:
    """A new RUM for a mandate of the contract: ``RUM-<contract>-<n>``, never reused."""
    return MandateReference.parse(uow.references.next_reference("rum", f"RUM-{contract_number}-"))


def sign_mandate(
    svc: Services,
    uow: UnitOfWork,
    *,
    affiliation_id: str,
    contract_number: str,
    account: BankAccount,
    debtor: str,
    signer: str,
) -> StoredMandate:
    """Have ``signer`` sign a new SEPA mandate debiting ``account`` for an affiliation, in ``uow``.

    The mandate document (kind ``sepa_mandate``, owned by the affiliation) is generated with a new
    RUM, stored, and signed through the signature port; the mandate is stored from today, revoking
    the affiliation's previous one if any (:func:`store_signed_mandate`). Its debtor is the account's
    holder, else ``debtor`` (the member's name, printed on the document).
    """
    now = svc.clock.now()
    rum = next_rum(uow, contract_number)
    document = sepa_mandate_document(
        svc.insurer,
        rum=rum,
        debtor=debtor,
        account=account,
        owner=affiliation_id,
        document_id=svc.ids.new_id(),
        at=now,
    )
    uow.documents.put(document)
    svc.signature.sign(signer=signer, documents=[document], at=now)
    mandate = Mandate(
        rum=rum, debtor_name=account.holder or debtor, account=account, signed_on=svc.clock.today()
    )
    return store_signed_mandate(uow, affiliation_id, mandate)


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
