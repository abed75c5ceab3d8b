"""employer_dues: an employer's due is one row per contract and month, no more one per affiliation

The billing run wrote, for every affiliation, a schedule line of what the employer pays for it; the
employer's ledger then read a million rows per month for a national contract, and the dunning job
summed them again. The run now adds each batch's employer total to one row per contract and month
(the detail per affiliation stays in ``cotisation_lines``). Existing employer schedule lines are
summed into ``employer_dues`` and removed; the downgrade writes them back, per affiliation, from the
cotisation lines the employer pays (its share and what it deducts from pay).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "employer_dues",
        sa.Column("contract_number", sa.String(length=20), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("contract_number", "month", name=op.f("pk_employer_dues")),
    )
    op.create_index("ix_employer_dues_due_date", "employer_dues", ["due_date"], unique=False)
    op.execute(
        "INSERT INTO employer_dues (contract_number, month, due_date, amount_cents, run_id) "
        "SELECT payer_id, month, MIN(due_date), SUM(amount_cents), MAX(run_id) FROM schedule_lines "
        "WHERE payer = 'employer' GROUP BY payer_id, month"
    )
    op.execute("DELETE FROM schedule_lines WHERE payer = 'employer'")


def downgrade() -> None:
    op.execute(
        "INSERT INTO schedule_lines "
        "(affiliation_id, month, payer, run_id, contract_number, payer_id, due_date, amount_cents) "
        "SELECT l.affiliation_id, l.month, 'employer', MAX(l.run_id), l.contract_number, l.contract_number, "
        "MIN(e.due_date), SUM(l.amount_cents) FROM cotisation_lines l JOIN employer_dues e "
        "ON e.contract_number = l.contract_number AND e.month = l.month "
        "WHERE l.payer = 'employer' OR l.channel = 'payroll_deduction' "
        "GROUP BY l.affiliation_id, l.month, l.contract_number HAVING SUM(l.amount_cents) > 0"
    )
    op.drop_index("ix_employer_dues_due_date", table_name="employer_dues")
    op.drop_table("employer_dues")
