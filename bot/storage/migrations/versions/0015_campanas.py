"""campaigns from the console: the campaign and its recipients (one per citizen: the idempotency key)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-15
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("titulo", sa.String(length=120), nullable=False),
        sa.Column("texto", sa.Text(), nullable=False),
        sa.Column("institucion", sa.String(length=40), nullable=True),
        sa.Column("tipos", sa.JSON(), nullable=False),
        sa.Column("canales", sa.JSON(), nullable=False),
        sa.Column("por_minuto", sa.Integer(), nullable=False),
        sa.Column("plantilla", sa.String(length=80), nullable=True),
        sa.Column("horas_respuesta", sa.Integer(), nullable=False),
        sa.Column("estado", sa.String(length=16), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("usuario", sa.String(length=60), nullable=False),
        sa.Column("cupo", sa.Float(), nullable=False),
        sa.Column("cupo_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "campaign_recipients",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=160), nullable=False),
        sa.Column("canal", sa.String(length=16), nullable=False),
        sa.Column("cedula_hash", sa.String(length=64), nullable=False),
        sa.Column("estado", sa.String(length=16), nullable=False),
        sa.Column("motivo", sa.String(length=40), nullable=True),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "cedula_hash", name="uq_campaign_recipients_citizen"),
    )
    op.create_index(
        "ix_campaign_recipients_state", "campaign_recipients", ["campaign_id", "estado", "id"], unique=False
    )
    op.create_index("ix_campaign_recipients_conversation_id", "campaign_recipients", ["conversation_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_campaign_recipients_conversation_id", table_name="campaign_recipients")
    op.drop_index("ix_campaign_recipients_state", table_name="campaign_recipients")
    op.drop_table("campaign_recipients")
    op.drop_table("campaigns")
