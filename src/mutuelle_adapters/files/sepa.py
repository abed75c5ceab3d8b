"""SEPA direct debit files (pain.008.001.02, SEPA Core), checked against the XSD before they leave.

:func:`build_direct_debit_file` turns :class:`~mutuelle_core.cotisations.mandates.DirectDebitInstruction`
values into one file for one creditor and one collection date, one payment information block
(``PmtInf``) per sequence type (``FRST``, ``RCUR``, ``FNAL``, ``OOFF``, in that order). The file is
validated against the ISO 20022 pain.008.001.02 schema shipped by the ``sepaxml`` package (with
``xmlschema``) before it is returned; :meth:`DirectDebitFile.write` then writes it atomically.

The XML is written here with :mod:`xml.etree.ElementTree` rather than ``sepaxml.SepaDD``: ``SepaDD``
cannot carry the mandate amendment details (``AmdmntInd``, ``AmdmntInfDtls`` with the original
account or ``SMNDA``) that a change of IBAN needs, it generates its own message and end-to-end ids and
reads the clock, and it takes amounts and texts it does not transliterate. Only its XSD is used.

Rules applied on top of the schema (EPC implementation guidelines): amounts with two decimals and a
dot; ``NbOfTxs`` and ``CtrlSum`` of the file and of each block equal to the instructions' count and
exact sum (computed in cents); names and texts in the SEPA character set (the instruction
transliterates them, the creditor's name is transliterated here); an account without a known BIC is
sent IBAN-only (``NOTPROVIDED``); the requested collection date is moved to the next TARGET2 business
day when it falls on a closing day (weekends, 1 January, Good Friday, Easter Monday, 1 May, 25 and
26 December).

>>> import datetime as dt
>>> from mutuelle_core.cotisations.mandates import Mandate
>>> from mutuelle_core.services import InsurerProfile
>>> from mutuelle_core.values.bank import BankAccount
>>> from mutuelle_core.values.money import Money
>>> mandate = Mandate(rum="MUT-2026-000042", debtor_name="Anaïs Lefèvre",
...     account="FR7630006000011234567890189", signed_on=dt.date(2026, 1, 10))
>>> debit = mandate.instruction(end_to_end_id="E2E-000042", amount=Money("36.00"),
...     collection_date=dt.date(2026, 2, 5), notified_on=dt.date(2026, 1, 12), remittance_info="Cotisation")
>>> sepa_file = build_direct_debit_file([debit], creditor=InsurerProfile(),
...     creditor_account=BankAccount.parse("FR7630004000010001234567830"), message_id="MUT-20260120-1",
...     created_at=dt.datetime(2026, 1, 20, 9, 30))
>>> sepa_file.number_of_transactions, sepa_file.control_sum, sepa_file.requested_collection_date
(1, Money('36.00'), datetime.date(2026, 2, 5))
>>> b"<CtrlSum>36.00</CtrlSum>" in sepa_file.content
True
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.resources
import os
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Final

import attrs
import xmlschema
from lxml import etree

from mutuelle_core.cotisations.mandates import (
    NAME_MAX_LENGTH,
    DirectDebitInstruction,
    SequenceType,
    is_sepa_identifier,
    sepa_text,
)
from mutuelle_core.errors import error_code
from mutuelle_core.ports import BuiltDirectDebitFile
from mutuelle_core.services import InsurerProfile
from mutuelle_core.values.bank import BankAccount
from mutuelle_core.values.money import Money

__all__ = [
    "NAMESPACE",
    "SEPA_FILE_DUPLICATE_END_TO_END_ID",
    "SEPA_FILE_EMPTY",
    "SEPA_FILE_INVALID_MESSAGE_ID",
    "SEPA_FILE_MANDATE_TWICE",
    "SEPA_FILE_MIXED_DATES",
    "SEPA_FILE_SCHEMA_INVALID",
    "DirectDebitBatch",
    "DirectDebitFile",
    "SepaDirectDebitFiles",
    "build_direct_debit_file",
    "next_target2_business_day",
    "schema",
    "write_direct_debit_file",
]

NAMESPACE: Final = "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"
"""The XML namespace of pain.008.001.02 documents."""
_SCHEMA_RESOURCE: Final = "schemas/pain.008.001.02.xsd"
_SEQUENCE_ORDER: Final = (SequenceType.FRST, SequenceType.RCUR, SequenceType.FNAL, SequenceType.OOFF)
_NOT_PROVIDED: Final = "NOTPROVIDED"
_SMNDA: Final = "SMNDA"

SEPA_FILE_EMPTY = error_code(
    "sepa_file.empty", "Un fichier de prélèvements doit contenir au moins un prélèvement."
)
SEPA_FILE_MIXED_DATES = error_code(
    "sepa_file.mixed_collection_dates",
    "Un fichier de prélèvements porte une seule date d'échéance : {first} et {other} sont mélangées.",
)
SEPA_FILE_DUPLICATE_END_TO_END_ID = error_code(
    "sepa_file.duplicate_end_to_end_id",
    "La référence de bout en bout {id} est utilisée par plusieurs prélèvements du fichier.",
)
SEPA_FILE_MANDATE_TWICE = error_code(
    "sepa_file.mandate_sequence_conflict",
    "Le mandat {rum} est prélevé dans le même fichier avec deux types de séquence ({first} et {other}).",
)
SEPA_FILE_INVALID_MESSAGE_ID = error_code(
    "sepa_file.invalid_message_id",
    "L'identifiant de fichier « {value} » doit compter 1 à 35 caractères du jeu SEPA.",
)
SEPA_FILE_SCHEMA_INVALID = error_code(
    "sepa_file.schema_invalid",
    "Le fichier de prélèvements n'est pas conforme au schéma pain.008.001.02 ({path} : {reason}).",
)


@functools.cache
def schema() -> xmlschema.XMLSchema:
    """The pain.008.001.02 XSD shipped by ``sepaxml``, loaded once."""
    resource = importlib.resources.files("sepaxml").joinpath(_SCHEMA_RESOURCE)
    with importlib.resources.as_file(resource) as path:
        return xmlschema.XMLSchema(str(path))


def next_target2_business_day(day: dt.date) -> dt.date:
    """``day``, or the next TARGET2 business day when ``day`` is a closing day.

    >>> next_target2_business_day(dt.date(2026, 4, 3))  # Good Friday, then Easter Monday
    datetime.date(2026, 4, 7)
    >>> next_target2_business_day(dt.date(2026, 2, 5))
    datetime.date(2026, 2, 5)
    """
    while _target2_closed(day):
        day += dt.timedelta(days=1)
    return day


def _easter(year: int) -> dt.date:
    """Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return dt.date(year, month, day + 1)


def _target2_closed(day: dt.date) -> bool:
    if day.weekday() >= 5 or (day.month, day.day) in {(1, 1), (5, 1), (12, 25), (12, 26)}:
        return True
    easter = _easter(day.year)
    return day in {easter - dt.timedelta(days=2), easter + dt.timedelta(days=1)}


@attrs.frozen(kw_only=True)
class DirectDebitBatch:
    """One payment information block (``PmtInf``) of a file: the collections of one sequence type.

    Attributes:
        payment_info_id: its ``PmtInfId``.
        sequence_type: ``FRST``, ``RCUR``, ``FNAL`` or ``OOFF``.
        number_of_transactions: its ``NbOfTxs``.
        control_sum: its ``CtrlSum``, the exact sum of its amounts.
        end_to_end_ids: the end-to-end ids of its collections, in file order.
    """

    payment_info_id: str
    sequence_type: SequenceType
    number_of_transactions: int
    control_sum: Money
    end_to_end_ids: tuple[str, ...]


@attrs.frozen(kw_only=True)
class DirectDebitFile:
    """A pain.008.001.02 file that passed the XSD, with its totals.

    Attributes:
        content: the XML document, UTF-8 encoded.
        message_id: its ``MsgId``.
        collection_date: the instructions' collection date.
        requested_collection_date: the ``ReqdColltnDt`` sent (moved to a TARGET2 business day).
        number_of_transactions: the file's ``NbOfTxs``.
        control_sum: the file's ``CtrlSum``.
        batches: the ``PmtInf`` blocks, in file order.
    """

    content: bytes
    message_id: str
    collection_date: dt.date
    requested_collection_date: dt.date
    number_of_transactions: int
    control_sum: Money
    batches: tuple[DirectDebitBatch, ...]

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the file at ``path`` atomically (a temporary file in the same folder, then renamed)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(self.content)
                out.flush()
                os.fsync(out.fileno())
            Path(temp).replace(target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return target


def _amount(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = text
    return element


def _agent(parent: ET.Element, tag: str, account: BankAccount) -> None:
    institution = _sub(_sub(parent, tag), "FinInstnId")
    bic = account.bic
    if bic is not None:
        _sub(institution, "BIC", bic)
    else:
        _sub(_sub(institution, "Othr"), "Id", _NOT_PROVIDED)


def _iban_account(parent: ET.Element, tag: str, iban: str) -> None:
    _sub(_sub(_sub(parent, tag), "Id"), "IBAN", iban)


def _check(instructions: Sequence[DirectDebitInstruction], message_id: str) -> dt.date:
    if not is_sepa_identifier(message_id):
        raise SEPA_FILE_INVALID_MESSAGE_ID("message_id", value=str(message_id)[:40])
    if not instructions:
        raise SEPA_FILE_EMPTY("instructions")
    collection = instructions[0].collection_date
    seen_ids: set[str] = set()
    sequences: dict[str, SequenceType] = {}
    for index, instruction in enumerate(instructions):
        where = f"instructions[{index}]"
        if instruction.collection_date != collection:
            raise SEPA_FILE_MIXED_DATES(
                f"{where}.collection_date", first=collection, other=instruction.collection_date
            )
        if instruction.end_to_end_id in seen_ids:
            raise SEPA_FILE_DUPLICATE_END_TO_END_ID(f"{where}.end_to_end_id", id=instruction.end_to_end_id)
        seen_ids.add(instruction.end_to_end_id)
        rum = str(instruction.rum)
        first = sequences.setdefault(rum, instruction.sequence_type)
        if first is not instruction.sequence_type:
            raise SEPA_FILE_MANDATE_TWICE(
                f"{where}.sequence_type", rum=rum, first=first.value, other=instruction.sequence_type.value
            )
    return collection


def _transaction(parent: ET.Element, instruction: DirectDebitInstruction) -> None:
    tx = _sub(parent, "DrctDbtTxInf")
    _sub(_sub(tx, "PmtId"), "EndToEndId", instruction.end_to_end_id)
    _sub(tx, "InstdAmt", _amount(instruction.amount.to_cents()), Ccy="EUR")
    mandate = _sub(_sub(tx, "DrctDbtTx"), "MndtRltdInf")
    _sub(mandate, "MndtId", str(instruction.rum))
    _sub(mandate, "DtOfSgntr", instruction.mandate_signed_on.isoformat())
    amendment = instruction.amendment
    _sub(mandate, "AmdmntInd", "true" if amendment is not None else "false")
    if amendment is not None:
        details = _sub(mandate, "AmdmntInfDtls")
        if amendment.other_bank:
            # EPC: same mandate, new debtor agent: "SMNDA" in place of the original account, FRST.
            _sub(_sub(_sub(_sub(details, "OrgnlDbtrAcct"), "Id"), "Othr"), "Id", _SMNDA)
        else:
            _iban_account(details, "OrgnlDbtrAcct", amendment.original_account.iban)
    _agent(tx, "DbtrAgt", instruction.account)
    _sub(_sub(tx, "Dbtr"), "Nm", instruction.debtor_name)
    _iban_account(tx, "DbtrAcct", instruction.account.iban)
    _sub(_sub(tx, "RmtInf"), "Ustrd", instruction.remittance_info)


@functools.cache
def _fast_schema() -> etree.XMLSchema:
    """The same XSD compiled by libxml2 (lxml): it validates a file of a million direct debits in
    seconds, where the pure-Python :func:`schema` takes many minutes."""
    resource = importlib.resources.files("sepaxml").joinpath(_SCHEMA_RESOURCE)
    with importlib.resources.as_file(resource) as path:
        return etree.XMLSchema(etree.parse(str(path)))


def _validate(content: bytes) -> None:
    validator = _fast_schema()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    if validator.validate(etree.fromstring(content, parser)):
        return
    error = validator.error_log[0]
    # the kind of error and where, never the message: libxml2 quotes the value at fault (an IBAN, a name)
    raise SEPA_FILE_SCHEMA_INVALID(None, path=error.path or f"ligne {error.line}", reason=error.type_name)


def build_direct_debit_file(
    instructions: Iterable[DirectDebitInstruction],
    *,
    creditor: InsurerProfile,
    creditor_account: BankAccount,
    message_id: str,
    created_at: dt.datetime,
) -> DirectDebitFile:
    """Build and validate the pain.008.001.02 file of one creditor's collections on one date.

    Args:
        instructions: the collections, all on the same collection date; kept in this order within
            each sequence type's block.
        creditor: the insurer: its name (transliterated, at most 70 characters) and its ICS.
        creditor_account: the insurer's account that receives the collections.
        message_id: the file's unique ``MsgId`` (1 to 35 SEPA characters); blocks are named after it
            (``<first 29 characters>-FRST``).
        created_at: the ``CreDtTm`` (seconds kept, naive or aware).

    Returns:
        The file content and its totals.

    Raises:
        DomainError: ``sepa_file.invalid_message_id``, ``sepa_file.empty``,
            ``sepa_file.mixed_collection_dates``, ``sepa_file.duplicate_end_to_end_id``,
            ``sepa_file.mandate_sequence_conflict``; ``sepa_file.schema_invalid`` if the document does not
            pass the XSD (a bug: the instructions are valid by construction).
    """
    items = list(instructions)
    collection = _check(items, message_id)
    requested = next_target2_business_day(collection)
    by_sequence: dict[SequenceType, list[DirectDebitInstruction]] = {}
    for instruction in items:
        by_sequence.setdefault(instruction.sequence_type, []).append(instruction)
    total_cents = sum(i.amount.to_cents() for i in items)
    creditor_name = sepa_text(creditor.name, NAME_MAX_LENGTH)

    document = ET.Element("Document", {"xmlns": NAMESPACE})
    root = _sub(document, "CstmrDrctDbtInitn")
    header = _sub(root, "GrpHdr")
    _sub(header, "MsgId", message_id)
    _sub(header, "CreDtTm", created_at.replace(microsecond=0).isoformat())
    _sub(header, "NbOfTxs", str(len(items)))
    _sub(header, "CtrlSum", _amount(total_cents))
    _sub(_sub(header, "InitgPty"), "Nm", creditor_name)

    batches = []
    for sequence in _SEQUENCE_ORDER:
        block = by_sequence.get(sequence)
        if not block:
            continue
        block_cents = sum(i.amount.to_cents() for i in block)
        payment_info_id = f"{message_id[:29]}-{sequence.value}"
        info = _sub(root, "PmtInf")
        _sub(info, "PmtInfId", payment_info_id)
        _sub(info, "PmtMtd", "DD")
        _sub(info, "BtchBookg", "true")
        _sub(info, "NbOfTxs", str(len(block)))
        _sub(info, "CtrlSum", _amount(block_cents))
        payment_type = _sub(info, "PmtTpInf")
        _sub(_sub(payment_type, "SvcLvl"), "Cd", "SEPA")
        _sub(_sub(payment_type, "LclInstrm"), "Cd", "CORE")
        _sub(payment_type, "SeqTp", sequence.value)
        _sub(info, "ReqdColltnDt", requested.isoformat())
        _sub(_sub(info, "Cdtr"), "Nm", creditor_name)
        _iban_account(info, "CdtrAcct", creditor_account.iban)
        _agent(info, "CdtrAgt", creditor_account)
        _sub(info, "ChrgBr", "SLEV")
        scheme = _sub(_sub(_sub(_sub(info, "CdtrSchmeId"), "Id"), "PrvtId"), "Othr")
        _sub(scheme, "Id", str(creditor.creditor_id))
        _sub(_sub(scheme, "SchmeNm"), "Prtry", "SEPA")
        for instruction in block:
            _transaction(info, instruction)
        batches.append(
            DirectDebitBatch(
                payment_info_id=payment_info_id,
                sequence_type=sequence,
                number_of_transactions=len(block),
                control_sum=Money.cents(block_cents),
                end_to_end_ids=tuple(i.end_to_end_id for i in block),
            )
        )

    ET.indent(document)
    content = ET.tostring(document, encoding="utf-8", xml_declaration=True)
    _validate(content)
    return DirectDebitFile(
        content=content,
        message_id=message_id,
        collection_date=collection,
        requested_collection_date=requested,
        number_of_transactions=len(items),
        control_sum=Money.cents(total_cents),
        batches=tuple(batches),
    )


def write_direct_debit_file(
    path: str | os.PathLike[str],
    instructions: Iterable[DirectDebitInstruction],
    *,
    creditor: InsurerProfile,
    creditor_account: BankAccount,
    message_id: str,
    created_at: dt.datetime,
) -> DirectDebitFile:
    """Build, validate and write the file at ``path`` (see :func:`build_direct_debit_file`).

    Nothing is written when the file is refused.
    """
    sepa_file = build_direct_debit_file(
        instructions,
        creditor=creditor,
        creditor_account=creditor_account,
        message_id=message_id,
        created_at=created_at,
    )
    sepa_file.write(path)
    return sepa_file


class SepaDirectDebitFiles:
    """The :class:`~mutuelle_core.ports.DirectDebitFiles` port: pain.008 files written to a folder.

    Args:
        directory: where published files go (created when needed); a file is written atomically.
        creditor: the insurer (name and ICS).
        creditor_account: the insurer's account receiving the collections.
    """

    def __init__(
        self, directory: str | os.PathLike[str], *, creditor: InsurerProfile, creditor_account: BankAccount
    ) -> None:
        self.directory = Path(directory)
        self.creditor = creditor
        self.creditor_account = creditor_account

    def build(
        self, instructions: Sequence[DirectDebitInstruction], *, message_id: str, created_at: dt.datetime
    ) -> BuiltDirectDebitFile:
        """Build and validate the file (see :func:`build_direct_debit_file`)."""
        built = build_direct_debit_file(
            instructions,
            creditor=self.creditor,
            creditor_account=self.creditor_account,
            message_id=message_id,
            created_at=created_at,
        )
        return BuiltDirectDebitFile(
            filename=f"{message_id}-{built.requested_collection_date:%Y%m%d}.xml",
            content=built.content,
            message_id=message_id,
            requested_collection_date=built.requested_collection_date,
            transactions=built.number_of_transactions,
            amount_cents=built.control_sum.to_cents(),
        )

    def publish(self, built: BuiltDirectDebitFile) -> str:
        """Write the file into the folder, atomically; returns its path."""
        target = self.directory / built.filename
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=self.directory, prefix=f".{built.filename}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(built.content)
                out.flush()
                os.fsync(out.fileno())
            Path(temp).replace(target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return str(target)
