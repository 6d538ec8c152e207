"""indexes for every polled query; joins the console (0010) and trámites (0009) branches

Revision ID: 0011
Revises: 0009, 0010
Create Date: 2026-12-10

Polled, and what serves each (``ix_handoff_cases_open`` already served the handoff queue and
``ix_messages_conversation_created`` the web chat's polling of news):

- outbox claim, first unsent message of each chat: ``ix_outbox_open`` (status, conversation_id, id);
- unanswered inbound messages, per chat and at recovery: ``ix_messages_unanswered``;
- the stored answer to a retried message: ``ix_messages_reply_to``;
- notifications not delivered yet (every gateway, every 2 s): ``ix_notifications_undelivered``;
- applications whose retry is due (the worker, every 5 s): ``ix_applications_retry``.

Plain (not partial) indexes: asyncpg's prepared statements may run with generic plans, which cannot prove a
parameterised ``status = $1`` implies a partial index's predicate.
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = ("0009", "0010")
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_outbox_open", "outbox", ["status", "conversation_id", "id"]),
    ("ix_messages_unanswered", "messages", ["direction", "status", "conversation_id", "id"]),
    ("ix_messages_reply_to", "messages", ["reply_to_id"]),
    ("ix_notifications_undelivered", "notifications", ["delivered_at", "id"]),
    ("ix_applications_retry", "applications", ["estado", "proximo_intento"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
