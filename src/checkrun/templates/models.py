from __future__ import annotations

from datetime import datetime
from typing import Any

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
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from checkrun.db import Base, UTCDateTime
from checkrun.kit.clock import now
from checkrun.kit.ids import new_id


class Checklist(Base):
    """A template (the API's `checklist`, the app's Template)."""

    __tablename__ = "checklists"
    __table_args__ = (Index("ix_checklists_org_deleted", "org_id", "deleted_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    increment_id: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(250))
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    type: Mapped[str] = mapped_column(String(16), default="procedure")
    guidance: Mapped[str | None] = mapped_column(Text, nullable=True)
    webhook: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    starred: Mapped[bool] = mapped_column(Boolean, default=False)
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    can_add_oot: Mapped[bool] = mapped_column(Boolean, default=True)
    auto_naming: Mapped[bool] = mapped_column(Boolean, default=False)
    default_process_name_format: Mapped[str | None] = mapped_column(String(550), nullable=True)
    created_by: Mapped[int] = mapped_column(Integer)
    owner_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    folder_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    users: Mapped[list[int]] = mapped_column(JSON, default=list)
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Automation rules live inline on the template, as the API shows them (no GET route).
    automated_actions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Documented fields that carry no server rule (icon, is_featured, explanation_video, ...),
    # kept and echoed back.
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The version a launch starts from (`templates/versions.py`): with dual versions the
    # published one, else the template as it stands; and whether the draft is published.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    is_published: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    steps: Mapped[list[Step]] = relationship(
        back_populates="checklist",
        order_by="Step.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class Step(Base):
    __tablename__ = "steps"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    checklist_id: Mapped[str] = mapped_column(
        ForeignKey("checklists.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(600))
    alias: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    step_type: Mapped[str] = mapped_column(String(16), default="task")
    position: Mapped[int] = mapped_column(Integer)
    # {value, unit, option, step}: the deadline relative to launch (or to another step).
    deadline: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    assignees: Mapped[list[int]] = mapped_column(JSON, default=list)
    guests: Mapped[list[str]] = mapped_column(JSON, default=list)
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    assign_run_starter: Mapped[bool] = mapped_column(Boolean, default=True)
    webhook: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    everyone_must_complete: Mapped[bool] = mapped_column(Boolean, default=False)
    can_complete_only_assignees: Mapped[bool] = mapped_column(Boolean, default=False)
    prevent_guest_comment: Mapped[bool] = mapped_column(Boolean, default=False)
    max_assignable: Mapped[int] = mapped_column(Integer, default=0)
    top_secret: Mapped[bool] = mapped_column(Boolean, default=False)
    skip_start_process: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_guest_owners: Mapped[bool] = mapped_column(Boolean, default=False)
    # {value, unit}: when the task starts, relative to launch.
    start_date: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)

    checklist: Mapped[Checklist] = relationship(back_populates="steps")


class Capture(Base):
    """A form field: on a template step, on a one-off task, or (kick-off) on a template."""

    __tablename__ = "captures"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    checklist_id: Mapped[str | None] = mapped_column(
        ForeignKey("checklists.id", ondelete="CASCADE"), nullable=True, index=True
    )
    step_id: Mapped[str | None] = mapped_column(
        ForeignKey("steps.id", ondelete="CASCADE"), nullable=True, index=True
    )
    task_id: Mapped[str | None] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), nullable=True, index=True
    )
    is_prerun: Mapped[bool] = mapped_column(Boolean, default=False)
    field_type: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(600))
    alias: Mapped[str] = mapped_column(String(200))
    guidance: Mapped[str | None] = mapped_column(Text, nullable=True)
    position: Mapped[int] = mapped_column(Integer, default=1)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    columns: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # default_value, collect_time, field_validation, prefix, suffix, ...: echoed back.
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)


class ChecklistVersion(Base):
    """A template frozen as a version: its steps (with their fields), kick-off fields and rules,
    as launches of that version read them."""

    __tablename__ = "checklist_versions"
    __table_args__ = (UniqueConstraint("checklist_id", "version"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    checklist_id: Mapped[str] = mapped_column(ForeignKey("checklists.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
