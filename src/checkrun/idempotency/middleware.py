"""`Idempotency-Key` on every POST: a retry with the same key and the same request within 24
hours gets the first answer again (with `Idempotent-Replayed: true`) and changes nothing; the
same key with another request is a 422; a retry that arrives while the first is still running
is a 409 (try again in a moment). Keys belong to the caller's token: two callers never share
one.

A pure ASGI middleware inside the body guard (the token is checked, and the size limited,
before a body is read here). The body is spooled (to disk past 1 MiB, so an upload is not held
in memory) and hashed with the method, path, query and content type: that is the request a key
is bound to. The claim is a row inserted before the request runs, so two concurrent requests
with one key cannot both run; the answer is kept once the request has committed. Only
successes are kept (2xx and 3xx): a refusal or a failure changed nothing, and running the
request again gives the answer it deserves then. A claim left by a process that died while
running its request is taken over after `ABANDONED`.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import IO, Any

import anyio
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from checkrun.idempotency.models import DONE, RUNNING, IdempotentRequest
from checkrun.kit.asgi import header
from checkrun.kit.bodies import send_error, too_large
from checkrun.kit.clock import now
from checkrun.kit.errors import AppError

HEADER = b"idempotency-key"
TTL = timedelta(hours=24)
ABANDONED = timedelta(minutes=5)
KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces
SPOOL = 1024 * 1024
KEEP_AT_MOST = 1024 * 1024  # a bigger answer is not kept: its retry runs again
# Said afresh on each answer, not replayed.
NOT_KEPT = frozenset(
    {b"date", b"server", b"content-length", b"x-ratelimit-limit", b"x-ratelimit-remaining"}
)


def _bearer(scope: Scope) -> str | None:
    scheme, _, token = (header(scope, b"authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


@dataclass
class Spooled:
    file: IO[bytes]
    digest: str
    size: int
    disconnected: bool = False
    too_large: bool = False

    def replay(self, receive: Receive) -> Receive:
        """A `receive` giving the app the spooled body, then the client's own messages."""
        self.file.seek(0)
        left = self.size

        async def again() -> Message:
            nonlocal left
            if left < 0:
                return await receive()
            chunk = self.file.read(64 * 1024)
            left -= len(chunk)
            more = left > 0
            if not more:
                left = -1
            return {"type": "http.request", "body": chunk, "more_body": more}

        return again


async def _spool(receive: Receive, boundary: bytes, limit: int) -> Spooled:
    file = tempfile.SpooledTemporaryFile(max_size=SPOOL)  # noqa: SIM115 - closed by the caller
    digest = _Digest(boundary)
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return Spooled(file, digest.hexdigest(), file.tell(), disconnected=True)
        chunk = message.get("body", b"")
        if file.tell() + len(chunk) > limit:
            return Spooled(file, "", file.tell(), too_large=True)
        digest.update(chunk)
        file.write(chunk)
        if not message.get("more_body"):
            return Spooled(file, digest.hexdigest(), file.tell())


class _Digest:
    """SHA-256 of a body with its multipart boundary left out: a client sending a form again
    draws a new boundary for the same fields and files."""

    def __init__(self, boundary: bytes) -> None:
        self.hash = hashlib.sha256()
        self.boundary = boundary
        self.tail = b""

    def update(self, chunk: bytes) -> None:
        if not self.boundary:
            self.hash.update(chunk)
            return
        data = (self.tail + chunk).replace(self.boundary, b"")
        # What could be the start of a boundary split across two chunks waits for the next.
        keep = len(self.boundary) - 1
        self.hash.update(data[:-keep] if keep else data)
        self.tail = data[-keep:] if keep else b""

    def hexdigest(self) -> str:
        self.hash.update(self.tail)
        self.tail = b""
        return self.hash.hexdigest()


def _boundary(scope: Scope) -> bytes:
    kind = header(scope, b"content-type") or ""
    if not kind.lower().startswith("multipart/"):
        return b""
    for part in kind.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "boundary" and value.strip('"'):
            return value.strip('"').encode("latin-1")
    return b""


@dataclass
class Captured:
    """The answer as it goes out to the client. It is kept (or the claim released) just before
    its last bytes go: a client that retries the moment it has the answer finds it kept."""

    send: Send
    settle: Callable[[Captured], Awaitable[None]]
    status: int | None = None
    headers: list[list[str]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    too_big: bool = False
    settled: bool = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            self.headers = [
                [k.decode("latin-1"), v.decode("latin-1")]
                for k, v in message.get("headers", ())
                if k.lower() not in NOT_KEPT
            ]
        elif message["type"] == "http.response.body":
            if not self.too_big:
                self.body += message.get("body", b"")
                self.too_big = len(self.body) > KEEP_AT_MOST
            if not message.get("more_body") and not self.settled:
                self.settled = True
                with anyio.CancelScope(shield=True):
                    await self.settle(self)
        await self.send(message)

    @property
    def keep(self) -> bool:
        return self.status is not None and 200 <= self.status < 400 and not self.too_big


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = header(scope, HEADER) if scope["type"] == "http" else None
        token = _bearer(scope) if key is not None else None
        if key is None or token is None or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        if not KEY.match(key):
            await send_error(send, _bad_key())
            return
        # The guard outside limits JSON bodies; an upload's own limit is its route's, applied
        # as it reads: here, the largest upload and room for its form fields.
        limit = scope["app"].state.settings.max_upload_bytes + SPOOL
        spooled = await _spool(receive, _boundary(scope), limit)
        with spooled.file:
            if spooled.disconnected:
                return
            if spooled.too_large:
                await send_error(send, too_large(limit))
                return
            await self._once(scope, receive, send, spooled, _request_id(token, key))

    async def _once(
        self, scope: Scope, receive: Receive, send: Send, spooled: Spooled, request_id: str
    ) -> None:
        maker: async_sessionmaker[AsyncSession] = scope["app"].state.sessionmaker
        fingerprint = _fingerprint(scope, spooled.digest)
        earlier = await _claim(maker, request_id, fingerprint)
        if earlier is not None:
            await _answer_again(send, earlier, fingerprint)
            return

        async def settle(answer: Captured) -> None:
            if answer.keep:
                await _keep(maker, request_id, answer)
            else:
                await _release(maker, request_id)

        captured = Captured(send, settle)
        try:
            await self.app(scope, spooled.replay(receive), captured)
        finally:
            if not captured.settled:  # failed, or gone before its answer was whole
                with anyio.CancelScope(shield=True):
                    await _release(maker, request_id)


def _request_id(token: str, key: str) -> str:
    return hashlib.sha256(
        f"{hashlib.sha256(token.encode()).hexdigest()}\n{key}".encode()
    ).hexdigest()


def _fingerprint(scope: Scope, body_digest: str) -> str:
    kind = (header(scope, b"content-type") or "").split(";")[0].strip().lower()
    parts = [
        scope.get("method", ""),
        scope.get("path", ""),
        scope.get("query_string", b"").decode("latin-1"),
        kind,
        body_digest,
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


async def _claim(
    maker: async_sessionmaker[AsyncSession], request_id: str, fingerprint: str
) -> IdempotentRequest | None:
    """None when this request now holds the key; else the row of the one that does (or did)."""
    moment = now()
    async with maker() as db:
        found = await db.get(IdempotentRequest, request_id)
        stale = found is not None and (
            found.expires_at <= moment
            or (found.state == RUNNING and found.created_at <= moment - ABANDONED)
        )
        if found is not None and not stale:
            return found
        if found is not None:
            await db.delete(found)
            await db.flush()
        db.add(
            IdempotentRequest(
                id=request_id,
                fingerprint=fingerprint,
                state=RUNNING,
                created_at=moment,
                expires_at=moment + TTL,
            )
        )
        try:
            await db.commit()
        except IntegrityError:  # another request with this key claimed it first
            await db.rollback()
            return await db.get(IdempotentRequest, request_id, populate_existing=True)
    return None


async def _keep(
    maker: async_sessionmaker[AsyncSession], request_id: str, captured: Captured
) -> None:
    async with maker() as db:
        await db.execute(
            update(IdempotentRequest)
            .where(IdempotentRequest.id == request_id, IdempotentRequest.state == RUNNING)
            .values(
                state=DONE,
                status=captured.status,
                headers=json.dumps(captured.headers),
                body=bytes(captured.body),
            )
        )
        await db.commit()


async def _release(maker: async_sessionmaker[AsyncSession], request_id: str) -> None:
    async with maker() as db:
        await db.execute(
            delete(IdempotentRequest).where(
                IdempotentRequest.id == request_id, IdempotentRequest.state == RUNNING
            )
        )
        await db.commit()


async def _answer_again(send: Send, earlier: IdempotentRequest, fingerprint: str) -> None:
    if earlier.fingerprint != fingerprint:
        await send_error(send, _reused())
        return
    if earlier.state != DONE:
        await send_error(send, _still_running())
        return
    body = earlier.body or b""
    headers: list[Any] = [
        (k.encode("latin-1"), v.encode("latin-1")) for k, v in json.loads(earlier.headers or "[]")
    ]
    headers += [(b"content-length", str(len(body)).encode()), (b"idempotent-replayed", b"true")]
    await send({"type": "http.response.start", "status": earlier.status or 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _bad_key() -> AppError:
    return AppError(
        422,
        "The Idempotency-Key header must be 1 to 255 printable ASCII characters, without spaces.",
        "INVALID_IDEMPOTENCY_KEY",
    )


def _reused() -> AppError:
    return AppError(
        422,
        "This Idempotency-Key was already used with another request: use a new key for a new "
        "request.",
        "IDEMPOTENCY_KEY_REUSED",
    )


def _still_running() -> AppError:
    return AppError(
        409,
        "A request with this Idempotency-Key is still being processed: try again in a moment.",
        "IDEMPOTENCY_KEY_IN_USE",
        headers={"Retry-After": "1"},
    )
