"""Publishing, and editing a launched template, number versions once under parallel requests."""

from __future__ import annotations

import httpx

from tests.activity.feed import feed
from tests.concurrency.conftest import Call, burst, statuses
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


def _runs_not_matching_their_version(org: Org, template_id: str) -> int:
    """Tasks whose title is not in the frozen content of their run's version (or whose run's
    version is not frozen)."""
    joined = (
        "runs r JOIN tasks t ON t.run_id = r.id LEFT JOIN checklist_versions cv"
        " ON cv.checklist_id = r.checklist_id AND cv.version = r.version"
    )
    where = (
        "r.checklist_id = :checklist_id AND (cv.id IS NULL OR"
        " CAST(cv.content AS TEXT) NOT LIKE '%' || t.title || '%')"
    )
    return db_count(org, joined, where, checklist_id=template_id)


def _launch_and_edit(org: Org, template_id: str, step_path: str) -> tuple[Call, Call]:
    def launch(client: httpx.Client) -> httpx.Response:
        return client.post(org.path("/runs"), json={"checklist_id": template_id})

    def edit(client: httpx.Client) -> httpx.Response:
        return client.put(step_path, json={"title": "Edited step"})

    return launch, edit


def test_launches_and_the_first_edit_in_parallel_keep_each_run_its_version(org: Org) -> None:
    for _ in range(3):
        template = checklist(org, steps=1)
        step = ok(org.api.get(org.path(f"/checklists/{template['id']}/steps")))[0]
        step_path = org.path(f"/checklists/{template['id']}/steps/{step['id']}")

        launch, edit = _launch_and_edit(org, template["id"], step_path)
        calls = [(org.token, launch)] * 4 + [(org.token, edit)] * 2
        answers = burst(org.server.api, calls)
        assert statuses(answers) == [200] * 2 + [201] * 4
        # One more edit freezes the version now current if it was launched.
        ok(org.api.put(step_path, json={"title": "Final"}))
        # Each run copied the step as its version (frozen since) has it: an edit made while
        # a launch was under way didn't change the launched version in place.
        assert _runs_not_matching_their_version(org, template["id"]) == 0
