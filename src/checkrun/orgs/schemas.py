from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from checkrun.kit.clock import iso
from checkrun.members.schemas import Timezone
from checkrun.orgs.models import Organization

Weekday = Literal["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
WEEKDAYS: tuple[str, ...] = get_args(Weekday)
Text200 = Annotated[str, Field(max_length=200)]


def _trimmed(value: str) -> str:
    if not value.strip():
        raise ValueError("The name field is required.")
    return value.strip()


OrgName = Annotated[str, Field(min_length=1, max_length=250), AfterValidator(_trimmed)]


def _working_day(day: str) -> dict[str, Any]:
    return {
        "enabled": day not in ("Saturday", "Sunday"),
        "start_time": "09:00",
        "end_time": "17:00",
    }


# What an organization shows until an admin changes it (§3.12; the SDK's Organization model
# needs `working_days`, `default_deadline` and `auto_archive_processes_after` as objects).
DEFAULTS: dict[str, Any] = {
    "industry": None,
    "description": None,
    "address1": None,
    "address2": None,
    "country": None,
    "state": None,
    "city": None,
    "zipcode": None,
    "live_support_enabled": 0,
    "org_logo": None,
    "settings": None,
    "payment_state": "active",
    "team_size": [],
    "signup_survey": None,
    "in_trial": False,
    "analytics_enabled": False,
    "limit_trial_features": False,
    "real_time_billing": False,
    "saml_enabled": False,
    "saml_login_url": None,
    "sso_default_role": None,
    "preferred_trial_plan": None,
    "plan_code": None,
    "auto_join_signups": False,
    "home_bg": None,
    "guest_onboarding_snippet": None,
    "maximum_group_assignment_limit": 0,
    "allow_user_invite": True,
    "allow_manage_groups": False,
    "working_days": {day: _working_day(day) for day in WEEKDAYS},
    "deadline_setting": None,
    "wyiwyg": True,
    "cadence_days": [],
    "guest_cadence_days": [],
    "default_deadline": {"type": "days", "value": 5},
    "auto_archive": False,
    "auto_complete_tasks": False,
    "auto_complete_task_months": 18,
    "light_role_error_snippet": None,
    "global_css": None,
    "error_404_template": None,
    "enable_custom_404_error": False,
    "enable_custom_smtp": False,
    "onboarding_template_id": None,
    "enable_onboarding_template": False,
    "disable_min_members_billing": False,
    "enable_light_users_billing": False,
    "webhook_date_field_format": "yyyy-MM-ddTHH:mm:ssZ",
    "purpose": None,
    "process_today": None,
    "restrict_blueprint_permissions": False,
    "auto_archive_processes_after": {"unit": "weeks", "value": 52},
    "use_generative_ai": False,
    # checkrun's own (Tallyfy documents none): the scheduler's reminders to assignees, hours
    # before a deadline (0: none) and when it passes.
    "reminder_due_soon_hours": 24,
    "reminder_overdue": True,
}


class OrganizationRead(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    name: str
    timezone: str
    users_count: int
    created_on: str | None
    last_updated: str | None
    user_role: str | None = None

    @classmethod
    def of(
        cls, org: Organization, users_count: int, user_role: str | None = None
    ) -> OrganizationRead:
        kept = {k: v for k, v in (org.preferences or {}).items() if k in DEFAULTS}
        return cls(
            id=org.id,
            name=org.name,
            timezone=org.timezone,
            users_count=users_count,
            created_on=iso(org.created_at),
            last_updated=iso(org.updated_at),
            user_role=user_role,
            **(DEFAULTS | kept),
        )


class Deadline(BaseModel):
    type: Literal["minutes", "hours", "days", "weeks", "months"] = "days"
    value: int = Field(5, ge=0, le=9999)


class AutoArchiveAfter(BaseModel):
    unit: Literal["days", "weeks", "months", "years"] = "weeks"
    value: int = Field(52, ge=1, le=9999)


class WorkingDay(BaseModel):
    model_config = ConfigDict(extra="allow")

    enabled: bool = True
    start_time: str | None = Field(None, pattern=r"^\d{2}:\d{2}$")
    end_time: str | None = Field(None, pattern=r"^\d{2}:\d{2}$")


class OrganizationUpdate(BaseModel):
    """Every field optional: sent fields replace, the others are kept."""

    model_config = ConfigDict(extra="ignore")

    name: OrgName | None = None
    timezone: Timezone | None = None
    industry: Text200 | None = None
    description: str | None = Field(None, max_length=5000)
    address1: Text200 | None = None
    address2: Text200 | None = None
    country: Text200 | None = None
    state: Text200 | None = None
    city: Text200 | None = None
    zipcode: Annotated[str, Field(max_length=20)] | None = None
    purpose: Text200 | None = None
    deadline_setting: Text200 | None = None
    home_bg: Text200 | None = None
    guest_onboarding_snippet: str | None = Field(None, max_length=10_000)
    light_role_error_snippet: str | None = Field(None, max_length=10_000)
    allow_user_invite: bool | None = None
    allow_manage_groups: bool | None = None
    auto_archive: bool | None = None
    auto_complete_tasks: bool | None = None
    auto_complete_task_months: int | None = Field(None, ge=1, le=120)
    maximum_group_assignment_limit: int | None = Field(None, ge=0, le=10_000)
    restrict_blueprint_permissions: bool | None = None
    wyiwyg: bool | None = None
    use_generative_ai: bool | None = None
    webhook_date_field_format: Literal["yyyy-MM-ddTHH:mm:ssZ", "d/m/Y h:i A T"] | None = None
    cadence_days: list[Weekday] | None = None
    guest_cadence_days: list[Weekday] | None = None
    working_days: dict[Weekday, WorkingDay] | None = None
    default_deadline: Deadline | None = None
    auto_archive_processes_after: AutoArchiveAfter | None = None
    reminder_due_soon_hours: int | None = Field(None, ge=0, le=720)
    reminder_overdue: bool | None = None
