"""The contractual documents of an affiliation, rendered as French text: BIA, SEPA mandate, notice.

They are what the employee (or the employer, for a complete affiliation) signs: their SHA-256 goes into
the signature evidence, and they are stored in the document store. Plain UTF-8 text keeps them
byte-for-byte reproducible; a PDF rendering can be added by an adapter from the same content.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from mutuelle_core.affiliation.journey import Journey
from mutuelle_core.contracts.contract import CollectiveContract, Product
from mutuelle_core.ports import Document
from mutuelle_core.services import InsurerProfile
from mutuelle_core.values.bank import BankAccount, MandateReference
from mutuelle_core.values.money import Money

__all__ = ["affiliation_documents", "make_document", "sepa_mandate_document", "sepa_mandate_text"]


def make_document(
    *,
    document_id: str,
    kind: str,
    owner: str,
    filename: str,
    at: dt.datetime,
    text: str | None = None,
    content: bytes | None = None,
    media_type: str = "text/plain; charset=utf-8",
) -> Document:
    """A document with its SHA-256, from UTF-8 ``text`` or raw ``content`` (an uploaded file)."""
    if content is None:
        content = (text or "").encode("utf-8")
    return Document(
        document_id=document_id,
        kind=kind,
        owner=owner,
        filename=filename,
        media_type=media_type,
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        created_at=at,
    )


def _bia(
    contract: CollectiveContract, product: Product, journey: Journey, effective: dt.date, quote: Money | None
) -> str:
    p = journey.personal
    assert p is not None
    lines = [
        "BULLETIN INDIVIDUEL D'AFFILIATION",
        f"Contrat collectif {contract.number} - groupe {product.group_code}",
        f"Produit : {product.label}",
        f"Date d'effet : {effective:%d/%m/%Y}",
        "",
        "ASSURÉ PRINCIPAL",
        f"{p.civility.label} {p.name.display}, né(e) le {p.birth_date:%d/%m/%Y} à {p.birth_city} ({p.birth_country})",
        f"N° de sécurité sociale : {p.nir.formatted}",
        f"Organisme d'affiliation : {p.organisme.formatted}",
        f"Télétransmission : {'oui' if p.teletransmission else 'non'}",
        "",
        "BÉNÉFICIAIRES",
    ]
    for b in journey.beneficiaries or ():
        nir = b.nir.formatted if b.nir else "rattaché au NIR de l'assuré"
        rank = f", rang de naissance {b.birth_rank}" if b.birth_rank else ""
        lines.append(
            f"- {b.kind.value} : {b.civility.label} {b.name.display}, né(e) le {b.birth_date:%d/%m/%Y}, {nir}{rank}"
        )
    if not journey.beneficiaries:
        lines.append("- aucun")
    if quote is not None:
        lines += ["", f"Montant mensuel prélevé : {quote.format()}"]
    lines += ["", "Je certifie l'exactitude de la présente déclaration."]
    return "\n".join(lines) + "\n"


def sepa_mandate_text(
    insurer: InsurerProfile, *, rum: MandateReference, debtor: str, account: BankAccount
) -> str:
    """The text of a recurrent SEPA mandate: creditor and ICS, debtor, holder (the debtor when the
    account names none) and IBAN, the RUM.

    The IBAN is printed in full: this is the document the debtor signs (it is stored, never logged).
    """
    return (
        "MANDAT DE PRÉLÈVEMENT SEPA\n"
        f"Référence unique du mandat (RUM) : {rum}\n"
        f"Créancier : {insurer.name} - ICS {insurer.creditor_id} - {insurer.address}\n"
        f"Débiteur : {debtor}\n"
        f"Titulaire du compte : {account.holder or debtor}\n"
        f"IBAN : {account.formatted}\n"
        "Type de paiement : récurrent\n"
        "En signant ce mandat, vous autorisez le créancier à envoyer des instructions à votre banque pour débiter "
        "votre compte, et votre banque à débiter votre compte conformément à ses instructions. Vous bénéficiez du "
        "droit d'être remboursé par votre banque selon les conditions décrites dans la convention que vous avez "
        "passée avec elle.\n"
    )


def sepa_mandate_document(
    insurer: InsurerProfile,
    *,
    rum: MandateReference,
    debtor: str,
    account: BankAccount,
    owner: str,
    document_id: str,
    at: dt.datetime,
) -> Document:
    """The SEPA mandate alone, as a document to sign (kind ``sepa_mandate``), e.g. when a member who
    signed none at affiliation gives her bank details later (:func:`sepa_mandate_text`)."""
    return make_document(
        document_id=document_id,
        kind="sepa_mandate",
        owner=owner,
        filename="mandat-sepa.txt",
        text=sepa_mandate_text(insurer, rum=rum, debtor=debtor, account=account),
        at=at,
    )


def _mandate(insurer: InsurerProfile, journey: Journey, rum: MandateReference) -> str:
    bank = journey.bank
    personal = journey.personal
    assert bank is not None and personal is not None
    return sepa_mandate_text(insurer, rum=rum, debtor=personal.name.display, account=bank.account)


def _notice(contract: CollectiveContract, product: Product) -> str:
    return (
        "NOTICE D'INFORMATION\n"
        f"Contrat collectif {contract.number} ({contract.kind.label}) - {product.label}\n"
        "La présente notice décrit les garanties, leurs modalités d'entrée en vigueur et les formalités à "
        "accomplir en cas de sinistre. Elle est remise par l'employeur à chaque salarié.\n"
    )


def affiliation_documents(
    *,
    contract: CollectiveContract,
    product: Product,
    journey: Journey,
    effective_date: dt.date,
    quote: Money | None,
    insurer: InsurerProfile,
    rum: MandateReference,
    owner: str,
    new_id: list[str],
    at: dt.datetime,
) -> list[Document]:
    """The BIA, the SEPA mandate and the notice of an affiliation (ids taken from ``new_id``)."""
    specs = [
        (
            "bia",
            "bulletin-individuel-affiliation.txt",
            _bia(contract, product, journey, effective_date, quote),
        ),
        ("sepa_mandate", "mandat-sepa.txt", _mandate(insurer, journey, rum)),
        ("notice", "notice-information.txt", _notice(contract, product)),
    ]
    return [
        make_document(document_id=doc_id, kind=kind, owner=owner, filename=name, text=text, at=at)
        for doc_id, (kind, name, text) in zip(new_id, specs, strict=True)
    ]
