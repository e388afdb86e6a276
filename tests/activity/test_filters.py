"""The documented filters of GET /activity-feeds, their 422s, sorting and pagination."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.activity.feed import feed, summary
from tests.conftest import Org
from tests.support.factories import checklist, ok, one_off_task, run

TODAY = datetime.now(UTC).date()


def test_run_scope_holds_the_whole_process_history(org: Org) -> None:
    launched = run(org, checklist(org, steps=1)["id"])
    (task,) = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))
    ok(
        org.api.post(
            org.path(f"/runs/{launched['id']}/completed-tasks"), json={"task_id": task["id"]}
        )
    )
    other = run(org)
    scoped = feed(org, entity_type="run", entity_id=launched["id"])
    assert {e["run_id"] for e in scoped} == {launched["id"]}
    assert {e["entity_id"] for e in scoped} == {launched["id"], task["id"]}
    # Without an id, the scope is every process's history; without a type, the subject's id.
    assert other["id"] in {e["run_id"] for e in feed(org, entity_type="run")}
    assert summary(feed(org, entity_id=task["id"])) == [("Task", "completed", None)]
    assert [e["type"] for e in feed(org, entity_type="task")] == [["Task"]]


def test_checklist_scope_is_the_template_and_its_steps_only(org: Org) -> None:
    template = checklist(org, steps=1)
    run(org, template["id"])
    entries = feed(org, entity_type="checklist", entity_id=template["id"])
    assert summary(entries) == [("Blueprint", "created", None), ("Step", "created", None)]
    step_entry = feed(org, entity_type="step")
    assert [e["checklist_id"] for e in step_entry] == [template["id"]]


def test_type_verb_field_and_search_filters(org: Org) -> None:
    template = checklist(org, steps=0)
    ok(org.api.put(org.path(f"/checklists/{template['id']}"), json={"title": "Quarterly close"}))
    one_off_task(org, title="Call the bank")
    assert summary(feed(org, type="Task")) == [("Task", "created", None)]
    assert summary(feed(org, type="blueprint")) == [
        ("Blueprint", "created", None),
        ("Blueprint", "updated", "title"),
    ]
    assert summary(feed(org, verb="updated")) == [("Blueprint", "updated", "title")]
    assert summary(feed(org, field="title")) == [("Blueprint", "updated", "title")]
    assert summary(feed(org, search="BANK")) == [("Task", "created", None)]
    assert feed(org, search="100%") == []
    assert feed(org, verb="deleted") == []


def test_actor_and_source_filters(org: Org) -> None:
    user_id, client = org.member("standard")
    one_off_task(org)
    mine = ok(
        client.post(
            org.path("/tasks"),
            json={
                "title": "Mine",
                "task_type": "task",
                "owners": {"users": [user_id]},
                "deadline": "2030-01-01T12:00:00Z",
            },
        ),
        201,
    )
    by_member = feed(org, actor_id=user_id)
    assert [e["entity_id"] for e in by_member] == [mine["id"]]
    email = client.get("/me").json()["data"]["email"]
    assert [e["entity_id"] for e in feed(org, actor_email=email.upper())] == [mine["id"]]
    assert len(feed(org, actor_type="user", type="Task")) == 2
    assert feed(org, actor_type="guest") == []
    assert len(feed(org, source="member", type="Task")) == 2
    assert feed(org, source="Webhook") == []
    assert feed(org, actor_email="nobody@example.com") == []


def test_created_dates_are_inclusive_days(org: Org) -> None:
    one_off_task(org)
    today, tomorrow = TODAY.isoformat(), (TODAY + timedelta(days=1)).isoformat()
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    assert len(feed(org, created_after=today, created_before=today)) == 1
    assert len(feed(org, created_after=yesterday)) == 1
    assert feed(org, created_after=tomorrow) == []
    assert feed(org, created_before=yesterday) == []


def test_origin_filters(org: Org) -> None:
    template = checklist(org, steps=1)
    (step,) = ok(org.api.get(org.path(f"/checklists/{template['id']}/steps")))
    parent = run(org, template["id"])
    child = run(org, checklist(org, steps=1)["id"], parent_id=parent["id"])
    launched_from = feed(org, origin_type="checklist", origin_id=template["id"])
    assert {e["run_id"] for e in launched_from} == {parent["id"]}
    assert [e["run_id"] for e in feed(org, origin_type="run", origin_id=parent["id"])] == [
        child["id"]
    ]
    (task,) = ok(org.api.get(org.path(f"/runs/{parent['id']}/tasks")))
    ok(
        org.api.post(
            org.path(f"/runs/{parent['id']}/completed-tasks"), json={"task_id": task["id"]}
        )
    )
    from_step = feed(org, origin_type="step", origin_id=step["id"])
    assert [(e["entity_id"], e["verb"]) for e in from_step] == [(task["id"], ["completed"])]
    assert {e["run_id"] for e in feed(org, origin_type="run")} == {child["id"]}


def test_sort_and_pagination(org: Org) -> None:
    for i in range(5):
        one_off_task(org, title=f"Task {i}")
    newest = feed(org)
    assert [e["description"][0] for e in newest] == [f"Created Task {i}" for i in range(4, -1, -1)]
    oldest = feed(org, sort="created_at")
    assert [e["id"] for e in oldest] == [e["id"] for e in reversed(newest)]
    page = org.api.get(org.path("/activity-feeds"), params={"per_page": 2, "page": 2}).json()
    assert [e["id"] for e in page["data"]] == [e["id"] for e in newest[2:4]]
    meta = page["meta"]["pagination"]
    assert (
        meta["total"],
        meta["count"],
        meta["per_page"],
        meta["current_page"],
        meta["total_pages"],
    ) == (5, 2, 2, 2, 3)
    assert "page=3" in meta["links"]["next"] and "page=1" in meta["links"]["previous"]
    default = org.api.get(org.path("/activity-feeds")).json()["meta"]["pagination"]
    assert default["per_page"] == 20
    capped = org.api.get(org.path("/activity-feeds"), params={"per_page": 500}).json()
    assert capped["meta"]["pagination"]["per_page"] == 100


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"entity_type": "process"}, "entity_type"),
        ({"type": "Run"}, "type"),
        ({"verb": "exploded"}, "verb"),
        ({"actor_type": "robot"}, "actor_type"),
        ({"actor_id": "abc"}, "actor_id"),
        ({"actor_id": "-4"}, "actor_id"),
        ({"source": "Email"}, "source"),
        ({"created_after": "2025-13-01"}, "created_after"),
        ({"created_after": "20250101"}, "created_after"),
        ({"created_before": "2025-01-01T10:00:00Z"}, "created_before"),
        ({"created_after": "2025-02-01", "created_before": "2025-01-01"}, "created_before"),
        ({"search": "a"}, "search"),
        ({"search": "x" * 101}, "search"),
        ({"origin_id": "abc"}, "origin_type"),
        ({"origin_type": "folder"}, "origin_type"),
        ({"sort": "title"}, "sort"),
        ({"field": "f" * 101}, "field"),
    ],
)
def test_bad_filters_are_422(org: Org, params: dict[str, str], field: str) -> None:
    response = org.api.get(org.path("/activity-feeds"), params=params)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] is True and list(body["errors"]) == [field]
    assert body["message"] == body["errors"][field][0]


def test_the_feed_answers_at_the_root_path_too(org: Org) -> None:
    one_off_task(org)
    with org.server.client(org.token, prefix="") as root:
        response = root.get(org.path("/activity-feeds"))
    assert response.status_code == 200
    assert [e["type"] for e in response.json()["data"]] == [["Task"]]
