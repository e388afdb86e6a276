"""Reading the activity feed in tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Org
from tests.support.factories import ok


def feed(org: Org, client: httpx.Client | None = None, **params: Any) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = ok(
        (client or org.api).get(org.path("/activity-feeds"), params={"per_page": 100, **params})
    )
    return entries


def summary(entries: list[dict[str, Any]]) -> list[tuple[str, str, str | None]]:
    """(type, verb, field) of each entry, oldest first."""
    return [(e["type"][0], e["verb"][0], (e["field"] or [None])[0]) for e in reversed(entries)]


def about(
    org: Org, entity_type: str, entity_id: str, **params: Any
) -> list[tuple[str, str, str | None]]:
    return summary(feed(org, entity_type=entity_type, entity_id=entity_id, **params))
