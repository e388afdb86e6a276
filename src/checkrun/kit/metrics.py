"""The metrics each process keeps (served by `checkrun.scrape`).

Counters and histograms are kept per process (`prometheus_client`'s default registry). Under
`checkrun serve --workers N` a scrape reaches one worker, so set PROMETHEUS_MULTIPROC_DIR (an
empty directory, emptied at each start): prometheus_client then keeps every worker's values in
files there and any worker's scrape adds them all up."""

from __future__ import annotations

import os

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics, multiprocess
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

# A `_created` series beside every counter and histogram doubles a scrape for little use.
disable_created_metrics()  # type: ignore[no-untyped-call]

REQUESTS = Counter(
    "checkrun_http_requests",
    "HTTP requests answered, by route template, method and status",
    ["method", "route", "status"],
)
DURATION = Histogram(
    "checkrun_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by route template and method",
    ["method", "route"],
)
UPLOAD_BYTES = Counter("checkrun_upload_bytes", "Bytes of files stored by uploads")
WEBHOOK_ATTEMPTS = Counter(
    "checkrun_webhook_attempts",
    "Webhook delivery attempts, by outcome (delivered, retry, dead)",
    ["outcome"],
)
MAIL_ATTEMPTS = Counter(
    "checkrun_mail_attempts", "Email sending attempts, by outcome (sent, retry, dead)", ["outcome"]
)
for outcome in ("delivered", "retry", "dead"):
    WEBHOOK_ATTEMPTS.labels(outcome)  # shown at 0 before the first attempt
for outcome in ("sent", "retry", "dead"):
    MAIL_ATTEMPTS.labels(outcome)
# Summed over the live processes (a worker's share goes when it stops).
POOL_SIZE = Gauge(
    "checkrun_db_pool_size", "Database connections the pool keeps", multiprocess_mode="livesum"
)
POOL_CHECKED_OUT = Gauge(
    "checkrun_db_pool_checked_out",
    "Database connections in use",
    multiprocess_mode="livesum",
)


def multiprocess_mode() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def watch_pool(
    engine: AsyncEngine, size: Gauge = POOL_SIZE, checked_out: Gauge = POOL_CHECKED_OUT
) -> None:
    """Connections in use, counted as the pool hands them out and takes them back."""
    size.inc(_size(engine))
    event.listen(engine.sync_engine, "checkout", lambda *_: checked_out.inc())
    event.listen(engine.sync_engine, "checkin", lambda *_: checked_out.dec())


def _size(engine: AsyncEngine) -> int:
    size = getattr(engine.sync_engine.pool, "size", None)
    return int(size()) if callable(size) else 0


def unwatch_pool(engine: AsyncEngine) -> None:
    POOL_SIZE.dec(_size(engine))
    if multiprocess_mode():
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
