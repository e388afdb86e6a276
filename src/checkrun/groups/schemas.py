from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from checkrun.groups.models import Group
from checkrun.kit.clock import iso
from checkrun.kit.includes import Include, Wrapped
from checkrun.templates.schemas import Email, UserId


def _trimmed(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("The name field is required.")
    return value


Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_trimmed)]
Description = Annotated[str, Field(max_length=10_000)]


class GroupWrite(BaseModel):
    # Unknown body fields are stripped, as Tallyfy's validators do.
    model_config = ConfigDict(extra="ignore")

    description: Description | None = None
    members: list[UserId] | None = None
    guests: list[Email] | None = None


class GroupCreate(GroupWrite):
    name: Name


class GroupUpdate(GroupWrite):
    """Sent fields replace (`members` and `guests` whole); fields not sent are kept."""

    name: Name | None = None


class GroupRead(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    name: str
    description: str
    logo: str | None = None
    members: list[int]
    guests: list[str]
    created_at: str | None
    last_updated: str | None
    updated_at: str | None
    deleted_at: str | None = None
    # `with=users` (member objects) and `with=assets` (none yet), wrapped.
    users: Include[Wrapped[list[dict[str, object]]]] = None
    assets: Include[Wrapped[list[Any]]] = None

    @classmethod
    def of(cls, group: Group) -> GroupRead:
        stamp = iso(group.updated_at)
        return cls(
            id=group.id,
            name=group.name,
            description=group.description or "",
            members=[m.user_id for m in group.members],
            guests=[g.email for g in group.guests],
            created_at=iso(group.created_at),
            last_updated=stamp,
            updated_at=stamp,
        )
