from __future__ import annotations

from starlette.requests import Request

from checkrun.kit.routing import route_path


def api_base(request: Request) -> str:
    """The absolute API base the client used (or CHECKRUN_PUBLIC_URL), with /api when it did.
    `request.base_url` holds the root path a proxy serves checkrun under (`--root-path`)."""
    configured = request.app.state.settings.public_url
    base = configured or str(request.base_url)
    prefix = "/api" if route_path(request.scope).startswith("/api/") else ""
    return base.rstrip("/") + prefix
