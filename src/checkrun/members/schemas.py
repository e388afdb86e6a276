from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from checkrun.kit.clock import iso
from checkrun.members.models import Membership, User


class UserRead(BaseModel):
    id: int
    email: str
    username: str
    first_name: str
    last_name: str
    full_name: str
    profile_pic: str | None = None
    timezone: str
    role: str | None = None
    status: str | None = None
    is_default_admin: bool = False
    created_at: str | None
    updated_at: str | None

    @classmethod
    def of(cls, user: User, membership: Membership | None = None) -> UserRead:
        return cls(
            id=user.id,
            email=user.email,
            username=user.email.split("@")[0],
            first_name=user.first_name,
            last_name=user.last_name,
            full_name=user.full_name,
            timezone=user.timezone,
            role=membership.role if membership else None,
            status=membership.status if membership else None,
            is_default_admin=bool(membership and membership.is_default_admin),
            created_at=iso(user.created_at),
            updated_at=iso(user.updated_at),
        )


class ProvisionUser(BaseModel):
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    first_name: str = Field(min_length=1, max_length=32)
    last_name: str = Field(min_length=1, max_length=32)
    role: Literal["admin", "standard", "light"] = "light"
    timezone: str = Field("UTC", max_length=64)


class TokenRead(BaseModel):
    token_type: str = "Bearer"
    access_token: str
    expires_in: int | None
