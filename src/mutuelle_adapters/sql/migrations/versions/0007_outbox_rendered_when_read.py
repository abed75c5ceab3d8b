"""outbox: a message may be stored as its template, locale and context, and rendered when read

Bulk invitations store tens of thousands of messages in one transaction; rendering each one there
cost more than inserting it. Such a row has ``context`` (JSON) and ``locale`` and no subject nor
bodies yet; the outbox adapter renders it from the templates whenever it reads it.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("context", sa.JSON(), nullable=True))
        batch_op.alter_column("subject", existing_type=sa.String(length=300), nullable=True)
        batch_op.alter_column("body_text", existing_type=sa.Text(), nullable=True)


def downgrade() -> None:
    # Messages still waiting to be rendered cannot be kept by the older schema.
    op.execute("DELETE FROM outbox WHERE body_text IS NULL")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("body_text", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("subject", existing_type=sa.String(length=300), nullable=False)
        batch_op.drop_column("context")
        batch_op.drop_column("locale")
