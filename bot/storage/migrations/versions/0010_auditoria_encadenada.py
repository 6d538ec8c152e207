"""audit log hash chain: links per row, the chain head, signed daily digests; existing rows chained

Revision ID: 0010
Revises: 0005
Create Date: 2026-12-08
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from bot.storage.audit_chain import HEAD_ID, day_of, instant, next_link, row_hash

revision = "0010"
down_revision = "0005"  # on the console branch (0005), beside 0006-0009; "heads" applies both
branch_labels = None
depends_on = None

_audit = sa.table(
    "audit_log",
    sa.column("id", sa.Integer()),
    sa.column("staff_id", sa.Integer()),
    sa.column("usuario", sa.String()),
    sa.column("action", sa.String()),
    sa.column("conversation_id", sa.String()),
    sa.column("case_id", sa.Integer()),
    sa.column("detail", sa.JSON()),
    sa.column("ip", sa.String()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("chain_day", sa.String()),
    sa.column("prev_hash", sa.String()),
    sa.column("row_hash", sa.String()),
)
_head = sa.table(
    "audit_chain_head",
    sa.column("id", sa.Integer()),
    sa.column("last_id", sa.Integer()),
    sa.column("last_hash", sa.String()),
    sa.column("day", sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain_day", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("row_hash", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_audit_log_chain_day"), ["chain_day"], unique=False)
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=True),
        sa.Column("last_hash", sa.String(length=64), nullable=True),
        sa.Column("day", sa.String(length=10), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "audit_digests",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("first_id", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    _backfill(op.get_bind())


def _backfill(connection: sa.Connection) -> None:
    """Chain the rows written before this revision, oldest first, and write the head."""
    head_day: str | None = None
    head_hash: str | None = None
    last_id: int | None = None
    rows = connection.execute(sa.select(_audit).order_by(_audit.c.id)).mappings().all()
    for row in rows:
        created_at: datetime = row["created_at"]
        fields: dict[str, Any] = {**row, "created_at": instant(created_at)}
        chain_day, prev = next_link(day=day_of(created_at), head_day=head_day, head_hash=head_hash)
        link = row_hash(fields, chain_day=chain_day, prev_hash=prev)
        connection.execute(
            sa.update(_audit).where(_audit.c.id == row["id"]).values(chain_day=chain_day, prev_hash=prev, row_hash=link)
        )
        head_day, head_hash, last_id = chain_day, link, row["id"]
    connection.execute(sa.insert(_head).values(id=HEAD_ID, last_id=last_id, last_hash=head_hash, day=head_day))


def downgrade() -> None:
    op.drop_table("audit_digests")
    op.drop_table("audit_chain_head")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_chain_day"))
        batch_op.drop_column("row_hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("chain_day")
