"""The official Python SDK (tallyfy==3.1.0) against a live checkrun server."""

from __future__ import annotations

import pytest
from tallyfy import TallyfySDK

from tests.conftest import Org


@pytest.fixture
def sdk(org: Org) -> TallyfySDK:
    return TallyfySDK(api_key=org.token, base_url=org.server.api, max_retries=0)
