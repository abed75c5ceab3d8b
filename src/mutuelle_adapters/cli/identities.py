"""``mutuelle check-identities``: a per-line French report on a CSV of people.

Columns (header line required, names case-insensitive, French or English): ``civilite``, ``nom``
(birth name), ``prenom``, ``date_naissance``, ``nir``, ``iban``; optional ``nom_usage``, ``titulaire``.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import attrs
from rich.console import Console
from rich.table import Table

from mutuelle_adapters.files.csv_io import read_csv
from mutuelle_core.errors import DomainError, ValidationFailed, error_code
from mutuelle_core.i18n import message, translate
from mutuelle_core.identity_check import IdentityInput, check_identity

__all__ = ["IdentityReport", "LineResult", "check_identities_file"]

COLUMNS = {
    "civility": ("civilite", "civility"),
    "birth_name": ("nom", "nom_naissance", "birth_name"),
    "first_names": ("prenom", "prenoms", "first_names"),
    "birth_date": ("date_naissance", "birth_date"),
    "nir": ("nir", "numero_securite_sociale"),
    "iban": ("iban",),
    "usage_name": ("nom_usage", "usage_name"),
    "holder": ("titulaire", "holder"),
}
REQUIRED_COLUMNS = ("civility", "birth_name", "first_names", "birth_date", "nir", "iban")

MISSING_COLUMNS = error_code("csv.missing_columns", "Colonnes manquantes dans l'en-tête : {columns}.")
WRONG_FIELD_COUNT = error_code("csv.wrong_field_count", "La ligne a {count} colonnes au lieu de {expected}.")
EMPTY_FILE = error_code("csv.empty", "Le fichier est vide.")

LABEL_LINE = message("Ligne")
LABEL_FIELD = message("Champ")
LABEL_CODE = message("Code")
LABEL_MESSAGE = message("Message")
LABEL_SUMMARY = message("{accepted} ligne(s) acceptée(s), {rejected} ligne(s) refusée(s).")
LABEL_TITLE = message("Vérification des identités")


def _key(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return plain.strip().lower().replace(" ", "_").replace("-", "_").replace("'", "")


@attrs.frozen
class LineResult:
    """One line of the file: accepted, or rejected with its errors."""

    line: int
    errors: tuple[DomainError, ...] = ()

    @property
    def accepted(self) -> bool:
        """True when the line had no error."""
        return not self.errors


@attrs.frozen
class IdentityReport:
    """The whole report: file-level errors and one result per data line."""

    path: str
    locale: str
    file_errors: tuple[DomainError, ...]
    lines: tuple[LineResult, ...]

    @property
    def rejected(self) -> int:
        """Number of rejected lines (a file-level error counts as one)."""
        return sum(1 for r in self.lines if not r.accepted) + len(self.file_errors)

    @property
    def accepted(self) -> int:
        """Number of accepted lines."""
        return sum(1 for r in self.lines if r.accepted)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready report (messages in the report's locale, personal data masked)."""
        return {
            "file": self.path,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "file_errors": [e.to_dict(self.locale) for e in self.file_errors],
            "lines": [
                {"line": r.line, "accepted": r.accepted, "errors": [e.to_dict(self.locale) for e in r.errors]}
                for r in self.lines
            ],
        }

    def print(self, console: Console) -> None:
        """A table of rejected lines, then the summary."""

        def t(m: str) -> str:
            return translate(m, self.locale)

        table = Table(title=f"{t(LABEL_TITLE)} : {self.path}")
        for label in (LABEL_LINE, LABEL_FIELD, LABEL_CODE, LABEL_MESSAGE):
            table.add_column(t(label))
        for e in self.file_errors:
            table.add_row("-", e.field or "-", e.code, e.message(self.locale))
        for r in self.lines:
            for e in r.errors:
                table.add_row(str(r.line), e.field or "-", e.code, e.message(self.locale))
        if self.file_errors or self.rejected:
            console.print(table)
        console.print(t(LABEL_SUMMARY).format(accepted=self.accepted, rejected=self.rejected))


def check_identities_file(path: Path, *, locale: str = "fr") -> IdentityReport:
    """Check every line of ``path``; nothing is written anywhere."""
    table = read_csv(path)
    rows = [r for r in table.rows if not r.is_blank]
    if not rows:
        return IdentityReport(str(path), locale, (EMPTY_FILE(None),), ())
    header = [_key(h) for h in rows[0].fields]
    index: dict[str, int] = {}
    for name, aliases in COLUMNS.items():
        for alias in aliases:
            if alias in header:
                index[name] = header.index(alias)
                break
    missing = [COLUMNS[n][0] for n in REQUIRED_COLUMNS if n not in index]
    if missing:
        return IdentityReport(str(path), locale, (MISSING_COLUMNS(None, columns=missing),), ())
    results = []
    for row in rows[1:]:
        if len(row.fields) != len(header):
            results.append(
                LineResult(row.line, (WRONG_FIELD_COUNT(None, count=len(row.fields), expected=len(header)),))
            )
            continue
        values = {name: row.fields[i] for name, i in index.items()}
        try:
            check_identity(IdentityInput(**values))
            results.append(LineResult(row.line))
        except ValidationFailed as err:
            results.append(LineResult(row.line, err.errors))
        except DomainError as err:
            results.append(LineResult(row.line, (err,)))
    return IdentityReport(str(path), locale, (), tuple(results))
