"""Template, step and one-off task webhooks: what is sent, when, how it is signed, and how the
outbox retries, gives up, survives rollbacks and never holds up the API."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from checkrun import cli
from checkrun.db import make_engine, make_sessionmaker
from checkrun.kit.events import Event
from checkrun.runs.models import Run
from checkrun.webhooks import listener
from checkrun.webhooks.signing import verify
from tests.conftest import Org, live_server, new_org
from tests.support.factories import checklist, ok, one_off_task, run, tag
from tests.webhooks.conftest import FAST, Receiver, deliveries, rows, wait_for_rows

HEX32 = re.compile(r"^[0-9a-f]{32}$")


def template(
    org: Org,
    url: str | None,
    steps: int = 2,
    step_hooks: dict[int, str] | None = None,
    prerun: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    made = checklist(org, steps=0, **({"webhook": url} if url else {}))
    for i in range(steps):
        body = {"title": f"Step {i + 1}"}
        if step_hooks and i in step_hooks:
            body["webhook"] = step_hooks[i]
        ok(org.api.post(org.path(f"/checklists/{made['id']}/steps"), json=body), 201)
    if prerun:
        ok(
            org.api.put(
                org.path(f"/checklists/{made['id']}"),
                json={"title": made["title"], "prerun": prerun},
            )
        )
    return ok(org.api.get(org.path(f"/checklists/{made['id']}")))


def tasks_of(org: Org, launched: dict[str, Any]) -> list[dict[str, Any]]:
    return ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))


def complete(org: Org, launched: dict[str, Any], task_id: str) -> dict[str, Any]:
    return ok(
        org.api.post(org.path(f"/runs/{launched['id']}/completed-tasks"), json={"task_id": task_id})
    )


def events_of(received: list[Any]) -> list[str]:
    return sorted(r.header("X-Checkrun-Event") for r in received)


def by_event(received: list[Any], event: str) -> list[dict[str, Any]]:
    return [r.json for r in received if r.header("X-Checkrun-Event") == event]


# --- what is sent ----------------------------------------------------------------------------


def test_launch_payload_and_headers(org: Org, receiver: Receiver) -> None:
    made = template(org, receiver.url("/tpl"), prerun=[{"label": "Client", "field_type": "text"}])
    client = made["prerun"][0]
    launched = run(org, made["id"], prerun={client["id"]: "Acme"})
    (sent,) = receiver.at("/tpl")
    assert sent.header("X-Tallyfy-orgID") == org.id
    assert sent.header("X-Checkrun-Event") == "process.launched"
    assert HEX32.match(sent.header("X-Checkrun-Delivery"))
    assert sent.header("X-Checkrun-Attempt") == "1"
    assert sent.header("Content-Type") == "application/json"
    body = sent.json
    tasks = tasks_of(org, launched)
    assert (body["event"], body["id"], body["name"], body["status"]) == (
        "process.launched",
        launched["id"],
        launched["name"],
        "active",
    )
    assert body["checklist_id"] == made["id"]
    assert body["process-tasks"] == {t["alias"]: t["id"] for t in tasks}
    assert body["ko-form-fields"] == {client["alias"]: "Acme"}
    assert body["prerun"] == {client["id"]: "Acme"}
    assert body["launcher"] == {
        "id": org.admin_id,
        "email": org.admin_email,
        "full_name": "Admin User",
    }
    assert body["guest-links"] == {}
    (row,) = deliveries(org)
    assert (row["id"], row["event"], row["source"], row["run_id"]) == (
        sent.header("X-Checkrun-Delivery"),
        "process.launched",
        "template",
        launched["id"],
    )


def test_every_completion_and_the_process_completion_fire(org: Org, receiver: Receiver) -> None:
    made = template(org, receiver.url("/tpl"))
    urgent = tag(org, "urgent")
    launched = run(org, made["id"], tags=[urgent])
    first, second = tasks_of(org, launched)
    complete(org, launched, first["id"])
    (done,) = by_event(receiver.at("/tpl", 2), "task.completed")
    this = done["this_task"]
    assert (this["id"], this["status"], this["title"]) == (first["id"], "completed", "Step 1")
    assert this["completed_by"]["id"] == org.admin_id and this["completed_at"]
    assert this["owners"]["users"] == [
        {"id": org.admin_id, "email": org.admin_email, "full_name": "Admin User"}
    ]
    assert done["completer"]["id"] == done["launcher"]["id"] == org.admin_id
    assert done["next_task"]["id"] == second["id"]
    assert done["template"] == {
        "id": made["id"],
        "title": made["title"],
        "alias": None,
        "summary": made["summary"],
    }
    process = done["process"]
    assert (process["id"], process["organization_id"], process["status"]) == (
        launched["id"],
        org.id,
        "active",
    )
    assert process["progress"]["complete"] == 1 and process["progress"]["total"] == 2
    assert process["tags"] == [{"id": urgent, "name": "urgent", "color": "#3366ff"}]
    assert done["process-tasks"] == {first["alias"]: first["id"], second["alias"]: second["id"]}

    complete(org, launched, second["id"])
    received = receiver.at("/tpl", 4)
    assert events_of(received) == [
        "process.completed",
        "process.launched",
        "task.completed",
        "task.completed",
    ]
    last = [
        b for b in by_event(received, "task.completed") if b["this_task"]["id"] == second["id"]
    ][0]
    assert last["next_task"] == []
    (finished,) = by_event(received, "process.completed")
    assert (finished["id"], finished["status"]) == (launched["id"], "complete")
    assert finished["completed_at"] is not None


def test_task_form_values_are_in_the_completion_payload(org: Org, receiver: Receiver) -> None:
    made = template(org, receiver.url("/tpl"), steps=1)
    steps = ok(org.api.get(org.path(f"/checklists/{made['id']}/steps")))
    step = steps[0]
    field = ok(
        org.api.post(
            org.path(f"/checklists/{made['id']}/steps/{step['id']}/captures"),
            json={"label": "Answer", "field_type": "text"},
        ),
        201,
    )
    launched = run(org, made["id"])
    (task,) = tasks_of(org, launched)
    ok(
        org.api.put(
            org.path(f"/runs/{launched['id']}/tasks/{task['id']}"),
            json={"taskdata": {field["id"]: "42"}},
        )
    )
    complete(org, launched, task["id"])
    (done,) = by_event(receiver.at("/tpl", 3), "task.completed")
    capture = {"alias": field["alias"], "label": "Answer", "value": "42"}
    assert done["this_task"]["captures"] == {field["id"]: capture}
    assert done["form-fields"] == {field["alias"]: "42"}
    assert done["process"]["process_forms"] == {step["id"]: {field["id"]: capture}}


def test_step_url_replaces_the_template_url(org: Org, receiver: Receiver) -> None:
    made = template(org, receiver.url("/tpl"), step_hooks={0: receiver.url("/step")})
    launched = run(org, made["id"])
    first, second = tasks_of(org, launched)
    assert first["webhook"] == receiver.url("/step")
    complete(org, launched, first["id"])
    complete(org, launched, second["id"])
    (at_step,) = receiver.at("/step")
    assert at_step.json["this_task"]["id"] == first["id"]
    at_template = receiver.at("/tpl", 3)
    assert events_of(at_template) == ["process.completed", "process.launched", "task.completed"]
    assert by_event(at_template, "task.completed")[0]["this_task"]["id"] == second["id"]
    assert {r["source"] for r in deliveries(org, "event = 'task.completed'")} == {
        "step",
        "template",
    }


def test_one_off_task_with_a_webhook_fires_on_completion(org: Org, receiver: Receiver) -> None:
    task = one_off_task(org, webhook=receiver.url("/one-off"))
    silent = one_off_task(org)
    ok(org.api.post(org.path("/completed-tasks"), json={"task_id": silent["id"]}))
    ok(org.api.post(org.path("/completed-tasks"), json={"task_id": task["id"]}))
    (sent,) = receiver.at("/one-off")
    body = sent.json
    assert body["event"] == "task.completed" and body["this_task"]["id"] == task["id"]
    assert (body["process"], body["template"], body["next_task"]) == (None, None, [])
    assert body["launcher"]["id"] == org.admin_id
    assert [r["task_id"] for r in deliveries(org)] == [task["id"]]


def test_guest_links_carry_each_guests_code(org: Org, receiver: Receiver) -> None:
    owners = {"users": [org.admin_id], "guests": ["client@example.com"]}
    task = one_off_task(org, webhook=receiver.url("/guests"), owners=owners)
    guest = ok(org.api.get(org.path("/guests/client@example.com")))
    code = guest["link"].rsplit("/", 1)[1]
    ok(org.api.post(org.path("/completed-tasks"), json={"task_id": task["id"]}))
    (sent,) = receiver.at("/guests")
    assert sent.json["guest-links"] == {
        "client@example.com": {"link_for_guest": f"guest-all-task/{org.id}/{code}"}
    }
    assert sent.json["this_task"]["owners"]["guests"] == ["client@example.com"]


def test_no_webhook_no_delivery(org: Org) -> None:
    launched = run(org, template(org, None, steps=1)["id"])
    complete(org, launched, tasks_of(org, launched)[0]["id"])
    assert deliveries(org) == []


# --- signing ---------------------------------------------------------------------------------


def test_signature_verifies_with_the_secret_the_cli_shows(
    org: Org,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run(org, template(org, receiver.url("/signed"), steps=1)["id"])
    (sent,) = receiver.at("/signed")
    settings = org.server.settings
    monkeypatch.setenv("CHECKRUN_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("CHECKRUN_DATABASE_URL", settings.database_url)
    assert cli.main(["webhooks", "secret", "--org", org.id, "--json"]) == 0
    secret = json.loads(capsys.readouterr().out)["secrets"][org.id]
    assert secret.startswith("whsec_")
    stamp = int(sent.header("X-Checkrun-Timestamp"))
    header = sent.header("X-Checkrun-Signature")
    assert header.startswith("v1=")
    assert verify(secret, stamp, sent.body, header)
    assert not verify(secret, stamp, sent.body + b" ", header)
    assert not verify(secret, stamp + 1, sent.body, header)
    assert not verify("whsec_other", stamp, sent.body, header)
    stored = rows(org, "SELECT secret FROM webhook_secrets WHERE org_id = :oid", oid=org.id)
    assert stored == [{"secret": secret}]


def test_each_organization_has_its_own_secret(org: Org, receiver: Receiver) -> None:
    run(org, template(org, receiver.url("/a"), steps=1)["id"])
    with new_org(org.server) as other:
        run(other, template(other, receiver.url("/b"), steps=1)["id"])
        receiver.at("/a")
        receiver.at("/b")
        found = rows(
            org,
            "SELECT org_id, secret FROM webhook_secrets WHERE org_id IN (:a, :b)",
            a=org.id,
            b=other.id,
        )
    assert len({r["secret"] for r in found}) == 2


# --- retries, dead letters, timeouts ---------------------------------------------------------


def test_failures_are_retried_until_delivered(org: Org, receiver: Receiver) -> None:
    receiver.failures["/flaky"] = 2
    run(org, template(org, receiver.url("/flaky"), steps=1)["id"])
    sent = receiver.at("/flaky", 3)
    assert len({r.header("X-Checkrun-Delivery") for r in sent}) == 1
    assert [r.header("X-Checkrun-Attempt") for r in sent] == ["1", "2", "3"]
    assert len({r.body for r in sent}) == 1
    (row,) = wait_for_rows(org, "status = 'delivered'")
    assert (row["attempts"], row["last_status"], row["last_error"]) == (3, 200, None)
    assert row["delivered_at"] is not None and row["lease_token"] is None


def test_dead_after_max_attempts_and_cli_retry(
    org: Org,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    receiver.statuses["/down"] = 503
    run(org, template(org, receiver.url("/down"), steps=1)["id"])
    (row,) = wait_for_rows(org, "status = 'dead'")
    assert (row["attempts"], row["last_status"]) == (FAST["webhook_max_attempts"], 503)
    assert row["last_error"].startswith("HTTP 503")
    assert len(receiver.to("/down")) == FAST["webhook_max_attempts"]

    receiver.statuses["/down"] = 200
    settings = org.server.settings
    monkeypatch.setenv("CHECKRUN_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("CHECKRUN_DATABASE_URL", settings.database_url)
    assert cli.main(["webhooks", "retry", "--org", org.id]) == 0
    assert capsys.readouterr().out.startswith("1 dead deliveries")
    receiver.at("/down", int(FAST["webhook_max_attempts"]) + 1)
    (row,) = wait_for_rows(org, "status = 'delivered'")
    assert row["attempts"] == 1


def test_connection_errors_are_failures(org: Org) -> None:
    # Nothing listens on the receiver's port once it is closed.
    closed = Receiver()
    closed.close()
    run(org, template(org, closed.url("/gone"), steps=1)["id"])
    (row,) = wait_for_rows(org, "status = 'dead'")
    assert row["attempts"] == FAST["webhook_max_attempts"] and row["last_status"] is None
    assert "ConnectError" in row["last_error"]


def test_an_endpoint_that_never_answers_times_out(org: Org, receiver: Receiver) -> None:
    receiver.hold("/hang")
    run(org, template(org, receiver.url("/hang"), steps=1)["id"])
    (row,) = wait_for_rows(org, "status = 'dead'")
    assert row["last_status"] is None and "timed out" in row["last_error"]


def test_a_blocked_endpoint_does_not_hold_up_the_api(org: Org, receiver: Receiver) -> None:
    gate = receiver.hold("/slow")
    made = template(org, receiver.url("/slow"), steps=2)
    launched = run(org, made["id"])
    receiver.wait(lambda: receiver.held >= 1)
    # The launch's delivery is stuck in the receiver; the API goes on regardless.
    first, _ = tasks_of(org, launched)
    done = complete(org, launched, first["id"])
    assert done["status"] == "completed"
    assert not gate.is_set() and receiver.held >= 1
    assert len(deliveries(org, "event = 'task.completed'")) == 1
    gate.set()
    wait_for_rows(org, "status = 'delivered'", count=2)


# --- transactions ----------------------------------------------------------------------------


def test_a_rolled_back_change_sends_nothing(org: Org, receiver: Receiver) -> None:
    made = template(org, receiver.url("/tx"), steps=1)
    launched = run(org, made["id"])
    receiver.at("/tx")

    async def change_then_roll_back() -> int:
        engine = make_engine(org.server.settings.resolved_database_url)
        try:
            async with make_sessionmaker(engine)() as db:
                found = await db.get(Run, launched["id"])
                assert found is not None
                found.name = "Rolled back"
                await listener.on_event(
                    db,
                    Event(
                        org_id=org.id,
                        type="Process",
                        verb="created",
                        entity_type="run",
                        entity_id=launched["id"],
                        run_id=launched["id"],
                    ),
                )
                pending = await db.execute(
                    text("SELECT count(*) FROM webhook_deliveries WHERE run_id = :r"),
                    {"r": launched["id"]},
                )
                count = int(pending.scalar_one())
                await db.rollback()
                return count
        finally:
            await engine.dispose()

    assert asyncio.run(change_then_roll_back()) == 2  # the launch's row and the new one
    # A later committed change is delivered; the rolled-back one never is.
    complete(org, launched, tasks_of(org, launched)[0]["id"])
    received = receiver.at("/tx", 3)
    assert [r.json.get("name") for r in received if "name" in r.json] == [
        launched["name"],
        launched["name"],
    ]
    assert all(b"Rolled back" not in r.body for r in received)
    assert len(deliveries(org)) == 3


# --- URLs ------------------------------------------------------------------------------------


def test_urls_that_are_not_http_are_skipped(org: Org) -> None:
    launched = run(org, template(org, "ftp://example.com/hook", steps=1)["id"])
    complete(org, launched, tasks_of(org, launched)[0]["id"])
    assert deliveries(org) == []


def test_private_addresses_can_be_refused(server: Any, tmp_path: Path) -> None:
    with (
        live_server(server.backend, tmp_path, **FAST, webhook_block_private=True) as strict,
        new_org(strict) as org,
    ):
        receiver = Receiver()
        try:
            run(org, template(org, receiver.url("/local"), steps=1)["id"])
            (row,) = wait_for_rows(org, "status = 'dead'")
            assert row["attempts"] == 1 and "private or loopback" in row["last_error"]
            assert receiver.received == []
        finally:
            receiver.close()
