"""Liveness (`/api/health`: the process answers) and readiness (`/api/ready`: a round trip to
the database, the file store and, when configured, Redis, each bounded by a short timeout)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from checkrun.kit import answers
from checkrun.kit.coalesce import Coalesced
from checkrun.kit.ratelimit import RedisLimiter
from checkrun.storage import BlobStore

log = logging.getLogger(__name__)

HEALTH = {"type": "object", "properties": {"status": {"type": "string"}}}
CHECK = {
    "type": "object",
    "required": ["status"],
    "properties": {
        "status": {"type": "string", "enum": ["ok", "down"]},
        "error": {"type": "string", "description": "What failed (the kind of error)"},
    },
}
READY = {
    "type": "object",
    "required": ["status", "checks"],
    "properties": {
        "status": {"type": "string", "enum": ["ok", "unavailable"]},
        "checks": {
            "type": "object",
            "description": "One entry per dependency: database, store, and redis when used",
            "additionalProperties": CHECK,
        },
    },
}
READY_RESPONSES = {
    "503": {
        "description": "A dependency is down: `checks` says which",
        "content": {"application/json": {"schema": READY}},
    }
}

Check = Callable[[], Awaitable[Any]]


async def database_round_trip(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


class Readiness:
    def __init__(self, checks: dict[str, Check], timeout: float) -> None:
        self.checks = checks
        self.timeout = timeout
        self.down: set[str] = set()
        self.report: Coalesced[dict[str, dict[str, str]]] = Coalesced(self._run, 1.0, timeout + 1.0)

    async def _run(self) -> dict[str, dict[str, str]]:
        names = list(self.checks)
        results = await asyncio.gather(*(self._one(name) for name in names))
        return dict(zip(names, results, strict=True))

    async def _one(self, name: str) -> dict[str, str]:
        try:
            await asyncio.wait_for(self.checks[name](), self.timeout)
        except Exception as exc:  # noqa: BLE001 - whatever failed, the dependency is down
            error = "timeout" if isinstance(exc, TimeoutError) else type(exc).__name__
            if name not in self.down:
                log.warning("readiness: %s is down (%s: %s)", name, error, exc)
            self.down.add(name)
            return {"status": "down", "error": error}
        if name in self.down:
            log.warning("readiness: %s is back", name)
            self.down.discard(name)
        return {"status": "ok"}


def readiness_of(app: FastAPI, timeout: float) -> Readiness:
    engine: AsyncEngine = app.state.engine
    store: BlobStore = app.state.store
    checks: dict[str, Check] = {
        "database": lambda: database_round_trip(engine),
        "store": store.probe,
    }
    limiter = app.state.limiter
    if isinstance(limiter, RedisLimiter):
        checks["redis"] = limiter.ping
    return Readiness(checks, timeout)


def install_health(app: FastAPI, timeout: float) -> None:
    """After the rate limiter is installed (readiness asks its Redis)."""
    readiness = readiness_of(app, timeout)

    @app.get("/api/health", include_in_schema=False)
    @answers.raw(HEALTH)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/ready", include_in_schema=False)
    @answers.raw(READY)
    async def ready() -> JSONResponse:
        checks = await readiness.report.get()
        up = all(check["status"] == "ok" for check in checks.values())
        body = {"status": "ok" if up else "unavailable", "checks": checks}
        return JSONResponse(body, status_code=200 if up else 503)
