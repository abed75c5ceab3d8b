"""Payment files (relevés de règlements): CSV lines of payments received and of direct debits rejected.

The first line is a header naming the columns (any order, any case)::

    type;reference;payeur;identifiant;date;montant;mode;motif
    reglement;VIR-2026-0001;employeur;MENJ2026;06/05/2026;1 234,56;virement;
    rejet;PRLV20260605-0000001;;;08/06/2026;;;AM04

* ``type``: ``reglement`` (a payment received) or ``rejet`` (the bank's reject of a direct debit);
* ``reference``: the payment's id (bank reference); for a reject, the direct debit's end-to-end id;
* ``payeur``: ``employeur`` (``identifiant`` = the contract number) or ``adherent`` (the member id);
* ``date``: ``JJ/MM/AAAA`` or ``AAAA-MM-JJ``; ``montant``: euros, comma or dot, spaces allowed;
* ``mode``: ``virement``, ``cheque`` or ``prelevement``; ``motif``: the ISO 20022 reject reason.

``;`` or ``,`` separated, UTF-8 with or without BOM, or Windows-1252 (see :mod:`.csv_io`). Each line
is checked here for its form; :func:`~mutuelle_core.cotisations.accounts.import_payments` checks the
rest and records everything or nothing.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal, InvalidOperation

from mutuelle_adapters.files.csv_io import read_csv_bytes
from mutuelle_core.cotisations.accounts import PaymentLine
from mutuelle_core.cotisations.rules import CollectionChannel, Payer
from mutuelle_core.errors import DomainError, error_code
from mutuelle_core.values.money import Money

__all__ = [
    "PAYMENT_FILE_COLUMNS",
    "PAYMENT_FILE_EMPTY",
    "PAYMENT_FILE_FIELD",
    "read_payment_file",
]

PAYMENT_FILE_EMPTY = error_code("payment_file.empty", "Le fichier de règlements est vide.")
PAYMENT_FILE_COLUMNS = error_code(
    "payment_file.columns", "L'en-tête doit nommer les colonnes {expected} (il manque : {missing})."
)
PAYMENT_FILE_FIELD = error_code("payment_file.field", "Valeur « {value} » invalide pour la colonne {column}.")

COLUMNS = ("type", "reference", "payeur", "identifiant", "date", "montant", "mode", "motif")
_KINDS = {"reglement": "payment", "rejet": "reject"}
_PAYERS = {"employeur": Payer.EMPLOYER, "adherent": Payer.MEMBER}
_CHANNELS = {
    "virement": CollectionChannel.TRANSFER,
    "cheque": CollectionChannel.CHEQUE,
    "prelevement": CollectionChannel.DIRECT_DEBIT,
}


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _date(text: str) -> dt.date:
    text = text.strip()
    if "/" in text:
        day, month, year = text.split("/")
        return dt.date(int(year), int(month), int(day))
    return dt.date.fromisoformat(text)


def _amount(text: str) -> Money:
    cleaned = text.replace("\u00a0", "").replace(" ", "").replace("€", "").replace(",", ".")
    value = Decimal(cleaned)
    if value != value.quantize(Decimal("0.01")):
        raise InvalidOperation
    return Money(value)


def read_payment_file(data: bytes) -> tuple[list[PaymentLine], list[tuple[int, DomainError]]]:
    """The lines of a payment file and the errors of form, each with its line number."""
    table = read_csv_bytes(data)
    rows = [r for r in table.rows if any(f for f in r.fields)]
    if not rows:
        return [], [(1, PAYMENT_FILE_EMPTY(None))]
    header = [_plain(f) for f in rows[0].fields]
    missing = [c for c in COLUMNS if c not in header and c != "motif"]
    if missing:
        return [], [
            (rows[0].line, PAYMENT_FILE_COLUMNS(None, expected=";".join(COLUMNS), missing=", ".join(missing)))
        ]
    index = {name: header.index(name) for name in COLUMNS if name in header}
    lines: list[PaymentLine] = []
    errors: list[tuple[int, DomainError]] = []
    for row in rows[1:]:

        def get(column: str, fields: list[str] = row.fields) -> str:
            i = index.get(column)
            return fields[i].strip() if i is not None and i < len(fields) else ""

        def bad(column: str, value: str, line: int = row.line) -> None:
            errors.append((line, PAYMENT_FILE_FIELD(column, value=value, column=column)))

        kind = _KINDS.get(_plain(get("type")))
        if kind is None:
            bad("type", get("type"))
            continue
        try:
            on = _date(get("date"))
        except ValueError:
            bad("date", get("date"))
            continue
        if not get("reference"):
            bad("reference", "")
            continue
        if kind == "reject":
            if not get("motif"):
                bad("motif", "")
                continue
            lines.append(
                PaymentLine(
                    line=row.line, kind=kind, payment_id=get("reference"), on=on, reason=get("motif").upper()
                )
            )
            continue
        payer = _PAYERS.get(_plain(get("payeur")))
        channel = _CHANNELS.get(_plain(get("mode")))
        try:
            amount = _amount(get("montant"))
        except (InvalidOperation, ValueError):
            bad("montant", get("montant"))
            continue
        if payer is None or not get("identifiant"):
            bad("payeur" if payer is None else "identifiant", get("payeur") if payer is None else "")
            continue
        if channel is None:
            bad("mode", get("mode"))
            continue
        lines.append(
            PaymentLine(
                line=row.line,
                kind=kind,
                payment_id=get("reference"),
                on=on,
                payer=payer,
                payer_id=get("identifiant"),
                amount=amount,
                channel=channel,
            )
        )
    return lines, errors
