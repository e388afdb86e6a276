from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from checkrun.kit.clock import iso
from checkrun.webhooks.models import Watcher


class WatcherCreate(BaseModel):
    """`add-watcher` body. Loosely typed on purpose: the service checks each field and answers
    with Laravel-style messages."""

    model_config = ConfigDict(extra="ignore")

    object_type: Any = None
    object_id: Any = None
    notification_type: Any = None
    frequency: Any = None
    webhook: Any = None


class WatcherRead(BaseModel):
    id: str
    user_id: int
    object_type: str
    object_id: str
    notification_type: str
    frequency: str
    webhook: str
    created_by: int
    created_at: str | None
    last_updated: str | None

    @classmethod
    def of(cls, w: Watcher) -> WatcherRead:
        return cls(
            id=w.id,
            user_id=w.user_id,
            object_type=w.object_type,
            object_id=w.object_id,
            notification_type=w.notification_type,
            frequency=w.frequency,
            webhook=w.webhook,
            created_by=w.created_by,
            created_at=iso(w.created_at),
            last_updated=iso(w.updated_at),
        )
