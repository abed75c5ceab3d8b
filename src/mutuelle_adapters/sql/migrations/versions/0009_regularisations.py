"""regularisations: affiliations' changed_at, regularisation runs and lines

The regularisation of months already billed reads the affiliations changed since its previous run:
``affiliations.changed_at`` (indexed) is stamped by the adapter from the unit of work's clock on every
insert and update, and backfilled here from ``last_activity_at``. ``regularisation_runs`` holds each
run's resume cursor and counts, ``regularisation_lines`` the signed difference lines (one per key,
month regularised and run).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (no batch copy of the table on SQLite: its foreign keys are on, and the
    # history rows would follow a dropped table); the default only fills the existing rows.
    sqlite = op.get_bind().dialect.name == "sqlite"
    default = "1970-01-01 00:00:00.000000" if sqlite else "1970-01-01 00:00:00+00"
    op.add_column(
        "affiliations",
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False, server_default=default),
    )
    op.execute("UPDATE affiliations SET changed_at = last_activity_at")
    if not sqlite:
        op.alter_column("affiliations", "changed_at", server_default=None)
    op.create_index("ix_affiliations_changed_at", "affiliations", ["changed_at"], unique=False)
    op.create_table(
        "regularisation_runs",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cursor", sa.String(length=64), nullable=True),
        sa.Column("affiliations", sa.Integer(), nullable=False),
        sa.Column("regularised", sa.Integer(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("added_cents", sa.BigInteger(), nullable=False),
        sa.Column("credited_cents", sa.BigInteger(), nullable=False),
        sa.Column("credit_notes", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_regularisation_runs")),
    )
    op.create_index(
        "ix_regularisation_runs_month_started", "regularisation_runs", ["month", "started_at"], unique=False
    )
    op.create_index("ix_regularisation_runs_started", "regularisation_runs", ["started_at"], unique=False)
    op.create_table(
        "regularisation_lines",
        sa.Column("affiliation_id", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("product", sa.Integer(), nullable=False),
        sa.Column("payer", sa.String(length=10), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("billed_in", sa.String(length=7), nullable=False),
        sa.Column("contract_number", sa.String(length=20), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "affiliation_id",
            "month",
            "person_id",
            "product",
            "payer",
            "channel",
            "run_id",
            name=op.f("pk_regularisation_lines"),
        ),
    )
    op.create_index(
        "ix_regularisation_lines_billed_in_contract",
        "regularisation_lines",
        ["billed_in", "contract_number"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_regularisation_lines_billed_in_contract", table_name="regularisation_lines")
    op.drop_table("regularisation_lines")
    op.drop_index("ix_regularisation_runs_started", table_name="regularisation_runs")
    op.drop_index("ix_regularisation_runs_month_started", table_name="regularisation_runs")
    op.drop_table("regularisation_runs")
    op.drop_index("ix_affiliations_changed_at", table_name="affiliations")
    op.drop_column("affiliations", "changed_at")
