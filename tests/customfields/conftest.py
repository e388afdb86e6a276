from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import LiveServer, Org, new_org


@pytest.fixture
def other_org(server: LiveServer) -> Iterator[Org]:
    """A second organization on the same server, for what must not cross between them."""
    with new_org(server) as made:
        yield made
