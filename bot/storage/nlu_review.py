"""The NLU training data review list (`NluReviewItem`): masked messages staff put aside for the training data."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models_console import NluReviewItem, StaffMember


@dataclass(frozen=True)
class ReviewRow:
    id: int
    text: str
    times_seen: int
    intent: str | None
    added_by: str  # the staff member's usuario
    added_at: datetime


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


async def add_item(*, session: AsyncSession, text: str, times_seen: int, added_by_id: int) -> NluReviewItem | None:
    """Put a masked text on the list; None when it is there already (the list holds each text once)."""
    found = await session.scalar(select(NluReviewItem.id).where(NluReviewItem.text_hash == text_hash(text)))
    if found is not None:
        return None
    item = NluReviewItem(text_hash=text_hash(text), text=text, times_seen=times_seen, added_by_id=added_by_id)
    session.add(item)
    await session.flush()
    return item


async def listed_texts(*, session: AsyncSession) -> set[str]:
    return set(await session.scalars(select(NluReviewItem.text)))


async def items(*, session: AsyncSession) -> list[ReviewRow]:
    """The whole list, the most often not understood first, then the oldest."""
    result = await session.execute(
        select(NluReviewItem, StaffMember.usuario)
        .join(StaffMember, StaffMember.id == NluReviewItem.added_by_id)
        .order_by(NluReviewItem.times_seen.desc(), NluReviewItem.id)
    )
    return [
        ReviewRow(item.id, item.text, item.times_seen, item.intent, usuario, item.added_at) for item, usuario in result
    ]


async def set_intent(*, session: AsyncSession, item_id: int, intent: str | None) -> bool:
    """Classify an item (None: back to unclassified); False when it is not on the list."""
    item = await session.get(NluReviewItem, item_id)
    if item is None:
        return False
    item.intent = intent
    return True


async def remove_item(*, session: AsyncSession, item_id: int) -> bool:
    result = await session.execute(delete(NluReviewItem).where(NluReviewItem.id == item_id))
    return bool(getattr(result, "rowcount", 0))
