"""Issues (threads labelled `problem`): what reporting one does to the task and its process,
resolving, the `hasproblem` filter and `problems` sort, process-level issues, archive and
purge, the hourly cap and the events."""

from __future__ import annotations

from typing import Any

import pytest

from checkrun.kit.events import Event
from tests.comments.conftest import Process
from tests.comments.test_routes import UNKNOWN_ID, refused, threads
from tests.conftest import Org
from tests.support.factories import db_count, ids, ok, one_off_task

TASK_BLOCKED = "This task has an open issue: resolve it before completing the task."
RUN_FROZEN = "This process has an open issue: its tasks can't be completed until it is resolved."


def report(org: Org, task_id: str, content: str = "The contract is missing") -> dict[str, Any]:
    return ok(org.api.post(org.path(f"/tasks/{task_id}/problem"), json={"content": content}), 201)


def resolve(org: Org, task_id: str, thread_id: str, **body: Any) -> dict[str, Any]:
    return ok(
        org.api.post(
            org.path(f"/tasks/{task_id}/resolved-threads"), json={"thread_id": thread_id, **body}
        )
    )


def run_of(org: Org, process: Process) -> dict[str, Any]:
    return ok(org.api.get(org.path(f"/runs/{process.id}")))


def task_of(org: Org, task_id: str) -> dict[str, Any]:
    return ok(org.api.get(org.path(f"/tasks/{task_id}")))


def complete(org: Org, process: Process, task_id: str) -> Any:
    return org.api.post(org.path(f"/runs/{process.id}/completed-tasks"), json={"task_id": task_id})


def complete_all(org: Org, process: Process) -> None:
    for task in process.tasks:
        ok(complete(org, process, task["id"]))


def run_ids(org: Org, status: str) -> list[str]:
    return ids(ok(org.api.get(org.path("/runs"), params={"status": status})))


# --- reporting -----------------------------------------------------------------------------------


def test_issue_blocks_the_task_and_flags_the_process(org: Org, process: Process) -> None:
    task = process.tasks[0]
    issue = report(org, task["id"])
    assert issue["label"] == "problem"
    assert (issue["task_id"], issue["run_id"], issue["resolve_id"]) == (
        task["id"],
        process.id,
        None,
    )
    read = task_of(org, task["id"])
    assert read["problem"] is True and read["is_completable"] is False
    assert task_of(org, process.tasks[1]["id"])["problem"] is False
    with_issues = ok(org.api.get(org.path(f"/tasks/{task['id']}"), params={"with": "issues"}))
    assert with_issues["issues"] == {"data": [issue]}
    launched = run_of(org, process)
    assert launched["status"] == "problem" and launched["has_open_issue"] is True
    refusal = refused(complete(org, process, task["id"]), 422)
    assert refusal["errors"] == {"task_id": [TASK_BLOCKED]}
    assert refusal["message"] == TASK_BLOCKED
    # The other task is not blocked, and its completion leaves the process flagged.
    assert ok(complete(org, process, process.tasks[1]["id"]))["status"] == "completed"
    assert run_of(org, process)["status"] == "problem"


def test_resolving_returns_the_process_to_active(org: Org, process: Process) -> None:
    task = process.tasks[0]
    issue = report(org, task["id"])
    resolution = resolve(org, task["id"], issue["id"], content="Contract found", state="open")
    assert resolution["label"] == "resolve"
    assert (resolution["content"], resolution["state"]) == ("Contract found", "open")
    assert resolution["resolve_id"] == issue["id"]
    shown = {t["id"]: t for t in threads(org, task["id"], process.id)}
    assert shown[issue["id"]]["resolve_id"] == resolution["id"]
    read = task_of(org, task["id"])
    assert read["problem"] is False and read["is_completable"] is True
    assert ok(org.api.get(org.path(f"/tasks/{task['id']}"), params={"with": "issues"}))[
        "issues"
    ] == {"data": []}
    launched = run_of(org, process)
    assert launched["status"] == "active" and launched["has_open_issue"] is False
    complete_all(org, process)
    assert run_of(org, process)["status"] == "complete"


def test_resolution_text_defaults_and_refusals(org: Org, process: Process) -> None:
    task, other = process.tasks[0], process.tasks[1]
    issue = report(org, task["id"])
    plain = ok(org.api.post(org.path(f"/tasks/{task['id']}/comment"), json={"content": "hi"}), 201)
    elsewhere = report(org, other["id"])
    path = org.path(f"/tasks/{task['id']}/resolved-threads")
    assert refused(org.api.post(path, json={}), 422)["errors"] == {
        "thread_id": ["The thread id field is required."]
    }
    for thread_id in (UNKNOWN_ID, plain["id"], elsewhere["id"]):
        assert refused(org.api.post(path, json={"thread_id": thread_id}), 422)["errors"] == {
            "thread_id": ["The selected thread id is invalid."]
        }
    assert refused(org.api.post(path, json={"thread_id": issue["id"], "state": "x"}), 422)[
        "errors"
    ] == {"state": ["The selected state is invalid."]}
    resolution = resolve(org, task["id"], issue["id"])
    assert resolution["content"] == "Resolved"
    assert refused(org.api.post(path, json={"thread_id": issue["id"]}), 422)["errors"] == {
        "thread_id": ["This issue is already resolved."]
    }
    # The other task's issue still holds the process.
    assert run_of(org, process)["status"] == "problem"
    resolve(org, other["id"], elsewhere["id"])
    assert run_of(org, process)["status"] == "active"


def test_problem_validation(org: Org, process: Process) -> None:
    path = org.path(f"/tasks/{process.tasks[0]['id']}/problem")
    assert refused(org.api.post(path, json={"content": " "}), 422)["errors"] == {
        "content": ["The content field is required."]
    }
    refused(org.api.post(path, json={"content": "x", "sent_to": [424242]}), 422)
    assert run_of(org, process)["status"] == "active"
    refused(
        org.api.post(
            org.path(f"/tasks/{UNKNOWN_ID}/resolved-threads"), json={"thread_id": UNKNOWN_ID}
        ),
        404,
    )


def test_issue_on_a_completed_task_reopens_it(
    org: Org, process: Process, emitted: list[Event]
) -> None:
    complete_all(org, process)
    assert run_of(org, process)["status"] == "complete"
    last = process.tasks[-1]
    issue = report(org, last["id"])
    read = task_of(org, last["id"])
    assert read["status"] == "in-progress" and read["completed_at"] is None
    launched = run_of(org, process)
    assert launched["status"] == "problem" and launched["completed_at"] is None
    assert [(e.type, e.verb) for e in emitted if e.task_id == last["id"]][-2:] == [
        ("Comment", "issue-reported"),
        ("Task", "re-opened"),
    ]
    resolve(org, last["id"], issue["id"])
    assert run_of(org, process)["status"] == "active"
    ok(complete(org, process, last["id"]))
    assert run_of(org, process)["status"] == "complete"


def test_a_comment_labelled_problem_is_an_issue(org: Org, process: Process) -> None:
    task = process.tasks[0]
    issue = ok(
        org.api.post(
            org.path(f"/tasks/{task['id']}/comment"), json={"content": "Broken", "label": "problem"}
        ),
        201,
    )
    assert issue["label"] == "problem"
    assert task_of(org, task["id"])["problem"] is True
    assert run_of(org, process)["status"] == "problem"
    refusal = refused(
        org.api.put(
            org.path(f"/tasks/{task['id']}/comment/{issue['id']}"),
            json={"content": "Fine", "label": "comment"},
        ),
        422,
    )
    assert list(refusal["errors"]) == ["label"]
    edited = ok(
        org.api.put(
            org.path(f"/tasks/{task['id']}/comment/{issue['id']}"),
            json={"content": "Very broken", "label": "problem"},
        )
    )
    assert edited["content"] == "Very broken"


def test_deleting_an_open_issue_lifts_the_block(org: Org, process: Process) -> None:
    task = process.tasks[0]
    issue = report(org, task["id"])
    assert org.api.delete(org.path(f"/tasks/{task['id']}/comment/{issue['id']}")).status_code == 204
    assert task_of(org, task["id"])["problem"] is False
    assert run_of(org, process)["status"] == "active"
    complete_all(org, process)
    assert run_of(org, process)["status"] == "complete"


def test_one_off_task_issue(org: Org) -> None:
    task = one_off_task(org)
    issue = report(org, task["id"])
    assert issue["run_id"] is None
    assert task_of(org, task["id"])["problem"] is True
    blocked = org.api.post(org.path("/completed-tasks"), json={"task_id": task["id"]})
    assert refused(blocked, 422)["errors"] == {"task_id": [TASK_BLOCKED]}
    resolve(org, task["id"], issue["id"])
    done = ok(org.api.post(org.path("/completed-tasks"), json={"task_id": task["id"]}))
    assert done["status"] == "completed"


# --- process-level issues ------------------------------------------------------------------------


def test_process_issue_freezes_its_tasks(org: Org, process: Process) -> None:
    issue = ok(
        org.api.post(
            org.path(f"/runs/{process.id}/problem"), json={"content": "Client paused the project"}
        ),
        201,
    )
    assert (issue["label"], issue["task_id"], issue["run_id"]) == ("problem", None, process.id)
    launched = run_of(org, process)
    assert launched["status"] == "issue" and launched["has_open_issue"] is True
    for task in process.tasks:
        assert refused(complete(org, process, task["id"]), 422)["errors"] == {
            "task_id": [RUN_FROZEN]
        }
        read = task_of(org, task["id"])
        assert read["problem"] is False and read["is_completable"] is False
    assert process.id in run_ids(org, "issue")
    assert process.id in run_ids(org, "problem")
    assert process.id not in run_ids(org, "active")
    resolution = ok(
        org.api.post(
            org.path(f"/runs/{process.id}/resolved-threads"),
            json={"thread_id": issue["id"], "content": "Back on"},
        )
    )
    assert (resolution["label"], resolution["task_id"]) == ("resolve", None)
    assert run_of(org, process)["status"] == "active"
    complete_all(org, process)
    assert run_of(org, process)["status"] == "complete"


def test_process_issue_wins_over_task_issues(org: Org, process: Process) -> None:
    task = process.tasks[0]
    task_issue = report(org, task["id"])
    run_issue = ok(
        org.api.post(org.path(f"/runs/{process.id}/problem"), json={"content": "Stop"}), 201
    )
    assert run_of(org, process)["status"] == "issue"
    assert process.id not in run_ids(org, "active")
    # Each route resolves its own issues only.
    path = org.path(f"/runs/{process.id}/resolved-threads")
    assert refused(org.api.post(path, json={"thread_id": task_issue["id"]}), 422)["errors"] == {
        "thread_id": ["The selected thread id is invalid."]
    }
    refused(
        org.api.post(
            org.path(f"/tasks/{task['id']}/resolved-threads"), json={"thread_id": run_issue["id"]}
        ),
        422,
    )
    ok(org.api.post(path, json={"thread_id": run_issue["id"]}))
    assert run_of(org, process)["status"] == "problem"
    resolve(org, task["id"], task_issue["id"])
    assert run_of(org, process)["status"] == "active"


def test_process_issue_on_a_complete_process(org: Org, process: Process) -> None:
    complete_all(org, process)
    issue = ok(
        org.api.post(
            org.path(f"/runs/{process.id}/problem"), json={"content": "Audit found a gap"}
        ),
        201,
    )
    launched = run_of(org, process)
    assert launched["status"] == "issue" and launched["completed_at"] is None
    ok(
        org.api.post(
            org.path(f"/runs/{process.id}/resolved-threads"), json={"thread_id": issue["id"]}
        )
    )
    launched = run_of(org, process)
    assert launched["status"] == "complete" and launched["completed_at"] is not None


def test_process_problem_refusals(org: Org, process: Process) -> None:
    refused(org.api.post(org.path(f"/runs/{UNKNOWN_ID}/problem"), json={"content": "x"}), 404)
    refused(
        org.api.post(
            org.path(f"/runs/{UNKNOWN_ID}/resolved-threads"), json={"thread_id": UNKNOWN_ID}
        ),
        404,
    )
    assert refused(org.api.post(org.path(f"/runs/{process.id}/problem"), json={}), 422)[
        "errors"
    ] == {"content": ["The content field is required."]}
    ok(org.api.delete(org.path(f"/runs/{process.id}")))
    refusal = refused(
        org.api.post(org.path(f"/runs/{process.id}/problem"), json={"content": "x"}), 422
    )
    assert list(refusal["errors"]) == ["archived_at"]


# --- lists ---------------------------------------------------------------------------------------


def test_hasproblem_filter_and_problems_sort(org: Org, process: Process) -> None:
    first, second = process.tasks[0], process.tasks[1]
    standalone = one_off_task(org)
    report(org, first["id"])

    def listed(path: str, **params: Any) -> list[str]:
        return ids(ok(org.api.get(org.path(path), params={"per_page": 100, **params})))

    assert listed("/tasks", status="hasproblem") == [first["id"]]
    assert listed("/me/tasks", status="hasproblem") == [first["id"]]
    assert listed(f"/runs/{process.id}/tasks", status="hasproblem") == [first["id"]]
    assert listed("/tasks", sort="problems")[0] == first["id"]
    assert listed("/tasks", sort="-problems")[-1] == first["id"]
    assert set(listed("/tasks", sort="problems")) == {first["id"], second["id"], standalone["id"]}
    assert process.id in run_ids(org, "problem")
    assert process.id not in run_ids(org, "issue")
    assert process.id not in run_ids(org, "active")


# --- archive and purge ---------------------------------------------------------------------------


def test_archive_hides_threads_and_activate_restores_them(org: Org, process: Process) -> None:
    task = process.tasks[0]
    issue = report(org, task["id"])
    run_comment = ok(
        org.api.post(org.path(f"/runs/{process.id}/comment"), json={"content": "note"}), 201
    )
    archived = ok(org.api.delete(org.path(f"/runs/{process.id}")))
    assert archived["status"] == "archived" and archived["has_open_issue"] is True
    assert threads(org, task["id"], process.id) == []
    read = ok(org.api.get(org.path(f"/runs/{process.id}"), params={"with": "threads"}))
    assert read["threads"] == {"data": []}
    activated = ok(org.api.put(org.path(f"/runs/{process.id}/activate")))
    assert activated["status"] == "problem"
    assert threads(org, task["id"], process.id) == [issue]
    read = ok(org.api.get(org.path(f"/runs/{process.id}"), params={"with": "threads"}))
    assert read["threads"] == {"data": [run_comment]}


def test_purge_deletes_threads(org: Org, process: Process) -> None:
    report(org, process.tasks[0]["id"])
    ok(org.api.post(org.path(f"/runs/{process.id}/comment"), json={"content": "note"}), 201)
    standalone = one_off_task(org)
    ok(org.api.post(org.path(f"/tasks/{standalone['id']}/comment"), json={"content": "x"}), 201)
    assert db_count(org, "comments", "org_id = :o", o=org.id) == 3
    assert org.api.delete(org.path(f"/runs/{process.id}/delete")).status_code == 200
    assert db_count(org, "comments", "org_id = :o", o=org.id) == 1
    assert org.api.delete(org.path(f"/tasks/{standalone['id']}/delete")).status_code == 204
    assert db_count(org, "comments", "org_id = :o", o=org.id) == 0


# --- hourly cap ----------------------------------------------------------------------------------


def test_comments_are_capped_at_120_an_hour(org: Org) -> None:
    task = one_off_task(org)
    path = org.path(f"/tasks/{task['id']}/comment")
    for i in range(120):
        ok(org.api.post(path, json={"content": f"#{i}"}), 201)
    for suffix, body in (
        ("comment", {"content": "one more"}),
        ("problem", {"content": "one more"}),
        ("bot-comment", {"content": "one more"}),
    ):
        response = org.api.post(org.path(f"/tasks/{task['id']}/{suffix}"), json=body)
        assert response.status_code == 429, response.text
        assert response.json() == {
            "error": True,
            "code": "RATE_LIMIT_EXCEEDED",
            "message": "You've reached the hourly limit for Comments (120 per hour per "
            "organization). Please try again later.",
        }
        assert 1 <= int(response.headers["Retry-After"]) <= 3600
    # Edits are not new comments.
    first = threads(org, task["id"])[0]
    edited = org.api.put(
        org.path(f"/tasks/{task['id']}/comment/{first['id']}"), json={"content": "edited"}
    )
    assert edited.status_code == 200
    assert len(threads(org, task["id"])) == 120


# --- events --------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["task", "run"])
def test_events(org: Org, process: Process, emitted: list[Event], where: str) -> None:
    task_id = process.tasks[0]["id"] if where == "task" else None
    base = org.path(f"/tasks/{task_id}" if task_id else f"/runs/{process.id}")
    made = ok(org.api.post(base + "/comment", json={"content": "hi"}), 201)
    ok(org.api.put(base + f"/comment/{made['id']}", json={"content": "hello"}))
    issue = ok(org.api.post(base + "/problem", json={"content": "broken"}), 201)
    fixed = ok(org.api.post(base + "/resolved-threads", json={"thread_id": issue["id"]}))
    assert org.api.delete(base + f"/comment/{made['id']}").status_code == 204
    mine = [e for e in emitted if e.org_id == org.id and e.type == "Comment"]
    assert [(e.verb, e.entity_id) for e in mine] == [
        ("commented", made["id"]),
        ("updated", made["id"]),
        ("issue-reported", issue["id"]),
        ("issue-resolved", fixed["id"]),
        ("comment-deleted", made["id"]),
    ]
    for event in mine:
        assert (event.entity_type, event.task_id, event.run_id) == ("thread", task_id, process.id)
        assert event.actor_id == org.admin_id
