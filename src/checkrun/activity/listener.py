"""Writes every domain event to the activity feed, in the emitter's transaction."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.activity.repository import ActivityRepository
from checkrun.kit.clock import iso, now
from checkrun.kit.events import Event

# Where an entry is filed by its own id when the emitter left that context out.
_OWN_CONTEXT = {"run": "run_id", "task": "task_id", "checklist": "checklist_id"}


def _text(value: Any) -> str | None:
    return iso(value) if isinstance(value, datetime) else str(value)


def _json(value: Any) -> Any:
    """Values as JSON can hold them (dates as ISO text, anything else as text), so that no
    event fails to record."""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=_text))


def _clip(value: str | None, size: int) -> str | None:
    return None if value is None else str(value)[:size]


def entry_of(event: Event) -> dict[str, Any]:
    """The entry's row, every column but its id."""
    context = {"run_id": event.run_id, "task_id": event.task_id, "checklist_id": event.checklist_id}
    own = _OWN_CONTEXT.get(event.entity_type)
    if own and context[own] is None:
        context[own] = str(event.entity_id)
    extra = dict(event.extra or {})
    text = extra.pop("text", None)
    if text is None and event.type == "Comment" and isinstance(event.new_value, str):
        text = event.new_value
    anonymous = event.actor_id is None and not event.actor_email
    return dict(
        org_id=event.org_id,
        type=event.type[:32],
        verb=event.verb[:32],
        entity_type=event.entity_type[:32],
        entity_id=str(event.entity_id)[:64],
        actor_type="system" if anonymous else event.actor_type[:8],
        actor_id=event.actor_id,
        actor_email=_clip(event.actor_email, 254),
        source=event.source[:16],
        description=event.description or "",
        text=None if text is None else str(text),
        field=_clip(event.field, 100),
        old_value=_json(event.old_value),
        new_value=_json(event.new_value),
        **{k: _clip(v, 32) for k, v in context.items()},
        extra=_json(extra) or {},
        created_at=now(),
    )


# The scheduler's reminders: they tell people, they change nothing, so they are not history.
NOT_RECORDED = {("Task", "due-soon"), ("Task", "overdue")}


async def on_event(db: AsyncSession, event: Event) -> None:
    if (event.type, event.verb) in NOT_RECORDED:
        return
    ActivityRepository(db).add(entry_of(event))
