"""Activity-feed rules: who sees which entries."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.activity.repository import ActivityRepository, FeedFilters
from checkrun.activity.schemas import ActivityEntry, read_entry
from checkrun.kit.auth import Actor
from checkrun.kit.pagination import PageParams


async def list_feed(
    db: AsyncSession, actor: Actor, page: PageParams, filters: FeedFilters
) -> tuple[list[ActivityEntry], int]:
    """Administrators see the whole organization's feed; other members the entries they may
    see (filtered, not refused: the feed of a process they can't see is empty)."""
    repo = ActivityRepository(db)
    viewer = None if actor.is_admin else actor.user_id
    entries, total = await repo.search(actor.org_id, page, filters, viewer)
    members = await repo.members(
        actor.org_id, {e.actor_id for e in entries if e.actor_type == "user" and e.actor_id}
    )
    return [read_entry(e, members.get(e.actor_id or 0)) for e in entries], total
