"""Tables of the tags domain: the org's tags and their links to templates, runs and tasks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, validates

from checkrun.db import Base, UTCDateTime
from checkrun.kit.clock import now
from checkrun.kit.ids import new_id
from checkrun.kit.names import name_key

SUBJECT_TYPES = ("Checklist", "Run", "Task")


class Tag(Base):
    __tablename__ = "tags"
    # Titles are unique in an organization whatever their case (kit/names.py).
    __table_args__ = (UniqueConstraint("org_id", "title_key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(30))
    title_key: Mapped[str] = mapped_column(Text)
    color: Mapped[str | None] = mapped_column(String(7), nullable=True)
    # Tallyfy's `from:` / `task:` / `step:` tags (no route makes them here yet); lists leave
    # them out unless `all=true`.
    auto_generated: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)

    @validates("title")
    def _keyed(self, _: str, title: str) -> str:
        self.title_key = name_key(title)
        return title


class TagAssociation(Base):
    """A tag on a template, run or task (the API's integer "association id").

    The subject is named twice: `subject_type`/`subject_id` as the API shows it, and one of
    the FK columns, so that purging a template, run or task removes its links with it."""

    __tablename__ = "tag_associations"
    __table_args__ = (
        UniqueConstraint("tag_id", "subject_type", "subject_id"),
        Index("ix_tag_associations_subject", "subject_type", "subject_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    tag_id: Mapped[str] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), index=True)
    tag_type: Mapped[str] = mapped_column(String(8), default="private")
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(32))
    checklist_id: Mapped[str | None] = mapped_column(
        ForeignKey("checklists.id", ondelete="CASCADE"), nullable=True, index=True
    )
    run_id: Mapped[str | None] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), nullable=True, index=True
    )
    task_id: Mapped[str | None] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
