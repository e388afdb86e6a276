"""Today's answers, pinned: one snapshot file per resource under data/, the same for both
databases. A renamed, retyped, reordered or re-nested field fails here unless the snapshot is
rewritten on purpose (CHECKRUN_UPDATE_SNAPSHOTS=1) and the change reviewed in the diff."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import live_server
from tests.snapshots.normalise import Normaliser
from tests.snapshots.reads import READS
from tests.snapshots.scenario import START, World, build
from tests.support.clock import MovableClock

DATA = Path(__file__).parent / "data"
UPDATE = os.environ.get("CHECKRUN_UPDATE_SNAPSHOTS") == "1"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    data = tmp_path_factory.mktemp(f"snapshots-{request.param}")
    clock = MovableClock(tmp_path_factory.mktemp("clock") / "now", START)
    with live_server(request.param, data, clock_file=clock.path) as live:
        made = build(live, clock)
        try:
            for read in READS.values():
                read(made)
            yield made
        finally:
            for client in (made.api, *made.clients):
                client.close()


def pinned(world: World, resource: str) -> str:
    return Normaliser(world.server.base, world.secrets).text(world.answers[resource])


@pytest.mark.parametrize("resource", list(READS))
def test_answers_match_the_snapshot(world: World, resource: str) -> None:
    path = DATA / f"{resource}.json"
    actual = pinned(world, resource)
    if UPDATE:
        path.write_text(actual)
        return
    assert path.exists(), f"no snapshot {path.name}: run with CHECKRUN_UPDATE_SNAPSHOTS=1"
    expected = path.read_text()
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                "snapshot",
                "answer",
                n=2,
            )
        )
        pytest.fail(f"{resource} ({world.server.backend}) changed:\n{diff}", pytrace=False)


def test_every_snapshot_file_has_its_resource() -> None:
    """A snapshot whose reads were removed would otherwise pin nothing, silently."""
    assert sorted(p.stem for p in DATA.glob("*.json")) == sorted(READS)
