"""Python calls per request, charged to the innermost checkrun function above each call.

CPU time on a shared two-core machine moves by ±30 % from one minute to the next; the number
of Python function calls a request makes does not (within a few per cent: requests differ
in the rules they run). `count` runs a coroutine under `sys.setprofile` and charges every
call to the nearest frame of checkrun's own code on its stack, following a greenlet's parent
(SQLAlchemy's async bridge runs the ORM in a greenlet), or to `<outside>` (the client, the
framework's outer layers). Generator resumptions count as calls too: compare a branch with
another, not with CPU figures.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from types import FrameType
from typing import Any

import greenlet

OWN = "/checkrun/"


def _frames(frame: FrameType | None) -> Iterator[FrameType]:
    current: Any = greenlet.getcurrent()
    while True:
        while frame is not None:
            yield frame
            frame = frame.f_back
        current = current.parent
        if current is None:
            return
        frame = current.gr_frame


def _site(frame: FrameType, lines: bool) -> str | None:
    name = frame.f_code.co_filename
    if OWN not in name or "/site-packages/" in name:
        return None
    where = f"{name.split(OWN, 1)[1]}:{frame.f_code.co_name}"
    return f"{where}:{frame.f_lineno}" if lines else where


async def count(run: Callable[[], Awaitable[None]], lines: bool = False) -> Counter[str]:
    """The calls `run` makes, by checkrun function (and line, with `lines`)."""
    counts: Counter[str] = Counter()

    def profile(frame: FrameType, event: str, _arg: Any) -> None:
        if event != "call":
            return
        for above in _frames(frame):
            site = _site(above, lines)
            if site is not None:
                counts[site] += 1
                return
        counts["<outside>"] += 1

    sys.setprofile(profile)
    try:
        await run()
    finally:
        sys.setprofile(None)
    return counts


def report(counts: Counter[str], requests: int, top: int) -> list[str]:
    total = sum(counts.values())
    out = [f"{total / requests:.0f} Python calls per request"]
    out += [f"    {n / requests:7.0f}  {site}" for site, n in counts.most_common(top)]
    return out
