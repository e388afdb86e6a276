"""Helpers for the guest tests: guest builders and a recorder of the domain events the live
server (which runs in this process) emits."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.kit import events
from tests.conftest import Org
from tests.support.factories import ok


def address(prefix: str = "guest") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"


def guest(org: Org, email: str | None = None, **fields: Any) -> dict[str, Any]:
    body = {"email": email or address(), "first_name": "Grace", "last_name": "Hopper", **fields}
    return ok(org.api.post(org.path("/guests"), json=body), 201)


def refused(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["error"] is True
    return body


class Recorder:
    def __init__(self) -> None:
        self.seen: list[events.Event] = []

    async def __call__(self, _db: AsyncSession, event: events.Event) -> None:
        self.seen.append(event)

    def of(self, org: Org, type_: str = "Guest") -> list[tuple[str, str]]:
        return [(e.verb, e.entity_id) for e in self.seen if e.org_id == org.id and e.type == type_]


@pytest.fixture
def recorded() -> Iterator[Recorder]:
    recorder = Recorder()
    events.subscribe(recorder)
    try:
        yield recorder
    finally:
        events.unsubscribe(recorder)
