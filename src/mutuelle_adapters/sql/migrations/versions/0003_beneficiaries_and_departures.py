"""beneficiaries covered, departure and continuation of an affiliation

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("affiliations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("covered", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("departure", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("continuation", sa.JSON(), nullable=True))
    with op.batch_alter_table("affiliations", schema=None) as batch_op:
        batch_op.alter_column("covered", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("affiliations", schema=None) as batch_op:
        batch_op.drop_column("continuation")
        batch_op.drop_column("departure")
        batch_op.drop_column("covered")
