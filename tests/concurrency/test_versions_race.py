"""Publishing, and editing a launched template, number versions once under parallel requests."""

from __future__ import annotations

import httpx

from tests.activity.feed import feed
from tests.concurrency.conftest import burst, statuses
from tests.conftest import Org
from tests.support.factories import checklist, db_count, ok, run

TIMES = 8


def test_parallel_publishes_make_one_version(org: Org) -> None:
    template = checklist(org, steps=1, dual_version_enabled=True)
    path = org.path(f"/checklists/{template['id']}/publish")

    def call(client: httpx.Client) -> httpx.Response:
        return client.put(path)

    answers = burst(org.server.api, [(org.token, call)] * TIMES)
    assert statuses(answers) == [200] * TIMES
    assert {a.data["is_published_state"] for a in answers} == {True}
    # Version 1 at creation, version 2 for the step added since: one publish did it.
    where = "checklist_id = :checklist_id"
    assert db_count(org, "checklist_versions", where, checklist_id=template["id"]) == 2
    updates = feed(org, entity_type="checklist", entity_id=template["id"], verb="updated")
    assert [e.get("field") for e in updates].count(["version"]) == 1


def test_parallel_edits_after_a_launch_freeze_the_version_once(org: Org) -> None:
    template = checklist(org, steps=1)
    step = ok(org.api.get(org.path(f"/checklists/{template['id']}/steps")))[0]
    run(org, template["id"])
    path = org.path(f"/checklists/{template['id']}/steps/{step['id']}")

    def call(client: httpx.Client) -> httpx.Response:
        return client.put(path, json={"title": "Edited"})

    answers = burst(org.server.api, [(org.token, call)] * TIMES)
    assert statuses(answers) == [200] * TIMES
    where = "checklist_id = :checklist_id"
    assert db_count(org, "checklist_versions", where, checklist_id=template["id"]) == 1
    launched = run(org, template["id"])
    tasks = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))
    assert [t["title"] for t in tasks] == ["Edited"]
