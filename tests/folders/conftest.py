"""An event recorder: the servers run in this process, so a listener sees what they emit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.kit import events


@pytest.fixture
def emitted() -> Iterator[list[events.Event]]:
    seen: list[events.Event] = []

    async def record(_: AsyncSession, event: events.Event) -> None:
        seen.append(event)

    events.subscribe(record)
    try:
        yield seen
    finally:
        events._listeners.remove(record)
