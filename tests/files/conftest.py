"""Every file test runs on each database and each store (local files, S3 on moto)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import STORE_COMBOS, LiveServer, Org, combo_server, new_org

TINY_LIMIT = 1024


@pytest.fixture
def org(files_org: Org) -> Org:
    return files_org


@pytest.fixture(scope="session", params=STORE_COMBOS)
def tiny_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server that takes files of at most TINY_LIMIT bytes."""
    with combo_server(
        request, tmp_path_factory.mktemp(f"tiny-{request.param}"), max_upload_bytes=TINY_LIMIT
    ) as live:
        yield live


@pytest.fixture
def tiny_org(tiny_server: LiveServer) -> Iterator[Org]:
    with new_org(tiny_server) as made:
        yield made
