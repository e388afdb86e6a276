"""Org-level webhook subscriptions: add-watcher, watchers, remove-watcher, and what they get."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from checkrun.db import make_engine, make_sessionmaker
from checkrun.kit.events import Event, emit
from tests.conftest import LiveServer, Org, live_server, new_org
from tests.support.factories import checklist, ok, run
from tests.webhooks.conftest import FAST, Receiver, deliveries, wait_for_rows

HEX32 = re.compile(r"^[0-9a-f]{32}$")


def subscription(org: Org, url: str, **changes: Any) -> dict[str, Any]:
    body = {
        "object_type": "organization",
        "object_id": org.id,
        "notification_type": "webhook",
        "frequency": "electric",
        "webhook": url,
    }
    return {k: v for k, v in {**body, **changes}.items() if v is not ...}


def add(org: Org, url: str, user_id: Any = None, client: Any = None, **changes: Any) -> Any:
    path = org.path(f"/users/{user_id or org.admin_id}/add-watcher")
    return (client or org.api).post(path, json=subscription(org, url, **changes))


def listed(org: Org, **params: Any) -> Any:
    return org.api.get(org.path("/watchers"), params={"notification": "webhook", **params})


def test_add_list_remove(org: Org) -> None:
    made = ok(add(org, "https://hooks.example.com/a"), 201)
    assert HEX32.match(made["id"])
    assert {
        k: made[k]
        for k in (
            "user_id",
            "object_type",
            "object_id",
            "notification_type",
            "frequency",
            "webhook",
            "created_by",
        )
    } == {
        "user_id": org.admin_id,
        "object_type": "organization",
        "object_id": org.id,
        "notification_type": "webhook",
        "frequency": "electric",
        "webhook": "https://hooks.example.com/a",
        "created_by": org.admin_id,
    }
    member, _ = org.member("standard")
    other = ok(add(org, "http://127.0.0.1:9/b", user_id=member), 201)
    page = listed(org)
    assert page.status_code == 200
    assert [w["id"] for w in page.json()["data"]] == [made["id"], other["id"]]
    assert page.json()["meta"]["pagination"]["total"] == 2
    assert ok(listed(org, per_page=1))[0]["id"] == made["id"]
    assert ok(listed(org, notification="email")) == []
    removed = org.api.delete(org.path(f"/remove-watcher/{made['id']}"))
    assert removed.status_code == 204 and removed.content == b""
    assert [w["id"] for w in ok(listed(org))] == [other["id"]]
    again = org.api.delete(org.path(f"/remove-watcher/{made['id']}"))
    assert again.status_code == 404 and again.json()["code"] == "RESOURCE_NOT_FOUND"


@pytest.mark.parametrize("role", ["standard", "light"])
def test_only_admins_manage_watchers(org: Org, role: str) -> None:
    made = ok(add(org, "https://hooks.example.com/a"), 201)
    _, client = org.member(role)
    assert add(org, "https://hooks.example.com/b", client=client).status_code == 403
    assert client.get(org.path("/watchers")).status_code == 403
    assert client.delete(org.path(f"/remove-watcher/{made['id']}")).status_code == 403
    assert len(ok(listed(org))) == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"object_type": "run"}, "object_type"),
        ({"object_type": ...}, "object_type"),
        ({"object_id": "0" * 32}, "object_id"),
        ({"object_id": ...}, "object_id"),
        ({"notification_type": "email"}, "notification_type"),
        ({"notification_type": ...}, "notification_type"),
        ({"frequency": "daily"}, "frequency"),
        ({"webhook": ...}, "webhook"),
        ({"webhook": ""}, "webhook"),
        ({"webhook": 123}, "webhook"),
        ({"webhook": ["https://x.example.com"]}, "webhook"),
        ({"webhook": "ftp://example.com/hook"}, "webhook"),
        ({"webhook": "https://"}, "webhook"),
        ({"webhook": "https://user:pw@example.com/"}, "webhook"),
        ({"webhook": "https://example.com:99999/"}, "webhook"),
        ({"webhook": "https://example.com/" + "a" * 2000}, "webhook"),
    ],
)
def test_bad_subscriptions_are_422_by_field(org: Org, changes: dict[str, Any], field: str) -> None:
    refused = add(org, "https://hooks.example.com/a", **changes)
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["error"] is True and list(body["errors"]) == [field]
    assert body["message"] == body["errors"][field][0]
    assert ok(listed(org)) == []


def test_frequency_may_be_left_out(org: Org) -> None:
    assert (
        ok(add(org, "https://hooks.example.com/a", frequency=...), 201)["frequency"] == "electric"
    )


def test_bad_requests(org: Org) -> None:
    path = org.path(f"/users/{org.admin_id}/add-watcher")
    assert (
        org.api.post(
            path, content=b"{not json", headers={"Content-Type": "application/json"}
        ).status_code
        == 400
    )
    assert org.api.post(path, json=["webhook"]).status_code == 422
    for user in ("abc", "0", "99999999", "-1", "1" * 30):
        missing = add(org, "https://hooks.example.com/a", user_id=user)
        assert missing.status_code == 404, (user, missing.text)
    assert org.api.delete(org.path("/remove-watcher/nope")).status_code == 404


def test_organizations_do_not_see_each_other(org: Org) -> None:
    made = ok(add(org, "https://hooks.example.com/a"), 201)
    with new_org(org.server) as other:
        assert ok(other.api.get(other.path("/watchers"))) == []
        assert other.api.delete(other.path(f"/remove-watcher/{made['id']}")).status_code == 404
        # A user of another organization can't be subscribed here.
        assert add(org, "https://hooks.example.com/b", user_id=other.admin_id).status_code == 404
        # Nor can an org id that is not the path's.
        assert add(other, "https://hooks.example.com/c", object_id=org.id).status_code == 422
        assert org.api.get(other.path("/watchers")).status_code == 403
    assert len(ok(listed(org))) == 1


def test_watchers_receive_process_and_task_events(org: Org, receiver: Receiver) -> None:
    ok(add(org, receiver.url("/org")), 201)
    made = checklist(org, steps=2)
    launched = run(org, made["id"])
    tasks = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))
    for task in tasks:
        ok(
            org.api.post(
                org.path(f"/runs/{launched['id']}/completed-tasks"), json={"task_id": task["id"]}
            )
        )
    received = receiver.at("/org", 4)
    assert sorted(r.json["event"] for r in received) == [
        "process.completed",
        "process.launched",
        "task.completed",
        "task.completed",
    ]
    assert {r.header("X-Checkrun-Event") for r in received} == {r.json["event"] for r in received}
    assert {r["source"] for r in deliveries(org)} == {"watcher"}


def test_a_watcher_added_after_the_launch_gets_the_completion(org: Org, receiver: Receiver) -> None:
    """The launch read that the organization had no watcher; the completion reads again."""
    launched = run(org, checklist(org, steps=2)["id"])
    assert deliveries(org) == []
    ok(add(org, receiver.url("/late")), 201)
    first = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))[0]
    path = org.path(f"/runs/{launched['id']}/completed-tasks")
    ok(org.api.post(path, json={"task_id": first["id"]}))
    (sent,) = receiver.at("/late")
    assert sent.json["event"] == "task.completed"
    assert [(r["event"], r["source"]) for r in deliveries(org)] == [("task.completed", "watcher")]
    removed = org.api.delete(org.path(f"/remove-watcher/{ok(listed(org))[0]['id']}"))
    assert removed.status_code == 204, removed.text
    second = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))[1]
    ok(org.api.post(path, json={"task_id": second["id"]}))
    # The run completed with its last task: neither event goes anywhere now.
    assert [r["event"] for r in deliveries(org)] == ["task.completed"]


def test_one_delivery_per_url_and_event(org: Org, receiver: Receiver) -> None:
    ok(add(org, receiver.url("/same")), 201)
    ok(add(org, receiver.url("/same")), 201)
    made = checklist(org, steps=1, webhook=receiver.url("/same"))
    run(org, made["id"])
    (sent,) = receiver.at("/same")
    assert sent.json["event"] == "process.launched"
    assert [(r["event"], r["source"]) for r in deliveries(org)] == [
        ("process.launched", "template")
    ]


def test_other_organizations_events_are_not_sent(org: Org, receiver: Receiver) -> None:
    ok(add(org, receiver.url("/mine")), 201)
    with new_org(org.server) as other:
        theirs = run(other, checklist(other, steps=1)["id"])
        mine = run(org, checklist(org, steps=1)["id"])
        (sent,) = receiver.at("/mine")
        assert sent.json["id"] == mine["id"] != theirs["id"]
        assert deliveries(other) == []


def emit_and_commit(server: LiveServer, event: Event) -> None:
    """Emits as a service would and commits (for events other domains emit)."""

    async def work() -> None:
        engine = make_engine(server.settings.resolved_database_url)
        try:
            async with make_sessionmaker(engine)() as db:
                await emit(db, event)
                await db.commit()
        finally:
            await engine.dispose()

    asyncio.run(work())


@pytest.mark.parametrize(
    ("kind", "verb", "name"),
    [
        ("Task", "owners-updated", "task.assigned"),
        ("Comment", "commented", "task.comment_added"),
        ("Comment", "issue-reported", "task.issue_raised"),
        ("Comment", "issue-resolved", "task.issue_resolved"),
    ],
)
def test_watchers_receive_assignment_and_comment_events(
    org: Org, receiver: Receiver, kind: str, verb: str, name: str
) -> None:
    made = checklist(org, steps=1, webhook=receiver.url("/template"))
    launched = run(org, made["id"])
    receiver.at("/template")
    ok(add(org, receiver.url("/org")), 201)
    (task,) = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))
    emit_and_commit(
        org.server,
        Event(
            org_id=org.id,
            type=kind,
            verb=verb,
            entity_type="thread" if kind == "Comment" else "task",
            entity_id="c" * 32 if kind == "Comment" else task["id"],
            task_id=task["id"],
            run_id=launched["id"],
            actor_id=org.admin_id,
            actor_email=org.admin_email,
            new_value="Looks good" if kind == "Comment" else None,
        ),
    )
    (sent,) = receiver.at("/org")
    body = sent.json
    assert (body["event"], body["this_task"]["id"], body["process"]["id"]) == (
        name,
        task["id"],
        launched["id"],
    )
    if kind == "Comment":
        assert body["comment"] == {
            "id": "c" * 32,
            "text": "Looks good",
            "author": {"id": org.admin_id, "email": org.admin_email},
        }
    # Template URLs only hear launches and completions.
    assert len(receiver.to("/template")) == 1


def test_commits_wake_the_worker(server: LiveServer, tmp_path: Path) -> None:
    """With a poll interval far beyond the test's patience, only the wake-up after commit can
    deliver in time."""
    slow_poll = {**FAST, "webhook_poll_seconds": 600.0}
    with live_server(server.backend, tmp_path, **slow_poll) as live, new_org(live) as org:
        receiver = Receiver()
        try:
            run(org, checklist(org, steps=1, webhook=receiver.url("/now"))["id"])
            (sent,) = receiver.at("/now")
            assert sent.json["event"] == "process.launched"
            wait_for_rows(org, "status = 'delivered'")
        finally:
            receiver.close()
