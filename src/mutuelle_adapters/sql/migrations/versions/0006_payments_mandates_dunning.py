"""payments: SEPA mandates, payer accounts, payments and imputations, dunning cases, SEPA files

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_schedule_lines_payer", "schedule_lines", ["payer_id", "payer"], unique=False)
    op.create_table(
        "mandates",
        sa.Column("rum", sa.String(length=35), nullable=False),
        sa.Column("affiliation_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("rum", name=op.f("pk_mandates")),
    )
    op.create_index("ix_mandates_affiliation_id", "mandates", ["affiliation_id"], unique=False)
    op.create_table(
        "payer_accounts",
        sa.Column("payer", sa.String(length=10), nullable=False),
        sa.Column("payer_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("payer", "payer_id", name=op.f("pk_payer_accounts")),
    )
    op.create_table(
        "payments",
        sa.Column("payment_id", sa.String(length=64), nullable=False),
        sa.Column("payer", sa.String(length=10), nullable=False),
        sa.Column("payer_id", sa.String(length=64), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("due_id", sa.String(length=100), nullable=True),
        sa.Column("rejected_on", sa.Date(), nullable=True),
        sa.Column("reject_reason", sa.String(length=10), nullable=True),
        sa.PrimaryKeyConstraint("payment_id", name=op.f("pk_payments")),
    )
    op.create_index("ix_payments_payer", "payments", ["payer", "payer_id"], unique=False)
    op.create_table(
        "imputations",
        sa.Column("payment_id", sa.String(length=64), nullable=False),
        sa.Column("payer", sa.String(length=10), nullable=False),
        sa.Column("payer_id", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("affiliation_id", sa.String(length=64), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("imputed_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("payment_id", "month", "affiliation_id", name=op.f("pk_imputations")),
    )
    op.create_index(
        "ix_imputations_due", "imputations", ["payer", "payer_id", "month", "affiliation_id"], unique=False
    )
    op.create_table(
        "dunning_cases",
        sa.Column("payer", sa.String(length=10), nullable=False),
        sa.Column("payer_id", sa.String(length=64), nullable=False),
        sa.Column("due_id", sa.String(length=100), nullable=False),
        sa.Column("contract_number", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("payer", "payer_id", "due_id", name=op.f("pk_dunning_cases")),
    )
    op.create_index("ix_dunning_cases_status", "dunning_cases", ["status"], unique=False)
    op.create_table(
        "sepa_collections",
        sa.Column("collection_id", sa.String(length=35), nullable=False),
        sa.Column("collection_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("transactions", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("collection_id", name=op.f("pk_sepa_collections")),
    )


def downgrade() -> None:
    op.drop_table("sepa_collections")
    op.drop_index("ix_dunning_cases_status", table_name="dunning_cases")
    op.drop_table("dunning_cases")
    op.drop_index("ix_imputations_due", table_name="imputations")
    op.drop_table("imputations")
    op.drop_index("ix_payments_payer", table_name="payments")
    op.drop_table("payments")
    op.drop_table("payer_accounts")
    op.drop_index("ix_mandates_affiliation_id", table_name="mandates")
    op.drop_table("mandates")
    op.drop_index("ix_schedule_lines_payer", table_name="schedule_lines")
