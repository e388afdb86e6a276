"""What every request leaves behind: an id (the client's `X-Request-Id` when it is sane, else a
new one, returned as `X-Request-Id`), the request metrics by route template, and an access
line. A pure ASGI middleware, outermost, so that it sees every answer, the rate limiter's too.

The route is the template that matched (`scope["route"]`), never the raw path: paths hold ids
and, on a few pages, secrets (guest codes, one-time links). The access line logs the path only
with such parameters blanked, and never a query string or a header."""

from __future__ import annotations

import logging
import os
import re
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from checkrun.kit import metrics
from checkrun.kit.logs import ACTOR, request_id

access_log = logging.getLogger("checkrun.access")

HEADER = b"x-request-id"
SANE_ID = re.compile(r"[A-Za-z0-9._:+=@/-]{1,128}")
UNMATCHED = "<unmatched>"  # the route label of a request no route matched (404, rate limited)
# Path parameters that are credentials: never written to a log line.
SECRET_PARAMS = frozenset({"code", "token"})
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def incoming_id(scope: Scope) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == HEADER:
            text = value.decode("latin-1")
            return text if SANE_ID.fullmatch(text) else None
    return None


def _template(scope: Scope) -> str:
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


def _logged_path(scope: Scope) -> str | None:
    route = scope.get("route")
    path_format = getattr(route, "path_format", None)
    if not isinstance(path_format, str):
        return None
    params = scope.get("path_params") or {}
    if not SECRET_PARAMS.intersection(params):
        return str(scope.get("path", ""))
    shown = {k: ("-" if k in SECRET_PARAMS else v) for k, v in params.items()}
    return path_format.format(**shown)


class ObserveMiddleware:
    def __init__(self, app: ASGIApp, access: bool = True, measure: bool = True) -> None:
        self.app = app
        self.access = access
        self.measure = measure
        # The metric children by labels: `labels()` costs more than the increment itself.
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = incoming_id(scope) or os.urandom(16).hex()  # uuid4().hex costs 5 times more
        token = request_id.set(rid)
        header = (HEADER, rid.encode())
        status = 500  # unless an answer starts: an exception the server answers for
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _template(scope)
            if self.measure:
                self._count(scope["method"], route, status, elapsed)
            if self.access and access_log.isEnabledFor(logging.INFO):
                self._log(scope, route, rid, status, elapsed)
            request_id.reset(token)

    def _count(self, method: str, route: str, status: int, elapsed: float) -> None:
        key = (method if method in METHODS else "OTHER", route, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = _children(*key)
        children[0].inc()
        children[1].observe(elapsed)

    def _log(self, scope: Scope, route: str, rid: str, status: int, elapsed: float) -> None:
        user_id, org_id = scope.get(ACTOR, (None, None))
        if user_id is not None:
            org_id = (scope.get("path_params") or {}).get("org_id") or org_id
        access_log.info(
            "request",
            extra={
                "fields": {
                    "request_id": rid,
                    "method": scope["method"],
                    "route": route,
                    "path": _logged_path(scope),
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "user_id": user_id,
                    "org_id": org_id,
                }
            },
        )


def _children(method: str, route: str, status: int) -> tuple[Any, Any]:
    return (
        metrics.REQUESTS.labels(method, route, str(status)),
        metrics.DURATION.labels(method, route),
    )
