"""Tables of the comments domain: threads (comments and issues) on tasks, on processes and on
templates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from checkrun.db import Base, UTCDateTime
from checkrun.kit.clock import now
from checkrun.kit.ids import new_id

LABELS = ("comment", "problem", "resolve", "improvement", "advice")
STATES = ("hide-for-guests", "open", "collapsed")
ISSUE = "problem"


class Comment(Base):
    """A thread: a comment on a task (task_id set; run_id too for a process task), on a
    process itself (task_id null), or on a template (checklist_id set, run_id and task_id
    null). An issue is a thread labelled `problem`, open until `resolved_at` is set."""

    __tablename__ = "comments"
    __table_args__ = (
        Index("ix_comments_task_created", "task_id", "created_at"),
        Index("ix_comments_run_created", "run_id", "created_at"),
        Index("ix_comments_checklist_created", "checklist_id", "created_at"),
        # The open issues' tasks, read by the hasproblem filter and the problems sort.
        Index("ix_comments_open_issues", "label", "resolved_at", "task_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    task_id: Mapped[str | None] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), nullable=True
    )
    run_id: Mapped[str | None] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), nullable=True
    )
    # Set on a template's own threads only (a process's threads name their run).
    checklist_id: Mapped[str | None] = mapped_column(
        ForeignKey("checklists.id", ondelete="CASCADE"), nullable=True
    )
    author_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    author_type: Mapped[str] = mapped_column(String(16), default="user")
    content: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(16), default="comment")
    state: Mapped[str] = mapped_column(String(16), default="hide-for-guests")
    sent_to: Mapped[list[int]] = mapped_column(JSON, default=list)
    # On an issue: the resolution thread; on a resolution: the issue it resolved.
    resolve_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)
    # Set while its task or process is archived; comments are never archived on their own.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
