"""Counting limits: fixed windows keyed by a string. In memory by default (one process);
Redis when CHECKRUN_REDIS_URL is set, so that every API process shares the counts."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Protocol

from fastapi import FastAPI, Request

from checkrun.config import Settings
from checkrun.kit.errors import AppError


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int
    retry_after: int  # seconds until the window resets


class Limiter(Protocol):
    async def hit(self, key: str, limit: int, window_seconds: int) -> Decision: ...


class MemoryLimiter:
    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, int]] = {}  # key -> (window start, count)
        self._lock = asyncio.Lock()

    async def hit(self, key: str, limit: int, window_seconds: int) -> Decision:
        now = int(time.time())
        start = now - now % window_seconds
        async with self._lock:
            began, count = self._counts.get(key, (start, 0))
            if began != start:
                began, count = start, 0
            if count >= limit:
                return Decision(False, 0, began + window_seconds - now)
            self._counts[key] = (began, count + 1)
            return Decision(True, limit - count - 1, began + window_seconds - now)


def limiter_of(request: Request) -> Limiter:
    limiter: Limiter = request.app.state.limiter
    return limiter


async def hourly_cap(request: Request, org_id: str, action: str, label: str, limit: int) -> None:
    """The per-organization hourly caps on actions that reach outsiders (guest invites,
    comments): 429 with the documented message and Retry-After when the cap is reached."""
    decision = await limiter_of(request).hit(f"hourly:{action}:{org_id}", limit, 3600)
    if not decision.allowed:
        raise AppError(
            429,
            f"You've reached the hourly limit for {label} ({limit} per hour per organization). "
            "Please try again later.",
            "RATE_LIMIT_EXCEEDED",
            headers={"Retry-After": str(max(decision.retry_after, 1)),
                     "X-RateLimit-Remaining": "0"},
        )


def install_rate_limits(app: FastAPI, settings: Settings) -> None:
    """The shared limiter on `app.state.limiter`."""
    app.state.limiter = MemoryLimiter()
