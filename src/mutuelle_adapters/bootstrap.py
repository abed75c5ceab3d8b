"""The composition root: the one place where ports meet their adapters.

>>> from mutuelle_adapters.bootstrap import build_app
>>> app = build_app(database_url="memory://")
>>> app.services.clock.today() is not None
True

``build_app`` returns an :class:`App`: the :class:`~mutuelle_core.services.Services` every use case
takes, plus the outbox relay and, for SQL databases, the engine. Defaults: an SQLite file
``var/mutuelle.db`` (migrated on first use when ``migrate=True``) and the folder transport writing
``.eml`` files into ``var/mail``.
"""

from __future__ import annotations

from pathlib import Path

import attrs
from sqlalchemy import Engine

from mutuelle_adapters.email.relay import OutboxRelay
from mutuelle_adapters.email.transport import FolderTransport, SmtpSettings, SmtpTransport, Transport
from mutuelle_adapters.memory import MemoryDatabase
from mutuelle_adapters.signature import LocalSignatureService
from mutuelle_adapters.sql.billing_worker import page_source_for
from mutuelle_adapters.sql.database import make_engine, sqlite_url, upgrade
from mutuelle_adapters.sql.uow import SqlUnitOfWorkFactory
from mutuelle_adapters.strong_auth import StrongAuthByEmail
from mutuelle_adapters.system import SecretTokens, SystemClock, UuidGenerator
from mutuelle_core.cotisations.billing import PageSource
from mutuelle_core.ports import Clock, IdGenerator, SignatureService, TokenGenerator, UnitOfWorkFactory
from mutuelle_core.services import InsurerProfile, PortalLinks, Services

__all__ = ["DEFAULT_DATABASE", "DEFAULT_MAIL_DIR", "App", "build_app"]

DEFAULT_DATABASE = Path("var") / "mutuelle.db"
DEFAULT_MAIL_DIR = Path("var") / "mail"


@attrs.frozen
class App:
    """Everything a caller needs: the use cases' services, the mail relay, the engine (SQL only).

    ``strong_auth`` sends and confirms the one-time codes of the member space (second authentication).
    """

    services: Services
    relay: OutboxRelay
    transport: Transport
    engine: Engine | None = None
    memory: MemoryDatabase | None = None
    strong_auth: StrongAuthByEmail | None = None
    billing_pages: PageSource | None = None
    """What to give ``bill(..., pages=)``: pages priced in a forked process on a SQLite file or
    PostgreSQL (see :func:`mutuelle_adapters.sql.billing_worker.page_source_for`), ``None``
    otherwise."""


def build_app(
    *,
    database_url: str | None = None,
    smtp: SmtpSettings | None = None,
    mail_dir: str | Path | None = None,
    clock: Clock | None = None,
    ids: IdGenerator | None = None,
    tokens: TokenGenerator | None = None,
    links: PortalLinks | None = None,
    insurer: InsurerProfile | None = None,
    signature: SignatureService | None = None,
    migrate: bool = False,
) -> App:
    """Wire the adapters.

    Args:
        database_url: ``sqlite+pysqlite:///path.db``, ``postgresql+psycopg://...`` or ``memory://``;
            default: the SQLite file ``var/mutuelle.db``.
        smtp: send mail through this SMTP server; otherwise ``mail_dir`` gets ``.eml`` files.
        mail_dir: folder for the folder transport (default ``var/mail``).
        clock, ids, tokens: replace the system clock, UUIDs and secrets (tests, demos, replays).
        links: the portals' public addresses used in e-mailed links.
        insurer: the insurer's name and SEPA creditor identifier on documents.
        signature: the electronic signature service (default: the local evidence recorder).
        migrate: apply the migrations before returning (the schema is never created otherwise).
    """
    clock = clock or SystemClock()
    ids = ids or UuidGenerator()
    tokens = tokens or SecretTokens()
    engine: Engine | None = None
    memory: MemoryDatabase | None = None
    billing_pages: PageSource | None = None
    uow_factory: UnitOfWorkFactory
    if database_url == "memory://":
        memory = MemoryDatabase(clock=clock, ids=ids)
        uow_factory = memory.unit_of_work
        strong_auth = StrongAuthByEmail(memory.unit_of_work, clock, ids, tokens)
    else:
        if database_url is None:
            DEFAULT_DATABASE.parent.mkdir(parents=True, exist_ok=True)
            database_url = sqlite_url(DEFAULT_DATABASE)
        engine = make_engine(database_url)
        if migrate:
            upgrade(engine)
        sql_factory = SqlUnitOfWorkFactory(engine, clock=clock, ids=ids)
        uow_factory = sql_factory
        billing_pages = page_source_for(sql_factory)
        strong_auth = StrongAuthByEmail(sql_factory, clock, ids, tokens)
    services = Services(
        uow=uow_factory,
        clock=clock,
        ids=ids,
        tokens=tokens,
        signature=signature or LocalSignatureService(),
        links=links or PortalLinks(),
        insurer=insurer or InsurerProfile(),
    )
    transport: Transport = (
        SmtpTransport(smtp) if smtp is not None else FolderTransport(Path(mail_dir or DEFAULT_MAIL_DIR))
    )
    relay = OutboxRelay(uow_factory, transport, clock)
    return App(
        services=services,
        relay=relay,
        transport=transport,
        engine=engine,
        memory=memory,
        strong_auth=strong_auth,
        billing_pages=billing_pages,
    )
