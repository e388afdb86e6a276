"""One error type and its renderers: every refusal leaves as a Tallyfy-shaped JSON body."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from checkrun.kit.validation import laravel_errors

logger = logging.getLogger("checkrun")


class AppError(Exception):
    """A refusal with its HTTP status; services raise these, the app renders them."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        errors: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.errors = errors
        self.headers = headers

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": True, "message": self.message}
        if self.code:
            body["code"] = self.code
        if self.errors:
            body["errors"] = self.errors
        return body


def not_found() -> AppError:
    return AppError(404, "Resource not found", "RESOURCE_NOT_FOUND")


def forbidden(message: str = "You don't have permission to perform this action.") -> AppError:
    return AppError(403, message, "FORBIDDEN")


def bad_request(message: str) -> AppError:
    return AppError(400, message, "BAD_REQUEST")


def unauthenticated(message: str = "Unauthenticated.") -> AppError:
    return AppError(401, message, "UNAUTHENTICATED")


def invalid(errors: dict[str, list[str]]) -> AppError:
    first = next(iter(errors.values()))[0]
    return AppError(422, first, "VALIDATION_ERROR", errors=errors)


def invalid_field(field: str, message: str) -> AppError:
    return invalid({field: [message]})


def _render(err: AppError) -> JSONResponse:
    return JSONResponse(err.body(), status_code=err.status, headers=err.headers)


async def _app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return _render(exc)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return _render(AppError(404, "API endpoint not found", "ENDPOINT_NOT_FOUND"))
    if exc.status_code == 405:
        return _render(AppError(405, "Method not allowed for this endpoint", "METHOD_NOT_ALLOWED"))
    headers = dict(exc.headers) if exc.headers else None
    return _render(AppError(exc.status_code, str(exc.detail), headers=headers))


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return _render(bad_request("The request body is not valid JSON."))
    return _render(invalid(laravel_errors(errors)))


# SQLSTATEs of text the database can't hold (a NUL character, an unsupported escape): the
# request's fault, not the server's. SQLite stores such text; PostgreSQL refuses it.
_UNSTORABLE_TEXT = frozenset({"22021", "22P05"})


_CONFLICT_STATES = frozenset({"23505", "23503"})  # unique, foreign key
_CONFLICT_TEXT = ("UNIQUE constraint failed", "FOREIGN KEY constraint failed")


# PostgreSQL gave up one of two transactions that waited on each other (deadlock), or could
# not serialise it: the change did not happen and may simply be sent again.
_RETRY_STATES = frozenset({"40P01", "40001"})


def _is_conflict(exc: DBAPIError) -> bool:
    state = getattr(exc.orig, "sqlstate", None)
    if state in _RETRY_STATES:
        return True
    if not isinstance(exc, IntegrityError):
        return False
    return state in _CONFLICT_STATES or str(exc.orig).startswith(_CONFLICT_TEXT)


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    if getattr(exc.orig, "sqlstate", None) in _UNSTORABLE_TEXT:
        return _render(bad_request("The request contains characters that can't be stored."))
    if _is_conflict(exc):
        # Two requests raced for the same unique value (or a row vanished under a link): the
        # checks before the write passed for both, the database kept one.
        return _render(
            AppError(
                409, "The request conflicts with a concurrent change. Please try again.", "CONFLICT"
            )
        )
    # A real fault. Logged and answered here rather than re-raised: an exception that reaches
    # the server makes it drop the keep-alive connection, and the client's next request on it
    # fails with a reset.
    logger.error("database error on %s %s", request.method, request.url.path, exc_info=exc)
    return _render(AppError(500, "Internal server error", "SERVER_ERROR"))


async def _row_gone(_: Request, exc: Exception) -> JSONResponse:
    """A row this request read was deleted by a concurrent request before this one wrote it
    (the UPDATE or DELETE matched nothing, or a refresh found nothing): the serial order's
    answer is the 404 the request would have got had it arrived second."""
    return _render(not_found())


async def _client_gone(request: Request, exc: Exception) -> JSONResponse:
    # The client closed the connection before its body was complete: its doing, not a fault,
    # so a line in the log rather than a traceback. Nobody is left to read the answer.
    logger.info(
        "the client went away during %s %s before its body was complete",
        request.method,
        request.url.path,
    )
    return _render(bad_request("The request body was cut off before it was complete."))


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    return _render(AppError(500, "Internal server error", "SERVER_ERROR"))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(StaleDataError, _row_gone)
    app.add_exception_handler(ObjectDeletedError, _row_gone)
    app.add_exception_handler(ClientDisconnect, _client_gone)
    app.add_exception_handler(Exception, _unexpected)
