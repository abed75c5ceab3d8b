"""The departure motive table in the documentation is the one in the code."""

from __future__ import annotations

from pathlib import Path

from mutuelle_core.departures import motive_table_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "departures.md"


def test_docs_motive_table_matches_the_code() -> None:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("<!-- motive-table:start -->") + len("<!-- motive-table:start -->")
    end = text.index("<!-- motive-table:end -->")
    assert text[start:end].strip() == motive_table_markdown().strip()
