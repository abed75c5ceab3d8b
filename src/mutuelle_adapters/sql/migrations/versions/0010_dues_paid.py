"""dues paid: what the imputations pay of each due, and an index of the dues still open

``schedule_lines.paid_cents`` and ``employer_dues.paid_cents`` hold the sum of the imputations to
each due (backfilled here from ``imputations``; kept by the accounts adapter when it stores a
ledger). The dunning job's arrears then read the dues not paid in full through a partial index
(``ix_schedule_lines_open_due``, which replaces ``ix_schedule_lines_due_payer``), instead of every
due ever billed joined with every imputation.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_OPEN = "amount_cents > paid_cents"


def upgrade() -> None:
    for table in ("schedule_lines", "employer_dues"):
        op.add_column(
            table, sa.Column("paid_cents", sa.BigInteger(), nullable=False, server_default=sa.text("0"))
        )
    op.execute(
        "UPDATE schedule_lines SET paid_cents = COALESCE((SELECT SUM(i.amount_cents) FROM imputations i"
        " WHERE i.payer = schedule_lines.payer AND i.payer_id = schedule_lines.payer_id"
        " AND i.month = schedule_lines.month AND i.affiliation_id = schedule_lines.affiliation_id), 0)"
    )
    op.execute(
        "UPDATE employer_dues SET paid_cents = COALESCE((SELECT SUM(i.amount_cents) FROM imputations i"
        " WHERE i.payer = 'employer' AND i.payer_id = employer_dues.contract_number"
        " AND i.month = employer_dues.month AND i.affiliation_id = ''), 0)"
    )
    op.drop_index("ix_schedule_lines_due_payer", table_name="schedule_lines")
    op.create_index(
        "ix_schedule_lines_open_due",
        "schedule_lines",
        ["due_date", "payer"],
        unique=False,
        sqlite_where=sa.text(_OPEN),
        postgresql_where=sa.text(_OPEN),
    )


def downgrade() -> None:
    op.drop_index("ix_schedule_lines_open_due", table_name="schedule_lines")
    op.create_index("ix_schedule_lines_due_payer", "schedule_lines", ["due_date", "payer"], unique=False)
    with op.batch_alter_table("employer_dues") as batch:
        batch.drop_column("paid_cents")
    with op.batch_alter_table("schedule_lines") as batch:
        batch.drop_column("paid_cents")
