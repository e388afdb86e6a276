"""Stopping a process's background loops (the scheduler, the outbox workers) at shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

log = logging.getLogger("checkrun")
# At shutdown a loop first gets GRACE_SECONDS to finish the statement or delivery in hand and
# stop by itself (cancelling mid-statement leaves the driver's connection to clean up after
# the event loop is gone), then it is cancelled and given STOP_SECONDS more.
GRACE_SECONDS = 5.0
STOP_SECONDS = 10.0


def cancelling() -> bool:
    """True while the running task is being cancelled, even when the code it interrupted (a
    database driver mid-statement) raised another error instead of the cancellation."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def stop_tasks(tasks: Iterable[asyncio.Task[None]], label: str, grace: float = 0) -> None:
    """Waits up to `grace` for `tasks` to end, then cancels what is left and waits for it at
    most STOP_SECONDS: a shutdown never hangs on a loop that would not stop (it is logged and
    left behind)."""
    pending = set(tasks)
    if not pending:
        return
    done, pending = await asyncio.wait(pending, timeout=grace) if grace else (set(), pending)
    for task in pending:
        task.cancel()
    if pending:
        stopped, left = await asyncio.wait(pending, timeout=STOP_SECONDS)
        done |= stopped
        if left:
            log.error("%s did not stop within %.0f s; leaving it behind", label, STOP_SECONDS)
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            log.error("%s ended with an error while stopping", label, exc_info=task.exception())
