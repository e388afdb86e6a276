"""Organization reads and settings; the caller's organizations."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.kit import events
from checkrun.kit.auth import Actor, Principal, require_admin
from checkrun.kit.clock import now
from checkrun.kit.errors import not_found
from checkrun.kit.pagination import PageParams
from checkrun.members.repository import MembersRepository
from checkrun.orgs.models import Organization
from checkrun.orgs.repository import OrgsRepository
from checkrun.orgs.schemas import DEFAULTS, OrganizationRead, OrganizationUpdate


async def _org(db: AsyncSession, actor: Actor) -> Organization:
    org = await OrgsRepository(db).get(actor.org_id)
    if org is None:
        raise not_found()
    return org


async def read(db: AsyncSession, org: Organization, role: str | None) -> OrganizationRead:
    counts = await OrgsRepository(db).active_members_of([org.id])
    return OrganizationRead.of(org, counts.get(org.id, 0), user_role=role)


async def get_organization(db: AsyncSession, actor: Actor) -> OrganizationRead:
    return await read(db, await _org(db, actor), actor.role)


async def update_organization(
    db: AsyncSession, actor: Actor, body: OrganizationUpdate
) -> OrganizationRead:
    """Admins only. `name` and `timezone` are columns; the other settings are kept as sent
    (null resets one to its default)."""
    require_admin(actor)
    await OrgsRepository(db).settings_lock(actor.org_id)
    org = await _org(db, actor)
    if body.name is not None:
        org.name = body.name
    if body.timezone is not None:
        org.timezone = body.timezone
    sent: dict[str, Any] = body.model_dump(
        mode="json", exclude_unset=True, exclude={"name", "timezone"}
    )
    preferences = dict(org.preferences or {})
    for key, value in sent.items():
        if key not in DEFAULTS:
            continue
        if value is None:
            preferences.pop(key, None)
        else:
            preferences[key] = value
    org.preferences = preferences
    org.updated_at = now()
    await db.flush()
    await events.emit(
        db,
        events.Event(
            org_id=org.id,
            type="Organization",
            verb="updated",
            entity_type="organization",
            entity_id=org.id,
            description="Organization settings updated",
            new_value=sorted(body.model_fields_set),
            **events.by(actor),
        ),
    )
    return await read(db, org, actor.role)


async def my_organizations(
    db: AsyncSession, principal: Principal, page: PageParams
) -> tuple[list[OrganizationRead], int]:
    rows, total = await MembersRepository(db).organizations_of(
        principal.user_id, page, only_org=principal.bound_org_id
    )
    counts = await OrgsRepository(db).active_members_of([org.id for org, _ in rows])
    reads = [OrganizationRead.of(org, counts.get(org.id, 0), user_role=m.role) for org, m in rows]
    return reads, total
