"""Tables of the custom fields domain: the organization's keys and the values records hold."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from checkrun.db import Base, UTCDateTime
from checkrun.kit.clock import now
from checkrun.kit.ids import new_id


class CustomFieldKey(Base):
    """A key an admin defines: its name (unique in the organization), the kind of record it
    applies to and the type of its values."""

    __tablename__ = "custom_field_keys"
    __table_args__ = (UniqueConstraint("org_id", "key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    label: Mapped[str | None] = mapped_column(String(200), nullable=True)
    applies_to: Mapped[str] = mapped_column(String(16))
    field_type: Mapped[str] = mapped_column(String(16))
    # `org` (made through the API) or `system` (platform metadata: never written by the API).
    key_type: Mapped[str] = mapped_column(String(8), default="org")
    is_required: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The choices of radio/dropdown/multiselect keys and the columns of table keys.
    options: Mapped[list[Any]] = mapped_column(JSON, default=list)
    columns: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)


class CustomFieldValue(Base):
    """The value one record holds for one key. The record is named by kind and id (no foreign
    key: ten tables); the key's deletion takes its values with it."""

    __tablename__ = "custom_field_values"
    __table_args__ = (
        UniqueConstraint("key_id", "subject_type", "subject_id"),
        Index("ix_custom_field_values_subject", "org_id", "subject_type", "subject_id"),
        # The task list's `custom_field_key` + `custom_field_value` filter.
        Index("ix_custom_field_values_match", "key_id", "subject_type", "value_text"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    key_id: Mapped[str] = mapped_column(
        ForeignKey("custom_field_keys.id", ondelete="CASCADE"), index=True
    )
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[Any] = mapped_column(JSON)
    # The value as text (a string as it is, anything else as JSON), cut to 255 characters:
    # what the task filter compares.
    value_text: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)
