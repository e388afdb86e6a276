from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.kit.auth import Actor
from checkrun.kit.errors import not_found
from checkrun.orgs.repository import OrgsRepository
from checkrun.orgs.schemas import OrganizationRead


async def get_organization(db: AsyncSession, actor: Actor) -> OrganizationRead:
    repo = OrgsRepository(db)
    org = await repo.get(actor.org_id)
    if org is None:
        raise not_found()
    return OrganizationRead.of(org, await repo.active_members(org.id))
