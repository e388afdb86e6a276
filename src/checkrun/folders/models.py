"""Tables of the folders domain: folders (a tree per type) and the runs and tasks filed in them.

Templates are filed by their own `folder_id` column (PUT /checklists/{id}), not here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from checkrun.db import Base, UTCDateTime
from checkrun.kit.clock import now
from checkrun.kit.ids import new_id

FOLDER_TYPES = ("checklist", "run")
OBJECT_TYPES = ("Run", "Task")


class Folder(Base):
    __tablename__ = "folders"
    __table_args__ = (Index("ix_folders_org_type", "org_id", "folder_type", "position"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(32))
    folder_type: Mapped[str] = mapped_column(String(16))
    # No FK: a deleted folder's children are moved to its parent by the service first.
    parent_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)


class FolderObject(Base):
    """A run or task filed in a folder (the API's integer relation id)."""

    __tablename__ = "folder_objects"
    __table_args__ = (
        UniqueConstraint("folder_id", "subject_type", "subject_id"),
        Index("ix_folder_objects_subject", "subject_type", "subject_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    folder_id: Mapped[str] = mapped_column(ForeignKey("folders.id", ondelete="CASCADE"), index=True)
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(32))
    # One of these is set, so that purging the run or task removes the relation with it.
    run_id: Mapped[str | None] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), nullable=True, index=True
    )
    task_id: Mapped[str | None] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), nullable=True, index=True
    )
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
