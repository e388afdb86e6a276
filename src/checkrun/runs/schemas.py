from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from checkrun.files.schemas import AssetRead
from checkrun.kit.clock import iso, now
from checkrun.kit.includes import Include, Wrapped
from checkrun.kit.validation import DateTimeText
from checkrun.runs.models import Run
from checkrun.runs.repository import RunStats
from checkrun.tasks.schemas import Owners, TaskRead
from checkrun.templates.schemas import MAX_INT, EntityId, GroupId, UserId

DUE_SOON = timedelta(hours=48)


class TaskOverride(BaseModel):
    """What the launcher changes about one step's task (`tasks` is keyed by step id)."""

    model_config = ConfigDict(extra="ignore")

    deadline: DateTimeText | None = None
    owners: Owners | None = None
    max_assignable: int | None = Field(None, ge=0, le=MAX_INT)


class RunLaunch(BaseModel):
    model_config = ConfigDict(extra="ignore")

    checklist_id: str = Field(min_length=1, max_length=64)
    name: str | None = Field(None, max_length=550)
    summary: str | None = None
    owner_id: UserId | None = None
    # The starter; the caller when absent.
    user_id: UserId | None = None
    starred: bool = False
    is_public: bool = False
    parent_id: str | None = Field(None, max_length=64)
    prerun: dict[str, Any] | list[Any] = Field(default_factory=dict)
    tasks: dict[str, TaskOverride] = Field(default_factory=dict)
    users: list[UserId] = Field(default_factory=list)
    groups: list[GroupId] = Field(default_factory=list)
    tags: list[EntityId] = Field(default_factory=list)
    # Run folders the new run is filed in.
    folders: list[EntityId] = Field(default_factory=list)

    @field_validator("prerun")
    @classmethod
    def _prerun_object(cls, value: dict[str, Any] | list[Any]) -> dict[str, Any] | list[Any]:
        if isinstance(value, list) and value:
            raise ValueError("must be an object keyed by kick-off field id")
        return value


class RunUpdate(BaseModel):
    """Partial update: only the keys sent change; `users`/`groups` replace."""

    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(None, min_length=1, max_length=550)
    summary: str | None = None
    owner_id: UserId | None = None
    starred: bool | None = None
    is_public: bool | None = None
    users: list[UserId] | None = None
    groups: list[GroupId] | None = None
    prerun: dict[str, Any] | None = None


class Progress(BaseModel):
    complete: int
    total: int
    percent: float

    @classmethod
    def of(cls, complete: int, total: int) -> Progress:
        percent = round(complete * 100 / total, 2) if total else 0
        return cls(complete=complete, total=total, percent=percent)


class RunRead(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    increment_id: int
    checklist_id: str
    checklist_title: str
    name: str
    summary: str | None
    status: str
    type: str
    progress: Progress
    whole_progress: Progress
    started_by: int
    owner_id: int
    prerun: dict[str, Any]
    prerun_status: str
    starred: bool
    is_public: bool
    can_add_oot: bool
    has_open_issue: bool
    users: list[Any] = Field(default_factory=list)
    groups: list[Any] = Field(default_factory=list)
    parent_id: str | None = None
    prerun_completed_at: str | None = None
    prerun_completed_by: int | None = None
    prerun_length: int = 0
    late_tasks: int = 0
    max_task_deadline: str | None = None
    due_date: str | None = None
    due_date_passed: bool = False
    due_soon: bool = False
    created_at: str | None
    started_at: str | None
    last_updated: str | None
    completed_at: str | None
    archived_at: str | None
    # `with=` includes (runs/includes.py), in the order the JSON shows them.
    checklist: Include[Wrapped[dict[str, Any] | None]] = None
    form_fields: Include[Wrapped[list[dict[str, Any]]]] = None
    tasks: Include[Wrapped[list[TaskRead]]] = None
    next_task: Include[Wrapped[TaskRead | None]] = None
    assets: Include[Wrapped[list[AssetRead]]] = None
    tags: Include[Wrapped[list[dict[str, Any]]]] = None
    folders: Include[Wrapped[list[dict[str, Any]]]] = None
    threads: Include[Wrapped[list[dict[str, Any]]]] = None
    # Only in the answers of complete-prerun: the rules evaluated and what they changed.
    rules_evaluated: Include[int] = None
    tasks_changed_by_rules: Include[dict[str, Any]] = None

    @classmethod
    def of(cls, r: Run, stats: RunStats) -> RunRead:
        progress = Progress.of(stats.complete, stats.total)
        due = stats.last_deadline if r.completed_at is None else None
        moment = now()
        return cls(
            id=r.id,
            increment_id=r.increment_id,
            checklist_id=r.checklist_id,
            checklist_title=r.checklist_title,
            name=r.name,
            summary=r.summary,
            status=r.status,
            type=r.type,
            progress=progress,
            whole_progress=progress,
            started_by=r.started_by,
            owner_id=r.owner_id,
            prerun=r.prerun or {},
            prerun_status="complete" if r.prerun_completed_at else "in-progress",
            prerun_completed_at=iso(r.prerun_completed_at),
            prerun_completed_by=r.prerun_completed_by,
            prerun_length=len(r.prerun or {}),
            late_tasks=stats.late,
            max_task_deadline=iso(stats.last_deadline),
            due_date=iso(due),
            due_date_passed=due is not None and due < moment,
            due_soon=due is not None and moment <= due < moment + DUE_SOON,
            starred=r.starred,
            is_public=r.is_public,
            can_add_oot=r.can_add_oot,
            # An archived run keeps its issues: it shows the status it will return to.
            has_open_issue=(r.status_before_archive if r.deleted_at else r.status)
            in ("problem", "issue"),
            users=list(r.users or []),
            groups=list(r.groups or []),
            parent_id=r.parent_id,
            created_at=iso(r.created_at),
            started_at=iso(r.started_at),
            last_updated=iso(r.updated_at),
            completed_at=iso(r.completed_at),
            archived_at=iso(r.deleted_at),
        )
