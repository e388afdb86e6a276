"""Answers kept for `Idempotency-Key` retries (24 hours)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from checkrun.db import Base, UTCDateTime

RUNNING, DONE = "running", "done"


class IdempotentRequest(Base):
    """One caller's use of one key: the request it was first sent with (`fingerprint`), and once
    it has run, the answer every retry gets again. `id` hashes the caller's token and the key,
    so that neither is stored and two callers' keys never meet."""

    __tablename__ = "idempotent_requests"
    __table_args__ = (Index("ix_idempotent_requests_expires_at", "expires_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    headers: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON [[name, value]]
    body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
