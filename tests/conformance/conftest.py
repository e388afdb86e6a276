"""The official Python SDK (tallyfy==3.1.0) against a live checkrun server.

The SDK is pointed at the server's root, as its default `https://api.tallyfy.com` has no `/api`
prefix; every test gets a fresh organization, so one domain's failure stays in its own tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from tallyfy import TallyfySDK

from tests.conftest import Org

HEX32 = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def sdk(org: Org) -> Iterator[TallyfySDK]:
    client = TallyfySDK(api_key=org.token, base_url=org.server.base, max_retries=0)
    yield client
    client.close()


def is_hex32(value: Any) -> bool:
    return isinstance(value, str) and HEX32.match(value) is not None


def data(response: Any, status: int = 200) -> Any:
    """The `data` of a plain-HTTP read-back, after checking its status."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    return response.json()["data"]


def sdk_for(org: Org, client: Any) -> TallyfySDK:
    """An SDK acting as the member behind `client` (from `org.member(role)`)."""
    token = client.headers["Authorization"].removeprefix("Bearer ")
    return TallyfySDK(api_key=token, base_url=org.server.base, max_retries=0)
