"""Cotisation calls (appels de cotisation): what each contract's employer owes for a billed month.

After a month is billed, :func:`issue_cotisation_calls` writes one call per contract (a document of kind
``cotisation_call`` owned by the contract number, seed 000: "Échéanciers", "Détail des cotisations"):
the amount the employer pays for the month (its share and what it deducts from pay), its due date, and
the detail of the month's lines by payer, collection channel, product and person category with the
number of members. Members paying by direct debit are not sent a call: they are pre-notified by the
billing of the month (see :mod:`~mutuelle_core.cotisations.collection`) and read the detail in the
member space.

The call also lists the **regularisations** written in the month (the months billed before, priced
again after a change: see :mod:`~mutuelle_core.cotisations.regularisation`) as their own lines, per
regularised month; a contract with regularisations only gets a call too.

Calls are idempotent: a contract that already has its call for the month gets no second one.
"""

from __future__ import annotations

import attrs

from mutuelle_core.affiliation.documents import make_document
from mutuelle_core.cotisations.account_records import PayerKey, employer_due_id
from mutuelle_core.cotisations.rules import CollectionChannel, Payer
from mutuelle_core.ports import Document
from mutuelle_core.services import Services
from mutuelle_core.values.dates import Month
from mutuelle_core.values.money import Money

__all__ = ["CALL_KIND", "CotisationCall", "issue_cotisation_calls"]

CALL_KIND = "cotisation_call"

_PAYERS = {Payer.EMPLOYER.value: "Part employeur", Payer.MEMBER.value: "Part salarié"}
_CHANNELS = {
    CollectionChannel.PAYROLL_DEDUCTION.value: "précompte sur salaire",
    CollectionChannel.DIRECT_DEBIT.value: "prélèvement",
    CollectionChannel.TRANSFER.value: "virement",
    CollectionChannel.CHEQUE.value: "chèque",
    CollectionChannel.CREDIT_NOTE.value: "avoir",
}
_CATEGORIES = {"insured": "assuré", "spouse": "conjoint", "child": "enfant", "other_adult": "autre adulte"}
_PRODUCTS = {0: "base", 1: "option 1", 2: "option 2", 3: "option 3"}


@attrs.frozen(kw_only=True)
class CotisationCall:
    """A call issued: the contract, the month, what the employer owes and the document."""

    contract_number: str
    month: Month
    amount: Money
    document: Document


def _filename(number: str, month: Month) -> str:
    return f"appel-de-cotisation-{number}-{month}.txt"


def issue_cotisation_calls(svc: Services, month: Month) -> list[CotisationCall]:
    """Write the month's call of every billed contract that has none yet; returns the new ones."""
    key = str(month)
    issued: list[CotisationCall] = []
    now = svc.clock.now()
    with svc.uow() as uow:
        totals = uow.accounts.month_totals(key)
        by_contract: dict[str, list[dict[str, object]]] = {}
        for row in totals:
            by_contract.setdefault(str(row["contract_number"]), []).append(dict(row))
        regularised: dict[str, list[dict[str, object]]] = {}
        for row in uow.cotisations.regularisation_totals(key):
            regularised.setdefault(str(row["contract_number"]), []).append(dict(row))
            by_contract.setdefault(str(row["contract_number"]), [])
        for number, rows in sorted(by_contract.items()):
            filename = _filename(number, month)
            if any(
                d.kind == CALL_KIND and d.filename == filename for d in uow.documents.list_for_owner(number)
            ):
                continue
            contract = uow.contracts.get(number)
            employer = uow.employers.get(contract.employer_id)
            ledger = uow.accounts.ledger(PayerKey(Payer.EMPLOYER, number)).ledger
            due = next((d for d in ledger.dues if d.due_id == employer_due_id(key)), None)
            amount = Money(0) if due is None else due.amount
            lines = [
                f"{svc.insurer.name} — appel de cotisation",
                f"Employeur : {employer.name}",
                f"Contrat : {number}",
                f"Période : {month}",
                "",
                f"Montant à régler par l'employeur : {amount.format()}"
                + ("" if due is None else f", échéance du {due.due_date.strftime('%d/%m/%Y')}"),
                "",
                "Détail (payeur ; mode de règlement ; garantie ; bénéficiaire ; adhérents ; montant) :",
            ]
            total = 0
            for row in rows:
                cents = int(str(row["amount_cents"]))
                total += cents
                lines.append(
                    " ; ".join(
                        [
                            _PAYERS.get(str(row["payer"]), str(row["payer"])),
                            _CHANNELS.get(str(row["channel"]), str(row["channel"])),
                            _PRODUCTS.get(int(str(row["product"])), str(row["product"])),
                            _CATEGORIES.get(str(row["category"]), str(row["category"])),
                            str(row["members"]),
                            Money.cents(cents).format(),
                        ]
                    )
                )
            lines += ["", f"Total des cotisations du mois : {Money.cents(total).format()}"]
            if number in regularised:
                lines += [
                    "",
                    "Régularisations des mois déjà facturés (mois ; payeur ; mode de règlement ; garantie ; "
                    "bénéficiaire ; adhérents ; montant) :",
                ]
                net = 0
                for row in regularised[number]:
                    cents = int(str(row["amount_cents"]))
                    net += cents
                    lines.append(
                        " ; ".join(
                            [
                                str(row["month"]),
                                _PAYERS.get(str(row["payer"]), str(row["payer"])),
                                _CHANNELS.get(str(row["channel"]), str(row["channel"])),
                                _PRODUCTS.get(int(str(row["product"])), str(row["product"])),
                                _CATEGORIES.get(str(row["category"]), str(row["category"])),
                                str(row["members"]),
                                Money.cents(cents).format(),
                            ]
                        )
                    )
                lines.append(f"Total des régularisations : {Money.cents(net).format()}")
            document = make_document(
                document_id=svc.ids.new_id(),
                kind=CALL_KIND,
                owner=number,
                filename=filename,
                at=now,
                text="\n".join(lines) + "\n",
            )
            uow.documents.put(document)
            issued.append(
                CotisationCall(contract_number=number, month=month, amount=amount, document=document)
            )
        uow.commit()
    return issued
