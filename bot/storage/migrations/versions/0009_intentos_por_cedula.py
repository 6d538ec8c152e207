"""failed identity checks per cédula, across chats and channels

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cedula_attempts",
        sa.Column("cedula_hash", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("case_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("cedula_hash"),
    )


def downgrade() -> None:
    op.drop_table("cedula_attempts")
