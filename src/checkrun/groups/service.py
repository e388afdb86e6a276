"""Group rules: unique names, members of this organization only, lists replaced whole, and
the assignment check every domain that takes group assignees calls."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.groups.models import Group, GroupGuest, GroupMember
from checkrun.groups.repository import SORTS, GroupsRepository
from checkrun.groups.schemas import GroupCreate, GroupRead, GroupUpdate, GroupWrite
from checkrun.kit import events
from checkrun.kit.auth import Actor
from checkrun.kit.clock import now
from checkrun.kit.errors import forbidden, invalid, invalid_field, not_found
from checkrun.kit.includes import Includes, Wrapped
from checkrun.kit.pagination import PageParams
from checkrun.members.repository import MembersRepository
from checkrun.orgs.repository import OrgsRepository

DEFAULT_SORT = "created_at"


async def check_group_ids(
    db: AsyncSession, org_id: str, ids: Sequence[str], field: str = "groups"
) -> None:
    """Group assignees must be groups of this organization: 422 otherwise."""
    wanted = list(dict.fromkeys(str(i) for i in ids))
    if not wanted:
        return
    known = await GroupsRepository(db).existing_ids(org_id, wanted)
    if len(known) != len(wanted):
        raise invalid_field(field, "The selected groups is invalid.")


async def _require_manager(db: AsyncSession, actor: Actor) -> None:
    """Admins manage groups; standard members too once the organization allows it."""
    if actor.is_admin:
        return
    org = await OrgsRepository(db).get(actor.org_id)
    allowed = bool(org and (org.preferences or {}).get("allow_manage_groups"))
    if not allowed or actor.is_light:
        raise forbidden("Only administrators can manage groups.")


async def get_group(db: AsyncSession, actor: Actor, group_id: str) -> Group:
    group = await GroupsRepository(db).get(actor.org_id, group_id)
    if group is None:
        raise not_found()
    return group


async def _check(
    db: AsyncSession, actor: Actor, body: GroupWrite, name: str | None, group_id: str | None = None
) -> None:
    if name is not None:
        same = await GroupsRepository(db).named(actor.org_id, name)
        if same is not None and same.id != group_id:
            raise invalid_field("name", "The name has already been taken.")
    members = body.members or []
    known = await MembersRepository(db).existing_user_ids(actor.org_id, members)
    errors = {
        f"members.{i}": ["The selected members is invalid."]
        for i, user_id in enumerate(members)
        if user_id not in known
    }
    if errors:
        raise invalid(errors)


def _replace_lists(group: Group, body: GroupWrite) -> None:
    """Rows for kept entries stay (a delete-then-insert of the same entry would meet the
    unique constraint, as the unit of work inserts before it deletes)."""
    if body.members is not None:
        have = {m.user_id: m for m in group.members}
        group.members = [have.get(u) or GroupMember(user_id=u) for u in dict.fromkeys(body.members)]
    if body.guests is not None:
        known = {g.email: g for g in group.guests}
        group.guests = [known.get(e) or GroupGuest(email=e) for e in dict.fromkeys(body.guests)]


async def _emit(db: AsyncSession, actor: Actor, group: Group, verb: str) -> None:
    await events.emit(
        db,
        events.Event(
            org_id=actor.org_id,
            type="Group",
            verb=verb,
            entity_type="group",
            entity_id=group.id,
            description=f"Group {group.name} {verb}",
            new_value=group.name,
            **events.by(actor),
        ),
    )


async def create_group(db: AsyncSession, actor: Actor, body: GroupCreate) -> Group:
    await _require_manager(db, actor)
    await _check(db, actor, body, body.name)
    group = Group(
        org_id=actor.org_id,
        name=body.name,
        description=body.description or "",
        members=[],
        guests=[],
    )
    _replace_lists(group, body)
    GroupsRepository(db).add(group)
    await db.flush()
    await _emit(db, actor, group, "created")
    return group


async def update_group(db: AsyncSession, actor: Actor, group_id: str, body: GroupUpdate) -> Group:
    group = await get_group(db, actor, group_id)
    await _require_manager(db, actor)
    await _check(db, actor, body, body.name, group.id)
    if body.name is not None:
        group.name = body.name
    if body.description is not None:
        group.description = body.description
    _replace_lists(group, body)
    group.updated_at = now()
    await db.flush()
    await _emit(db, actor, group, "updated")
    return group


async def delete_group(db: AsyncSession, actor: Actor, group_id: str) -> None:
    """Hard delete: members and guests stay; the group's assignments go with it."""
    group = await get_group(db, actor, group_id)
    await _require_manager(db, actor)
    repo = GroupsRepository(db)
    await repo.unassign(actor.org_id, group.id)
    await _emit(db, actor, group, "deleted")
    await repo.delete(group)
    await db.flush()


async def list_groups(
    db: AsyncSession, actor: Actor, page: PageParams, q: str | None, sort: str | None
) -> tuple[list[Group], int]:
    order = sort if sort in SORTS else DEFAULT_SORT
    return await GroupsRepository(db).search(actor.org_id, page, q, order)


async def read_groups(
    db: AsyncSession, actor: Actor, groups: list[Group], includes: Includes
) -> list[GroupRead]:
    """Includes wrapped the Fractal way: `users` (member objects) and `assets`. `guests` is
    always inline (the emails), so `with=guests` adds nothing over it."""
    from checkrun.members.service import read_members  # members read groups too

    users: dict[int, dict[str, object]] = {}
    if includes.wants("users"):
        ids = list({m.user_id for g in groups for m in g.members})
        users = {u.id: u.model_dump() for u in await read_members(db, actor.org_id, ids)}
    reads = []
    for group in groups:
        read = GroupRead.of(group)
        if includes.wants("users"):
            read.users = Wrapped(
                data=[users[m.user_id] for m in group.members if m.user_id in users]
            )
        if includes.wants("assets"):
            read.assets = Wrapped(data=[])
        reads.append(read)
    return reads
