"""Tables of the activity domain: one row per recorded change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from checkrun.db import Base, UTCDateTime
from checkrun.kit.clock import now


class ActivityFeed(Base):
    """One activity-feed entry (integer id, as the API shows it).

    No foreign keys to the things it describes: the history of a run outlives the run.
    `run_id`, `task_id` and `checklist_id` say where the entry is filed, so a process's whole
    history (its own entries, its tasks', its comments') is one indexed lookup."""

    __tablename__ = "activity_feeds"
    __table_args__ = (
        # The feed pages by creation, newest first, inside one organization.
        Index("ix_activity_feeds_org_created", "org_id", "created_at", "id"),
        Index("ix_activity_feeds_org_run", "org_id", "run_id", "created_at"),
        Index("ix_activity_feeds_org_task", "org_id", "task_id"),
        Index("ix_activity_feeds_org_checklist", "org_id", "checklist_id"),
        Index("ix_activity_feeds_org_entity", "org_id", "entity_type", "entity_id"),
        Index("ix_activity_feeds_org_actor", "org_id", "actor_type", "actor_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(32))
    verb: Mapped[str] = mapped_column(String(32))
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    actor_type: Mapped[str] = mapped_column(String(8), default="user")
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    source: Mapped[str] = mapped_column(String(16), default="Member")
    description: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    field: Mapped[str | None] = mapped_column(String(100), nullable=True)
    old_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    task_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    checklist_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Anything else the emitter attached (comment references, the file name, ...).
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
