"""The fast paths of name and e-mail checking give exactly what the full checks give."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import example, given
from hypothesis import strategies as st

from mutuelle_core.errors import DomainError
from mutuelle_core.values import identity
from mutuelle_core.values.identity import (
    _check_name,
    _check_name_fully,
    _is_name_letter,
    _parse_email,
    _parse_email_fully,
    _strip_accents_fully,
    strip_accents,
)


def outcome(fn: object, *args: object, **kwargs: object) -> tuple[str, object]:
    """The value, or the errors' codes and parameters."""
    try:
        return "ok", fn(*args, **kwargs)  # type: ignore[operator]
    except DomainError as err:
        return "error", [(e.code, e.params) for e in err.leaves()]


def test_every_plain_letter_is_a_precomposed_latin_letter() -> None:
    plain = re.compile(f"[{identity._PLAIN_LETTERS}]")
    letters = [chr(c) for c in range(0x250) if plain.fullmatch(chr(c))]
    assert len(letters) == 52 + 62 + 128
    for char in letters:
        assert _is_name_letter(char), char
        assert unicodedata.normalize("NFC", char) == char


NAME_ALPHABET = st.sampled_from(
    [*"aZéÈçŒœßÿŉſµªº×÷ -'’\t\u0301", "  ", "--", "---", " -", "' "]
) | st.characters(max_codepoint=0x2FF)


@given(st.lists(NAME_ALPHABET, max_size=12).map("".join), st.booleans())
@example("Lefèvre", True)
@example("ŉa", False)
@example("a" * 80 + "ß", True)
@example("d'arc", False)
def test_names_fast_path(text: str, family: bool) -> None:
    assert outcome(_check_name, text, family=family) == outcome(_check_name_fully, text, family=family)


EMAIL_ALPHABET = st.sampled_from([*"aZ09.-_+@ ", "xn--", "é", "..", "@@"])


@given(st.lists(EMAIL_ALPHABET, max_size=20).map("".join) | st.emails())
@example("a@b.fr")
@example("a@xn--b-.fr")
@example("a@b.xn--ab-")
@example("a@b.xn--ab")
@example("a" * 65 + "@b.fr")
@example("a@B.fr")
@example(" a@b.fr")
def test_email_fast_path(text: str) -> None:
    assert outcome(_parse_email, text) == outcome(_parse_email_fully, text)


@given(st.text(st.characters(max_codepoint=0x36F)))
@example("LEFÈVRE-CŒUR Ærø Straße")
@example("Noe\u0308l")
def test_strip_accents_fast_paths(text: str) -> None:
    assert strip_accents(text) == _strip_accents_fully(text)
