from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from checkrun.db import Base, UTCDateTime
from checkrun.kit.clock import now
from checkrun.kit.ids import new_id


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(250))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # Per-org human sequence numbers (increment_id), bumped with UPDATE ... RETURNING so that
    # concurrent launches never share a number.
    checklist_seq: Mapped[int] = mapped_column(Integer, default=0)
    run_seq: Mapped[int] = mapped_column(Integer, default=0)
    task_seq: Mapped[int] = mapped_column(Integer, default=0)
    # The simple settings of PUT /organizations/{org} (industry, address, working_days...),
    # kept as sent: nothing in the server acts on them yet.
    preferences: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)
