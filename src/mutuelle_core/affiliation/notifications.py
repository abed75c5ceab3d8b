"""The messages of the affiliation slice (rendered from the adapter's French templates)."""

from __future__ import annotations

import datetime as dt

from mutuelle_core.affiliation.affiliation import Affiliation
from mutuelle_core.affiliation.dispense import DispenseRequest
from mutuelle_core.contracts.contract import CollectiveContract
from mutuelle_core.contracts.employer import Employer
from mutuelle_core.ports import JSONValue, OutgoingMessage
from mutuelle_core.values.identity import Email
from mutuelle_core.values.money import Money

__all__ = [
    "affiliated_message",
    "completed_employer_message",
    "dispense_decided_messages",
    "dispense_requested_messages",
    "invitation_message",
    "rejected_message",
    "reminder_message",
    "submitted_message",
]


def recipient_of(aff: Affiliation) -> Email | None:
    """Where to write to the employee: the journey's contact e-mail, else the invitation's."""
    contact = aff.journey.contact
    return contact.email if contact is not None else aff.email


def _link_message(
    template: str, aff: Affiliation, employer: Employer, link: str, **extra: JSONValue
) -> OutgoingMessage | None:
    """A message carrying the file's affiliation link (``None`` without e-mail or pending link)."""
    to = recipient_of(aff)
    if to is None or aff.link is None:
        return None
    context: dict[str, JSONValue] = {
        "first_name": aff.name.first_names,
        "employer": employer.name,
        "contract": aff.contract_number,
        "link": link,
        "expires_at": aff.link.expires_at.isoformat(),
        **extra,
    }
    return OutgoingMessage(template=template, to=to, context=context)


def invitation_message(
    aff: Affiliation, employer: Employer, link: str, *, reinvitation: bool = False
) -> OutgoingMessage | None:
    """The invitation with its link (``None`` when there is no e-mail: a letter is produced instead)."""
    return _link_message("affiliation_invitation", aff, employer, link, reinvitation=reinvitation)


def invitation_letter(aff: Affiliation, employer: Employer, link: str) -> str:
    """The postal letter sent instead of the e-mail when the employee has no address."""
    assert aff.link is not None
    return (
        f"{aff.civility.label} {aff.name.display}\n\n"
        f"Votre employeur {employer.name} a souscrit le contrat collectif {aff.contract_number}.\n"
        "Pour compléter votre affiliation, rendez-vous à l'adresse suivante :\n"
        f"{link}\n"
        f"Ce lien est personnel et valable jusqu'au {aff.link.expires_at:%d/%m/%Y}.\n"
    )


def reminder_message(aff: Affiliation, employer: Employer, link: str) -> OutgoingMessage | None:
    """A reminder with a new link (and the control's reasons when the file was rejected)."""
    reasons: list[JSONValue] = list(aff.control_reasons)
    return _link_message("affiliation_reminder", aff, employer, link, reasons=reasons)


def submitted_message(aff: Affiliation, product_label: str, quote: Money | None) -> OutgoingMessage | None:
    """The confirmation after signature: formula, effective date, monthly amount."""
    to = recipient_of(aff)
    if to is None or aff.effective_date is None:
        return None
    return OutgoingMessage(
        template="affiliation_submitted",
        to=to,
        context={
            "first_name": aff.name.first_names,
            "contract": aff.contract_number,
            "product": product_label,
            "effective_date": aff.effective_date.isoformat(),
            "monthly_amount": None if quote is None else str(quote.amount),
        },
    )


def completed_employer_message(
    aff: Affiliation, employer: Employer, at: dt.datetime
) -> OutgoingMessage | None:
    """To the employer (when the contract asks for it): an employee finished the journey."""
    if employer.email is None:
        return None
    return OutgoingMessage(
        template="affiliation_completed_employer",
        to=employer.email,
        context={
            "employee": aff.name.display,
            "contract": aff.contract_number,
            "group": aff.group_code,
            "at": at.isoformat(),
        },
    )


def affiliated_message(aff: Affiliation, product_label: str) -> OutgoingMessage | None:
    """Welcome: adhesion number, formula, effective date (and the forced-enrolment notice)."""
    to = recipient_of(aff)
    if to is None or aff.effective_date is None or aff.adhesion_number is None:
        return None
    return OutgoingMessage(
        template="affiliation_affiliated",
        to=to,
        context={
            "first_name": aff.name.first_names,
            "contract": aff.contract_number,
            "adhesion_number": aff.adhesion_number,
            "product": product_label,
            "effective_date": aff.effective_date.isoformat(),
            "forced": aff.enrolment is not None and aff.enrolment.base_only,
        },
    )


def rejected_message(aff: Affiliation) -> OutgoingMessage | None:
    """The control's reasons, to correct the file."""
    to = recipient_of(aff)
    if to is None:
        return None
    return OutgoingMessage(
        template="affiliation_rejected",
        to=to,
        context={
            "first_name": aff.name.first_names,
            "contract": aff.contract_number,
            "reasons": list(aff.control_reasons),
        },
    )


def _dispense_recipients(aff: Affiliation, contract: CollectiveContract) -> list[Email]:
    recipients = [
        e
        for e in (recipient_of(aff), aff.dispense_email or contract.settings.dispense_request_email)
        if e is not None
    ]
    return list(dict.fromkeys(recipients))


def dispense_requested_messages(
    aff: Affiliation, contract: CollectiveContract, request: DispenseRequest
) -> list[OutgoingMessage]:
    """Confirmation to the employee and to the employer's dispense address."""
    context: dict[str, JSONValue] = {
        "employee": aff.name.display,
        "contract": aff.contract_number,
        "motive": request.motive.label,
        "requested_on": request.requested_on.isoformat(),
        "end_date": None if request.end_date is None else request.end_date.isoformat(),
    }
    return [
        OutgoingMessage(template="dispense_requested", to=to, context=context)
        for to in _dispense_recipients(aff, contract)
    ]


def dispense_decided_messages(
    aff: Affiliation,
    contract: CollectiveContract,
    *,
    accepted: bool,
    end_date: dt.date | None,
    reason: str = "",
) -> list[OutgoingMessage]:
    """The management's decision, to the employee and to the employer's dispense address."""
    context: dict[str, JSONValue] = {
        "employee": aff.name.display,
        "contract": aff.contract_number,
        "accepted": accepted,
        "end_date": None if end_date is None else end_date.isoformat(),
        "reason": reason,
    }
    return [
        OutgoingMessage(template="dispense_decided", to=to, context=context)
        for to in _dispense_recipients(aff, contract)
    ]
