"""The transition table printed in docs/affiliation.md is the one the code applies."""

from __future__ import annotations

from pathlib import Path

from mutuelle_core.affiliation.transitions import transition_table_markdown

PAGE = Path(__file__).resolve().parents[2] / "docs" / "affiliation.md"
START = "<!-- transition-table:"
END = "<!-- end of transition-table -->"


def documented_table() -> str:
    """The lines between the page's markers."""
    lines = PAGE.read_text(encoding="utf-8").splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(START))
    last = lines.index(END)
    return "\n".join(lines[first + 1 : last]).strip()


def test_the_documented_table_is_the_code_table() -> None:
    expected = transition_table_markdown()
    assert documented_table() == expected, (
        "docs/affiliation.md is out of date: paste the output of "
        "mutuelle_core.affiliation.transitions.transition_table_markdown() between the transition-table markers"
    )
