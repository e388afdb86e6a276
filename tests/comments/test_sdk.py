"""The official SDK's thread manager (all seven methods) against a live server, plus the
thread visibility rule for guests (`threads_for`), which no guest-facing route serves yet."""

from __future__ import annotations

import asyncio

import pytest
from tallyfy import TallyfyError, TallyfySDK
from tallyfy.models import Comment

from checkrun.comments.service import threads_for
from checkrun.db import make_engine, make_sessionmaker
from tests.comments.conftest import Process
from tests.conftest import Org
from tests.support.factories import ok, one_off_task


def test_sdk_thread_methods_on_a_process_task(sdk: TallyfySDK, org: Org, process: Process) -> None:
    """add_task_comment, get_task_comments, update_task_comment, report_task_issue,
    resolve_task_issues, delete_task_comment"""
    task_id = process.tasks[0]["id"]
    made = sdk.threads.add_task_comment(
        org.id, task_id, "First!", state="open", label="advice", sent_to=[org.admin_id]
    )
    assert isinstance(made, Comment) and len(made.id) == 32
    assert (made.content, made.label, made.state, made.sent_to) == (
        "First!",
        "advice",
        "open",
        [org.admin_id],
    )
    assert (made.task_id, made.author_id, made.author_type) == (task_id, org.admin_id, "user")
    assert made.extra["run_id"] == process.id
    edited = sdk.threads.update_task_comment(org.id, task_id, made.id, "Edited")
    assert (edited.id, edited.content, edited.label) == (made.id, "Edited", "advice")
    issue = sdk.threads.report_task_issue(org.id, task_id, "Blocked by legal")
    assert issue.label == "problem"
    with pytest.raises(TallyfyError) as blocked:
        sdk.tasks.complete_task(org.id, process.id, task_id)
    assert blocked.value.status_code == 422
    listed = sdk.threads.get_task_comments(org.id, process.id, task_id)
    assert [(c.id, c.content) for c in listed] == [
        (made.id, "Edited"),
        (issue.id, "Blocked by legal"),
    ]
    assert sdk.threads.resolve_task_issues(org.id, task_id, issue.id) is True
    listed = sdk.threads.get_task_comments(org.id, process.id, task_id)
    assert [c.label for c in listed] == ["advice", "problem", "resolve"]
    assert listed[1].resolve_id == listed[2].id and listed[2].content == "Resolved"
    assert sdk.tasks.complete_task(org.id, process.id, task_id).status == "completed"
    assert sdk.threads.delete_task_comment(org.id, task_id, made.id) is True
    assert made.id not in [c.id for c in sdk.threads.get_task_comments(org.id, process.id, task_id)]


def test_sdk_standalone_task_comments(sdk: TallyfySDK, org: Org) -> None:
    """get_standalone_task_comments, and refusals reaching the caller as TallyfyError"""
    task = one_off_task(org)
    assert sdk.threads.get_standalone_task_comments(org.id, task["id"]) == []
    made = sdk.threads.add_task_comment(org.id, task["id"], "On a one-off task")
    listed = sdk.threads.get_standalone_task_comments(org.id, task["id"])
    assert [(c.id, c.content, c.task_id) for c in listed] == [
        (made.id, "On a one-off task", task["id"])
    ]
    with pytest.raises(TallyfyError) as unknown:
        sdk.threads.add_task_comment(org.id, "0" * 32, "Nobody home")
    assert unknown.value.status_code == 404
    with pytest.raises(TallyfyError) as bad_label:
        sdk.threads.add_task_comment(org.id, task["id"], "Hi", label="question")
    assert bad_label.value.status_code == 422


def test_guests_do_not_see_hidden_threads(org: Org) -> None:
    task = one_off_task(org)
    other = one_off_task(org)
    hidden = ok(
        org.api.post(org.path(f"/tasks/{task['id']}/comment"), json={"content": "internal"}), 201
    )
    shown = ok(
        org.api.post(
            org.path(f"/tasks/{task['id']}/comment"),
            json={"content": "for everyone", "state": "open"},
        ),
        201,
    )
    collapsed = ok(
        org.api.post(
            org.path(f"/tasks/{task['id']}/comment"),
            json={"content": "folded", "state": "collapsed"},
        ),
        201,
    )
    ok(org.api.post(org.path(f"/tasks/{other['id']}/comment"), json={"content": "only"}), 201)

    async def read(for_guest: bool) -> dict[str, list[str]]:
        engine = make_engine(org.server.settings.resolved_database_url)
        try:
            async with make_sessionmaker(engine)() as db:
                found = await threads_for(db, org.id, [task["id"], other["id"]], for_guest)
                return {k: [c["id"] for c in v] for k, v in found.items()}
        finally:
            await engine.dispose()

    assert asyncio.run(read(False)) == {
        task["id"]: [hidden["id"], shown["id"], collapsed["id"]],
        other["id"]: [
            ok(org.api.get(org.path(f"/tasks/{other['id']}"), params={"with": "threads"}))[
                "threads"
            ]["data"][0]["id"]
        ],
    }
    assert asyncio.run(read(True)) == {task["id"]: [shown["id"], collapsed["id"]]}
