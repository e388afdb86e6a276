"""Counting limits: windows keyed by a string. In memory by default (one process); Redis when
CHECKRUN_REDIS_URL is set, so that every API process shares the counts.

Two layers use them: the per-minute request limit (a pure ASGI middleware, so that uploads
stream through untouched) and the per-organization hourly caps (`hourly_cap`)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

from fastapi import FastAPI, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from checkrun.config import Settings
from checkrun.kit.asgi import header
from checkrun.kit.errors import AppError

log = logging.getLogger(__name__)

EXEMPT_PATHS = frozenset(
    {"/api/health", "/api/ready", "/api/openapi.json", "/api/docs", "/api/docs/oauth2-redirect"}
)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int
    retry_after: int  # seconds until the window resets


class Limiter(Protocol):
    async def hit(self, key: str, limit: int, window_seconds: int, cost: int = 1) -> Decision: ...


def _decision(count: int, limit: int, reset_in: float) -> Decision:
    return Decision(count <= limit, max(limit - count, 0), max(int(reset_in + 0.999), 1))


class MemoryLimiter:
    """A window opens at a key's first hit and lasts `window_seconds` (as Redis EXPIRE does)."""

    SWEEP_EVERY = 1000

    def __init__(self) -> None:
        self._counts: dict[str, tuple[float, int]] = {}  # key -> (window end, count)
        self._lock = asyncio.Lock()
        self._hits = 0

    async def hit(self, key: str, limit: int, window_seconds: int, cost: int = 1) -> Decision:
        """Counts `cost` hits (0 reads the count without adding to it)."""
        now = time.monotonic()
        async with self._lock:
            self._hits += 1
            if self._hits % self.SWEEP_EVERY == 0:
                self._sweep(now)
            ends, count = self._counts.get(key, (0.0, 0))
            if ends <= now:
                ends, count = now + window_seconds, 0
            count += cost
            self._counts[key] = (ends, count)
            return _decision(count, limit, ends - now)

    def _sweep(self, now: float) -> None:
        for key in [k for k, (ends, _) in self._counts.items() if ends <= now]:
            del self._counts[key]


# INCR and EXPIRE in one step: the first hit of a window sets its expiry.
_HIT_SCRIPT = """
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


class RedisLimiter:
    """Counts shared by every process. When Redis can't be reached the limiter fails open to
    per-process counting (a MemoryLimiter) and retries Redis after `retry_seconds`."""

    def __init__(self, url: str, prefix: str, retry_seconds: float = 5.0) -> None:
        import redis.asyncio as redis

        self._redis: Any = redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        self._script = self._redis.register_script(_HIT_SCRIPT)
        self._prefix = prefix.rstrip(":") + ":rl:"
        self._fallback = MemoryLimiter()
        self._retry_seconds = retry_seconds
        self._down_until = 0.0

    async def hit(self, key: str, limit: int, window_seconds: int, cost: int = 1) -> Decision:
        if time.monotonic() < self._down_until:
            return await self._fallback.hit(key, limit, window_seconds, cost)
        try:
            count, ttl_ms = await self._script(
                keys=[self._prefix + key], args=[window_seconds * 1000, cost]
            )
        except Exception as exc:  # noqa: BLE001 - any Redis failure: count locally instead
            log.warning(
                "rate limits: Redis unavailable (%s); counting per process for %ss",
                exc,
                self._retry_seconds,
            )
            self._down_until = time.monotonic() + self._retry_seconds
            return await self._fallback.hit(key, limit, window_seconds, cost)
        return _decision(int(count), limit, int(ttl_ms) / 1000)

    async def ping(self) -> None:
        """A round trip to Redis (readiness), whether or not counting has fallen back."""
        await self._redis.ping()

    async def close(self) -> None:
        await self._redis.aclose()


def make_limiter(settings: Settings) -> Limiter:
    if settings.redis_url:
        return RedisLimiter(settings.redis_url, settings.redis_prefix)
    return MemoryLimiter()


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
            headers={"Retry-After": str(decision.retry_after), "X-RateLimit-Remaining": "0"},
        )


class TokenOwners:
    """Which user a token hash belongs to, learnt when authentication resolves a token, so that
    the middleware counts per user (all of a user's tokens together) without a database read.
    Bounded; a token not seen yet by this process counts under its own hash."""

    def __init__(self, size: int = 50_000) -> None:
        self._size = size
        self._owners: OrderedDict[str, str] = OrderedDict()

    def remember(self, token_hash: str, owner: str) -> None:
        self._owners[token_hash] = owner
        self._owners.move_to_end(token_hash)
        if len(self._owners) > self._size:
            self._owners.popitem(last=False)

    def get(self, token_hash: str) -> str | None:
        return self._owners.get(token_hash)


token_owners = TokenOwners()


def remember_token_owner(token_hash: str, owner: str) -> None:
    token_owners.remember(token_hash, owner)


def caller_key(scope: Scope) -> str:
    """`user:<id>` (or `token:<sha256>`) for a bearer token, else `ip:<client address>`."""
    scheme, _, token = (header(scope, b"authorization") or "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        digest = hashlib.sha256(token.strip().encode()).hexdigest()
        return token_owners.get(digest) or f"token:{digest}"
    client = scope.get("client")
    return f"ip:{client[0] if client else 'unknown'}"


class RateLimitMiddleware:
    """Requests per minute per caller; 429 RATE_LIMIT_EXCEEDED past the limit. Every answer
    carries X-RateLimit-Limit and X-RateLimit-Remaining. Bodies are never read or buffered."""

    def __init__(
        self,
        app: ASGIApp,
        limiter: Limiter,
        per_minute: int,
        exempt: frozenset[str] = EXEMPT_PATHS,
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.per_minute = per_minute
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "") in self.exempt:
            await self.app(scope, receive, send)
            return
        decision = await self.limiter.hit(f"minute:{caller_key(scope)}", self.per_minute, 60)
        headers = [
            (b"x-ratelimit-limit", str(self.per_minute).encode()),
            (b"x-ratelimit-remaining", str(decision.remaining).encode()),
        ]
        if not decision.allowed:
            await self._refuse(send, headers, decision.retry_after)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                own = list(message.get("headers", ()))
                # An hourly cap's 429 already says what remains of *its* limit.
                present = {name.lower() for name, _ in own}
                extra = [(name, value) for name, value in headers if name not in present]
                message = {**message, "headers": [*own, *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _refuse(
        self, send: Send, headers: list[tuple[bytes, bytes]], retry_after: int
    ) -> None:
        body = json.dumps(
            {
                "error": True,
                "message": f"Too many requests: the limit is {self.per_minute} requests "
                f"per minute. Please try again in {retry_after} seconds.",
                "code": "RATE_LIMIT_EXCEEDED",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(retry_after).encode()),
                    *headers,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def install_rate_limits(
    app: FastAPI, settings: Settings, exempt: frozenset[str] = frozenset()
) -> None:
    """The shared limiter on `app.state.limiter`, and the per-minute limit when it is on;
    `exempt` adds paths to the exempt ones (probes, scrapes, the docs' assets)."""
    app.state.limiter = make_limiter(settings)
    if settings.rate_limit_per_minute > 0:
        app.add_middleware(
            RateLimitMiddleware,
            limiter=app.state.limiter,
            per_minute=settings.rate_limit_per_minute,
            exempt=EXEMPT_PATHS | exempt,
        )


async def close_limiter(limiter: Limiter) -> None:
    """Releases the Redis connections, if any."""
    if isinstance(limiter, RedisLimiter):
        await limiter.close()
