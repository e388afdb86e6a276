from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, TypeAlias

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from checkrun.db import Base, UTCDateTime
from checkrun.kit.clock import now
from checkrun.kit.ids import new_id

TASK_TYPES = ("task", "approval", "expiring", "email", "expiring_email")
# Open and live, as SQL text: the partial indexes of the scheduler's jobs say it, and their
# queries repeat it word for word (SQLite uses a partial index only for a query whose WHERE
# contains the index's own terms, literals included, not bound parameters).
OPEN_LIVE_SQL = "status IN ('not-started', 'active', 'in-progress') AND deleted_at IS NULL"
EXPIRING_SQL = f"task_type IN ('expiring', 'expiring_email') AND {OPEN_LIVE_SQL}"


class Task(Base):
    """A task of a run (run_id set) or a one-off task (run_id null)."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_org_deleted_status", "org_id", "deleted_at", "status"),
        Index("ix_tasks_run_position", "run_id", "position"),
        # The org-wide and member task lists page newest first.
        Index("ix_tasks_org_created", "org_id", "created_at", "id"),
        # The scheduler: reminders due (only tasks with one pending), expiring tasks at their
        # deadline, and an organization's open tasks by deadline (auto-complete).
        Index(
            "ix_tasks_remind_at",
            "remind_at",
            sqlite_where=text("remind_at IS NOT NULL"),
            postgresql_where=text("remind_at IS NOT NULL"),
        ),
        Index(
            "ix_tasks_expiring_deadline",
            "deadline",
            sqlite_where=text(EXPIRING_SQL),
            postgresql_where=text(EXPIRING_SQL),
        ),
        Index(
            "ix_tasks_open_deadline",
            "org_id",
            "deadline",
            sqlite_where=text(OPEN_LIVE_SQL),
            postgresql_where=text(OPEN_LIVE_SQL),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    increment_id: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[str | None] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), nullable=True
    )
    # No FK to steps/checklists: tasks outlive template edits.
    step_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    checklist_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # The frozen template version whose content holds this process task's form fields
    # (templates/versions.py); null: its step's fields are the template's rows.
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    title: Mapped[str] = mapped_column(String(600))
    alias: Mapped[str | None] = mapped_column(String(200), nullable=True)
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    task_type: Mapped[str] = mapped_column(String(16), default="task")
    status: Mapped[str] = mapped_column(String(16), default="not-started")
    position: Mapped[int] = mapped_column(Integer, default=1)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # True when a person chose the deadline (launch override, PUT, one-off task): the rules
    # leave it alone until reset-deadline.
    deadline_set_by_hand: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    starter_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    completer_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    is_approved: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    everyone_must_complete: Mapped[bool] = mapped_column(Boolean, default=False)
    can_complete_only_assignees: Mapped[bool] = mapped_column(Boolean, default=False)
    prevent_guest_comment: Mapped[bool] = mapped_column(Boolean, default=False)
    max_assignable: Mapped[int] = mapped_column(Integer, default=0)
    webhook: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    top_secret: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Set when the task was archived together with its run, so `activate` restores only those.
    archived_with_run: Mapped[bool] = mapped_column(Boolean, default=False)
    # Hidden by an automation rule: shown as `auto-skipped`, left out of progress.
    hidden_by_rule: Mapped[bool] = mapped_column(Boolean, default=False)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Reminders (the scheduler): the next moment one is due (null: none pending), and the
    # deadline each kind was last sent for, so that each goes once per deadline value.
    remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reminded_soon_for: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reminded_overdue_for: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    owners: Mapped[list[TaskOwner]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="TaskOwner.id"
    )
    # Read only by the statement that locks a task (`TasksRepository.lock`): whether a form
    # field of the task, or of its step, is required (None when that statement did not load
    # it), its values as one object (None also when it has none), and the open issues
    # around it (`tasks.repository.issues_at_lock`).
    has_required_field: Mapped[bool | None] = query_expression()
    locked_values: Mapped[dict[str, Any] | None] = query_expression()
    locked_issues: Mapped[int | None] = query_expression()

    def owner_lists(self) -> dict[str, list[Any]]:
        return owner_lists((owner.kind, owner.ref) for owner in self.owners)


class TaskCompletion(Base):
    """One assignee's completion of an `everyone_must_complete` task."""

    __tablename__ = "task_completions"
    __table_args__ = (UniqueConstraint("task_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(Integer)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class TaskOwner(Base):
    """One assignee of a task: a member (user id), a guest (email) or a group (id)."""

    __tablename__ = "task_owners"
    __table_args__ = (
        Index("ix_task_owners_kind_ref_task", "kind", "ref", "task_id"),
        # An assignee's list, newest first, without reading their other tasks.
        Index(
            "ix_task_owners_listing",
            "kind",
            "ref",
            "org_id",
            "task_live",
            "task_created_at",
            "task_id",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    ref: Mapped[str] = mapped_column(String(254))
    # Copies of the task's columns, kept by the database's triggers (migration 0011_reads):
    # never written by the application.
    org_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    task_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    task_live: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    task_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class TaskCount(Base):
    """Exact task counts as rows of changes: per organization (kind `org`, ref '') and per
    assignee, by stored status and live/archived. Triggers insert +1/-1 rows in the transaction
    of every change (inserts only: writers never wait on each other); a reader sums the rows of
    one key and folds them into one when they pile up (tasks/counts.py)."""

    __tablename__ = "task_counts"
    __table_args__ = (Index("ix_task_counts_org_kind_ref", "org_id", "kind", "ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(8))
    ref: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(16))
    live: Mapped[bool] = mapped_column(Boolean)
    n: Mapped[int] = mapped_column(Integer)


class CaptureValue(Base):
    """A value entered in a form field of a task (or the kick-off form of a run)."""

    __tablename__ = "capture_values"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    capture_id: Mapped[str] = mapped_column(
        ForeignKey("captures.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[str | None] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), nullable=True, index=True
    )
    run_id: Mapped[str | None] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), nullable=True, index=True
    )
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)


@dataclass(slots=True)
class TaskRow:
    """A task read as a plain row (every column of `tasks`, in the table's order) with its
    assignees as (kind, ref) pairs: a `ReadableTask` for reads that change nothing."""

    id: str
    org_id: str
    increment_id: int
    run_id: str | None
    step_id: str | None
    checklist_id: str | None
    version: int | None
    title: str
    alias: str | None
    summary: str | None
    task_type: str
    status: str
    position: int
    deadline: datetime | None
    deadline_set_by_hand: bool
    started_at: datetime | None
    starter_id: int | None
    completer_id: int | None
    completed_at: datetime | None
    is_approved: bool | None
    everyone_must_complete: bool
    can_complete_only_assignees: bool
    prevent_guest_comment: bool
    max_assignable: int
    webhook: str | None
    top_secret: bool
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    archived_with_run: bool
    hidden_by_rule: bool
    settings: dict[str, Any]
    remind_at: datetime | None
    reminded_soon_for: datetime | None
    reminded_overdue_for: datetime | None
    owners: list[tuple[str, str]] = field(default_factory=list)

    def owner_lists(self) -> dict[str, list[Any]]:
        return owner_lists(self.owners)


def owner_lists(owners: Iterable[tuple[str, str]]) -> dict[str, list[Any]]:
    """The assignees as the API shows them: member ids, guest emails, group ids."""
    lists: dict[str, list[Any]] = {"users": [], "guests": [], "groups": []}
    for kind, ref in owners:
        lists[kind + "s"].append(int(ref) if kind == "user" else ref)
    return lists


# What read code takes: a task of the session, or one read as a plain row. Only what both have
# can be read from it.
ReadableTask: TypeAlias = Task | TaskRow

TASK_COLUMNS = tuple(Task.__table__.c)
if tuple(c.key for c in TASK_COLUMNS) != tuple(f.name for f in fields(TaskRow))[:-1]:
    raise RuntimeError("TaskRow must list every column of tasks, in the table's order")
