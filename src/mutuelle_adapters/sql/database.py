"""Engines and schema migrations.

``make_engine(url)`` returns an engine with the settings this adapter relies on: SQLite with foreign
keys on, real ``BEGIN`` statements (so that savepoints work), a busy timeout and a page cache of
:data:`SQLITE_CACHE_KIB` per connection; PostgreSQL through
psycopg 3 (``postgresql+psycopg://``). ``upgrade(engine)`` applies the Alembic migrations, the only way
the schema is created (``mutuelle db upgrade``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

__all__ = [
    "SQLITE_CACHE_KIB",
    "alembic_config",
    "current_revision",
    "downgrade",
    "head_revision",
    "make_engine",
    "sqlite_url",
    "upgrade",
]

MIGRATIONS = Path(__file__).with_name("migrations")

SQLITE_CACHE_KIB = 16_384
"""SQLite's page cache per connection (its default is 2 MiB). A large transaction (a bulk invitation
writes 100,000 affiliations, each in 6 indexes, two of them on random keys) otherwise spills dirty
pages to the WAL and reads them back while it inserts: with 16 MiB its inserts take a quarter less
time and its commit half."""


def sqlite_url(path: str | Path) -> str:
    """The URL of an SQLite database file."""
    return f"sqlite+pysqlite:///{Path(path)}"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` (``sqlite+pysqlite:///file.db`` or ``postgresql+psycopg://...``)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # check_same_thread off (SQLAlchemy's default for a file): a unit of work hands its connection
        # to its write-behind thread, one user at a time (see mutuelle_adapters.sql.uow)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        _configure_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy emit BEGIN itself (savepoints work)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")  # negative: KiB, not pages
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")


def alembic_config() -> Config:
    """Alembic's configuration, pointing at the migrations shipped in the package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (the newest by default)."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to ``revision`` (each migration's ``downgrade`` moves its data back)."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None`` for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    """The newest revision shipped."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
