"""Invitations (affiliation simple): one at a time, or a whole file of civilité, nom, prénom, e-mail.

Each invitation carries a link token (unguessable, stored hashed, single use, expiring with the
contract's validity) and raises an invitation e-mail through the outbox, or a letter document when the
employee has no e-mail. Duplicates (repeated in the file, or already invited, affiliated or dispensed on
that contract) are reported and never invited twice: importing the same file again invites no one.

For a file, every rejected line is reported with its number, field, code and French message; the valid
lines are invited together in one transaction.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import attrs

from mutuelle_core.affiliation.affiliation import Affiliation, person_key
from mutuelle_core.affiliation.documents import make_document
from mutuelle_core.affiliation.notifications import invitation_letter, invitation_message
from mutuelle_core.contracts.access import EmployerScope
from mutuelle_core.contracts.contract import CollectiveContract
from mutuelle_core.contracts.employer import Employer
from mutuelle_core.errors import REQUIRED, DomainError, ErrorCollector, ValidationFailed, error_code
from mutuelle_core.ports import UnitOfWork
from mutuelle_core.services import Services
from mutuelle_core.values.identity import Civility, Email, PersonName

__all__ = ["BulkInviteReport", "InvitationForm", "RejectedLine", "invite_employee", "invite_rows"]

WRONG_COLUMNS = error_code(
    "invitation.wrong_column_count",
    "La ligne doit contenir exactement 4 colonnes (civilité, nom, prénom, e-mail) : {count} trouvée(s).",
)
EMPTY_LINE = error_code("invitation.empty_line", "Ligne vide.")
HEADER_LINE = error_code(
    "invitation.header_line",
    "Le fichier ne doit pas contenir de ligne de titres (civilité, nom, prénom, e-mail).",
)
DUPLICATE_IN_FILE = error_code(
    "invitation.duplicate_in_file", "Ce salarié figure déjà à la ligne {line} du fichier."
)
ALREADY_INVITED = error_code(
    "invitation.already_invited", "Ce salarié est déjà invité, affilié ou dispensé sur ce contrat."
)
CONTRACT_NOT_IN_FORCE = error_code(
    "invitation.contract_not_in_force", "Le contrat {number} n'est pas en vigueur à cette date."
)

BULK_CHUNK = 5_000
"""Invitations are built, stored and e-mailed by chunks, so memory does not grow with the file."""

_HEADER_WORDS = {
    "civilite",
    "civilité",
    "civility",
    "nom",
    "prenom",
    "prénom",
    "email",
    "e-mail",
    "mail",
    "adresse e-mail",
}


@attrs.frozen(kw_only=True)
class InvitationForm:
    """One employee to invite, as typed (e-mail optional one at a time: a letter is produced instead)."""

    civility: str
    birth_name: str
    first_names: str
    email: str = ""
    employment_start: dt.date | None = None

    def validate(self, *, email_required: bool) -> tuple[Civility, PersonName, Email | None]:
        """The validated identity; every problem at once."""
        return _validate_identity(
            self.civility, self.birth_name, self.first_names, self.email, email_required=email_required
        )


def _validate_identity(
    civility_text: str, birth_name: str, first_names: str, email_text: str, *, email_required: bool
) -> tuple[Civility, PersonName, Email | None]:
    """Civilité, names and e-mail of one invitation; every problem at once."""
    try:  # fast path: a valid line is checked without collecting
        civility = Civility.parse(civility_text)
        name = PersonName.parse(birth_name, first_names)
        email = Email.parse(email_text) if email_text.strip() else None
        if email is not None or not email_required:
            return civility, name, email
    except DomainError:
        pass
    errors = ErrorCollector()
    checked_civility = errors.capture("civility", Civility.parse, civility_text)
    checked_name = errors.capture("name", PersonName.parse, birth_name, first_names)
    checked_email = None
    if email_text.strip():
        checked_email = errors.capture("email", Email.parse, email_text)
    elif email_required:
        errors.add(REQUIRED("email"))
    errors.raise_if_any()
    assert checked_civility is not None and checked_name is not None
    return checked_civility, checked_name, checked_email


@attrs.frozen
class RejectedLine:
    """A line of the file that was not invited, with every reason."""

    line: int
    errors: tuple[DomainError, ...]


@attrs.frozen
class BulkInviteReport:
    """What an import did: the invited affiliations' ids and the rejected lines."""

    invited: tuple[str, ...]
    rejected: tuple[RejectedLine, ...]

    def to_dict(self, locale: str = "fr") -> dict[str, object]:
        """JSON-ready report."""
        return {
            "invited": len(self.invited),
            "rejected": [
                {"line": r.line, "errors": [e.to_dict(locale) for e in r.errors]} for r in self.rejected
            ],
        }


def _new_affiliation(
    svc: Services,
    contract: CollectiveContract,
    group_code: str,
    civility: Civility,
    name: PersonName,
    email: Email | None,
    *,
    now: dt.datetime,
    actor: str,
    employment_start: dt.date | None,
    dispense_email: Email | None,
    key: str | None = None,
) -> tuple[Affiliation, str]:
    token = svc.tokens.new_token()
    aff = Affiliation.invite(
        affiliation_id=svc.ids.new_id(),
        contract_number=contract.number,
        group_code=group_code,
        civility=civility,
        name=name,
        email=email,
        token=token,
        validity_months=contract.settings.invitation_validity_months,
        now=now,
        actor=actor,
        employment_start=employment_start,
        dispense_email=dispense_email,
        key=key,
    )
    return aff, token


def send_invitation(
    svc: Services,
    uow: UnitOfWork,
    aff: Affiliation,
    employer: Employer,
    token: str,
    *,
    reinvitation: bool = False,
) -> None:
    """Queue the invitation e-mail, or store the letter when there is no e-mail."""
    link = svc.links.affiliation(token)
    message = invitation_message(aff, employer, link, reinvitation=reinvitation)
    if message is not None:
        uow.outbox.add(message)
        return
    uow.documents.put(
        make_document(
            document_id=svc.ids.new_id(),
            kind="invitation_letter",
            owner=aff.affiliation_id,
            filename="courrier-invitation.txt",
            text=invitation_letter(aff, employer, link),
            at=svc.clock.now(),
        )
    )


def invite_employee(
    svc: Services,
    actor_id: str,
    contract_number: str,
    group_code: str,
    form: InvitationForm,
    *,
    dispense_email: str | None = None,
) -> Affiliation:
    """Invite one employee (e-mail optional: a letter document is produced without one)."""
    civility, name, email = form.validate(email_required=False)
    dispense = Email.parse(dispense_email) if dispense_email else None
    now = svc.clock.now()
    with svc.uow() as uow:
        scope = EmployerScope.load(uow, actor_id)
        contract, _group = scope.group(uow, contract_number, group_code)
        if not contract.in_force(svc.clock.today()):
            raise CONTRACT_NOT_IN_FORCE("contract", number=contract.number)
        key = person_key(name, email)
        if uow.affiliations.existing_keys(contract.number, [key]):
            raise ALREADY_INVITED("name")
        aff, token = _new_affiliation(
            svc,
            contract,
            group_code,
            civility,
            name,
            email,
            now=now,
            actor=actor_id,
            employment_start=form.employment_start,
            dispense_email=dispense,
        )
        stored = uow.affiliations.add(aff)
        send_invitation(svc, uow, stored, uow.employers.get(contract.employer_id), token)
        uow.commit()
    return stored


@contextmanager
def _young_collections_only() -> Iterator[None]:
    """No full garbage collection while a file is invited; the thresholds as they were afterwards.

    A file keeps every validated line (names, e-mail, key) until its transaction ends, and each chunk
    keeps its aggregates until they are written: the collector's full passes are triggered again and
    again by this growth, and each one walks every object of the process (a quarter of the time of a
    100,000-line import went there) for nothing, as these objects hold no cycle and are freed by
    reference counting. The young generations are still collected (cyclic garbage made meanwhile
    goes as usual); only the oldest generation's threshold is raised, then restored, even on error.
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0], thresholds[1], max(thresholds[2], 1_000_000))
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def _looks_like_header(fields: Sequence[str]) -> bool:
    # sum(1 for f in fields if f.strip().lower() in _HEADER_WORDS) >= 2, without a Python loop a line
    return sum(map(_HEADER_WORDS.__contains__, map(str.lower, map(str.strip, fields)))) >= 2


def _is_blank(fields: Sequence[str]) -> bool:
    """Every field empty or spaces (``all(not f.strip() for f in fields)``, quick for a filled line)."""
    if fields and fields[0].strip():
        return False
    return not any(map(str.strip, fields))


def invite_rows(
    svc: Services,
    actor_id: str,
    contract_number: str,
    group_code: str,
    rows: Iterable[tuple[int, Sequence[str]]],
    *,
    dispense_email: str | None = None,
) -> BulkInviteReport:
    """Invite the valid lines of a file (``(line number, fields)``); report every rejected line.

    The valid lines are invited in one transaction; lines repeated in the file, or already invited,
    affiliated or dispensed on the contract, are reported and not invited.
    """
    with _young_collections_only():
        return _invite_rows(svc, actor_id, contract_number, group_code, rows, dispense_email=dispense_email)


def _invite_rows(
    svc: Services,
    actor_id: str,
    contract_number: str,
    group_code: str,
    rows: Iterable[tuple[int, Sequence[str]]],
    *,
    dispense_email: str | None,
) -> BulkInviteReport:
    """:func:`invite_rows` (under :func:`_young_collections_only`)."""
    dispense = Email.parse(dispense_email) if dispense_email else None
    now = svc.clock.now()
    rejected: list[RejectedLine] = []
    candidates: list[tuple[int, Civility, PersonName, Email, str]] = []
    first_line_of: dict[str, int] = {}
    for line, fields in rows:
        if _is_blank(fields):
            rejected.append(RejectedLine(line, (EMPTY_LINE(None),)))
            continue
        if len(fields) != 4:
            rejected.append(RejectedLine(line, (WRONG_COLUMNS(None, count=len(fields)),)))
            continue
        if _looks_like_header(fields):
            rejected.append(RejectedLine(line, (HEADER_LINE(None),)))
            continue
        try:
            civility, name, email = _validate_identity(
                fields[0], fields[1], fields[2], fields[3], email_required=True
            )
        except ValidationFailed as err:
            rejected.append(RejectedLine(line, err.errors))
            continue
        assert email is not None
        key = person_key(name, email)
        if key in first_line_of:
            rejected.append(RejectedLine(line, (DUPLICATE_IN_FILE(None, line=first_line_of[key]),)))
            continue
        first_line_of[key] = line
        candidates.append((line, civility, name, email, key))

    invited: list[str] = []
    with svc.uow() as uow:
        scope = EmployerScope.load(uow, actor_id)
        contract, _group = scope.group(uow, contract_number, group_code)
        if not contract.in_force(svc.clock.today()):
            raise CONTRACT_NOT_IN_FORCE("contract", number=contract.number)
        employer = uow.employers.get(contract.employer_id)
        existing = uow.affiliations.existing_keys(contract.number, list(first_line_of))
        for start in range(0, len(candidates), BULK_CHUNK):
            new: list[tuple[Affiliation, str]] = []
            for line, civility, name, email, key in candidates[start : start + BULK_CHUNK]:
                if key in existing:
                    rejected.append(RejectedLine(line, (ALREADY_INVITED(None),)))
                    continue
                new.append(
                    _new_affiliation(
                        svc,
                        contract,
                        group_code,
                        civility,
                        name,
                        email,
                        now=now,
                        actor=actor_id,
                        employment_start=None,
                        dispense_email=dispense,
                        key=key,
                    )
                )
            uow.affiliations.add_many([aff for aff, _ in new])
            messages = [invitation_message(aff, employer, svc.links.affiliation(token)) for aff, token in new]
            uow.outbox.add_many([m for m in messages if m is not None])
            invited.extend(aff.affiliation_id for aff, _ in new)
        uow.commit()
    return BulkInviteReport(invited=tuple(invited), rejected=tuple(sorted(rejected, key=lambda r: r.line)))
