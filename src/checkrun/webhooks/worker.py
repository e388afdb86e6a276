"""Delivers the webhook outbox in the background, with retries and backoff."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from checkrun.config import Settings


class DeliveryWorker:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None
