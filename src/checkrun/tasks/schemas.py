from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    field_validator,
)

from checkrun.kit.clock import iso
from checkrun.kit.includes import Include, Wrapped
from checkrun.kit.validation import DateTimeText
from checkrun.tasks.models import ReadableTask
from checkrun.templates.schemas import (
    MAX_INT,
    CaptureCreate,
    CaptureRead,
    GroupId,
    StepRead,
    UserId,
)

TaskType = Literal["task", "approval", "expiring", "email", "expiring_email"]
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"

STATUS_LABELS = {
    "not-started": "Not started",
    "active": "Active",
    "in-progress": "In progress",
    "completed": "Completed",
    "auto-skipped": "Auto skipped",
}


class Owners(BaseModel):
    model_config = ConfigDict(extra="ignore")

    users: list[UserId] = Field(default_factory=list)
    guests: list[str] = Field(default_factory=list)
    groups: list[GroupId] = Field(default_factory=list)

    @field_validator("guests")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        for email in value:
            if not re.match(EMAIL_PATTERN, email) or len(email) > 254:
                raise ValueError(f"{email!r} is not a valid email address")
        return [e.lower() for e in value]

    def is_empty(self) -> bool:
        return not (self.users or self.guests or self.groups)


class OneOffTaskCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    title: str = Field(min_length=1, max_length=600)
    task_type: TaskType
    owners: Owners
    deadline: DateTimeText
    summary: str | None = None
    description: str | None = None
    started_at: DateTimeText | None = None
    everyone_must_complete: bool = False
    can_complete_only_assignees: bool = False
    prevent_guest_comment: bool = False
    max_assignable: int = Field(0, ge=0, le=MAX_INT)
    webhook: str | None = Field(None, max_length=2000)
    top_secret: bool = False
    form_fields: list[CaptureCreate] = Field(default_factory=list)
    run_id: str | None = Field(None, max_length=64)
    position: int | None = Field(None, ge=1, le=1_000_000)
    tags: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(default_factory=list)
    # One task per assignee (groups: one per member), in a shell run unless `run_id` is given.
    separate_task_for_each_assignee: bool = False


class TaskUpdate(BaseModel):
    """All optional here; the service requires title, deadline and owners for one-off tasks."""

    model_config = ConfigDict(extra="ignore")

    title: str | None = Field(None, min_length=1, max_length=600)
    summary: str | None = None
    deadline: DateTimeText | None = None
    started_at: DateTimeText | None = None
    owners: Owners | None = None
    taskdata: dict[str, Any] | None = None
    webhook: str | None = Field(None, max_length=2000)
    prevent_guest_comment: bool | None = None
    everyone_must_complete: bool | None = None
    can_complete_only_assignees: bool | None = None
    max_assignable: int | None = Field(None, ge=0, le=MAX_INT)
    top_secret: bool | None = None
    task_type: TaskType | None = None
    # In the task's run; moves the tasks from there on down. Ignored for standalone tasks.
    position: int | None = Field(None, ge=1, le=1_000_000)


MAX_BATCH = 500


class TaskChange(TaskUpdate):
    """One task of `PUT /runs/{id}/update-tasks`: its id and the task PUT's fields."""

    id: str = Field(min_length=1, max_length=64, validation_alias=AliasChoices("id", "task_id"))


class UpdateTasks(BaseModel):
    """`tasks`: a list of changes with their task's `id`, or an object keyed by task id."""

    model_config = ConfigDict(extra="ignore")

    tasks: list[TaskChange] | dict[str, TaskUpdate]

    @field_validator("tasks")
    @classmethod
    def _some(
        cls, value: list[TaskChange] | dict[str, TaskUpdate]
    ) -> list[TaskChange] | dict[str, TaskUpdate]:
        if not value:
            raise ValueError("The tasks field is required.")
        if len(value) > MAX_BATCH:
            raise ValueError(f"The tasks may not have more than {MAX_BATCH} items.")
        return value

    def changes(self) -> list[tuple[str, TaskUpdate]]:
        if isinstance(self.tasks, dict):
            return list(self.tasks.items())
        return [
            (c.id, TaskUpdate.model_validate(c.model_dump(exclude={"id"}, exclude_unset=True)))
            for c in self.tasks
        ]


class CompleteTask(BaseModel):
    model_config = ConfigDict(extra="ignore")

    task_id: str = Field(min_length=1, max_length=64)
    is_approved: bool | None = None
    override_user: UserId | None = None


class FormFieldRead(CaptureRead):
    value: Any = None
    # The stored value's own id (Tallyfy's CaptureValue id): PUT /form-field/value's `id`.
    unique_id: int | None = None


class FormValueWrite(BaseModel):
    """PUT /form-field/value and the guest variant: `id` is a stored value's id (a field's
    `unique_id`); the guest variant also takes a field's id, with `task_id` when the guest
    has several tasks holding that field."""

    model_config = ConfigDict(extra="ignore")

    id: StrictInt | Annotated[str, Field(min_length=1, max_length=64)]
    form_value: Any = None
    task_id: str | None = Field(None, min_length=1, max_length=64)


class FormValueRead(BaseModel):
    id: int | None
    capture_id: str
    task_id: str
    run_id: str | None
    form_value: Any
    last_updated: str | None


class TaskRead(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    increment_id: int
    title: str
    original_title: str
    run_id: str | None
    checklist_id: str | None
    step_id: str | None
    alias: str | None
    status: str
    status_label: str
    task_type: str
    is_oneoff_task: bool
    is_completable: bool
    is_approved: bool | None
    owners: dict[str, list[Any]]
    position: int
    started_at: str | None
    deadline: str | None
    deadline_set_by_hand: bool
    created_at: str | None
    last_updated: str | None
    completed_at: str | None
    archived_at: str | None
    starter_id: int | None
    completer_id: int | None
    everyone_must_complete: bool
    can_complete_only_assignees: bool
    prevent_guest_comment: bool
    max_assignable: int
    webhook: str | None
    top_secret: bool
    summary: str | None
    taskdata: dict[str, Any] = Field(default_factory=dict)
    # True while the task has an open issue (set by the reads, which look issues up).
    problem: bool = False
    # `with=` includes (tasks/includes.py), in the order the JSON shows them.
    threads: Include[Wrapped[list[dict[str, Any]]]] = None
    comments: Include[Wrapped[list[dict[str, Any]]]] = None
    issues: Include[Wrapped[list[dict[str, Any]]]] = None
    threads_count: Include[int] = None
    form_fields: Include[Wrapped[list[FormFieldRead]]] = None
    run: Include[Wrapped[dict[str, Any] | None]] = None
    step: Include[Wrapped[StepRead | None]] = None
    tags: Include[Wrapped[list[dict[str, Any]]]] = None
    folders: Include[Wrapped[list[dict[str, Any]]]] = None
    # Completions: the rules this change re-evaluated (none yet: automations act on values).
    tasks_changed_by_rules: Include[dict[str, Any]] = None

    @classmethod
    def of(cls, t: ReadableTask, taskdata: dict[str, Any] | None = None) -> TaskRead:
        return cls(
            id=t.id,
            increment_id=t.increment_id,
            title=t.title,
            # The step's raw title when it has variables (runs/variables.py keeps it).
            original_title=str((t.settings or {}).get("raw_title", t.title)),
            run_id=t.run_id,
            checklist_id=t.checklist_id,
            step_id=t.step_id,
            alias=t.alias,
            status=t.status,
            status_label=STATUS_LABELS.get(t.status, t.status),
            task_type=t.task_type,
            is_oneoff_task=t.step_id is None,
            is_completable=t.status not in ("completed", "auto-skipped") and t.deleted_at is None,
            # Undecided is null only where there is a decision to take (approval tasks);
            # elsewhere false, as Tallyfy's task examples show.
            is_approved=t.is_approved
            if t.task_type == "approval" or t.is_approved is not None
            else False,
            owners=t.owner_lists(),
            position=t.position,
            started_at=iso(t.started_at),
            deadline=iso(t.deadline),
            deadline_set_by_hand=bool(t.deadline_set_by_hand),
            created_at=iso(t.created_at),
            last_updated=iso(t.updated_at),
            completed_at=iso(t.completed_at),
            archived_at=iso(t.deleted_at),
            starter_id=t.starter_id,
            completer_id=t.completer_id,
            everyone_must_complete=t.everyone_must_complete,
            can_complete_only_assignees=t.can_complete_only_assignees,
            prevent_guest_comment=t.prevent_guest_comment,
            max_assignable=t.max_assignable,
            webhook=t.webhook,
            top_secret=t.top_secret,
            summary=t.summary,
            taskdata=taskdata or {},
        )


class DeadlineRule(BaseModel):
    value: int
    unit: str
    option: Literal["from", "prior_to"]
    step: str | None


class AutomaticDeadlineRead(BaseModel):
    """What the rules give a process task now (GET .../automatic-deadline)."""

    task_id: str
    deadline: str
    current_deadline: str | None
    deadline_set_by_hand: bool
    is_current: bool
    rule: DeadlineRule
    rule_source: Literal["step", "default"]
    counted_from: Literal["launch", "step_deadline", "step_completion"]
    anchor: str
    anchor_task_id: str | None
    timezone: str
