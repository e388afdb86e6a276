"""Wakes this process's background workers when a transaction that wrote work for them
commits, so that they do not wait for their next poll. Other processes find the rows when they
poll."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession


class Waiters:
    """The workers (one event per event loop) of one kind of work."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def register(self, loop: asyncio.AbstractEventLoop, flag: asyncio.Event) -> None:
        with self._lock:
            self._waiters.add((loop, flag))

    def unregister(self, loop: asyncio.AbstractEventLoop, flag: asyncio.Event) -> None:
        with self._lock:
            self._waiters.discard((loop, flag))

    def wake_all(self) -> None:
        """Callable from any thread: each event is set on its own loop."""
        with self._lock:
            waiters = list(self._waiters)
        for loop, flag in waiters:
            try:
                loop.call_soon_threadsafe(flag.set)
            except RuntimeError:  # that loop has closed since
                self.unregister(loop, flag)

    def after_commit(self, db: AsyncSession) -> None:
        """Wakes them once when `db`'s transaction commits (not if it rolls back)."""
        session = db.sync_session
        key = f"wake:{self.name}"
        if session.info.get(key):
            return
        session.info[key] = True

        def committed(*_: Any) -> None:
            session.info.pop(key, None)
            self.wake_all()

        def rolled_back(*_: Any) -> None:
            session.info.pop(key, None)

        sa_event.listen(session, "after_commit", committed, once=True)
        sa_event.listen(session, "after_soft_rollback", rolled_back, once=True)


WEBHOOKS = Waiters("webhooks")
# The scheduler, woken by a read that summed a long history of task-count change rows.
FOLDS = Waiters("folds")
MAIL = Waiters("mail")
