"""Request bodies cannot exhaust memory: a pure ASGI middleware in front of the routes.

FastAPI reads (and buffers) a body before it solves a route's dependencies, so the bearer token
would be checked only after the whole body sat in memory. This middleware, for a request that
carries a body:
- on a route that takes a bearer token, checks the token before anything reads the body (the
  refusal is the route's own 401);
- except on the routes that stream their body (uploads, which keep their own limit), refuses a
  body over `max_json_bytes` with 413: at once when Content-Length says so, else as soon as the
  bytes received pass the limit. Nothing here buffers a body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from checkrun.kit.asgi import header
from checkrun.kit.auth import admit_token
from checkrun.kit.errors import AppError

PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"


def too_large(limit: int) -> AppError:
    return AppError(
        413, f"The request body may not be greater than {limit} bytes.", PAYLOAD_TOO_LARGE
    )


@dataclass(frozen=True)
class GuardedRoute:
    pattern: re.Pattern[str]
    methods: frozenset[str]
    needs_token: bool
    streams_body: bool


class _BodyTooLarge(Exception):
    """Raised from `receive` to stop the app once the 413 has been sent."""


def _depends_on(dependant: Dependant, calls: frozenset[Callable[..., Any]]) -> bool:
    return any(d.call in calls or _depends_on(d, calls) for d in dependant.dependencies)


def route_table(
    app: FastAPI,
    token_dependencies: Iterable[Callable[..., Any]],
    streaming_endpoints: Iterable[Callable[..., Any]],
) -> list[GuardedRoute]:
    """Every API route, in the order the router tries them, with what the guard must know."""
    calls = frozenset(token_dependencies)
    streaming = frozenset(streaming_endpoints)
    table = []
    for route in iter_route_contexts(app.routes):
        original = route.original_route
        if not isinstance(original, APIRoute) or not route.path:
            continue
        pattern, _, _ = compile_path(route.path)
        table.append(
            GuardedRoute(
                pattern,
                frozenset(route.methods or ()),
                _depends_on(original.dependant, calls),
                original.endpoint in streaming,
            )
        )
    return table


def _content_length(scope: Scope) -> int | None:
    value = header(scope, b"content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _has_body(scope: Scope) -> bool:
    length = _content_length(scope)
    return bool(length) or header(scope, b"transfer-encoding") is not None


async def send_error(send: Send, err: AppError) -> None:
    body = json.dumps(err.body()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in (err.headers or {}).items()]
    await send({"type": "http.response.start", "status": err.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyGuardMiddleware:
    def __init__(self, app: ASGIApp, routes: list[GuardedRoute], max_json_bytes: int) -> None:
        self.app = app
        self.routes = routes
        self.max_json_bytes = max_json_bytes

    def _route(self, scope: Scope) -> GuardedRoute | None:
        path, method = scope.get("path", ""), scope.get("method", "")
        for route in self.routes:
            if method in route.methods and route.pattern.match(path):
                return route
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        route = self._route(scope)
        if route is None:  # 404 or 405: the router answers without reading the body
            await self.app(scope, receive, send)
            return
        if route.needs_token:
            refusal = await self._refusal(scope)
            if refusal is not None:
                await send_error(send, refusal)
                return
        if route.streams_body:
            await self.app(scope, receive, send)
            return
        length = _content_length(scope)
        if length is not None and length > self.max_json_bytes:
            await send_error(send, too_large(self.max_json_bytes))
            return
        await self._counted(scope, receive, send)

    async def _refusal(self, scope: Scope) -> AppError | None:
        sessionmaker = scope["app"].state.sessionmaker
        try:
            async with sessionmaker() as db:
                await admit_token(
                    db,
                    header(scope, b"authorization") or "",
                    header(scope, b"x-tallyfy-client") or "",
                )
        except AppError as err:
            return err
        return None

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Runs the app with a `receive` that counts the bytes; past the limit it answers 413
        and stops the app, whose own answer (if any) is then dropped."""
        received = 0
        refused = started = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            if refused:
                raise _BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_json_bytes:
                    refused = True
                    if not started:
                        await send_error(send, too_large(self.max_json_bytes))
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _BodyTooLarge:
            pass


def install_body_guard(
    app: FastAPI,
    max_json_bytes: int,
    token_dependencies: Iterable[Callable[..., Any]],
    streaming_endpoints: Iterable[Callable[..., Any]],
) -> None:
    """Call after every router is included: the guard reads the routes once, here."""
    routes = route_table(app, token_dependencies, streaming_endpoints)
    app.add_middleware(BodyGuardMiddleware, routes=routes, max_json_bytes=max_json_bytes)
