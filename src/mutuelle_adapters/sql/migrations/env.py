"""Alembic environment: runs migrations on the connection handed over by ``database.upgrade``."""

from __future__ import annotations

from alembic import context

from mutuelle_adapters.sql.tables import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - the package always hands a connection over
    raise RuntimeError("run migrations through mutuelle_adapters.sql.database.upgrade()")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
