"""Explicit row <-> domain mapping, one pair of functions per aggregate.

The domain classes are frozen attrs classes with no ORM state; these functions are the only place
that knows both the column names and the domain's constructors. Value objects are rebuilt through
their constructors, so a row that no longer satisfies a rule fails loudly on read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from mutuelle_adapters.sql.bulk import json_text
from mutuelle_adapters.strong_auth import AuthChallenge
from mutuelle_core.affiliation.affiliation import Affiliation, AffiliationLink, EnrolmentKind, HistoryEntry
from mutuelle_core.affiliation.dispense import DispenseRequest
from mutuelle_core.affiliation.journey import Journey
from mutuelle_core.affiliation.transitions import Action, AffiliationStatus
from mutuelle_core.contracts.contract import (
    AssuredGroup,
    CollectiveContract,
    ContractKind,
    ContractSettings,
    GroupCategory,
    Product,
    ProductLevel,
    Regime,
)
from mutuelle_core.contracts.correspondent import (
    AccessScope,
    ActivationToken,
    ContractAccess,
    Correspondent,
    CorrespondentRole,
    CorrespondentStatus,
)
from mutuelle_core.contracts.employer import Employer
from mutuelle_core.departures.departure import Continuation, Departure
from mutuelle_core.designation.clauses import Clause
from mutuelle_core.designation.designation import Acceptance, Designation, DesignationStatus
from mutuelle_core.designation.designation import SignatureEvidence as DesignationSignature
from mutuelle_core.families.beneficiaries import CoveredBeneficiary
from mutuelle_core.ports import Document, OutboxEntry
from mutuelle_core.serialization import converter
from mutuelle_core.signature import SignatureEvidence
from mutuelle_core.values.company import Siren, Siret
from mutuelle_core.values.identity import Civility, Email, PersonName, Phone, PostalAddress

Row = Mapping[Any, Any]


def utc(value: dt.datetime | None) -> dt.datetime | None:
    """Normalise an instant read from the database to an aware UTC datetime (SQLite drops the zone)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _opt(cls: Any, value: Any) -> Any:
    return None if value is None else cls(value)


def employer_to_row(e: Employer) -> dict[str, Any]:
    """Columns of ``employers``."""
    return {
        "employer_id": e.employer_id,
        "name": e.name,
        "siren": None if e.siren is None else str(e.siren),
        "siret": None if e.siret is None else str(e.siret),
        "address": None if e.address is None else converter.unstructure(e.address),
        "email": None if e.email is None else str(e.email),
        "version": e.version,
    }


def employer_from_row(r: Row) -> Employer:
    """An :class:`Employer` from its row."""
    return Employer(
        employer_id=r["employer_id"],
        name=r["name"],
        siren=_opt(Siren, r["siren"]),
        siret=_opt(Siret, r["siret"]),
        address=None if r["address"] is None else converter.structure(r["address"], PostalAddress),
        email=_opt(Email, r["email"]),
        version=r["version"],
    )


def contract_to_rows(
    c: CollectiveContract,
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """Columns of ``contracts``, ``assured_groups`` and ``products``."""
    head = {
        "number": c.number,
        "employer_id": c.employer_id,
        "kind": c.kind.value,
        "regime": c.regime.value,
        "effective_date": c.effective_date,
        "end_date": c.end_date,
        "settings": converter.unstructure(c.settings),
        "version": c.version,
    }
    groups = [
        {
            "contract_number": c.number,
            "code": g.code,
            "category": g.category.value,
            "label": g.label,
            "population": g.population,
            "position": i,
        }
        for i, g in enumerate(c.groups)
    ]
    products = [
        {
            "contract_number": c.number,
            "code": p.code,
            "label": p.label,
            "level": int(p.level),
            "group_code": p.group_code,
            "start_date": p.start_date,
            "radiation_date": p.radiation_date,
            "position": i,
        }
        for i, p in enumerate(c.products)
    ]
    return head, groups, products


def contract_from_rows(head: Row, groups: Iterable[Row], products: Iterable[Row]) -> CollectiveContract:
    """A :class:`CollectiveContract` from its rows (children in their stored order)."""
    return CollectiveContract(
        number=head["number"],
        employer_id=head["employer_id"],
        kind=ContractKind(head["kind"]),
        regime=Regime(head["regime"]),
        effective_date=head["effective_date"],
        end_date=head["end_date"],
        settings=converter.structure(head["settings"], ContractSettings),
        groups=tuple(
            AssuredGroup(
                code=g["code"],
                category=GroupCategory(g["category"]),
                label=g["label"],
                population=g["population"],
            )
            for g in sorted(groups, key=lambda g: g["position"])
        ),
        products=tuple(
            Product(
                code=p["code"],
                label=p["label"],
                level=ProductLevel(p["level"]),
                group_code=p["group_code"],
                start_date=p["start_date"],
                radiation_date=p["radiation_date"],
            )
            for p in sorted(products, key=lambda p: p["position"])
        ),
        version=head["version"],
    )


def correspondent_to_rows(c: Correspondent) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Columns of ``correspondents`` and ``correspondent_scopes``."""
    head = {
        "correspondent_id": c.correspondent_id,
        "employer_id": c.employer_id,
        "login": c.login,
        "login_key": c.login.lower(),
        "birth_name": c.name.birth_name,
        "first_names": c.name.first_names,
        "usage_name": c.name.usage_name,
        "email": str(c.email),
        "mobile": None if c.mobile is None else str(c.mobile),
        "phone": None if c.phone is None else str(c.phone),
        "fax": None if c.fax is None else str(c.fax),
        "notification_email": None if c.notification_email is None else str(c.notification_email),
        "role": c.role.value,
        "status": c.status.value,
        "activation_token_hash": None if c.activation is None else c.activation.token_hash,
        "activation_expires_at": None if c.activation is None else c.activation.expires_at,
        "password_hash": c.password_hash,
        "created_by": c.created_by,
        "version": c.version,
    }
    scopes = [
        {
            "correspondent_id": c.correspondent_id,
            "contract_number": g.contract_number,
            "populations": sorted(g.populations),
        }
        for g in c.scope.grants
    ]
    return head, scopes


def correspondent_from_rows(r: Row, scopes: Sequence[Row]) -> Correspondent:
    """A :class:`Correspondent` from its rows."""
    expires = utc(r["activation_expires_at"])
    activation = (
        None
        if r["activation_token_hash"] is None or expires is None
        else ActivationToken(r["activation_token_hash"], expires)
    )
    return Correspondent(
        correspondent_id=r["correspondent_id"],
        employer_id=r["employer_id"],
        login=r["login"],
        name=PersonName(birth_name=r["birth_name"], first_names=r["first_names"], usage_name=r["usage_name"]),
        email=Email(r["email"]),
        role=CorrespondentRole(r["role"]),
        scope=AccessScope.of(
            *(ContractAccess(s["contract_number"], frozenset(s["populations"])) for s in scopes)
        ),
        mobile=_opt(Phone, r["mobile"]),
        phone=_opt(Phone, r["phone"]),
        fax=_opt(Phone, r["fax"]),
        notification_email=_opt(Email, r["notification_email"]),
        status=CorrespondentStatus(r["status"]),
        activation=activation,
        password_hash=r["password_hash"],
        created_by=r["created_by"],
        version=r["version"],
    )


def outbox_from_row(r: Row) -> OutboxEntry:
    """An :class:`OutboxEntry` from its row."""
    created = utc(r["created_at"])
    assert created is not None
    return OutboxEntry(
        message_id=r["message_id"],
        template=r["template"],
        recipient=r["recipient"],
        subject=r["subject"],
        body_text=r["body_text"],
        body_html=r["body_html"],
        created_at=created,
        attempts=r["attempts"],
        next_attempt_at=utc(r["next_attempt_at"]),
        sent_at=utc(r["sent_at"]),
        last_error=r["last_error"],
    )


def document_to_row(d: Document) -> dict[str, Any]:
    """Columns of ``documents``."""
    return {
        "document_id": d.document_id,
        "kind": d.kind,
        "owner": d.owner,
        "filename": d.filename,
        "media_type": d.media_type,
        "content": d.content,
        "sha256": d.sha256,
        "created_at": d.created_at,
    }


def document_from_row(r: Row) -> Document:
    """A :class:`Document` from its row."""
    created = utc(r["created_at"])
    assert created is not None
    return Document(
        document_id=r["document_id"],
        kind=r["kind"],
        owner=r["owner"],
        filename=r["filename"],
        media_type=r["media_type"],
        content=bytes(r["content"]),
        sha256=r["sha256"],
        created_at=created,
    )


_NO_JOURNEY = Journey()
_EMPTY_JOURNEY = converter.unstructure(_NO_JOURNEY)


def affiliation_to_rows(a: Affiliation) -> dict[str, Any]:
    """Columns of ``affiliations`` (the history goes to ``affiliation_history``)."""
    link = a.link
    return {
        "affiliation_id": a.affiliation_id,
        "contract_number": a.contract_number,
        "group_code": a.group_code,
        "status": a.status.value,
        "civility": a.civility.value,
        "birth_name": a.name.birth_name,
        "first_names": a.name.first_names,
        "usage_name": a.name.usage_name,
        "email": None if a.email is None else str(a.email),
        "person_key": a.person_key,
        "invited_at": a.invited_at,
        "last_activity_at": a.last_activity_at,
        "employment_start": a.employment_start,
        "dispense_email": None if a.dispense_email is None else str(a.dispense_email),
        "link_token_hash": None if link is None else link.token_hash,
        "link_expires_at": None if link is None else link.expires_at,
        "reminders": a.reminders,
        "journey": _EMPTY_JOURNEY if a.journey == _NO_JOURNEY else converter.unstructure(a.journey),
        "enrolment": None if a.enrolment is None else a.enrolment.value,
        "effective_date": a.effective_date,
        "product_level": None if a.product_level is None else int(a.product_level),
        "adhesion_number": a.adhesion_number,
        "control_reasons": list(a.control_reasons),
        "dispense": None if a.dispense is None else converter.unstructure(a.dispense),
        "signature": None if a.signature is None else converter.unstructure(a.signature),
        "covered": converter.unstructure(a.covered),
        "departure": None if a.departure is None else converter.unstructure(a.departure),
        "continuation": None if a.continuation is None else converter.unstructure(a.continuation),
        "version": a.version,
    }


AFFILIATION_COLUMNS = (
    "affiliation_id",
    "contract_number",
    "group_code",
    "status",
    "civility",
    "birth_name",
    "first_names",
    "usage_name",
    "email",
    "person_key",
    "invited_at",
    "last_activity_at",
    "employment_start",
    "dispense_email",
    "link_token_hash",
    "link_expires_at",
    "reminders",
    "journey",
    "enrolment",
    "effective_date",
    "product_level",
    "adhesion_number",
    "control_reasons",
    "dispense",
    "signature",
    "covered",
    "departure",
    "continuation",
    "version",
)
"""The columns of :func:`affiliation_values`, in its order (those of :func:`affiliation_to_rows`)."""

_EMPTY_JOURNEY_JSON = json_text(_EMPTY_JOURNEY)
_EMPTY_LIST_JSON = json_text([])


def _json_or_none(value: Any) -> str | None:
    return None if value is None else json_text(converter.unstructure(value))


def affiliation_values(
    a: Affiliation, instant: Callable[[Any], Any], day: Callable[[Any], Any], version: int
) -> tuple[Any, ...]:
    """:func:`affiliation_to_rows` as a tuple in :data:`AFFILIATION_COLUMNS` order, for the driver.

    JSON columns come serialised (:func:`~mutuelle_adapters.sql.bulk.json_text`), instants and dates
    through ``instant`` and ``day`` (see :class:`~mutuelle_adapters.sql.bulk.DriverInsert`); an empty
    journey, list of reasons or of covered people is serialised once for all rows.
    """
    link = a.link
    name = a.name
    email = a.email
    return (
        a.affiliation_id,
        a.contract_number,
        a.group_code,
        a.status._value_,  # the member's value, without the ``value`` property's descriptor call
        a.civility._value_,
        name.birth_name,
        name.first_names,
        name.usage_name,
        None if email is None else email.value,
        a.person_key,
        instant(a.invited_at),
        instant(a.last_activity_at),
        day(a.employment_start),
        None if a.dispense_email is None else a.dispense_email.value,
        None if link is None else link.token_hash,
        None if link is None else instant(link.expires_at),
        a.reminders,
        _EMPTY_JOURNEY_JSON if a.journey == _NO_JOURNEY else json_text(converter.unstructure(a.journey)),
        None if a.enrolment is None else a.enrolment.value,
        day(a.effective_date),
        None if a.product_level is None else int(a.product_level),
        a.adhesion_number,
        json_text(list(a.control_reasons)) if a.control_reasons else _EMPTY_LIST_JSON,
        _json_or_none(a.dispense),
        _json_or_none(a.signature),
        json_text(converter.unstructure(a.covered)) if a.covered else _EMPTY_LIST_JSON,
        _json_or_none(a.departure),
        _json_or_none(a.continuation),
        version,
    )


HISTORY_COLUMNS = ("affiliation_id", "seq", "at", "action", "from_status", "to_status", "actor", "detail")
"""The columns of :func:`history_values`, in its order."""


def history_values(
    affiliation_id: str, entries: Sequence[HistoryEntry], start: int, instant: Callable[[Any], Any]
) -> list[tuple[Any, ...]]:
    """:func:`history_to_rows` as tuples in :data:`HISTORY_COLUMNS` order, for the driver."""
    return [
        (
            affiliation_id,
            start + i,
            instant(e.at),
            e.action.value,
            None if e.from_status is None else e.from_status.value,
            e.to_status.value,
            e.actor,
            None if e.detail is None else e.detail[:500],
        )
        for i, e in enumerate(entries)
    ]


def history_to_rows(affiliation_id: str, entries: Sequence[HistoryEntry], start: int) -> list[dict[str, Any]]:
    """Rows of ``affiliation_history`` for entries numbered from ``start``."""
    return [
        {
            "affiliation_id": affiliation_id,
            "seq": start + i,
            "at": e.at,
            "action": e.action.value,
            "from_status": None if e.from_status is None else e.from_status.value,
            "to_status": e.to_status.value,
            "actor": e.actor,
            "detail": None if e.detail is None else e.detail[:500],
        }
        for i, e in enumerate(entries)
    ]


def affiliation_from_rows(r: Row, history: Sequence[Row]) -> Affiliation:
    """An :class:`Affiliation` from its row and its history rows (in ``seq`` order)."""
    expires = utc(r["link_expires_at"])
    invited, last = utc(r["invited_at"]), utc(r["last_activity_at"])
    assert invited is not None and last is not None
    return Affiliation(
        affiliation_id=r["affiliation_id"],
        contract_number=r["contract_number"],
        group_code=r["group_code"],
        status=AffiliationStatus(r["status"]),
        civility=Civility(r["civility"]),
        name=PersonName(birth_name=r["birth_name"], first_names=r["first_names"], usage_name=r["usage_name"]),
        email=_opt(Email, r["email"]),
        person_key=r["person_key"],
        invited_at=invited,
        last_activity_at=last,
        employment_start=r["employment_start"],
        dispense_email=_opt(Email, r["dispense_email"]),
        link=None
        if r["link_token_hash"] is None or expires is None
        else AffiliationLink(r["link_token_hash"], expires),
        reminders=r["reminders"],
        journey=converter.structure(r["journey"], Journey),
        enrolment=_opt(EnrolmentKind, r["enrolment"]),
        effective_date=r["effective_date"],
        product_level=_opt(ProductLevel, r["product_level"]),
        adhesion_number=r["adhesion_number"],
        control_reasons=tuple(r["control_reasons"]),
        dispense=None if r["dispense"] is None else converter.structure(r["dispense"], DispenseRequest),
        signature=None if r["signature"] is None else converter.structure(r["signature"], SignatureEvidence),
        covered=converter.structure(r["covered"], tuple[CoveredBeneficiary, ...]),
        departure=None if r["departure"] is None else converter.structure(r["departure"], Departure),
        continuation=None
        if r["continuation"] is None
        else converter.structure(r["continuation"], Continuation),
        history=tuple(
            HistoryEntry(
                at=utc(h["at"]),  # type: ignore[arg-type]
                action=Action(h["action"]),
                from_status=_opt(AffiliationStatus, h["from_status"]),
                to_status=AffiliationStatus(h["to_status"]),
                actor=h["actor"],
                detail=h["detail"],
            )
            for h in history
        ),
        version=r["version"],
    )


def designation_to_row(d: Designation) -> dict[str, Any]:
    """Columns of ``designations`` (the clause and the acceptances as JSON through the converter)."""
    signature = d.signature
    return {
        "designation_id": d.designation_id,
        "affiliation_id": d.affiliation_id,
        "member_id": d.member_id,
        "kind": d.clause.kind,
        "clause": converter.unstructure(d.clause, Clause),
        "status": d.status.value,
        "created_at": d.created_at,
        "replaces_id": d.replaces_id,
        "signed_by": None if signature is None else signature.signer,
        "signed_at": None if signature is None else signature.signed_at,
        "signed_document_sha256": None if signature is None else signature.document_sha256,
        "signed_document_id": None if signature is None else signature.document_id,
        "signature_provider": None if signature is None else signature.provider,
        "in_force_at": d.in_force_at,
        "superseded_at": d.superseded_at,
        "superseded_by": d.superseded_by,
        "acceptances": converter.unstructure(d.acceptances, tuple[Acceptance, ...]),
        "version": d.version,
    }


def designation_from_row(r: Row) -> Designation:
    """A :class:`Designation` from its row."""
    signed_at = utc(r["signed_at"])
    signature = (
        None
        if r["signed_by"] is None or signed_at is None
        else DesignationSignature(
            signer=r["signed_by"],
            signed_at=signed_at,
            document_sha256=r["signed_document_sha256"],
            document_id=r["signed_document_id"],
            provider=r["signature_provider"],
        )
    )
    return Designation(
        designation_id=r["designation_id"],
        affiliation_id=r["affiliation_id"],
        member_id=r["member_id"],
        clause=converter.structure(r["clause"], Clause),  # type: ignore[arg-type]
        created_at=utc(r["created_at"]),  # type: ignore[arg-type]
        status=DesignationStatus(r["status"]),
        signature=signature,
        replaces_id=r["replaces_id"],
        in_force_at=utc(r["in_force_at"]),
        superseded_at=utc(r["superseded_at"]),
        superseded_by=r["superseded_by"],
        acceptances=converter.structure(r["acceptances"], tuple[Acceptance, ...]),
        version=r["version"],
    )


def challenge_to_row(c: AuthChallenge) -> dict[str, Any]:
    """Columns of ``auth_challenges`` (the code's hash, never the code)."""
    return {
        "challenge_id": c.challenge_id,
        "subject": c.subject,
        "purpose": c.purpose,
        "code_hash": c.code_hash,
        "salt": c.salt,
        "created_at": c.created_at,
        "expires_at": c.expires_at,
        "attempts": c.attempts,
        "used_at": c.used_at,
        "version": c.version,
    }


def challenge_from_row(r: Row) -> AuthChallenge:
    """An :class:`AuthChallenge` from its row."""
    return AuthChallenge(
        challenge_id=r["challenge_id"],
        subject=r["subject"],
        purpose=r["purpose"],
        code_hash=r["code_hash"],
        salt=r["salt"],
        created_at=utc(r["created_at"]),  # type: ignore[arg-type]
        expires_at=utc(r["expires_at"]),  # type: ignore[arg-type]
        attempts=r["attempts"],
        used_at=utc(r["used_at"]),
        version=r["version"],
    )
