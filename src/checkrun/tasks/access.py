"""Which tasks a light member may work on: the ones assigned to them (directly or through one
of their groups). Full members (admin, standard) may work on any task of the organization,
within the task's own `can_complete_only_assignees` restriction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.groups.repository import GroupsRepository
from checkrun.kit.auth import Actor
from checkrun.kit.errors import forbidden
from checkrun.tasks.models import Task


async def is_assigned(db: AsyncSession, actor: Actor, task: Task) -> bool:
    if any(o.kind == "user" and o.ref == str(actor.user_id) for o in task.owners):
        return True
    groups = {o.ref for o in task.owners if o.kind == "group"}
    if not groups:
        return False
    return bool(groups & set(await GroupsRepository(db).ids_of_member(actor.org_id, actor.user_id)))


async def require_assigned_if_light(db: AsyncSession, actor: Actor, task: Task, doing: str) -> None:
    if actor.is_light and not await is_assigned(db, actor, task):
        raise forbidden(f"Light members can only {doing} tasks assigned to them.")
