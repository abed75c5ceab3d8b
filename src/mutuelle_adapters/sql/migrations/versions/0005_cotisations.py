"""cotisations: contract tariffs, billing runs, cotisation lines and schedule lines

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contract_tariffs",
        sa.Column("contract_number", sa.String(length=20), nullable=False),
        sa.Column("grid", sa.JSON(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_number"],
            ["contracts.number"],
            name=op.f("fk_contract_tariffs_contract_number_contracts"),
        ),
        sa.PrimaryKeyConstraint("contract_number", name=op.f("pk_contract_tariffs")),
    )
    op.create_table(
        "billing_runs",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cursor", sa.String(length=64), nullable=True),
        sa.Column("affiliations", sa.Integer(), nullable=False),
        sa.Column("billed", sa.Integer(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_billing_runs")),
    )
    op.create_index("ix_billing_runs_month_started", "billing_runs", ["month", "started_at"], unique=False)
    op.create_table(
        "cotisation_lines",
        sa.Column("affiliation_id", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("product", sa.Integer(), nullable=False),
        sa.Column("payer", sa.String(length=10), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
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
            name=op.f("pk_cotisation_lines"),
        ),
    )
    op.create_index(
        "ix_cotisation_lines_month_contract", "cotisation_lines", ["month", "contract_number"], unique=False
    )
    op.create_table(
        "schedule_lines",
        sa.Column("affiliation_id", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("payer", sa.String(length=10), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("contract_number", sa.String(length=20), nullable=False),
        sa.Column("payer_id", sa.String(length=64), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("affiliation_id", "month", "payer", name=op.f("pk_schedule_lines")),
    )
    op.create_index("ix_schedule_lines_due_payer", "schedule_lines", ["due_date", "payer"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_schedule_lines_due_payer", table_name="schedule_lines")
    op.drop_table("schedule_lines")
    op.drop_index("ix_cotisation_lines_month_contract", table_name="cotisation_lines")
    op.drop_table("cotisation_lines")
    op.drop_index("ix_billing_runs_month_started", table_name="billing_runs")
    op.drop_table("billing_runs")
    op.drop_table("contract_tariffs")
