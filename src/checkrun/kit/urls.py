from __future__ import annotations

from starlette.requests import Request


def api_base(request: Request) -> str:
    """The absolute API base the client used (or CHECKRUN_PUBLIC_URL), with /api when it did."""
    configured = request.app.state.settings.public_url
    base = configured or str(request.base_url)
    prefix = "/api" if request.url.path.startswith("/api/") else ""
    return base.rstrip("/") + prefix
