"""reminders the citizen asked for: subscriptions per chat and the reminders recorded (idempotency keys)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reminder_subscriptions",
        sa.Column("conversation_id", sa.String(length=160), nullable=False),
        sa.Column("canal", sa.String(length=16), nullable=False),
        sa.Column("cedula_hash", sa.String(length=64), nullable=False),
        sa.Column("cedula_cifrada", sa.Text(), nullable=False),
        sa.Column("tipos", sa.JSON(), nullable=False),
        sa.Column("revisada_el", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id"),
    )
    op.create_index("ix_reminder_subscriptions_cedula_hash", "reminder_subscriptions", ["cedula_hash"], unique=False)
    op.create_table(
        "reminders_sent",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=160), nullable=False),
        sa.Column("tipo", sa.String(length=20), nullable=False),
        sa.Column("clave", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id", "clave", name="uq_reminders_sent_chat_clave"),
    )


def downgrade() -> None:
    op.drop_table("reminders_sent")
    op.drop_index("ix_reminder_subscriptions_cedula_hash", table_name="reminder_subscriptions")
    op.drop_table("reminder_subscriptions")
