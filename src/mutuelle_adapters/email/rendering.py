"""Rendering of outgoing messages from French Jinja2 templates, with Babel formatting.

Each template name ``T`` has files in ``templates/``: ``T.subject.txt`` (one line), ``T.txt`` (plain
text body) and optionally ``T.html``. Locales other than French look for ``T.<lang>.subject.txt`` and
so on first. Filters: ``date`` (``12/05/2026``; ``date("long")`` → ``12 mai 2026``) and ``money``
(``1 234,50 €``) for values given as ISO strings, ``Decimal`` or ``Money``.

>>> from mutuelle_adapters.email.rendering import default_renderer
>>> from mutuelle_core.ports import OutgoingMessage
>>> from mutuelle_core.values.identity import Email
>>> r = default_renderer().render(OutgoingMessage(template="correspondent_activation",
...     to=Email.parse("jeanne@example.fr"),
...     context={"first_name": "Jeanne", "employer": "REDWATER", "link": "https://x/activation?t=abc",
...              "expires_at": "2026-05-02T08:00:00+00:00", "login": "jmartin"}))
>>> r.subject
'Activez votre accès à l’espace entreprise REDWATER'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any, Protocol

import attrs
import jinja2
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency

from mutuelle_adapters.system import PARIS
from mutuelle_core.ports import OutgoingMessage

__all__ = [
    "CARRY_SECRETS",
    "SCRUBBED_BODY",
    "Jinja2Renderer",
    "MessageRenderer",
    "RenderedMessage",
    "default_renderer",
]

CARRY_SECRETS = frozenset(
    {"affiliation_invitation", "affiliation_reminder", "correspondent_activation", "strong_auth_code"}
)
"""Templates whose messages carry a secret (a personal link's token, a one-time code): once a message
is delivered, the outbox keeps its envelope (template, recipient, subject, dates) but not its body."""

SCRUBBED_BODY = "(contenu effacé après l'envoi : il portait un lien personnel ou un code à usage unique)"
"""What a delivered message of :data:`CARRY_SECRETS` keeps as its body."""


@attrs.frozen
class RenderedMessage:
    """Subject and bodies of a message ready to send."""

    subject: str
    text: str
    html: str | None = None


class MessageRenderer(Protocol):
    """Turns an :class:`OutgoingMessage` into subject and bodies."""

    def render(self, message: OutgoingMessage) -> RenderedMessage:
        """Render ``message`` in its locale."""
        ...

    def check(self, message: OutgoingMessage) -> None:
        """Fail as :meth:`render` would for a message of this shape, without rendering every one.

        An outbox that stores messages to render them later calls this when it stores them.
        """
        ...


def _babel_locale(lang: str) -> str:
    return "fr_FR" if lang.startswith("fr") else "en_GB"


def _as_date(value: object) -> dt.date | dt.datetime:
    if isinstance(value, dt.date):
        return value
    text = str(value)
    return dt.datetime.fromisoformat(text) if "T" in text else dt.date.fromisoformat(text)


class Jinja2Renderer:
    """Renders templates from a Jinja2 loader (the package's French templates by default)."""

    def __init__(self, loader: jinja2.BaseLoader | None = None) -> None:
        self.loader = loader or jinja2.PackageLoader("mutuelle_adapters.email", "templates")
        self._envs: dict[str, jinja2.Environment] = {}
        self._templates: dict[tuple[str, str, str], jinja2.Template | None] = {}
        self._checked: set[tuple[str, str, frozenset[str]]] = set()

    def environment(self, lang: str) -> jinja2.Environment:
        """The Jinja2 environment of a language, with its ``date`` and ``money`` filters."""
        env = self._envs.get(lang)
        if env is None:
            env = jinja2.Environment(
                loader=self.loader,
                autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
                undefined=jinja2.StrictUndefined,
                keep_trailing_newline=True,
                trim_blocks=True,
                lstrip_blocks=True,
                auto_reload=False,  # templates ship with the package: no stat() per render
            )
            locale = _babel_locale(lang)
            env.filters["date"] = lambda v, fmt="short": _format_date(v, fmt, locale)
            env.filters["money"] = lambda v: format_currency(Decimal(str(v)), "EUR", locale=locale)
            self._envs[lang] = env
        return env

    def render(self, message: OutgoingMessage) -> RenderedMessage:
        """Render subject, text and (when a template exists) HTML; a missing variable is an error."""
        lang = message.locale.split("_")[0].lower()
        context = dict(message.context)
        subject = self._render_cached(message.template, "subject.txt", lang, context)
        text = self._render_cached(message.template, "txt", lang, context)
        assert subject is not None and text is not None
        html = self._render_cached(message.template, "html", lang, context, required=False)
        return RenderedMessage(subject=" ".join(subject.split()), text=text, html=html)

    def check(self, message: OutgoingMessage) -> None:
        """Render the first message of each template, locale and set of context keys; skip the others.

        A missing template or a missing variable fails at once, in the transaction that stores the
        message, and not later in the relay.
        """
        key = (message.template, message.locale, frozenset(message.context))
        if key not in self._checked:
            self.render(message)
            self._checked.add(key)

    def _render_cached(
        self, template: str, suffix: str, lang: str, context: Mapping[str, Any], *, required: bool = True
    ) -> str | None:
        key = (template, suffix, lang)
        if key not in self._templates:
            env = self.environment(lang)
            names = (
                [f"{template}.{lang}.{suffix}", f"{template}.{suffix}"]
                if lang != "fr"
                else [f"{template}.{suffix}"]
            )
            try:
                self._templates[key] = env.select_template(names)
            except jinja2.TemplateNotFound:
                self._templates[key] = None
        tpl = self._templates[key]
        if tpl is None:
            if required:
                raise jinja2.TemplateNotFound(f"{template}.{suffix}")
            return None
        return tpl.render(**context)


@lru_cache(maxsize=8192)
def _format_date(value: object, fmt: str, locale: str) -> str:
    d = _as_date(value)
    if isinstance(d, dt.datetime):
        return str(format_datetime(d.astimezone(PARIS), fmt, locale=locale))
    return str(format_date(d, fmt, locale=locale))


@cache
def default_renderer() -> Jinja2Renderer:
    """The renderer over the package's French templates (shared, templates are cached)."""
    renderer = Jinja2Renderer()
    return renderer
