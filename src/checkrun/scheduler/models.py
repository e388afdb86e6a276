"""The scheduler's one table: a row per job, holding its lease and when it last ran."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from checkrun.db import Base, UTCDateTime


class SchedulerJob(Base):
    """A job runs in one process at a time: the process whose `lease_token` is here, until
    `lease_until` (then anyone may take it over: a crashed process blocks its job that long at
    most). `last_run_at` is the moment of the last committed run; `runs` counts them."""

    __tablename__ = "scheduler_jobs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    lease_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    runs: Mapped[int] = mapped_column(Integer, default=0)
