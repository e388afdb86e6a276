"""Every state change happens once when the same request arrives many times at once: one
winner, the others get the answer the serial order gives them, and there is one activity entry
and one webhook delivery, never more."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.activity.feed import feed
from tests.concurrency.conftest import BURST, Answer, burst, statuses
from tests.conftest import Org
from tests.support.factories import checklist, ok, one_off_task, run
from tests.webhooks.conftest import WAIT, Receiver, deliveries

HOOK = "/hook"


def template(org: Org, url: str, steps: int = 1, **step: Any) -> dict[str, Any]:
    made = checklist(org, steps=0, webhook=url)
    for i in range(steps):
        ok(
            org.api.post(
                org.path(f"/checklists/{made['id']}/steps"), json={"title": f"Step {i + 1}", **step}
            ),
            201,
        )
    return made


def tasks_of(org: Org, launched: dict[str, Any]) -> list[dict[str, Any]]:
    return ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))


def same(org: Org, method: str, path: str, json: Any = None, times: int = BURST) -> list[Answer]:
    def call(client: httpx.Client) -> httpx.Response:
        return client.request(method, org.path(path), json=json)

    return burst(org.server.api, [(org.token, call)] * times)


def entries(org: Org, entity_type: str, entity_id: str, verb: str, **params: Any) -> int:
    return len(feed(org, entity_type=entity_type, entity_id=entity_id, verb=verb, **params))


def sent(org: Org, receiver: Receiver, event: str, task_id: str | None = None) -> int:
    """How many `event` deliveries (of this task's, if given) reached the receiver, once every
    outbox row is sent; the outbox and the receiver must agree, with a delivery id each."""
    where = "event = :event" + (" AND task_id = :task_id" if task_id else "")
    deadline = time.monotonic() + WAIT
    while any(
        r["status"] == "pending" for r in deliveries(org, where, event=event, task_id=task_id)
    ):
        assert time.monotonic() < deadline, deliveries(org)
        time.sleep(0.05)
    rows = deliveries(org, where, event=event, task_id=task_id)
    got = [
        r
        for r in receiver.to(HOOK)
        if r.header("X-Checkrun-Event") == event
        and (task_id is None or r.json["this_task"]["id"] == task_id)
    ]
    assert len({r.header("X-Checkrun-Delivery") for r in got}) == len(got) == len(rows)
    return len(rows)


def no_server_errors(answers: list[Answer]) -> None:
    assert all(0 < a.status < 500 for a in answers), [(a.status, a.body) for a in answers]


def test_one_task_completed_at_once_completes_once(org: Org, receiver: Receiver) -> None:
    launched = run(org, template(org, receiver.url(HOOK), steps=2)["id"])
    task = tasks_of(org, launched)[0]
    answers = same(org, "POST", f"/runs/{launched['id']}/completed-tasks", {"task_id": task["id"]})
    no_server_errors(answers)
    assert statuses(answers) == [200] + [422] * (BURST - 1)
    losers = [a for a in answers if a.status == 422]
    assert all(list(a.body["errors"]) == ["task_id"] for a in losers)
    assert entries(org, "task", task["id"], "completed") == 1
    assert sent(org, receiver, "task.completed", task_id=task["id"]) == 1


def test_one_off_task_completed_at_once_completes_once(org: Org) -> None:
    task = one_off_task(org)
    answers = same(org, "POST", "/completed-tasks", {"task_id": task["id"]})
    no_server_errors(answers)
    assert statuses(answers) == [200] + [422] * (BURST - 1)
    assert entries(org, "task", task["id"], "completed") == 1


def test_everyone_must_complete_completes_once_when_all_complete_at_once(
    org: Org, receiver: Receiver
) -> None:
    members = [org.member("standard") for _ in range(BURST - 1)]
    tokens = [org.token] + [
        str(c.headers["Authorization"]).removeprefix("Bearer ") for _, c in members
    ]
    assignees = [org.admin_id] + [member_id for member_id, _ in members]
    for _, client in members:
        client.close()
    launched = run(
        org,
        template(org, receiver.url(HOOK), everyone_must_complete=True, assignees=assignees)["id"],
    )
    (task,) = tasks_of(org, launched)
    path = org.path(f"/runs/{launched['id']}/completed-tasks")

    def call(client: httpx.Client) -> httpx.Response:
        return client.post(path, json={"task_id": task["id"]})

    answers = burst(org.server.api, [(token, call) for token in tokens])
    no_server_errors(answers)
    assert statuses(answers) == [200] * BURST
    assert sorted(a.data["status"] for a in answers) == ["completed"] + ["in-progress"] * (
        BURST - 1
    )
    assert (
        ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks/{task['id']}")))["status"]
        == "completed"
    )
    assert ok(org.api.get(org.path(f"/runs/{launched['id']}")))["status"] == "complete"
    assert entries(org, "task", task["id"], "completed") == 1
    assert entries(org, "run", launched["id"], "completed", type="Process") == 1
    assert sent(org, receiver, "task.completed", task_id=task["id"]) == 1
    assert sent(org, receiver, "process.completed") == 1


def test_the_last_two_tasks_completed_at_once_complete_the_run_once(
    org: Org, receiver: Receiver
) -> None:
    launched = run(org, template(org, receiver.url(HOOK), steps=2)["id"])
    first, second = tasks_of(org, launched)
    path = org.path(f"/runs/{launched['id']}/completed-tasks")

    def completing(task_id: str) -> Any:
        return lambda client: client.post(path, json={"task_id": task_id})

    calls = [(org.token, completing(t["id"])) for t in (first, second)] * (BURST // 2)
    answers = burst(org.server.api, calls)
    no_server_errors(answers)
    assert statuses(answers) == [200] * 2 + [422] * (BURST - 2)
    assert ok(org.api.get(org.path(f"/runs/{launched['id']}")))["status"] == "complete"
    assert entries(org, "run", launched["id"], "completed", type="Process") == 1
    assert sent(org, receiver, "process.completed") == 1
    for task in (first, second):
        assert sent(org, receiver, "task.completed", task_id=task["id"]) == 1


def test_one_task_reopened_at_once_reopens_once(org: Org) -> None:
    launched = run(org, checklist(org, steps=1)["id"])
    (task,) = tasks_of(org, launched)
    base = f"/runs/{launched['id']}/completed-tasks"
    ok(org.api.post(org.path(base), json={"task_id": task["id"]}))
    answers = same(org, "DELETE", f"{base}/{task['id']}")
    no_server_errors(answers)
    assert statuses(answers) == [200] + [422] * (BURST - 1)
    assert entries(org, "task", task["id"], "re-opened") == 1
    assert ok(org.api.get(org.path(f"/runs/{launched['id']}")))["status"] == "active"


def test_kickoff_form_completed_at_once_completes_the_run_once(
    org: Org, receiver: Receiver
) -> None:
    launched = run(org, template(org, receiver.url(HOOK))["id"])
    (task,) = tasks_of(org, launched)
    ok(org.api.delete(org.path(f"/runs/{launched['id']}/complete-prerun")))
    ok(
        org.api.post(
            org.path(f"/runs/{launched['id']}/completed-tasks"), json={"task_id": task["id"]}
        )
    )
    answers = same(org, "POST", f"/runs/{launched['id']}/complete-prerun")
    no_server_errors(answers)
    assert statuses(answers) == [200] * BURST
    assert {a.data["status"] for a in answers} == {"complete"}
    assert entries(org, "run", launched["id"], "updated", field="prerun_status") == 2
    assert entries(org, "run", launched["id"], "completed", type="Process") == 1
    assert sent(org, receiver, "process.completed") == 1


def test_an_issue_resolved_at_once_is_resolved_once(org: Org) -> None:
    task = one_off_task(org)
    issue = ok(
        org.api.post(org.path(f"/tasks/{task['id']}/problem"), json={"content": "Blocked"}), 201
    )
    answers = same(org, "POST", f"/tasks/{task['id']}/resolved-threads", {"thread_id": issue["id"]})
    no_server_errors(answers)
    assert statuses(answers) == [200] + [422] * (BURST - 1)
    assert entries(org, "task", task["id"], "issue-resolved") == 1


def test_issues_reported_at_once_on_a_completed_task_reopen_it_once(org: Org) -> None:
    launched = run(org, checklist(org, steps=2)["id"])
    task = tasks_of(org, launched)[0]
    ok(
        org.api.post(
            org.path(f"/runs/{launched['id']}/completed-tasks"), json={"task_id": task["id"]}
        )
    )
    answers = same(org, "POST", f"/tasks/{task['id']}/problem", {"content": "Wrong"}, times=10)
    no_server_errors(answers)
    assert statuses(answers) == [201] * 10
    assert entries(org, "task", task["id"], "issue-reported") == 10
    assert entries(org, "task", task["id"], "re-opened") == 1
    assert ok(org.api.get(org.path(f"/runs/{launched['id']}")))["status"] == "problem"


def test_a_run_archived_and_activated_at_once_changes_once(org: Org) -> None:
    launched = run(org, checklist(org, steps=2)["id"])
    answers = same(org, "DELETE", f"/runs/{launched['id']}")
    no_server_errors(answers)
    assert statuses(answers) == [200] * BURST
    assert {a.data["status"] for a in answers} == {"archived"}
    assert entries(org, "run", launched["id"], "archived") == 1
    answers = same(org, "PUT", f"/runs/{launched['id']}/activate")
    no_server_errors(answers)
    assert statuses(answers) == [200] * BURST
    assert {a.data["status"] for a in answers} == {"active"}
    assert entries(org, "run", launched["id"], "unarchived") == 1


def test_a_one_off_task_archived_and_restored_at_once_changes_once(org: Org) -> None:
    task = one_off_task(org)
    answers = same(org, "DELETE", f"/tasks/{task['id']}")
    no_server_errors(answers)
    assert statuses(answers) == [200] * BURST
    assert entries(org, "task", task["id"], "archived") == 1
    answers = same(org, "PUT", f"/tasks/{task['id']}/restore")
    no_server_errors(answers)
    assert statuses(answers) == [200] * BURST
    assert entries(org, "task", task["id"], "unarchived") == 1
