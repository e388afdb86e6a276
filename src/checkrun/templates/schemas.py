from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from checkrun.kit.clock import iso
from checkrun.kit.includes import Includes
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
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class FieldOption(Lenient):
    id: int | None = None
    text: str = Field(min_length=1, max_length=600)
    value: Any = None


CAPTURE_SETTINGS = ("default_value", "default_value_enabled", "collect_time",
                    "use_wysiwyg_editor", "field_validation", "prefix", "suffix", "settings",
                    "list")


class CaptureCreate(Lenient):
    label: str = Field(min_length=1, max_length=600)
    field_type: FieldType
    required: bool = False
    guidance: str | None = None
    position: int | None = Field(None, ge=1)
    options: list[FieldOption] = Field(default_factory=list)
    columns: list[dict[str, Any]] = Field(default_factory=list)
    default_value: Any = None
    default_value_enabled: bool | None = None
    collect_time: bool | None = None
    use_wysiwyg_editor: bool | None = None
    field_validation: Any = None
    prefix: str | None = None
    suffix: str | None = None
    settings: dict[str, Any] | None = None
    list_: Any = Field(None, alias="list")

    @model_validator(mode="after")
    def _options_fit_the_type(self) -> CaptureCreate:
        if self.field_type == "radio" and len(self.options) < 2:
            raise ValueError("A radio field needs at least two options.")
        if self.field_type in ("dropdown", "multiselect") and not self.options:
            raise ValueError(f"A {self.field_type} field needs options.")
        if self.field_type == "table" and not self.columns:
            raise ValueError("A table field needs columns.")
        return self

    def extra_settings(self) -> dict[str, Any]:
        values = {k: getattr(self, k if k != "list" else "list_") for k in CAPTURE_SETTINGS}
        return {k: v for k, v in values.items() if v is not None}


TEMPLATE_SETTINGS = ("icon", "is_featured", "explanation_video", "kickoff_title",
                     "kickoff_description", "folderize_process", "tag_process",
                     "allow_launcher_change_name", "is_pinned", "default_folder",
                     "folder_changeable_by_launcher", "is_public_kickoff",
                     "dual_version_enabled", "public_cover")


class TemplateSettings(Lenient):
    """Documented template fields with no server rule: kept and echoed back."""

    icon: str | None = None
    is_featured: bool | None = None
    explanation_video: str | None = None
    kickoff_title: str | None = None
    kickoff_description: str | None = None
    folderize_process: Any = None
    tag_process: Any = None
    allow_launcher_change_name: bool | None = None
    is_pinned: bool | None = None
    default_folder: Any = None
    folder_changeable_by_launcher: bool | None = None
    is_public_kickoff: bool | None = None
    dual_version_enabled: bool | None = None
    public_cover: Any = None
    folder_id: str | None = Field(None, max_length=64)
    users: list[int] | None = None
    groups: list[str] | None = None

    def extra_settings(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in TEMPLATE_SETTINGS if getattr(self, k) is not None}


class ChecklistCreate(TemplateSettings):
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


class ChecklistUpdate(TemplateSettings):
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
    everyone_must_complete: bool = False
    can_complete_only_assignees: bool = False
    prevent_guest_comment: bool = False
    max_assignable: int = Field(0, ge=0)
    top_secret: bool = False
    skip_start_process: bool = False
    allow_guest_owners: bool = False
    start_date: dict[str, Any] | None = None


STEP_RULES = ("everyone_must_complete", "can_complete_only_assignees", "prevent_guest_comment",
              "max_assignable", "top_secret", "skip_start_process", "allow_guest_owners",
              "start_date")


class ReorderStep(Lenient):
    position: int = Field(ge=1)


class MoveCapture(Lenient):
    target_step_id: str = Field(min_length=1, max_length=64)
    position: int | None = Field(None, ge=1)


class CapturePosition(Lenient):
    capture_id: str = Field(min_length=1, max_length=64)
    position: int = Field(ge=1)


class RuleCondition(Lenient):
    conditionable_type: str = "Capture"
    conditionable_id: str = Field(min_length=1, max_length=64)
    operation: Literal["equals", "not_equals", "contains", "is_empty", "is_not_empty"] = "equals"
    statement: Any = None


class RuleAction(Lenient):
    action_type: Literal["visibility", "assignment", "deadline"]
    action_verb: Literal["show", "hide", "assign", "set"]
    target_step_id: str = Field(min_length=1, max_length=64)
    users: list[int] = Field(default_factory=list)
    guests: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    deadline: StepDeadline | None = None


class RuleWrite(Lenient):
    automated_alias: str = Field("", max_length=250)
    condition_logic: Literal["AND", "OR", "and", "or", "all", "any"] = "AND"
    conditions: list[RuleCondition] = Field(min_length=1)
    then_actions: list[RuleAction] = Field(min_length=1)


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
            created_at=iso(c.created_at), last_updated=iso(c.updated_at), **(c.settings or {}),
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
    everyone_must_complete: bool
    can_complete_only_assignees: bool
    prevent_guest_comment: bool
    max_assignable: int
    top_secret: bool
    skip_start_process: bool
    allow_guest_owners: bool
    start_date: dict[str, Any] | None
    # A bare list, never wrapped: the SDK's Step model requires it.
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
            **{name: getattr(s, name) for name in STEP_RULES},
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
    folder_id: str | None = None
    users: list[int] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
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
            automated_actions=list(c.automated_actions or []),
            folder_id=c.folder_id, users=list(c.users or []), groups=list(c.groups or []),
            **(c.settings or {}),
            created_at=iso(c.created_at), last_updated=iso(c.updated_at),
            archived_at=iso(c.deleted_at),
        )
        if includes.wants("steps"):
            # Bare, as the docs' example and the SDK's get_template_with_steps read it.
            read.steps = [StepRead.of(s, captures.get(s.id)).model_dump() for s in steps]  # type: ignore[attr-defined]
        return read


def _with_value(read: CaptureRead, values: dict[str, Any]) -> CaptureRead:
    if read.id in values:
        read.value = values[read.id]  # type: ignore[attr-defined]
    return read
