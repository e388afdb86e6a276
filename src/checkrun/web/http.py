"""The web app's plumbing: cookies, CSRF tokens, templates, and HTML error pages."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from checkrun.web import text

SESSION_COOKIE = "checkrun_session"
CSRF_COOKIE = "checkrun_csrf"
CSRF_FIELD = "csrf_token"
PREFIX = "/app"
HERE = Path(__file__).parent

templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters["rich"] = text.rich
templates.env.filters["when"] = text.when
templates.env.globals["csrf_field"] = CSRF_FIELD


class SignInRequired(Exception):
    """Raised by a page that needs a signed-in member; answered with a redirect to sign-in."""


class CsrfRefused(Exception):
    """A form came without this browser's CSRF token."""


def is_secure(request: Request) -> bool:
    """Cookies are Secure when the request came over HTTPS or the public URL is https."""
    public = request.app.state.settings.public_url or ""
    return request.url.scheme == "https" or public.startswith("https://")


def set_cookie(
    request: Request, response: Response, name: str, value: str, max_age: int | None = None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PREFIX + "/",
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
    )


def clear_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(
        name, path=PREFIX + "/", httponly=True, samesite="lax", secure=is_secure(request)
    )


def _session_csrf(secret: str) -> str:
    return hmac.new(secret.encode(), b"checkrun-csrf", hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """Bound to the session when signed in; else a double-submit token in its own cookie
    (the sign-in form, guest pages), created on first use."""
    secret = getattr(request.state, "session_secret", None) or request.cookies.get(
        SESSION_COOKIE, ""
    )
    if secret and getattr(request.state, "session_valid", False):
        return _session_csrf(secret)
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not token:
        token = secrets.token_urlsafe(32)
        request.state.new_csrf = token
    return str(token)


async def form_of(request: Request) -> dict[str, Any]:
    """The posted form (strings, lists for repeated names, uploads), after the CSRF check."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = csrf_token(request)
    if not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise CsrfRefused()
    out: dict[str, Any] = {}
    for key in form:
        values = form.getlist(key)
        out[key] = values if len(values) > 1 else values[0]
    return out


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("signed_in", getattr(request.state, "web_user", None))
    context.setdefault("org_name", getattr(request.state, "web_org_name", None))
    context.setdefault("is_admin", getattr(request.state, "web_is_admin", False))
    response = templates.TemplateResponse(
        request,
        name,
        {"csrf": csrf_token(request), "prefix": PREFIX, **context},
        status_code=status,
    )
    new = getattr(request.state, "new_csrf", None)
    if new:
        set_cookie(request, response, CSRF_COOKIE, new)
    response.headers["Cache-Control"] = "no-store"
    return response


def plain(
    request: Request, status: int, title: str, message: str, headers: dict[str, str] | None = None
) -> HTMLResponse:
    response = render(request, "message.html", status=status, title=title, message=message)
    response.headers.update(headers or {})
    return response


def redirect(path: str) -> RedirectResponse:
    # 303: after a POST the browser follows with a GET.
    return RedirectResponse(path, status_code=303)


def safe_next(value: str | None) -> str:
    """Only our own pages: no open redirect through `?next=`."""
    if (
        value
        and value.startswith(PREFIX + "/")
        and not value.startswith("//")
        and "\\" not in value
    ):
        return value
    return PREFIX + "/tasks"
