from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from checkrun.kit.clock import iso
from checkrun.kit.includes import Includes
from checkrun.kit.responses import wrapped
from checkrun.kit.text import slugify
from checkrun.templates.models import Capture, Checklist, Step

StepType = Literal["task", "approval", "expiring", "email", "expiring_email"]
FieldType = Literal[
    "text", "textarea", "radio", "dropdown", "multiselect", "date", "email", "file", "table",
    "assignees_form",
]
DeadlineUnit = Literal["minute", "minutes", "hour", "hours", "day", "days", "week", "weeks",
                       "month", "months"]


class Lenient(BaseModel):
    # Unknown body fields are stripped, as Tallyfy's validators do.
    model_config = ConfigDict(extra="ignore")


class FieldOption(Lenient):
    id: int | None = None
    text: str = Field(min_length=1, max_length=600)
    value: Any = None


class CaptureCreate(Lenient):
    label: str = Field(min_length=1, max_length=600)
    field_type: FieldType
    required: bool = False
    guidance: str | None = None
    position: int | None = Field(None, ge=1)
    options: list[FieldOption] = Field(default_factory=list)
    columns: list[dict[str, Any]] = Field(default_factory=list)


class ChecklistCreate(Lenient):
    title: str = Field(min_length=1, max_length=250)
    type: Literal["procedure", "form", "document"]
    summary: str | None = Field(None, max_length=2000)
    guidance: str | None = None
    webhook: str | None = Field(None, max_length=2000)
    starred: bool = False
    is_public: bool = False
    can_add_oot: bool = True
    auto_naming: bool = False
    default_process_name_format: str | None = Field(None, max_length=550)
    owner_id: int | None = None
    prerun: list[CaptureCreate] = Field(default_factory=list)


class PrerunField(CaptureCreate):
    """A kick-off field in a template PUT: `id` names an existing field; `value` is its value."""

    id: str | None = None
    value: Any = None


class ChecklistUpdate(Lenient):
    """PUT: `title` is required on every call; `prerun`, when sent, is the whole kick-off form."""

    title: str = Field(min_length=1, max_length=250)
    type: Literal["procedure", "form", "document"] | None = None
    summary: str | None = Field(None, max_length=2000)
    guidance: str | None = None
    webhook: str | None = Field(None, max_length=2000)
    starred: bool | None = None
    is_public: bool | None = None
    can_add_oot: bool | None = None
    auto_naming: bool | None = None
    default_process_name_format: str | None = Field(None, max_length=550)
    owner_id: int | None = None
    prerun: list[PrerunField] | None = None


class StepDeadline(Lenient):
    value: int = Field(ge=0)
    unit: DeadlineUnit = "days"
    option: Literal["from", "prior_to"] = "from"
    step: str | None = None


class StepCreate(Lenient):
    title: str = Field(min_length=1, max_length=600)
    summary: str | None = None
    step_type: StepType = "task"
    deadline: StepDeadline | None = None
    assignees: list[int] = Field(default_factory=list)
    guests: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    assign_run_starter: bool = True
    webhook: str | None = Field(None, max_length=2000)


class CaptureRead(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    step_id: str | None
    checklist_id: str | None
    field_type: str
    label: str
    alias: str
    guidance: str | None
    position: int
    required: bool
    options: list[dict[str, Any]]
    columns: list[dict[str, Any]]
    created_at: str | None
    last_updated: str | None

    @classmethod
    def of(cls, c: Capture) -> CaptureRead:
        return cls(
            id=c.id, step_id=c.step_id, checklist_id=c.checklist_id, field_type=c.field_type,
            label=c.label, alias=c.alias, guidance=c.guidance, position=c.position,
            required=c.required, options=c.options or [], columns=c.columns or [],
            created_at=iso(c.created_at), last_updated=iso(c.updated_at),
        )


class StepRead(BaseModel):
    id: str
    checklist_id: str
    title: str
    alias: str
    summary: str | None
    step_type: str
    position: int
    deadline: dict[str, Any] | None
    assignees: list[int]
    guests: list[str]
    groups: list[str]
    assign_run_starter: bool
    webhook: str | None
    captures: list[CaptureRead] = Field(default_factory=list)
    created_at: str | None
    last_updated: str | None
    archived_at: str | None = None

    @classmethod
    def of(cls, s: Step, captures: list[Capture] | None = None) -> StepRead:
        return cls(
            id=s.id, checklist_id=s.checklist_id, title=s.title, alias=s.alias,
            summary=s.summary, step_type=s.step_type, position=s.position, deadline=s.deadline,
            assignees=s.assignees or [], guests=s.guests or [], groups=s.groups or [],
            assign_run_starter=s.assign_run_starter, webhook=s.webhook,
            captures=[CaptureRead.of(c) for c in captures or []],
            created_at=iso(s.created_at), last_updated=iso(s.updated_at),
        )


class ChecklistRead(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    increment_id: int
    title: str
    alias: str
    summary: str | None
    type: str
    guidance: str | None
    webhook: str | None
    starred: bool
    is_public: bool
    can_add_oot: bool
    auto_naming: bool
    default_process_name_format: str | None
    created_by: int
    owner_id: int | None
    status: str
    steps_count: int
    prerun: list[CaptureRead]
    automated_actions: list[dict[str, Any]] = Field(default_factory=list)
    created_at: str | None
    last_updated: str | None
    archived_at: str | None

    @classmethod
    def of(
        cls,
        c: Checklist,
        steps: list[Step],
        prerun: list[Capture],
        captures: dict[str, list[Capture]],
        includes: Includes = Includes(),
        prerun_values: dict[str, Any] | None = None,
    ) -> ChecklistRead:
        read = cls(
            id=c.id, increment_id=c.increment_id, title=c.title,
            alias=f"{slugify(c.title)}-{c.id[:6]}", summary=c.summary, type=c.type,
            guidance=c.guidance, webhook=c.webhook, starred=c.starred, is_public=c.is_public,
            can_add_oot=c.can_add_oot, auto_naming=c.auto_naming,
            default_process_name_format=c.default_process_name_format,
            created_by=c.created_by, owner_id=c.owner_id,
            status="archived" if c.deleted_at else "active", steps_count=len(steps),
            prerun=[_with_value(CaptureRead.of(p), prerun_values or {}) for p in prerun],
            created_at=iso(c.created_at), last_updated=iso(c.updated_at),
            archived_at=iso(c.deleted_at),
        )
        if includes.wants("steps"):
            read.steps = wrapped([StepRead.of(s, captures.get(s.id)) for s in steps])  # type: ignore[attr-defined]
        return read


def _with_value(read: CaptureRead, values: dict[str, Any]) -> CaptureRead:
    if read.id in values:
        read.value = values[read.id]  # type: ignore[attr-defined]
    return read
