from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from checkrun.kit.clock import iso, now
from checkrun.kit.includes import Include, Wrapped
from checkrun.members.models import Membership, User
from checkrun.templates.schemas import MAX_INT, Email

Role = Literal["admin", "standard", "light"]
URLISH = re.compile(r"(https?://|www\.|\w\.(com|net|org|io)\b)", re.IGNORECASE)


def _person_name(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("The name field is required.")
    if URLISH.search(value):
        raise ValueError("A name may not be a URL.")
    return value


def _timezone(value: str) -> str:
    value = value.strip()
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("The timezone must be a valid zone.") from exc
    return value


PersonName = Annotated[str, Field(min_length=1, max_length=32), AfterValidator(_person_name)]
Timezone = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_timezone)]


def utc_offset(timezone: str, moment: datetime | None = None) -> str:
    """`-08:00` style offset of a zone now; UTC for a zone this system doesn't know."""
    try:
        delta = (moment or now()).astimezone(ZoneInfo(timezone)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError):
        delta = None
    minutes = int(delta.total_seconds() // 60) if delta else 0
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


class UserRead(BaseModel):
    """A member as §3.9 describes it; role and status are this organization's."""

    model_config = ConfigDict(extra="allow")

    id: int
    email: str
    username: str
    first_name: str
    last_name: str
    full_name: str
    profile_pic: str | None = None
    country_id: int | None = None
    phone: str | None = None
    job_title: str | None = None
    job_description: str | None = None
    team: str | None = None
    timezone: str
    UTC_offset: str
    locale: str = "en"
    date_format: str = "mm/dd/yyyy"
    step_preferences: bool = False
    role: str | None = None
    status: str | None = None
    type: str = "member"
    is_active: bool = False
    active: bool = False
    is_default_admin: bool = False
    support_user: bool = False
    invited_by: int | None = None
    approved_at: str | None = None
    activated_at: str | None = None
    disabled_at: str | None = None
    disabled_by: int | None = None
    reactivated_at: str | None = None
    reactivated_by: int | None = None
    last_login_at: str | None = None
    last_known_ip: str | None = None
    last_known_country: str | None = None
    created_at: str | None
    updated_at: str | None
    last_updated: str | None
    # `with=` includes (members/service.read_with), in the order the JSON shows them; those
    # checkrun has nothing behind yet are empty lists.
    groups: Include[Wrapped[list[dict[str, Any]]]] = None
    stats: Include[Wrapped[dict[str, Any]]] = None
    organizations: Include[Wrapped[list[Any]]] = None
    preferences: Include[Wrapped[list[Any]]] = None
    assets: Include[Wrapped[list[Any]]] = None
    member_watchers: Include[Wrapped[list[Any]]] = None
    guest_watchers: Include[Wrapped[list[Any]]] = None
    auth_methods: Include[Wrapped[list[Any]]] = None
    country: Include[Wrapped[None]] = None

    @classmethod
    def of(cls, user: User, membership: Membership | None = None) -> UserRead:
        m = membership
        active = bool(m and m.status == "active")
        updated = iso(max(user.updated_at, m.updated_at) if m and m.updated_at else user.updated_at)
        return cls(
            id=user.id,
            email=user.email,
            username=user.email.split("@")[0],
            first_name=user.first_name,
            last_name=user.last_name,
            full_name=user.full_name,
            country_id=user.country_id,
            phone=user.phone,
            job_title=user.job_title,
            job_description=user.job_description,
            team=user.team,
            timezone=user.timezone,
            UTC_offset=utc_offset(user.timezone),
            date_format=user.date_format or "mm/dd/yyyy",
            step_preferences=bool(user.step_preferences),
            role=m.role if m else None,
            status=m.status if m else None,
            type=m.type if m else "member",
            is_active=active,
            active=active,
            is_default_admin=bool(m and m.is_default_admin),
            invited_by=m.invited_by if m else None,
            approved_at=iso(m.approved_at) if m else None,
            activated_at=iso(m.approved_at or m.created_at) if m and active else None,
            disabled_at=iso(m.disabled_at) if m else None,
            disabled_by=m.disabled_by if m else None,
            reactivated_at=iso(m.reactivated_at) if m else None,
            reactivated_by=m.reactivated_by if m else None,
            created_at=iso(user.created_at),
            updated_at=updated,
            last_updated=updated,
        )


class UserBrief(BaseModel):
    """One row of `/users-list`: enough to pick a member."""

    id: int
    email: str
    username: str
    first_name: str
    last_name: str
    full_name: str
    profile_pic: str | None = None
    timezone: str
    role: str
    status: str
    type: str

    @classmethod
    def of(cls, user: User, m: Membership) -> UserBrief:
        return cls(
            id=user.id,
            email=user.email,
            username=user.email.split("@")[0],
            first_name=user.first_name,
            last_name=user.last_name,
            full_name=user.full_name,
            timezone=user.timezone,
            role=m.role,
            status=m.status,
            type=m.type,
        )


class ProvisionUser(BaseModel):
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    first_name: str = Field(min_length=1, max_length=32)
    last_name: str = Field(min_length=1, max_length=32)
    role: Literal["admin", "standard", "light"] = "light"
    timezone: str = Field("UTC", max_length=64)


class InviteUser(BaseModel):
    model_config = ConfigDict(extra="ignore")

    email: Email
    first_name: PersonName
    last_name: PersonName
    # [D] calls role and message required; the SDK and MCP send them optionally (light).
    role: Role = "light"
    message: str | None = Field(None, max_length=5000)


class ProfileUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    first_name: PersonName
    last_name: PersonName
    timezone: Timezone
    phone: str | None = Field(None, max_length=20)
    job_title: str | None = Field(None, max_length=200)
    job_description: str | None = Field(None, max_length=5000)
    team: str | None = Field(None, max_length=200)
    country_id: int | None = Field(None, ge=1, le=MAX_INT)
    date_format: Literal["mm/dd/yyyy", "dd/mm/yyyy"] | None = None
    step_preferences: bool | None = None


class RoleUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Role


class TokenRead(BaseModel):
    token_type: str = "Bearer"
    access_token: str
    expires_in: int | None
