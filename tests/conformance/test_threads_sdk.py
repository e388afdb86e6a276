"""The SDK's `threads` manager: comments on process and one-off tasks, issues raised and
resolved, and the `TallyfySDK.resolve_task_issues` façade that cannot work."""

from __future__ import annotations

from typing import Any

import pytest
from tallyfy import TallyfySDK
from tallyfy.models import Comment, TallyfyError

from tests.conformance.conftest import data, is_hex32
from tests.conftest import Org
from tests.support.factories import checklist, one_off_task, run


def first_task(org: Org, launched: dict[str, Any]) -> dict[str, Any]:
    tasks: list[dict[str, Any]] = data(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))
    return tasks[0]


def test_comments_on_a_process_task(sdk: TallyfySDK, org: Org) -> None:
    """add_task_comment, get_task_comments, update_task_comment, delete_task_comment"""
    launched = run(org, checklist(org, steps=2)["id"])
    task = first_task(org, launched)
    comment = sdk.threads.add_task_comment(
        org.id, task["id"], "Looks good", state="open", label="comment"
    )
    assert isinstance(comment, Comment) and is_hex32(comment.id)
    assert (comment.content, comment.task_id, comment.author_id) == (
        "Looks good",
        task["id"],
        org.admin_id,
    )
    assert (comment.label, comment.state) == ("comment", "open")
    hidden = sdk.threads.add_task_comment(org.id, task["id"], "Internal note")
    assert hidden.state == "hide-for-guests"  # the server default
    listed = sdk.threads.get_task_comments(org.id, launched["id"], task["id"])
    assert sorted(c.id for c in listed) == sorted([comment.id, hidden.id])
    assert all(isinstance(c, Comment) for c in listed)
    edited = sdk.threads.update_task_comment(org.id, task["id"], comment.id, "Looks great")
    assert isinstance(edited, Comment) and (edited.id, edited.content) == (
        comment.id,
        "Looks great",
    )
    assert sdk.threads.delete_task_comment(org.id, task["id"], hidden.id) is True
    assert [
        c.content for c in sdk.threads.get_task_comments(org.id, launched["id"], task["id"])
    ] == ["Looks great"]


def test_comments_on_a_one_off_task(sdk: TallyfySDK, org: Org) -> None:
    """get_standalone_task_comments"""
    task = one_off_task(org)
    assert sdk.threads.get_standalone_task_comments(org.id, task["id"]) == []
    comment = sdk.threads.add_task_comment(org.id, task["id"], "Called, no answer")
    listed = sdk.threads.get_standalone_task_comments(org.id, task["id"])
    assert [(c.id, c.content) for c in listed] == [(comment.id, "Called, no answer")]


def test_raise_and_resolve_an_issue(sdk: TallyfySDK, org: Org) -> None:
    """report_task_issue, resolve_task_issues (manager), and the completion block between"""
    launched = run(org, checklist(org, steps=1)["id"])
    task = first_task(org, launched)
    issue = sdk.threads.report_task_issue(org.id, task["id"], "The VAT id is missing")
    assert isinstance(issue, Comment) and is_hex32(issue.id)
    assert (issue.label, issue.content) == ("problem", "The VAT id is missing")
    assert sdk.tasks.get_task(org.id, launched["id"], task["id"]).problem is True
    assert sdk.tasks.get_process(org.id, launched["id"]).status == "problem"
    with pytest.raises(TallyfyError) as raised:
        sdk.tasks.complete_task(org.id, launched["id"], task["id"])
    assert raised.value.status_code == 422
    assert sdk.threads.resolve_task_issues(org.id, task["id"], issue.id, content="Found it") is True
    assert sdk.tasks.get_task(org.id, launched["id"], task["id"]).problem is False
    assert sdk.tasks.get_process(org.id, launched["id"]).status == "active"
    done = sdk.tasks.complete_task(org.id, launched["id"], task["id"])
    assert done.status == "completed"
    labels = [c.label for c in sdk.threads.get_task_comments(org.id, launched["id"], task["id"])]
    assert sorted(labels) == ["problem", "resolve"]


def test_the_resolve_facade_cannot_be_called(sdk: TallyfySDK, org: Org) -> None:
    """TallyfySDK.resolve_task_issues does not pass thread_id: a TypeError, nothing sent."""
    task = one_off_task(org)
    with pytest.raises(TypeError):
        sdk.resolve_task_issues(org.id, task["id"])


def test_thread_refusals(sdk: TallyfySDK, org: Org) -> None:
    task = one_off_task(org)
    with pytest.raises(TallyfyError) as raised:
        sdk.threads.add_task_comment(org.id, "0" * 32, "Nobody home")
    assert raised.value.status_code == 404
    with pytest.raises(TallyfyError) as raised:
        sdk.threads.add_task_comment(org.id, task["id"], "Odd", label="gossip")
    assert raised.value.status_code == 422
    with pytest.raises(TallyfyError) as raised:
        sdk.threads.resolve_task_issues(org.id, task["id"], "0" * 32)
    assert raised.value.status_code in (404, 422)
    mine = sdk.threads.add_task_comment(org.id, task["id"], "Admin's words")
    _, standard = org.member("standard")
    edit = standard.put(
        org.path(f"/tasks/{task['id']}/comment/{mine.id}"), json={"content": "Not yours"}
    )
    assert edit.status_code == 403
    with pytest.raises(ValueError):
        sdk.threads.add_task_comment(org.id, task["id"], "")
