"""Refresh the English message catalog from the French messages declared in the code.

    python scripts/i18n.py            # update mutuelle.pot and en/mutuelle.po, compile en/mutuelle.mo
    python scripts/i18n.py --check    # exit 1 when the catalogs are out of date or a message lacks English

French is the source language: each ``error_code(...)`` template and each ``i18n.MESSAGES`` entry is a
message id. Translators edit ``src/mutuelle_core/locale/en/LC_MESSAGES/mutuelle.po``.
"""

from __future__ import annotations

import importlib
import io
import pkgutil
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "src" / "mutuelle_core" / "locale"


def declared_messages() -> list[str]:
    import mutuelle_adapters
    import mutuelle_core
    from mutuelle_core import errors, i18n

    for package in (mutuelle_core, mutuelle_adapters):
        for mod in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if ".testing" not in mod.name and ".migrations" not in mod.name:
                importlib.import_module(mod.name)
    msgs = {spec.template for spec in errors.registered_codes().values()}
    msgs.update(i18n.extra_messages())
    return sorted(msgs)


def build(check: bool) -> int:
    messages = declared_messages()
    pot = Catalog(project="mutuelle", locale=None, domain="mutuelle")
    for m in messages:
        pot.add(m, flags=("python-brace-format",) if "{" in m else ())
    po_path = LOCALE / "en" / "LC_MESSAGES" / "mutuelle.po"
    if po_path.exists():
        with po_path.open("rb") as fp:
            en = read_po(fp, locale="en", domain="mutuelle")
    else:
        en = Catalog(locale="en", domain="mutuelle", project="mutuelle")
    en.update(pot, no_fuzzy_matching=True)
    en.obsolete.clear()
    missing = [m.id for m in en if m.id and (not m.string or m.fuzzy)]
    po_buf, mo_buf = io.BytesIO(), io.BytesIO()
    write_po(po_buf, en, omit_header=False, sort_output=True, width=110)
    write_mo(mo_buf, en, use_fuzzy=False)
    if check:
        current_po = po_path.read_bytes() if po_path.exists() else b""
        stale = _strip_dates(current_po) != _strip_dates(po_buf.getvalue())
        if stale:
            print("i18n: mutuelle.po is out of date: run `python scripts/i18n.py`", file=sys.stderr)
        for m in missing:
            print(f"i18n: no English for: {m}", file=sys.stderr)
        return 1 if stale or missing else 0
    po_path.parent.mkdir(parents=True, exist_ok=True)
    po_path.write_bytes(po_buf.getvalue())
    po_path.with_suffix(".mo").write_bytes(mo_buf.getvalue())
    for m in missing:
        print(f"i18n: no English yet for: {m}")
    print(f"i18n: {len(messages)} messages, {len(missing)} without English")
    return 0


def _strip_dates(data: bytes) -> bytes:
    return b"\n".join(
        line
        for line in data.splitlines()
        if not line.startswith((b'"POT-Creation-Date', b'"PO-Revision-Date'))
    )


if __name__ == "__main__":
    sys.exit(build(check="--check" in sys.argv))
