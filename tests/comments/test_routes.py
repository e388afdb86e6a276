"""Comments on tasks and processes over HTTP: create, edit, delete, bot comments, who may do
what, bad input, and the reads (`with=threads`, `threads_count`)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.comments.conftest import Process
from tests.conftest import Org, new_org
from tests.support.factories import ok, one_off_task

HEX32 = re.compile(r"^[0-9a-f]{32}$")
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
UNKNOWN_ID = "0" * 32
NOT_FOUND = {"error": True, "message": "Resource not found", "code": "RESOURCE_NOT_FOUND"}


def comment(
    org: Org, task_id: str, client: httpx.Client | None = None, **body: Any
) -> dict[str, Any]:
    api = client or org.api
    return ok(
        api.post(org.path(f"/tasks/{task_id}/comment"), json={"content": "Looks good", **body}), 201
    )


def threads(org: Org, task_id: str, run_id: str | None = None) -> list[dict[str, Any]]:
    path = f"/runs/{run_id}/tasks/{task_id}" if run_id else f"/tasks/{task_id}"
    task = ok(org.api.get(org.path(path), params={"with": "threads"}))
    assert set(task["threads"]) == {"data"}
    return list(task["threads"]["data"])


def refused(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["error"] is True
    return body


# --- create --------------------------------------------------------------------------------------


def test_comment_on_one_off_task(org: Org) -> None:
    task = one_off_task(org)
    made = comment(org, task["id"], content="<p>Called, no answer</p>")
    assert HEX32.match(made["id"])
    assert made["content"] == "<p>Called, no answer</p>"
    assert made["author_id"] == org.admin_id
    assert made["author_type"] == "user"
    assert made["task_id"] == task["id"]
    assert made["run_id"] is None
    assert made["label"] == "comment"
    assert made["state"] == "hide-for-guests"
    assert made["sent_to"] == []
    assert made["resolve_id"] is None
    assert made["archived_at"] is None
    assert ISO_Z.match(made["created_at"]) and ISO_Z.match(made["updated_at"])
    assert threads(org, task["id"]) == [made]


def test_comment_on_process_task_with_label_state_and_mentions(org: Org, process: Process) -> None:
    member_id, _ = org.member("standard")
    task = process.tasks[0]
    made = comment(org, task["id"], label="advice", state="open", sent_to=[member_id, member_id])
    assert made["run_id"] == process.id
    assert made["task_id"] == task["id"]
    assert (made["label"], made["state"], made["sent_to"]) == ("advice", "open", [member_id])
    assert threads(org, task["id"], process.id) == [made]
    assert threads(org, process.tasks[1]["id"], process.id) == []


def test_every_member_role_can_comment(org: Org) -> None:
    task = one_off_task(org)
    light_id, light = org.member("light")
    made = comment(org, task["id"], client=light, content="From a light member")
    assert made["author_id"] == light_id


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({}, "content", "The content field is required."),
        ({"content": ""}, "content", "The content field is required."),
        ({"content": "   "}, "content", "The content field is required."),
        ({"content": 5}, "content", "The content must be a string."),
        (
            {"content": "x" * 65_536},
            "content",
            "The content may not be greater than 65535 characters.",
        ),
        ({"content": "Hi", "label": "question"}, "label", "The selected label is invalid."),
        ({"content": "Hi", "state": "hidden"}, "state", "The selected state is invalid."),
        ({"content": "Hi", "sent_to": "1"}, "sent_to", "The sent to must be an array."),
        ({"content": "Hi", "sent_to": ["someone"]}, "sent_to.0", None),
    ],
)
def test_comment_validation(
    org: Org, body: dict[str, Any], field: str, message: str | None
) -> None:
    task = one_off_task(org)
    refusal = refused(org.api.post(org.path(f"/tasks/{task['id']}/comment"), json=body), 422)
    assert list(refusal["errors"]) == [field]
    if message is not None:
        assert refusal["errors"][field] == [message]
    assert threads(org, task["id"]) == []


def test_mentions_must_be_members(org: Org) -> None:
    task = one_off_task(org)
    refusal = refused(
        org.api.post(
            org.path(f"/tasks/{task['id']}/comment"),
            json={"content": "Hi", "sent_to": [org.admin_id, 999999]},
        ),
        422,
    )
    assert refusal["errors"] == {"sent_to.1": ["The selected sent_to.1 is invalid."]}


def test_malformed_json_is_400(org: Org) -> None:
    task = one_off_task(org)
    response = org.api.post(
        org.path(f"/tasks/{task['id']}/comment"),
        content=b"{nope",
        headers={"Content-Type": "application/json"},
    )
    assert refused(response, 400)["code"] == "BAD_REQUEST"


def test_unknown_task_or_another_orgs_task_is_404(org: Org) -> None:
    for suffix in ("comment", "problem", "bot-comment"):
        response = org.api.post(org.path(f"/tasks/{UNKNOWN_ID}/{suffix}"), json={"content": "x"})
        assert refused(response, 404) == NOT_FOUND
    with new_org(org.server) as other:
        theirs = one_off_task(other)
        response = org.api.post(
            org.path(f"/tasks/{theirs['id']}/comment"), json={"content": "peek"}
        )
        assert refused(response, 404) == NOT_FOUND
        assert threads(other, theirs["id"]) == []


def test_archived_task_refuses_comments_and_hides_them_until_restored(org: Org) -> None:
    task = one_off_task(org)
    made = comment(org, task["id"])
    ok(org.api.delete(org.path(f"/tasks/{task['id']}")))
    assert threads(org, task["id"]) == []
    refusal = refused(
        org.api.post(org.path(f"/tasks/{task['id']}/comment"), json={"content": "late"}), 422
    )
    assert "errors" in refusal and "archived_at" in refusal["errors"]
    refused(
        org.api.put(
            org.path(f"/tasks/{task['id']}/comment/{made['id']}"), json={"content": "edit"}
        ),
        422,
    )
    refused(org.api.delete(org.path(f"/tasks/{task['id']}/comment/{made['id']}")), 422)
    ok(org.api.put(org.path(f"/tasks/{task['id']}/restore")))
    assert threads(org, task["id"]) == [made]


# --- edit ----------------------------------------------------------------------------------------


def test_author_edits_a_comment(org: Org) -> None:
    task = one_off_task(org)
    member_id, member = org.member("standard")
    made = comment(org, task["id"], client=member, label="improvement")
    edited = ok(
        member.put(
            org.path(f"/tasks/{task['id']}/comment/{made['id']}"),
            json={"content": "Better wording", "state": "collapsed", "sent_to": [org.admin_id]},
        )
    )
    assert edited["id"] == made["id"]
    assert edited["content"] == "Better wording"
    assert edited["state"] == "collapsed"
    assert edited["label"] == "improvement"  # not sent: kept
    assert edited["sent_to"] == [org.admin_id]
    assert edited["author_id"] == member_id
    assert threads(org, task["id"]) == [edited]


def test_only_author_or_admin_may_edit(org: Org) -> None:
    task = one_off_task(org)
    _, author = org.member("standard")
    _, other = org.member("standard")
    made = comment(org, task["id"], client=author)
    path = org.path(f"/tasks/{task['id']}/comment/{made['id']}")
    refusal = refused(other.put(path, json={"content": "Hijack"}), 403)
    assert refusal["code"] == "FORBIDDEN"
    assert threads(org, task["id"])[0]["content"] == "Looks good"
    assert ok(org.api.put(path, json={"content": "Moderated"}))["content"] == "Moderated"


def test_edit_refusals(org: Org) -> None:
    task = one_off_task(org)
    other_task = one_off_task(org)
    made = comment(org, task["id"])
    base = f"/tasks/{task['id']}/comment"
    assert (
        refused(org.api.put(org.path(f"{base}/{UNKNOWN_ID}"), json={"content": "x"}), 404)
        == NOT_FOUND
    )
    # The comment exists, but not on that task.
    assert (
        refused(
            org.api.put(
                org.path(f"/tasks/{other_task['id']}/comment/{made['id']}"), json={"content": "x"}
            ),
            404,
        )
        == NOT_FOUND
    )
    refusal = refused(org.api.put(org.path(f"{base}/{made['id']}"), json={}), 422)
    assert refusal["errors"] == {"content": ["The content field is required."]}
    refusal = refused(
        org.api.put(org.path(f"{base}/{made['id']}"), json={"content": "x", "label": "problem"}),
        422,
    )
    assert list(refusal["errors"]) == ["label"]
    refusal = refused(
        org.api.put(org.path(f"{base}/{made['id']}"), json={"content": "x", "state": "gone"}), 422
    )
    assert refusal["errors"] == {"state": ["The selected state is invalid."]}
    assert threads(org, task["id"]) == [made]


# --- delete --------------------------------------------------------------------------------------


def test_author_deletes_a_comment_permanently(org: Org) -> None:
    task = one_off_task(org)
    _, member = org.member("light")
    kept = comment(org, task["id"], content="keep")
    made = comment(org, task["id"], client=member)
    response = member.delete(org.path(f"/tasks/{task['id']}/comment/{made['id']}"))
    assert response.status_code == 204 and response.content == b""
    assert threads(org, task["id"]) == [kept]
    again = member.delete(org.path(f"/tasks/{task['id']}/comment/{made['id']}"))
    assert refused(again, 404) == NOT_FOUND


def test_only_author_or_admin_may_delete(org: Org) -> None:
    task = one_off_task(org)
    _, author = org.member("standard")
    _, other = org.member("admin")
    _, stranger = org.member("standard")
    made = comment(org, task["id"], client=author)
    path = org.path(f"/tasks/{task['id']}/comment/{made['id']}")
    assert refused(stranger.delete(path), 403)["code"] == "FORBIDDEN"
    assert len(threads(org, task["id"])) == 1
    assert other.delete(path).status_code == 204
    assert threads(org, task["id"]) == []


# --- bot comments --------------------------------------------------------------------------------


def test_bot_comment(org: Org, process: Process) -> None:
    task = process.tasks[0]
    made = ok(
        org.api.post(
            org.path(f"/tasks/{task['id']}/bot-comment"),
            json={"content": "Synced from CRM", "state": "open"},
        ),
        201,
    )
    assert made["author_type"] == "bot"
    assert made["author_id"] is None
    assert (made["label"], made["state"], made["run_id"]) == ("comment", "open", process.id)
    refusal = refused(org.api.post(org.path(f"/tasks/{task['id']}/bot-comment"), json={}), 422)
    assert refusal["errors"] == {"content": ["The content field is required."]}
    # Nobody wrote it: only administrators may change it.
    _, member = org.member("standard")
    path = org.path(f"/tasks/{task['id']}/comment/{made['id']}")
    refused(member.put(path, json={"content": "mine now"}), 403)
    assert ok(org.api.put(path, json={"content": "Synced again"}))["content"] == "Synced again"


# --- process-level comments ----------------------------------------------------------------------


def test_process_comments_edit_and_delete(org: Org, process: Process) -> None:
    made = ok(
        org.api.post(
            org.path(f"/runs/{process.id}/comment"),
            json={"content": "Kick-off done", "label": "advice"},
        ),
        201,
    )
    assert (made["run_id"], made["task_id"], made["label"]) == (process.id, None, "advice")
    read = ok(org.api.get(org.path(f"/runs/{process.id}"), params={"with": "threads"}))
    assert read["threads"] == {"data": [made]}
    # A process-level comment is not any task's.
    assert all(threads(org, t["id"], process.id) == [] for t in process.tasks)
    edited = ok(
        org.api.put(
            org.path(f"/runs/{process.id}/comment/{made['id']}"),
            json={"content": "Kick-off done twice"},
        )
    )
    assert edited["content"] == "Kick-off done twice"
    refused(
        org.api.put(
            org.path(f"/tasks/{process.tasks[0]['id']}/comment/{made['id']}"), json={"content": "x"}
        ),
        404,
    )
    assert org.api.delete(org.path(f"/runs/{process.id}/comment/{made['id']}")).status_code == 204
    read = ok(org.api.get(org.path(f"/runs/{process.id}"), params={"with": "threads"}))
    assert read["threads"] == {"data": []}


def test_process_comment_refusals(org: Org, process: Process) -> None:
    response = org.api.post(org.path(f"/runs/{UNKNOWN_ID}/comment"), json={"content": "x"})
    assert refused(response, 404) == NOT_FOUND
    refusal = refused(org.api.post(org.path(f"/runs/{process.id}/comment"), json={}), 422)
    assert refusal["errors"] == {"content": ["The content field is required."]}
    ok(org.api.delete(org.path(f"/runs/{process.id}")))
    refusal = refused(
        org.api.post(org.path(f"/runs/{process.id}/comment"), json={"content": "x"}), 422
    )
    assert list(refusal["errors"]) == ["archived_at"]
    with new_org(org.server) as other:
        response = other.api.post(other.path(f"/runs/{process.id}/comment"), json={"content": "x"})
        assert refused(response, 404) == NOT_FOUND


# --- reads ---------------------------------------------------------------------------------------


def test_threads_count_and_lists_with_threads(org: Org, process: Process) -> None:
    first, second = process.tasks[0], process.tasks[1]
    a = comment(org, first["id"], content="one")
    b = comment(org, first["id"], content="two")
    one = ok(
        org.api.get(org.path(f"/tasks/{first['id']}"), params={"with": "threads_count,comments"})
    )
    assert one["threads_count"] == 2
    assert one["comments"] == {"data": [a, b]}
    assert "threads" not in one
    listed = ok(
        org.api.get(org.path(f"/runs/{process.id}/tasks"), params={"with": "threads,threads_count"})
    )
    by_id = {t["id"]: t for t in listed}
    assert by_id[first["id"]]["threads"] == {"data": [a, b]}
    assert by_id[second["id"]]["threads"] == {"data": []}
    assert by_id[second["id"]]["threads_count"] == 0
    org_wide = ok(org.api.get(org.path("/tasks"), params={"with": "threads", "per_page": 100}))
    assert {t["id"]: t["threads"]["data"] for t in org_wide}[first["id"]] == [a, b]
    plain = ok(org.api.get(org.path(f"/tasks/{first['id']}")))
    assert "threads" not in plain and plain["problem"] is False


def test_run_with_tasks_threads(org: Org, process: Process) -> None:
    made = comment(org, process.tasks[1]["id"])
    read = ok(org.api.get(org.path(f"/runs/{process.id}"), params={"with": "tasks.threads"}))
    tasks = {t["id"]: t for t in read["tasks"]["data"]}
    assert tasks[process.tasks[1]["id"]]["threads"] == {"data": [made]}
    assert tasks[process.tasks[0]["id"]]["threads"] == {"data": []}
    assert "threads" not in read  # the process's own threads are `with=threads`
