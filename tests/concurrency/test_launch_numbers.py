"""Launches released together: each run gets its own number and its tasks theirs, with no gap
and no repeat (the organization's counters are bumped in one statement, late in the launch)."""

from __future__ import annotations

from tests.concurrency.conftest import BURST, burst
from tests.conftest import Org
from tests.support.factories import checklist, ok, run

STEPS = 3


def test_parallel_launches_get_distinct_consecutive_numbers(org: Org) -> None:
    template = checklist(org, steps=STEPS)
    before = run(org, template["id"])
    answers = burst(
        org.server.api,
        [
            (org.token, lambda c: c.post(org.path("/runs"), json={"checklist_id": template["id"]}))
            for _ in range(BURST)
        ],
    )
    assert [a.status for a in answers] == [201] * BURST, [a.body for a in answers]
    numbers = sorted(a.data["increment_id"] for a in answers)
    first = before["increment_id"] + 1
    assert numbers == list(range(first, first + BURST))
    runs = ok(org.api.get(org.path(f"/runs?checklist_id={template['id']}&per_page=100")))
    assert len(runs) == BURST + 1
    tasks = [
        t["increment_id"]
        for a in answers
        for t in ok(org.api.get(org.path(f"/runs/{a.data['id']}/tasks")))
    ]
    assert len(tasks) == BURST * STEPS
    lowest = min(tasks)
    assert sorted(tasks) == list(range(lowest, lowest + BURST * STEPS))
