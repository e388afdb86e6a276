"""Two server processes on one database (two in-process servers, each with its own scheduler,
engine and event loop): every job's effect happens exactly once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest

from checkrun.kit import events
from tests.conftest import LiveServer, Org, _start, _stop, free_port, live_server, new_org
from tests.scheduler.conftest import (
    BASE,
    FAST_SCHEDULER,
    deadline_of,
    eventually,
    one_off,
    query,
    ticks,
)
from tests.support.clock import MovableClock

DEADLINE = BASE + timedelta(days=2, hours=3)
PLAIN, EXPIRING = 20, 10  # more than a batch (7) each: jobs run again at once


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def pair(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, clock: MovableClock
) -> Iterator[tuple[LiveServer, LiveServer]]:
    with live_server(
        request.param,
        tmp_path_factory.mktemp(f"pair-{request.param}"),
        clock_file=clock.path,
        **FAST_SCHEDULER,
    ) as first:
        port = free_port()
        settings = first.settings.model_copy(update={"public_url": f"http://127.0.0.1:{port}"})
        uv, thread, port = _start(settings, port)
        try:
            yield first, LiveServer(first.backend, settings, f"http://127.0.0.1:{port}")
        finally:
            _stop(uv, thread)


@pytest.fixture
def pair_org(pair: tuple[LiveServer, LiveServer], clock: MovableClock) -> Iterator[Org]:
    clock.set(BASE)
    with new_org(pair[0]) as made:
        yield made


def _count(server: LiveServer, sql: str, **params: object) -> int:
    return int(query(server, sql, **params)[0][0])


def test_each_reminder_and_expiry_happens_once(
    pair: tuple[LiveServer, LiveServer],
    pair_org: Org,
    clock: MovableClock,
    emitted: list[events.Event],
) -> None:
    first, second = pair
    plain = [one_off(pair_org, DEADLINE) for _ in range(PLAIN)]
    expiring = [one_off(pair_org, DEADLINE, task_type="expiring") for _ in range(EXPIRING)]
    # The second process sees the first one's organization: one database.
    with second.client(pair_org.token) as other:
        assert other.get(pair_org.path(f"/tasks/{plain[0]['id']}")).status_code == 200

    clock.set(deadline_of(plain[0]) - timedelta(hours=23))
    ids = [t["id"] for t in plain + expiring]
    eventually(
        lambda: (
            _count(
                first,
                "SELECT count(*) FROM tasks WHERE org_id = :o AND reminded_soon_for IS NOT NULL",
                o=pair_org.id,
            )
            == len(ids)
        ),
        what="every due-soon reminder",
    )
    clock.set(deadline_of(plain[0]) + timedelta(hours=1))
    eventually(
        lambda: (
            _count(
                first,
                "SELECT count(*) FROM tasks WHERE org_id = :o AND "
                "(reminded_overdue_for IS NOT NULL OR status = 'completed')",
                o=pair_org.id,
            )
            == len(ids)
        ),
        what="every overdue and expiry",
    )
    for job in ("reminders", "expiring_tasks"):
        ticks(first, job)

    seen = Counter((e.task_id, e.verb) for e in emitted if e.task_id in ids)
    for task in plain:
        assert (seen[(task["id"], "due-soon")], seen[(task["id"], "overdue")]) == (1, 1)
    for task in expiring:
        assert (
            seen[(task["id"], "due-soon")],
            seen[(task["id"], "overdue")],
            seen[(task["id"], "completed")],
        ) == (1, 0, 1)
        assert (
            _count(
                first,
                "SELECT count(*) FROM activity_feeds WHERE task_id = :t AND verb = 'completed'",
                t=task["id"],
            )
            == 1
        )
