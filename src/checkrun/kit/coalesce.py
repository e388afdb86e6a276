"""One run of an expensive read shared by everyone who asks within `fresh_seconds`: probes and
scrapes (/api/ready, /metrics) answer unauthenticated, so a flood of them costs the database
and the store at most one round trip a second per process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Coalesced(Generic[T]):
    def __init__(
        self, read: Callable[[], Awaitable[T]], fresh_seconds: float, timeout: float
    ) -> None:
        self.read = read
        self.fresh_seconds = fresh_seconds
        self.timeout = timeout
        self._task: asyncio.Task[T] | None = None
        self._started = 0.0

    async def get(self) -> T:
        """The result of the read in flight or of one started less than `fresh_seconds` ago,
        else of a new one; a read longer than `timeout` raises TimeoutError."""
        now = time.monotonic()
        if self._task is None or now - self._started >= self.fresh_seconds and self._task.done():
            self._task = asyncio.ensure_future(asyncio.wait_for(self.read(), self.timeout))
            self._task.add_done_callback(_retrieve)
            self._started = now
        # Shielded: one caller going away must not cancel the read the others wait for.
        return await asyncio.shield(self._task)


def _retrieve(task: asyncio.Task[T]) -> None:
    """Marks a failure as seen even when every caller had gone (else asyncio logs it)."""
    if not task.cancelled():
        task.exception()
