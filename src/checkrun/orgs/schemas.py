from __future__ import annotations

from pydantic import BaseModel

from checkrun.kit.clock import iso
from checkrun.orgs.models import Organization


class OrganizationRead(BaseModel):
    id: str
    name: str
    timezone: str
    users_count: int
    created_on: str | None
    last_updated: str | None

    @classmethod
    def of(cls, org: Organization, users_count: int) -> OrganizationRead:
        return cls(
            id=org.id,
            name=org.name,
            timezone=org.timezone,
            users_count=users_count,
            created_on=iso(org.created_at),
            last_updated=iso(org.updated_at),
        )
