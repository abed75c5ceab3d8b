"""beneficiary designations and strong-authentication challenges

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "designations",
        sa.Column("designation_id", sa.String(length=64), nullable=False),
        sa.Column("affiliation_id", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("clause", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replaces_id", sa.String(length=64), nullable=True),
        sa.Column("signed_by", sa.String(length=64), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_document_sha256", sa.String(length=64), nullable=True),
        sa.Column("signed_document_id", sa.String(length=64), nullable=True),
        sa.Column("signature_provider", sa.String(length=50), nullable=True),
        sa.Column("in_force_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("superseded_by", sa.String(length=64), nullable=True),
        sa.Column("acceptances", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["affiliation_id"],
            ["affiliations.affiliation_id"],
            name=op.f("fk_designations_affiliation_id_affiliations"),
        ),
        sa.PrimaryKeyConstraint("designation_id", name=op.f("pk_designations")),
    )
    with op.batch_alter_table("designations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_designations_affiliation_id"), ["affiliation_id"], unique=False)
        batch_op.create_index(
            "uq_designations_in_force",
            ["affiliation_id"],
            unique=True,
            sqlite_where=sa.text("status = 'in_force'"),
            postgresql_where=sa.text("status = 'in_force'"),
        )

    op.create_table(
        "auth_challenges",
        sa.Column("challenge_id", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=50), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("salt", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("challenge_id", name=op.f("pk_auth_challenges")),
    )
    with op.batch_alter_table("auth_challenges", schema=None) as batch_op:
        batch_op.create_index("ix_auth_challenges_subject_created", ["subject", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("auth_challenges", schema=None) as batch_op:
        batch_op.drop_index("ix_auth_challenges_subject_created")
    op.drop_table("auth_challenges")
    with op.batch_alter_table("designations", schema=None) as batch_op:
        batch_op.drop_index("uq_designations_in_force")
        batch_op.drop_index(batch_op.f("ix_designations_affiliation_id"))
    op.drop_table("designations")
