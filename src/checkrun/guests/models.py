"""Tables of the guests domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from checkrun.db import Base, UTCDateTime
from checkrun.kit.clock import now


class Guest(Base):
    """Someone outside the organization who is given tasks, addressed by email.

    A guest belongs to one organization: the same address in two organizations is two guests
    (their own id, code and details), so nothing one organization records reaches another.
    Removing a guest keeps the row (`deleted_at`); inviting the address again brings it back."""

    __tablename__ = "guests"
    __table_args__ = (UniqueConstraint("org_id", "email"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    # Stored lowercased: addresses compare case-insensitively.
    email: Mapped[str] = mapped_column(String(254))
    # The last segment of the guest's forever link, and the key of `/guests/{code}/tasks`.
    guest_code: Mapped[str] = mapped_column(String(64), unique=True)
    first_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    last_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # The optional profile fields of POST /guests (phone_1, company_name, ...), as sent.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    associated_members: Mapped[list[int]] = mapped_column(JSON, default=list)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    disabled_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reactivated_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @property
    def is_disabled(self) -> bool:
        return self.disabled_at is not None
