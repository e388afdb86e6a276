"""Mounts the web app on the API's FastAPI app: pages under /app, its static files, HTML error
pages for /app paths (the API keeps its JSON errors), and `/` opening the app in a browser."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from checkrun.kit.errors import AppError
from checkrun.kit.routing import include
from checkrun.web import (
    email_pages,
    file_pages,
    guest_pages,
    pages,
    people_pages,
    process_pages,
    public_pages,
    task_files,
    template_pages,
)
from checkrun.web.http import HERE, PREFIX, CsrfRefused, SignInRequired, plain, redirect

Handler = Callable[[Request, Exception], Any]
TITLES = {
    400: "Bad request",
    401: "Sign in required",
    403: "Not allowed",
    404: "Page not found",
    405: "Not allowed",
    409: "Conflict",
    413: "Too large",
    422: "Not accepted",
    429: "Too many requests",
}


def _is_page(request: Request) -> bool:
    path = request.url.path
    return path == PREFIX or path.startswith(PREFIX + "/")


def _page_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, AppError):
        status, message = exc.status, exc.message
    elif isinstance(exc, StarletteHTTPException):
        status = exc.status_code
        message = "There is no page at this address." if status == 404 else str(exc.detail)
    elif isinstance(exc, RequestValidationError):
        status, message = 400, "The request was not understood."
    else:
        status, message = 500, "Something went wrong on our side. Please try again."
    return plain(request, status, TITLES.get(status, "Error"), message)


def _html_for_pages(original: Handler) -> Handler:
    async def handler(request: Request, exc: Exception) -> Response:
        if _is_page(request):
            return _page_error(request, exc)
        answer = original(request, exc)
        response: Response = await answer if inspect.isawaitable(answer) else answer
        return response

    return handler


async def _sign_in_first(request: Request, _: Exception) -> Response:
    return redirect(f"{PREFIX}/sign-in?next={request.url.path}")


async def _csrf_refused(request: Request, _: Exception) -> Response:
    return plain(
        request,
        403,
        "Form refused",
        "This form did not come from this site or has expired. Go back, reload the "
        "page and try again.",
    )


def install_web(app: FastAPI) -> None:
    """After the API's error handlers: they are wrapped, not replaced."""
    for kind in (AppError, StarletteHTTPException, RequestValidationError, Exception):
        app.exception_handlers[kind] = _html_for_pages(app.exception_handlers[kind])
    app.add_exception_handler(SignInRequired, _sign_in_first)
    app.add_exception_handler(CsrfRefused, _csrf_refused)
    app.mount(PREFIX + "/static", StaticFiles(directory=str(HERE / "static")), name="web-static")
    include(app, pages.router)
    include(app, guest_pages.router)
    include(app, file_pages.router)
    include(app, people_pages.router)
    include(app, process_pages.router)
    include(app, template_pages.router)
    include(app, task_files.router)
    include(app, email_pages.router)
    include(app, public_pages.router)

    @app.get("/", include_in_schema=False)
    async def root(request: Request) -> Response:
        # No API route is GET /: a browser opens the app; a JSON client gets the API's 404.
        if "text/html" in request.headers.get("accept", ""):
            return RedirectResponse(PREFIX + "/", status_code=302)
        raise StarletteHTTPException(404)

    @app.get(PREFIX, include_in_schema=False)
    async def bare_prefix() -> Response:
        return RedirectResponse(PREFIX + "/", status_code=302)
