"""SQL adapter: SQLAlchemy Core tables, explicit mapping, repositories, unit of work, Alembic migrations."""
