"""Turns domain events into webhook deliveries in the outbox (same transaction)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.kit.events import Event


async def on_event(db: AsyncSession, event: Event) -> None:
    return None
