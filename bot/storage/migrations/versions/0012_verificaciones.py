"""document verifications: one row per verification's outcome (kind, via, verdict, time), for the open data

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-12
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document_verifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=True),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_document_verifications_created_at", "document_verifications", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_document_verifications_created_at", table_name="document_verifications")
    op.drop_table("document_verifications")
