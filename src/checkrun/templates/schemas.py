from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import count
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from checkrun.kit.clock import iso
from checkrun.kit.includes import Includes
from checkrun.kit.text import slugify
from checkrun.templates import automations
from checkrun.templates.models import Capture, Checklist, Step
from checkrun.webhooks.signing import is_webhook_url

StepType = Literal["task", "approval", "expiring", "email", "expiring_email"]
FieldType = Literal[
    "text",
    "textarea",
    "radio",
    "dropdown",
    "multiselect",
    "date",
    "email",
    "file",
    "table",
    "assignees_form",
]
DeadlineUnit = Literal[
    "minute", "minutes", "hour", "hours", "day", "days", "week", "weeks", "month", "months"
]
# The databases' INTEGER: a larger number would fail in PostgreSQL, not in validation.
MAX_INT = 2**31 - 1
# Relative offsets (deadlines, start dates) stay well inside the calendar a launch can reach.
MAX_OFFSET = 9999
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _email(value: str) -> str:
    if len(value) > 254 or not EMAIL.match(value):
        raise ValueError(f"{value!r} is not a valid email address.")
    return value.strip().lower()


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _type_name(value: Any) -> Any:
    return value.strip().capitalize() if isinstance(value, str) else value


UserId = Annotated[int, Field(ge=1, le=MAX_INT)]
Email = Annotated[str, AfterValidator(_email)]
GroupId = Annotated[str, Field(min_length=1, max_length=64)]
EntityId = Annotated[str, Field(min_length=1, max_length=64)]
Position = Annotated[int, Field(ge=1, le=MAX_INT)]
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET)]


class Lenient(BaseModel):
    # Unknown body fields are stripped, as Tallyfy's validators do.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class FieldOption(Lenient):
    id: Position | None = None
    text: str = Field(min_length=1, max_length=600)
    value: Any = None


class TableColumn(Lenient):
    id: Position | None = None
    label: str = Field(min_length=1, max_length=600, validation_alias=AliasChoices("label", "text"))


def numbered(given: list[int | None]) -> list[int]:
    """Ids 1, 2, 3...: a sent id is kept unless an earlier item took it."""
    taken = {i for i in given if i}
    fresh = (n for n in count(1) if n not in taken)
    used: set[int] = set()
    out = []
    for item_id in given:
        chosen = item_id if item_id and item_id not in used else next(fresh)
        used.add(chosen)
        out.append(chosen)
    return out


CAPTURE_SETTINGS = (
    "default_value",
    "default_value_enabled",
    "collect_time",
    "use_wysiwyg_editor",
    "field_validation",
    "prefix",
    "suffix",
    "settings",
    "list",
)


# What a field definition shows for a setting never sent (Tallyfy's capture transformer
# always has these keys; its docs show false, [] and null).
CAPTURE_DEFAULTS: dict[str, Any] = {
    "default_value_enabled": False,
    "default_value": None,
    "collect_time": False,
    "use_wysiwyg_editor": False,
    "field_validation": [],
    "prefix": None,
    "suffix": None,
    "settings": {},
}


class CaptureCreate(Lenient):
    """A whole field definition: POST and PUT alike need label, field_type (and required)."""

    label: str = Field(min_length=1, max_length=600)
    field_type: FieldType
    required: bool = False
    guidance: str | None = None
    position: Position | None = None
    options: list[FieldOption] = Field(default_factory=list)
    columns: list[TableColumn] = Field(default_factory=list)
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

    def stored_options(self) -> list[dict[str, Any]]:
        ids = numbered([o.id for o in self.options])
        return [
            {"id": i, "text": o.text, "value": o.value}
            for i, o in zip(ids, self.options, strict=True)
        ]

    def stored_columns(self) -> list[dict[str, Any]]:
        ids = numbered([c.id for c in self.columns])
        return [{"id": i, "label": c.label} for i, c in zip(ids, self.columns, strict=True)]

    def extra_settings(self) -> dict[str, Any]:
        values = {k: getattr(self, k if k != "list" else "list_") for k in CAPTURE_SETTINGS}
        return {k: v for k, v in values.items() if v is not None}


# Documented template fields with no server rule, and what a template shows until one is set.
TEMPLATE_DEFAULTS: dict[str, Any] = {
    "icon": None,
    "is_featured": False,
    "explanation_video": None,
    "kickoff_title": None,
    "kickoff_description": None,
    "folderize_process": None,
    "tag_process": None,
    "allow_launcher_change_name": False,
    "is_pinned": False,
    "default_folder": None,
    "folder_changeable_by_launcher": False,
    "is_public_kickoff": False,
    "dual_version_enabled": False,
    "public_cover": None,
}


class TemplateSettings(Lenient):
    """The pass-through fields (kept and echoed back) and the ones create and update share."""

    icon: str | None = Field(None, max_length=2000)
    is_featured: bool | None = None
    explanation_video: str | None = Field(None, max_length=2000)
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
    folder_id: str | None = Field(None, max_length=32)
    users: list[UserId] | None = None
    groups: list[GroupId] | None = None
    owner_id: UserId | None = None

    def extra_settings(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in TEMPLATE_DEFAULTS if getattr(self, k) is not None}


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
    # Documented next to owner_id; taken as the owner when owner_id is not sent.
    user_id: UserId | None = None
    prerun: list[ImportedCapture] = Field(default_factory=list)
    # A template exported (GET with steps) and posted back (the Go CLI's `blueprint import`):
    # steps with their fields, and rules naming the exported ids (`templates/transfer.py`).
    steps: list[ImportedStep] | None = None
    automated_actions: list[dict[str, Any]] | None = None


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
    prerun: list[PrerunField] | None = None


class CloneChecklist(Lenient):
    title: str | None = Field(None, max_length=250)
    tenant: str | None = Field(None, max_length=64)


class StepDeadline(Lenient):
    value: Offset
    unit: DeadlineUnit = "days"
    option: Literal["from", "prior_to"] = "from"
    step: EntityId | None = None


class Interval(Lenient):
    """`{value, unit}`: a time relative to launch."""

    value: Offset
    unit: DeadlineUnit = "days"


# Documented step fields with no server rule, and what a step shows until one is set.
STEP_DEFAULTS: dict[str, Any] = {
    "is_soft_start_date": False,
    "role_changes_every_time": False,
    "send_chromeless": False,
    "bp_to_launch": None,
    "roles": [],
    # Tag ids; launch puts them on the step's tasks.
    "tags": [],
}


class StepCreate(Lenient):
    """POST and PUT: PUT replaces the step, so absent fields take these defaults."""

    title: str = Field(min_length=1, max_length=600)
    summary: str | None = None
    step_type: StepType = "task"
    deadline: StepDeadline | None = None
    assignees: list[UserId] = Field(default_factory=list)
    guests: list[Email] = Field(default_factory=list)
    groups: list[GroupId] = Field(default_factory=list)
    assign_run_starter: bool = True
    webhook: str | None = Field(None, max_length=2000)
    everyone_must_complete: bool = False
    can_complete_only_assignees: bool = False
    prevent_guest_comment: bool = False
    max_assignable: int = Field(0, ge=0, le=MAX_INT)
    top_secret: bool = False
    skip_start_process: bool = False
    allow_guest_owners: bool = False
    start_date: Interval | None = None
    is_soft_start_date: bool | None = None
    role_changes_every_time: bool | None = None
    send_chromeless: bool | None = None
    bp_to_launch: dict[str, Any] | None = None
    roles: list[Any] | None = None
    tags: list[EntityId] | None = None

    def extra_settings(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in STEP_DEFAULTS if getattr(self, k) is not None}


STEP_RULES = (
    "everyone_must_complete",
    "can_complete_only_assignees",
    "prevent_guest_comment",
    "max_assignable",
    "top_secret",
    "skip_start_process",
    "allow_guest_owners",
)


class ImportedCapture(CaptureCreate):
    """A field as a template export shows it: `id` is the exported id rules may name."""

    id: str | None = Field(None, max_length=64)


class ImportedStep(StepCreate):
    """A step as a template export shows it, with its form fields (`captures`)."""

    id: str | None = Field(None, max_length=64)
    captures: list[ImportedCapture] = Field(default_factory=list)


ChecklistCreate.model_rebuild()


class ReorderStep(Lenient):
    position: Position


class MoveCapture(Lenient):
    target_step_id: EntityId
    position: Position | None = None


class CapturePosition(Lenient):
    capture_id: EntityId
    position: Position


Logic = Annotated[Literal["AND", "OR", "ALL", "ANY"], BeforeValidator(_upper)]
ConditionLogic = Annotated[Literal["and", "or", "all", "any"], BeforeValidator(_lower)]
Statement = str | int | float | bool | dict[str, Any] | list[Any] | None


def _operation(value: Any) -> Any:
    return automations.operation_of(value) if isinstance(value, str) else value


def _known_operation(value: str) -> str:
    known = automations.FIELD_OPERATIONS + automations.STEP_OPERATIONS
    if value not in known:
        raise ValueError(f"The operation must be one of: {', '.join(known)}.")
    return value


def _verb(value: Any) -> Any:
    return automations.verb_of(value) if isinstance(value, str) else value


class RuleCondition(Lenient):
    """`conditionable_type` Step reads a step's task (completed, approved, ...); Capture and
    Prerun read a form field. `logic` joins this condition to the one before it."""

    conditionable_type: Annotated[
        Literal["Capture", "Prerun", "Step"], BeforeValidator(_type_name)
    ] = "Capture"
    conditionable_id: EntityId
    operation: Annotated[str, BeforeValidator(_operation), AfterValidator(_known_operation)] = (
        "equals"
    )
    statement: Statement = None
    logic: ConditionLogic | None = None
    column_contains_name: str | None = Field(None, max_length=250)

    @model_validator(mode="after")
    def _list_only_for_any(self) -> RuleCondition:
        if isinstance(self.statement, list) and self.operation != "equals_any":
            raise ValueError("Only an equals_any condition takes a list of values.")
        return self


def _word(aliases: dict[str, str]) -> Any:
    def read(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = value.strip().lower().replace(" ", "_").replace("-", "_")
        return aliases.get(text, text)

    return BeforeValidator(read)


class RuleDeadline(Interval):
    """`option` from (after) or prior_to (before); `relative_to` launch (the default) or
    trigger: the moment the rule started to fire. Left out, they are not stored."""

    option: Annotated[Literal["from", "prior_to"] | None, _word(automations.DEADLINE_OPTIONS)] = (
        None
    )
    relative_to: Annotated[
        Literal["launch", "trigger"] | None,
        _word(automations.ANCHOR_ALIASES),
    ] = Field(None, validation_alias=AliasChoices("relative_to", "from", "anchor"))


class RuleOwners(Lenient):
    users: list[UserId] = Field(default_factory=list)
    guests: list[Email] = Field(default_factory=list)
    groups: list[GroupId] = Field(default_factory=list)


VERBS = automations.VERBS
NEEDS_PEOPLE = ("assign", "assign_only", "unassign")


class RuleAction(Lenient):
    """`assignees` may also come flat (`users`, `guests`, `groups` on the action). A webhook
    action names its URL as `webhook_url` (or `webhook`, `url`) and needs no step."""

    action_type: Annotated[
        Literal["visibility", "assignment", "deadline", "status", "webhook"],
        BeforeValidator(_lower),
    ]
    action_verb: Annotated[str | None, BeforeValidator(_verb)] = None
    target_step_id: EntityId | None = None
    assignees: RuleOwners | None = None
    users: list[UserId] = Field(default_factory=list)
    guests: list[Email] = Field(default_factory=list)
    groups: list[GroupId] = Field(default_factory=list)
    deadline: RuleDeadline | None = None
    # An Assignee Picker field whose chosen people the assignment assigns.
    actionable_type: Annotated[
        Literal["Capture", "Prerun", "Step"] | None, BeforeValidator(_type_name)
    ] = None
    actionable_id: EntityId | None = Field(
        None, validation_alias=AliasChoices("actionable_id", "capture_id", "field_id")
    )
    webhook_url: str | None = Field(
        None, max_length=2000, validation_alias=AliasChoices("webhook_url", "webhook", "url")
    )

    @model_validator(mode="after")
    def _verb_fits_the_type(self) -> RuleAction:
        verbs = VERBS[self.action_type]
        if self.action_verb is None and len(verbs) == 1:
            self.action_verb = verbs[0]
        if self.action_verb not in verbs:
            raise ValueError(f"A {self.action_type} action can only {' or '.join(verbs)}.")
        if self.actionable_id is not None and self.actionable_type is None:
            self.actionable_type = "Capture"
        if self.reads_field() and self.action_type != "assignment":
            raise ValueError("Only an assignment action reads an Assignee Picker field.")
        if self.action_verb in NEEDS_PEOPLE and not (
            any(self.owners().values()) or self.reads_field()
        ):
            raise ValueError(
                "An assignment action needs users, guests, groups or an Assignee Picker field."
            )
        if self.action_type == "deadline" and self.deadline is None:
            raise ValueError("A deadline action needs a deadline {value, unit}.")
        if self.action_type == "webhook":
            if not is_webhook_url(self.webhook_url):
                raise ValueError("A webhook action needs a webhook_url: an http(s) URL.")
        elif self.target_step_id is None:
            raise ValueError(f"A {self.action_type} action needs a target_step_id.")
        return self

    def reads_field(self) -> bool:
        return self.actionable_type in automations.PICKER_KINDS and self.actionable_id is not None

    def owners(self) -> dict[str, list[Any]]:
        nested = self.assignees or RuleOwners()
        return {
            "users": nested.users or self.users,
            "guests": nested.guests or self.guests,
            "groups": nested.groups or self.groups,
        }


class RuleWrite(Lenient):
    """A rule as created; `condition_type` and `match` are accepted for `condition_logic`."""

    automated_alias: str = Field("", max_length=250)
    condition_logic: Logic | None = None
    condition_type: Logic | None = None
    match: Logic | None = None
    conditions: list[RuleCondition] = Field(min_length=1)
    then_actions: list[RuleAction] = Field(min_length=1)

    def logic(self) -> str:
        chosen = self.condition_logic or self.condition_type or self.match or "AND"
        return "OR" if chosen in ("OR", "ANY") else "AND"


class RuleUpdate(Lenient):
    """PUT: what is sent replaces; what is not keeps the rule's current value."""

    automated_alias: str | None = Field(None, max_length=250)
    condition_logic: Logic | None = None
    condition_type: Logic | None = None
    match: Logic | None = None
    conditions: list[RuleCondition] | None = Field(None, min_length=1)
    then_actions: list[RuleAction] | None = Field(None, min_length=1)


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
    # The reference's capture fields, shown whether or not they were sent (CAPTURE_DEFAULTS).
    default_value_enabled: bool
    default_value: Any
    collect_time: bool
    use_wysiwyg_editor: bool
    field_validation: Any
    prefix: str | None
    suffix: str | None
    settings: Any
    created_at: str | None
    last_updated: str | None

    @classmethod
    def of(cls, c: Capture) -> CaptureRead:
        stored = {**CAPTURE_DEFAULTS, **(c.settings or {})}
        return cls(
            id=c.id,
            step_id=c.step_id,
            checklist_id=c.checklist_id,
            field_type=c.field_type,
            label=c.label,
            alias=c.alias,
            guidance=c.guidance,
            position=c.position,
            required=c.required,
            options=c.options or [],
            columns=c.columns or [],
            created_at=iso(c.created_at),
            last_updated=iso(c.updated_at),
            **stored,
        )


class StepRead(BaseModel):
    model_config = ConfigDict(extra="allow")

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
            id=s.id,
            checklist_id=s.checklist_id,
            title=s.title,
            alias=s.alias,
            summary=s.summary,
            step_type=s.step_type,
            position=s.position,
            deadline=s.deadline,
            assignees=s.assignees or [],
            guests=s.guests or [],
            groups=s.groups or [],
            assign_run_starter=s.assign_run_starter,
            webhook=s.webhook,
            start_date=s.start_date,
            **{name: getattr(s, name) for name in STEP_RULES},
            **{**STEP_DEFAULTS, **(s.settings or {})},
            captures=[CaptureRead.of(c) for c in captures or []],
            created_at=iso(s.created_at),
            last_updated=iso(s.updated_at),
        )


@dataclass(frozen=True)
class TemplateParts:
    """What a template read needs besides the row, loaded for many templates at once."""

    steps: dict[str, list[Step]]
    prerun: dict[str, list[Capture]]
    captures: dict[str, list[Capture]]
    prerun_values: dict[str, Any]
    runs_started: dict[str, int]
    # `with=tags`: association objects by template id; `with=folder`: folders by folder id.
    tags: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)


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
    last_updated_by: int | None
    status: str
    is_published_state: bool = True
    steps_count: int
    started_processes: int
    # Inline and bare, never wrapped, whatever `with` asks for.
    prerun: list[CaptureRead]
    automated_actions: list[dict[str, Any]] = Field(default_factory=list)
    folder_id: str | None = None
    users: list[int] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    topic_tags: list[Any] = Field(default_factory=list)
    industry_tags: list[Any] = Field(default_factory=list)
    linked_tasks: list[Any] = Field(default_factory=list)
    custom_fields: list[Any] = Field(default_factory=list)
    ko_form_blueprint_id: str | None = None
    kickoff_sharing_user_id: int | None = None
    created_at: str | None
    last_updated: str | None
    archived_at: str | None

    @classmethod
    def of(
        cls, c: Checklist, parts: TemplateParts, includes: Includes = Includes()
    ) -> ChecklistRead:
        steps = parts.steps.get(c.id, [])
        settings = {**TEMPLATE_DEFAULTS, **(c.settings or {})}
        updated_by = settings.pop("last_updated_by", c.created_by)
        read = cls(
            id=c.id,
            increment_id=c.increment_id,
            title=c.title,
            alias=f"{slugify(c.title)}-{c.id[:6]}",
            summary=c.summary,
            type=c.type,
            guidance=c.guidance,
            webhook=c.webhook,
            starred=c.starred,
            is_public=c.is_public,
            can_add_oot=c.can_add_oot,
            auto_naming=c.auto_naming,
            default_process_name_format=c.default_process_name_format,
            created_by=c.created_by,
            owner_id=c.owner_id,
            last_updated_by=updated_by,
            status="archived" if c.deleted_at else "active",
            is_published_state=c.is_published,
            steps_count=len(steps),
            started_processes=parts.runs_started.get(c.id, 0),
            prerun=[
                _with_value(CaptureRead.of(p), parts.prerun_values)
                for p in parts.prerun.get(c.id, [])
            ],
            automated_actions=list(c.automated_actions or []),
            folder_id=c.folder_id,
            users=list(c.users or []),
            groups=list(c.groups or []),
            **settings,
            created_at=iso(c.created_at),
            last_updated=iso(c.updated_at),
            archived_at=iso(c.deleted_at),
        )
        _add_includes(read, steps, parts, includes)
        return read


def _add_includes(
    read: ChecklistRead, steps: list[Step], parts: TemplateParts, includes: Includes
) -> None:
    extra: dict[str, Any] = {}
    if includes.wants("steps"):
        # Bare, as the docs' example and the SDK's get_template_with_steps read it.
        extra["steps"] = [StepRead.of(s, parts.captures.get(s.id)).model_dump() for s in steps]
    if includes.wants("tags"):
        extra["tags"] = {"data": parts.tags.get(read.id, [])}
    if includes.wants("folder"):
        extra["folder"] = {"data": parts.folders.get(read.folder_id or "")}
    for key, value in extra.items():
        setattr(read, key, value)


def _with_value(read: CaptureRead, values: dict[str, Any]) -> CaptureRead:
    if read.id in values:
        read.value = values[read.id]  # type: ignore[attr-defined]
    return read
