from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from checkrun.db import Base, UTCDateTime
from checkrun.kit.clock import now
from checkrun.kit.ids import new_id

RUN_STATUSES = ("active", "complete", "problem", "issue", "archived", "delayed")


class Run(Base):
    """A process (the API's `run`) launched from a checklist."""

    __tablename__ = "runs"
    # Lists filter on these and page in creation order, so the indexes serve both. Live runs
    # have their own (partial): PostgreSQL does not order by what follows `deleted_at IS NULL`.
    __table_args__ = (
        Index("ix_runs_listing", "org_id", "deleted_at", "status", "created_at", "id"),
        Index(
            "ix_runs_live_by_status",
            "org_id",
            "status",
            "created_at",
            "id",
            postgresql_where=text("deleted_at IS NULL"),
            sqlite_where=text("deleted_at IS NULL"),
        ),
        Index(
            "ix_runs_live_newest",
            "org_id",
            "created_at",
            "id",
            postgresql_where=text("deleted_at IS NULL"),
            sqlite_where=text("deleted_at IS NULL"),
        ),
        # Auto-archive: an organization's completed runs by completion time.
        Index("ix_runs_org_status_completed", "org_id", "status", "completed_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    increment_id: Mapped[int] = mapped_column(Integer)
    # No FK: a run outlives the permanent deletion of its template.
    checklist_id: Mapped[str] = mapped_column(String(32), index=True)
    checklist_title: Mapped[str] = mapped_column(String(250))
    name: Mapped[str] = mapped_column(String(550))
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    # What `activate` restores: the status the run had when it was archived.
    status_before_archive: Mapped[str | None] = mapped_column(String(16), nullable=True)
    type: Mapped[str] = mapped_column(String(16), default="procedure")
    owner_id: Mapped[int] = mapped_column(Integer)
    started_by: Mapped[int] = mapped_column(Integer)
    prerun: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    starred: Mapped[bool] = mapped_column(Boolean, default=False)
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    can_add_oot: Mapped[bool] = mapped_column(Boolean, default=True)
    users: Mapped[list[int]] = mapped_column(JSON, default=list)
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    parent_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # The template version it was launched from (`templates/versions.py`).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    prerun_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    prerun_completed_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
