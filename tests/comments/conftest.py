"""Fixtures of the thread tests: what a process and its tasks look like, the domain events
the server emits (the test servers run in this process), and the official SDK."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from tallyfy import TallyfySDK

from tests.conftest import Org
from tests.support.factories import ok, run


@dataclass
class Process:
    run: dict[str, Any]
    tasks: list[dict[str, Any]]

    @property
    def id(self) -> str:
        return str(self.run["id"])


@pytest.fixture
def process(org: Org) -> Process:
    launched = run(org)
    tasks = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))
    return Process(launched, tasks)


@pytest.fixture
def sdk(org: Org) -> Iterator[TallyfySDK]:
    client = TallyfySDK(api_key=org.token, base_url=org.server.base, max_retries=0)
    yield client
    client.close()
