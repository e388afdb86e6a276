"""`Idempotency-Key` on POST (middleware.py), and the scheduler job that forgets keys after 24
hours."""

from __future__ import annotations

from datetime import datetime

from fastapi import FastAPI
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.config import Settings
from checkrun.idempotency.middleware import IdempotencyMiddleware
from checkrun.idempotency.models import IdempotentRequest
from checkrun.scheduler.registry import Job, register


async def forget_expired(db: AsyncSession, moment: datetime, settings: Settings) -> int:
    ids = (
        (
            await db.execute(
                select(IdempotentRequest.id)
                .where(IdempotentRequest.expires_at <= moment)
                .limit(settings.scheduler_batch_size)
            )
        )
        .scalars()
        .all()
    )
    if ids:
        await db.execute(delete(IdempotentRequest).where(IdempotentRequest.id.in_(ids)))
    return len(ids)


def install_idempotency(app: FastAPI) -> None:
    """Before the body guard: added earlier, so it runs inside it (the token is checked and
    the body's size limited before a body is read here)."""
    app.add_middleware(IdempotencyMiddleware)
    register(Job("forget_idempotency_keys", forget_expired))
