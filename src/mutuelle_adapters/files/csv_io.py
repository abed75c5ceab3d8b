"""CSV as French offices produce it: ``;`` or ``,``, UTF-8 with or without BOM, or Windows-1252.

>>> from mutuelle_adapters.files.csv_io import read_csv_bytes, write_csv_bytes
>>> data = "MME;Lefèvre;Anaïs;a@b.fr\\r\\n\\r\\nM;Durand;Paul;p@b.fr\\r\\n".encode("cp1252")
>>> table = read_csv_bytes(data)
>>> table.encoding, table.delimiter, [(r.line, r.fields[0], r.is_blank) for r in table.rows]
('cp1252', ';', [(1, 'MME', False), (2, '', True), (3, 'M', False)])
>>> write_csv_bytes([["Nom", "Prénom"], ["LEFÈVRE", "Anaïs"]])[:3] == b"\\xef\\xbb\\xbf"
True
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

import attrs

__all__ = ["CsvRow", "CsvTable", "read_csv", "read_csv_bytes", "write_csv_bytes"]


@attrs.frozen
class CsvRow:
    """One physical line (1-based ``line``) and its fields, spaces trimmed; an empty line has ``[""]``."""

    line: int
    fields: list[str]

    @property
    def is_blank(self) -> bool:
        """True for an empty line (or one with only separators and spaces)."""
        return all(not f for f in self.fields)


@attrs.frozen
class CsvTable:
    """A decoded CSV file: its encoding, its delimiter and its rows."""

    encoding: str
    delimiter: str
    rows: list[CsvRow]


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "cp1252"


def _delimiter(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    return ";" if first.count(";") >= first.count(",") and ";" in first else ("," if "," in first else ";")


def read_csv_bytes(data: bytes, delimiter: str | None = None) -> CsvTable:
    """Decode and split a CSV file's content, keeping line numbers (blank lines included)."""
    text, encoding = _decode(data)
    sep = delimiter or _delimiter(text)
    rows: list[CsvRow] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, quotechar='"', strict=False)
    previous_end = 0
    for fields in reader:
        line = reader.line_num
        # a record spanning several physical lines (quoted newline) is numbered by its first line
        start = previous_end + 1
        previous_end = line
        rows.append(CsvRow(start, [f.strip() for f in fields] if fields else [""]))
    return CsvTable(encoding=encoding, delimiter=sep, rows=rows)


def read_csv(path: str | Path, delimiter: str | None = None) -> CsvTable:
    """Read a CSV file from disk (see :func:`read_csv_bytes`)."""
    return read_csv_bytes(Path(path).read_bytes(), delimiter)


def write_csv_bytes(rows: Iterable[Sequence[object]], delimiter: str = ";") -> bytes:
    """CSV for French Excel: UTF-8 with BOM, ``;``, CRLF line ends."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else str(v) for v in row])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")
