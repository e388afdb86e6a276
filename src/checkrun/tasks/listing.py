"""Task lists show each assigned member as an object (`{id, full_name, profile_pic}`), as
Tallyfy's lists do; a single task read shows their ids (reference §3.2)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.members.repository import MembersRepository
from checkrun.tasks.models import ReadableTask
from checkrun.tasks.schemas import TaskRead


def _person(user_id: Any, names: dict[int, str]) -> Any:
    if not isinstance(user_id, int):
        return user_id
    return {"id": user_id, "full_name": names.get(user_id, ""), "profile_pic": None}


async def with_owner_objects(
    db: AsyncSession,
    tasks: Sequence[ReadableTask],
    reads: list[TaskRead],
    names: dict[int, str] | None = None,
) -> list[TaskRead]:
    """The page's members read in one statement (unless `names`, the page's statement read
    them); one no longer a member keeps an empty name."""
    if names is None:
        ids = sorted({u for r in reads for u in r.owners.get("users", []) if isinstance(u, int)})
        names = await MembersRepository(db).full_names(tasks[0].org_id, ids) if tasks else {}
    for read in reads:
        users = [_person(u, names) for u in read.owners.get("users", [])]
        read.owners = {**read.owners, "users": users}
    return reads
