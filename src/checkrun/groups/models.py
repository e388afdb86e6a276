"""Tables of the groups domain: a named set of members and guest emails, assignable as one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from checkrun.db import Base, UTCDateTime
from checkrun.kit.clock import now
from checkrun.kit.ids import new_id
from checkrun.kit.names import name_key


class Group(Base):
    __tablename__ = "groups"
    # Names are unique in an organization whatever their case (kit/names.py).
    __table_args__ = (UniqueConstraint("org_id", "name_key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)

    members: Mapped[list[GroupMember]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="GroupMember.id"
    )
    guests: Mapped[list[GroupGuest]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="GroupGuest.id"
    )

    @validates("name")
    def _keyed(self, _: str, name: str) -> str:
        self.name_key = name_key(name)
        return name


class GroupMember(Base):
    __tablename__ = "group_members"
    __table_args__ = (UniqueConstraint("group_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)


class GroupGuest(Base):
    __tablename__ = "group_guests"
    __table_args__ = (UniqueConstraint("group_id", "email"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
