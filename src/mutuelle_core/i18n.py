"""Messages in French first, English through the package's compiled Babel catalog.

The French text *is* the message id: code reads as the user will read it. The English catalog lives in
``mutuelle_core/locale/en/LC_MESSAGES/mutuelle.po`` and is compiled to ``mutuelle.mo`` beside it
(``python scripts/i18n.py`` refreshes both; a test fails when they drift from the code).

Parameters are formatted for the locale with Babel: dates as ``12/05/2013`` in French, numbers with
the locale's separators.

>>> from mutuelle_core.i18n import render
>>> render("La saisie comporte {count} erreur(s).", {"count": 3}, "fr")
'La saisie comporte 3 erreur(s).'
>>> render("La saisie comporte {count} erreur(s).", {"count": 3}, "en")
'The input has 3 error(s).'
"""

from __future__ import annotations

import datetime as dt
import gettext as _gettext
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from importlib import resources

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

__all__ = ["DOMAIN", "SOURCE_LOCALE", "available_locales", "extra_messages", "message", "render", "translate"]

DOMAIN = "mutuelle"
SOURCE_LOCALE = "fr"


_EXTRA: set[str] = set()


def message(text: str) -> str:
    """Mark a French user-facing text (a label, a report heading) for translation and return it.

    Error messages are declared with :func:`mutuelle_core.errors.error_code`; every other text a user
    reads goes through this marker so that the English catalog covers it.
    """
    _EXTRA.add(text)
    return text


def extra_messages() -> frozenset[str]:
    """The texts marked with :func:`message` so far."""
    return frozenset(_EXTRA)


def _lang(locale: str) -> str:
    return str(Locale.parse(locale.replace("-", "_")).language)


@cache
def _catalog(lang: str) -> _gettext.NullTranslations:
    if lang == SOURCE_LOCALE:
        return NullTranslations()
    mo = resources.files("mutuelle_core") / "locale" / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if not mo.is_file():
        return NullTranslations()
    with mo.open("rb") as fp:
        return Translations(fp, domain=DOMAIN)


def available_locales() -> tuple[str, ...]:
    """The languages messages can be rendered in (French is the source)."""
    root = resources.files("mutuelle_core") / "locale"
    langs = [p.name for p in root.iterdir() if p.is_dir() and (p / "LC_MESSAGES" / f"{DOMAIN}.mo").is_file()]
    return (SOURCE_LOCALE, *sorted(langs))


def translate(message: str, locale: str = SOURCE_LOCALE) -> str:
    """Translate a French message into ``locale`` (unknown messages come back in French)."""
    return _catalog(_lang(locale)).gettext(message)


def render(template: str, params: Mapping[str, object], locale: str = SOURCE_LOCALE) -> str:
    """Translate ``template`` and fill its ``{placeholders}`` with locale-formatted ``params``."""
    text = translate(template, locale)
    if not params:
        return text
    formatted = {key: _format(value, locale) for key, value in params.items()}
    try:
        return text.format(**formatted)
    except (KeyError, IndexError, ValueError):
        return text


def _format(value: object, locale: str) -> object:
    babel_locale = "fr_FR" if _lang(locale) == "fr" else "en_GB"
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return translate(value, locale)  # labels passed as parameters (states, actions) follow the locale
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, dt.date):
        return (
            format_date(value, "short", locale=babel_locale) if babel_locale == "fr_FR" else value.isoformat()
        )
    if isinstance(value, Decimal):
        return format_decimal(value, locale=babel_locale)
    if isinstance(value, list | tuple | frozenset | set):
        return ", ".join(str(_format(v, locale)) for v in value)
    return value
