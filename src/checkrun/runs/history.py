"""The activity entry of something that happened to a process, as every run change emits it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.kit import events
from checkrun.kit.auth import Actor
from checkrun.runs.models import Run


async def record(
    db: AsyncSession, actor: Actor | None, run: Run, verb: str, description: str, **more: Any
) -> None:
    """An activity entry about this process (listeners turn it into webhooks and email)."""
    await events.emit(
        db,
        events.Event(
            org_id=run.org_id,
            type="Process",
            verb=verb,
            entity_type="run",
            entity_id=run.id,
            run_id=run.id,
            checklist_id=run.checklist_id,
            description=description,
            **events.by(actor),
            **more,
        ),
    )
