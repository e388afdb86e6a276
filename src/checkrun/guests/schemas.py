"""Request and response shapes of the guests domain (§2.3, §3.10)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from checkrun.guests.models import Guest
from checkrun.kit.clock import iso
from checkrun.kit.includes import Include
from checkrun.templates.schemas import Email, UserId

URL_PREFIXES = ("http://", "https://")


def _url(value: str) -> str:
    value = value.strip()
    if not value.lower().startswith(URL_PREFIXES) or len(value) <= 8 or " " in value:
        raise ValueError("The value must be a valid URL.")
    return value


def _timezone(value: str) -> str:
    value = value.strip()
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("The timezone must be a valid zone.") from exc
    return value


def _laravel_datetime(value: str) -> str:
    try:
        datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError as exc:
        raise ValueError(
            "The external date creation does not match the format Y-m-d H:i:s."
        ) from exc
    return value.strip()


Url = Annotated[str, Field(max_length=2000), AfterValidator(_url)]
Short = Annotated[str, Field(max_length=200)]
Phone = Annotated[str, Field(max_length=20)]

# The optional fields of POST /guests kept under `details`, in the order §3.10 lists them.
DETAIL_FIELDS = (
    "status",
    "phone_1",
    "phone_2",
    "timezone",
    "image_url",
    "contact_url",
    "company_url",
    "opportunity_url",
    "company_name",
    "opportunity_name",
    "external_sync_source",
    "external_date_creation",
)


class GuestCreate(BaseModel):
    """Unknown fields (the SDK's `phone`, for one) are dropped, as Tallyfy's validator does."""

    model_config = ConfigDict(extra="ignore")

    email: Email
    first_name: Short | None = None
    last_name: Short | None = None
    phone_1: Phone | None = None
    phone_2: Phone | None = None
    company_name: Short | None = None
    company_url: Url | None = None
    contact_url: Url | None = None
    image_url: Url | None = None
    opportunity_url: Url | None = None
    opportunity_name: Short | None = None
    timezone: Annotated[str, Field(max_length=64), AfterValidator(_timezone)] | None = None
    status: Short | None = None
    external_sync_source: Literal["salesforce"] | None = None
    external_date_creation: Annotated[str, AfterValidator(_laravel_datetime)] | None = None

    def details(self) -> dict[str, Any]:
        return {
            name: getattr(self, name) for name in DETAIL_FIELDS if getattr(self, name) is not None
        }


class GuestUpdate(BaseModel):
    """Only `associated_members` changes a guest; anything else sent is ignored."""

    model_config = ConfigDict(extra="ignore")

    associated_members: list[UserId] | None = None


class ToMember(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["admin", "standard", "light"] = "light"


class GuestStats(BaseModel):
    assigned_tasks: int = 0
    tasks_completed: int = 0
    last_task_completed_at: str | None = None
    one_off_tasks_completed: int = 0
    last_one_off_task_completed_at: str | None = None


def guest_link(api_base: str, guest: Guest) -> str:
    """The guest's page in the web app (no account needed); clients take the code from the
    segment after `/guest/`, as the SDK does."""
    site = api_base.rstrip("/").removesuffix("/api")
    return f"{site}/app/guest/{guest.guest_code}"


def _details(guest: Guest) -> dict[str, Any]:
    stored = guest.details or {}
    return {
        "first_name": guest.first_name,
        "last_name": guest.last_name,
        **{name: stored.get(name) for name in DETAIL_FIELDS},
        "cadence_days": None,
        "associated_members": list(guest.associated_members or []),
        "last_city": None,
        "last_country": None,
        "last_accessed_at": None,
        "disabled_at": iso(guest.disabled_at),
        "disabled_by": guest.disabled_by,
        "reactivated_at": iso(guest.reactivated_at),
        "reactivated_by": guest.reactivated_by,
    }


class GuestRead(BaseModel):
    """§3.10. `details` is a bare object: the SDK reads a wrapped one as all-None."""

    model_config = ConfigDict(extra="allow")

    id: int
    email: str
    first_name: str | None
    last_name: str | None
    full_name: str
    link: str
    last_accessed_at: str | None = None
    last_known_ip: str | None = None
    last_known_country: str | None = None
    details: dict[str, Any]
    created_at: str | None
    updated_at: str | None
    deleted_at: str | None
    # `with=stats`, bare (not wrapped).
    stats: Include[GuestStats] = None

    @classmethod
    def of(cls, guest: Guest, api_base: str, stats: GuestStats | None = None) -> GuestRead:
        read = cls(
            id=guest.id,
            email=guest.email,
            first_name=guest.first_name,
            last_name=guest.last_name,
            full_name=f"{guest.first_name or ''} {guest.last_name or ''}".strip(),
            link=guest_link(api_base, guest),
            details=_details(guest),
            created_at=iso(guest.created_at),
            updated_at=iso(guest.updated_at),
            deleted_at=iso(guest.deleted_at),
        )
        if stats is not None:
            read.stats = stats
        return read


class GuestBrief(BaseModel):
    """One row of `/guests-list`: enough to pick a guest."""

    id: int
    email: str
    first_name: str | None
    last_name: str | None
    link: str

    @classmethod
    def of(cls, guest: Guest, api_base: str) -> GuestBrief:
        return cls(
            id=guest.id,
            email=guest.email,
            first_name=guest.first_name,
            last_name=guest.last_name,
            link=guest_link(api_base, guest),
        )
