"""Wakes this process's delivery workers when a transaction that wrote deliveries commits, so
that they do not wait for their next poll. Other processes find the rows when they poll."""

from __future__ import annotations

import asyncio
import threading

_lock = threading.Lock()
_waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()


def register(loop: asyncio.AbstractEventLoop, flag: asyncio.Event) -> None:
    with _lock:
        _waiters.add((loop, flag))


def unregister(loop: asyncio.AbstractEventLoop, flag: asyncio.Event) -> None:
    with _lock:
        _waiters.discard((loop, flag))


def wake_all() -> None:
    """Callable from any thread: each event is set on its own loop."""
    with _lock:
        waiters = list(_waiters)
    for loop, flag in waiters:
        try:
            loop.call_soon_threadsafe(flag.set)
        except RuntimeError:  # that loop has closed since
            unregister(loop, flag)
