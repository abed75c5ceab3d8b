"""Every message has an English translation with the same placeholders; the catalog is up to date."""

from __future__ import annotations

import string
import subprocess
import sys
from pathlib import Path

from mutuelle_core.errors import registered_codes
from mutuelle_core.i18n import available_locales, extra_messages, translate

ROOT = Path(__file__).resolve().parents[2]


def declared() -> list[str]:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import i18n as script  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    return list(script.declared_messages())


def fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def test_every_message_has_english_with_the_same_placeholders() -> None:
    messages = declared()
    assert len(messages) > 50
    for french in messages:
        english = translate(french, "en")
        assert english != french or french in {"Evin", "Code", "Message"}, f"no English for {french!r}"
        assert fields(english) == fields(french), french


def test_codes_are_dotted_and_english_is_available() -> None:
    declared()
    for code in registered_codes():
        assert (code == code.lower() and "." in code) or code == "not_found", code
    assert "en" in available_locales()
    assert extra_messages()


def test_catalog_is_up_to_date_with_the_code() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "i18n.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
