"""An automation's webhook action: sent through the outbox once each time its rule starts to
fire, also when the completions that make it fire arrive at the same moment."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.concurrency.conftest import burst, statuses
from tests.conftest import Org
from tests.support.factories import checklist, ok
from tests.webhooks.conftest import WAIT, Receiver, deliveries

HOOK = "/rule-hook"
EVENT = "automation.fired"


def flow(org: Org, url: str, logic: str, steps: int = 3) -> tuple[dict[str, Any], str]:
    """Steps 1..n; a rule: step 1 completed <logic> step 2 completed -> webhook to `url`."""
    made = checklist(org, steps=steps)
    ids = [s["id"] for s in ok(org.api.get(org.path(f"/checklists/{made['id']}/steps")))]
    rule = ok(
        org.api.post(
            org.path(f"/checklists/{made['id']}/automated-actions"),
            json={
                "automated_alias": "Tell the warehouse",
                "conditions": [
                    {
                        "conditionable_type": "Step",
                        "conditionable_id": ids[0],
                        "operation": "completed",
                    },
                    {
                        "conditionable_type": "Step",
                        "conditionable_id": ids[1],
                        "operation": "completed",
                        "logic": logic,
                    },
                ],
                "then_actions": [
                    {"action_type": "webhook", "action_verb": "send", "webhook_url": url}
                ],
            },
        ),
        201,
    )
    return made, rule["id"]


def launch(org: Org, made: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    launched = ok(org.api.post(org.path("/runs"), json={"checklist_id": made["id"]}), 201)
    return launched, ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))


def fired(org: Org, receiver: Receiver, run_id: str) -> list[dict[str, Any]]:
    """The rule's deliveries of this run, once all are sent; outbox and receiver agree."""
    deadline = time.monotonic() + WAIT
    where = "event = :event AND run_id = :run_id"
    while any(r["status"] == "pending" for r in deliveries(org, where, event=EVENT, run_id=run_id)):
        assert time.monotonic() < deadline, deliveries(org)
        time.sleep(0.05)
    rows = deliveries(org, where, event=EVENT, run_id=run_id)
    got = [r.json for r in receiver.to(HOOK) if r.json.get("id") == run_id]
    assert len(got) == len(rows), (got, rows)
    return got


def complete_both(org: Org, launched: dict[str, Any], tasks: list[dict[str, Any]]) -> None:
    path = org.path(f"/runs/{launched['id']}/completed-tasks")

    def completes(task: dict[str, Any]) -> Any:
        return lambda client: client.post(path, json={"task_id": task["id"]})

    answers = burst(
        org.server.api, [(org.token, completes(tasks[0])), (org.token, completes(tasks[1]))]
    )
    assert statuses(answers) == [200, 200], answers


def test_a_rule_fired_by_two_parallel_completions_sends_once(org: Org, receiver: Receiver) -> None:
    made, rule_id = flow(org, receiver.url(HOOK), "or")
    launched, tasks = launch(org, made)
    complete_both(org, launched, tasks)
    (sent,) = fired(org, receiver, launched["id"])
    assert sent["event"] == EVENT
    assert sent["automation"]["id"] == rule_id
    assert sent["automation"]["automated_alias"] == "Tell the warehouse"


def test_an_and_rule_fires_once_its_last_condition_holds(org: Org, receiver: Receiver) -> None:
    made, _ = flow(org, receiver.url(HOOK), "and")
    launched, tasks = launch(org, made)
    complete_both(org, launched, tasks)
    assert len(fired(org, receiver, launched["id"])) == 1


def test_the_webhook_is_sent_again_only_when_the_rule_starts_to_fire_again(
    org: Org, receiver: Receiver
) -> None:
    made, _ = flow(org, receiver.url(HOOK), "or")
    launched, tasks = launch(org, made)
    path = org.path(f"/runs/{launched['id']}/completed-tasks")
    ok(org.api.post(path, json={"task_id": tasks[0]["id"]}))
    ok(org.api.post(path, json={"task_id": tasks[1]["id"]}))  # still firing: nothing new
    ok(org.api.post(path, json={"task_id": tasks[2]["id"]}))
    assert len(fired(org, receiver, launched["id"])) == 1
    ok(org.api.delete(f"{path}/{tasks[0]['id']}"))
    ok(org.api.delete(f"{path}/{tasks[1]['id']}"))  # stops firing
    ok(org.api.post(path, json={"task_id": tasks[1]["id"]}))  # starts again
    assert len(fired(org, receiver, launched["id"])) == 2


def test_many_parallel_completions_of_one_task_fire_once(org: Org, receiver: Receiver) -> None:
    made, _ = flow(org, receiver.url(HOOK), "or")
    launched, tasks = launch(org, made)
    path = org.path(f"/runs/{launched['id']}/completed-tasks")

    def call(client: httpx.Client) -> httpx.Response:
        return client.post(path, json={"task_id": tasks[0]["id"]})

    answers = burst(org.server.api, [(org.token, call)] * 8)
    assert statuses(answers) == [200] + [422] * 7
    assert len(fired(org, receiver, launched["id"])) == 1
