"""The log of `checkrun serve`: the app's events and one access line per request, as text or as
JSON lines (CHECKRUN_LOG_FORMAT=json), each carrying the id of the request it happened in."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import MutableMapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from checkrun.config import Settings

# The id of the request being handled (set by `kit.observe` for the request's whole course).
request_id: ContextVar[str | None] = ContextVar("checkrun_request_id", default=None)

# Where authentication records who made the request (`note_actor`), for the access line.
ACTOR = "checkrun.actor"

# Loggers whose lines go through the same formatter: the app's and the server's own.
SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def note_actor(scope: MutableMapping[str, Any], user_id: int, org_id: str | None) -> None:
    """Called where a token or a web session is resolved."""
    scope[ACTOR] = (user_id, org_id)


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields: dict[str, Any] = getattr(record, "fields", None) or {}
    rid = request_id.get()
    if rid is not None and "request_id" not in fields:
        fields = {"request_id": rid, **fields}
    return fields


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = " ".join(f"{k}={v}" for k, v in _fields(record).items() if v is not None)
        return f"{text} {fields}" if fields else text


class _OwnHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler checkrun installed, so that configuring again replaces it."""


def configure_logging(settings: Settings) -> None:
    """Called by the app factory of `checkrun serve` (after uvicorn configured its loggers): the
    `checkrun` loggers write to stderr at INFO; in JSON mode the server's lines are JSON too.
    checkrun's access line replaces uvicorn's, which has no request id, route or actor."""
    formatter: logging.Formatter = (
        JsonFormatter() if settings.log_format == "json" else TextFormatter()
    )
    logger = logging.getLogger("checkrun")
    for old in [h for h in logger.handlers if isinstance(h, _OwnHandler)]:
        logger.removeHandler(old)
    handler = _OwnHandler(sys.stderr)
    handler.setFormatter(formatter)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    if settings.log_format == "json":
        for name in SERVER_LOGGERS:
            for server_handler in logging.getLogger(name).handlers:
                server_handler.setFormatter(formatter)
    logging.getLogger("uvicorn.access").disabled = settings.access_log
