"""Sub-processes: completing a task whose step has `bp_to_launch` launches that template."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.activity.feed import feed
from tests.conftest import Org, new_org
from tests.support.factories import checklist, ok, run


def chain(org: Org, **bp: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Template "Phase 2" (one step), and "Phase 1" whose step "Hand off" launches it."""
    target = checklist(org, steps=1, title="Phase 2")
    trigger = checklist(org, steps=0, title="Phase 1")
    step = {"title": "Hand off", "bp_to_launch": {"id": target["id"], **bp}}
    ok(org.api.post(org.path(f"/checklists/{trigger['id']}/steps"), json=step), 201)
    return trigger, target


def children(org: Org, parent_id: str) -> list[dict[str, Any]]:
    runs = ok(org.api.get(org.path("/runs"), params={"per_page": 100}))
    return [r for r in runs if r.get("parent_id") == parent_id]


def complete(client: httpx.Client, org: Org, run_id: str, task_id: str) -> httpx.Response:
    return client.post(org.path(f"/runs/{run_id}/completed-tasks"), json={"task_id": task_id})


def only_task(org: Org, run_id: str) -> dict[str, Any]:
    (task,) = ok(org.api.get(org.path(f"/runs/{run_id}/tasks")))
    return task


def test_completing_the_step_launches_the_template_as_the_completer(org: Org) -> None:
    member, as_member = org.member("standard")
    trigger, target = chain(org)
    parent = run(org, trigger["id"])
    task = only_task(org, parent["id"])
    assert children(org, parent["id"]) == []
    ok(complete(as_member, org, parent["id"], task["id"]))
    (child,) = children(org, parent["id"])
    assert child["checklist_id"] == target["id"]
    assert child["name"].startswith("Phase 2 - ")
    assert (child["started_by"], child["owner_id"]) == (member, member)
    # The launched process runs: its task is there, assigned to its launcher.
    # (Task lists show each assignee as an object.)
    assert [u["id"] for u in only_task(org, child["id"])["owners"]["users"]] == [member]
    # The trigger task's history names it.
    (linked,) = [
        e for e in feed(org, entity_type="task", entity_id=task["id"]) if e["verb"][0] == "linked"
    ]
    assert (linked["field"][0], linked["actor_id"]) == ("launched_run_id", [member])
    assert child["id"] in str(linked["new_value"])


def test_name_format_and_once_per_task(org: Org) -> None:
    trigger, _ = chain(org, default_name_format="{{Process Name}} follow-up")
    parent = run(org, trigger["id"], name="Acme")
    task = only_task(org, parent["id"])
    ok(complete(org.api, org, parent["id"], task["id"]))
    ok(org.api.delete(org.path(f"/runs/{parent['id']}/completed-tasks/{task['id']}")))
    ok(complete(org.api, org, parent["id"], task["id"]))
    (child,) = children(org, parent["id"])
    assert child["name"] == "Acme follow-up"


def test_two_completions_at_once_launch_once(org: Org) -> None:
    trigger, _ = chain(org)
    parent = run(org, trigger["id"])
    task = only_task(org, parent["id"])
    clients = [org.client(org.token), org.client(org.token)]
    with ThreadPoolExecutor(2) as pool:
        answers = list(
            pool.map(lambda c: complete(c, org, parent["id"], task["id"]).status_code, clients)
        )
    assert sorted(answers) == [200, 422]
    assert len(children(org, parent["id"])) == 1


def test_light_completer_launches_as_the_process_owner(org: Org) -> None:
    light, as_light = org.member("light")
    trigger, _ = chain(org)
    parent = run(org, trigger["id"])
    task = only_task(org, parent["id"])
    path = org.path(f"/runs/{parent['id']}/tasks/{task['id']}")
    ok(org.api.put(path, json={"owners": {"users": [light]}}))
    ok(complete(as_light, org, parent["id"], task["id"]))
    (child,) = children(org, parent["id"])
    assert child["started_by"] == org.admin_id


def test_nothing_is_launched_from_a_template_that_cannot_be(org: Org) -> None:
    trigger, target = chain(org)
    assert org.api.delete(org.path(f"/checklists/{target['id']}")).status_code == 200
    parent = run(org, trigger["id"])
    ok(complete(org.api, org, parent["id"], only_task(org, parent["id"])["id"]))
    assert children(org, parent["id"]) == []
    assert ok(org.api.get(org.path(f"/runs/{parent['id']}")))["status"] == "complete"

    required, _ = chain(org)
    second = ok(org.api.get(org.path(f"/checklists/{required['id']}"), params={"with": "steps"}))
    target_id = second["steps"][0]["bp_to_launch"]["id"]
    ok(
        org.api.put(
            org.path(f"/checklists/{target_id}"),
            json={
                "title": "Phase 2",
                "prerun": [{"label": "Who", "field_type": "text", "required": True}],
            },
        )
    )
    parent = run(org, required["id"])
    ok(complete(org.api, org, parent["id"], only_task(org, parent["id"])["id"]))
    assert children(org, parent["id"]) == []


def test_a_step_names_a_template_of_its_organization(org: Org) -> None:
    trigger = checklist(org, steps=0)
    path = org.path(f"/checklists/{trigger['id']}/steps")
    with new_org(org.server) as other:
        theirs = checklist(other, steps=1)["id"]
    for target in ("0" * 32, 7, theirs):
        refused = org.api.post(path, json={"title": "x", "bp_to_launch": {"id": target}})
        assert refused.status_code == 422, refused.text
        assert list(refused.json()["errors"]) == ["bp_to_launch.id"]


def injecting(org: Org) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """ "Phase 1": "Hand off" (injects "Phase 2") then "Wrap up"; "Phase 2" has two steps, the
    first with a form field. Answers both templates and the field."""
    target = checklist(org, steps=2, title="Phase 2")
    path = org.path(f"/checklists/{target['id']}")
    first = ok(org.api.get(path + "/steps"))[0]
    field = {"label": "Notes", "field_type": "text", "required": False}
    notes = ok(org.api.post(path + f"/steps/{first['id']}/captures", json=field), 201)
    trigger = checklist(org, steps=0, title="Phase 1")
    bp = {"id": target["id"], "tasks_within_process": True}
    steps = org.path(f"/checklists/{trigger['id']}/steps")
    ok(org.api.post(steps, json={"title": "Hand off", "bp_to_launch": bp}), 201)
    ok(org.api.post(steps, json={"title": "Wrap up"}), 201)
    return trigger, target, notes


def tasks_of(org: Org, run_id: str) -> list[dict[str, Any]]:
    return ok(org.api.get(org.path(f"/runs/{run_id}/tasks"), params={"per_page": 100}))


def test_injecting_puts_the_steps_after_the_trigger_task(org: Org) -> None:
    member, as_member = org.member("standard")
    trigger, _, notes = injecting(org)
    parent = run(org, trigger["id"])
    hand_off, wrap_up = tasks_of(org, parent["id"])
    ok(complete(as_member, org, parent["id"], hand_off["id"]))
    assert children(org, parent["id"]) == []
    tasks = tasks_of(org, parent["id"])
    assert [t["title"] for t in tasks] == ["Hand off", "Step 1", "Step 2", "Wrap up"]
    assert [t["position"] for t in tasks] == [1, 2, 3, 4]
    injected = tasks[1:3]
    # Made as a launch of "Phase 2" by the completer would make them.
    for task in injected:
        assert (task["status"], task["run_id"]) == ("active", parent["id"])
        assert [u["id"] for u in task["owners"]["users"]] == [member]
        assert task["deadline"]
    # The step's form field, as the task's own (a value can be saved on it).
    path = org.path(f"/runs/{parent['id']}/tasks/{injected[0]['id']}")
    read = ok(org.api.get(path, params={"with": "form_fields"}))
    (field,) = read["form_fields"]["data"]
    assert field["label"] == "Notes" and field["id"] != notes["id"]
    ok(org.api.put(path, json={"taskdata": {field["id"]: "done"}}))
    # The trigger task's history names the tasks it added.
    (linked,) = [
        e
        for e in feed(org, entity_type="task", entity_id=hand_off["id"])
        if e["verb"][0] == "linked"
    ]
    assert (linked["field"][0], linked["actor_id"]) == ("injected_task_ids", [member])
    assert all(t["id"] in str(linked["new_value"]) for t in injected)


def run_status(org: Org, run_id: str) -> str:
    return str(ok(org.api.get(org.path(f"/runs/{run_id}")))["status"])


def test_the_run_completes_only_with_the_injected_tasks(org: Org) -> None:
    trigger, _, _ = injecting(org)
    parent = run(org, trigger["id"])
    hand_off, wrap_up = tasks_of(org, parent["id"])
    ok(complete(org.api, org, parent["id"], hand_off["id"]))
    ok(complete(org.api, org, parent["id"], wrap_up["id"]))
    assert run_status(org, parent["id"]) == "active"
    for task in tasks_of(org, parent["id"])[1:3]:
        ok(complete(org.api, org, parent["id"], task["id"]))
    assert run_status(org, parent["id"]) == "complete"


def test_completing_the_last_open_task_that_injects_keeps_the_run_active(org: Org) -> None:
    trigger, _, _ = injecting(org)
    parent = run(org, trigger["id"])
    hand_off, wrap_up = tasks_of(org, parent["id"])
    ok(complete(org.api, org, parent["id"], wrap_up["id"]))
    ok(complete(org.api, org, parent["id"], hand_off["id"]))
    assert len(tasks_of(org, parent["id"])) == 4
    assert run_status(org, parent["id"]) == "active"


def test_reopening_the_trigger_does_not_inject_again(org: Org) -> None:
    trigger, _, _ = injecting(org)
    parent = run(org, trigger["id"])
    hand_off, _ = tasks_of(org, parent["id"])
    ok(complete(org.api, org, parent["id"], hand_off["id"]))
    ok(org.api.delete(org.path(f"/runs/{parent['id']}/completed-tasks/{hand_off['id']}")))
    ok(complete(org.api, org, parent["id"], hand_off["id"]))
    assert len(tasks_of(org, parent["id"])) == 4


def test_two_completions_at_once_inject_once(org: Org) -> None:
    trigger, _, _ = injecting(org)
    parent = run(org, trigger["id"])
    hand_off, _ = tasks_of(org, parent["id"])
    clients = [org.client(org.token), org.client(org.token)]
    with ThreadPoolExecutor(2) as pool:
        answers = list(
            pool.map(lambda c: complete(c, org, parent["id"], hand_off["id"]).status_code, clients)
        )
    assert sorted(answers) == [200, 422]
    titles = [t["title"] for t in tasks_of(org, parent["id"])]
    assert titles == ["Hand off", "Step 1", "Step 2", "Wrap up"]


def test_injected_titles_resolve_against_the_current_run(org: Org) -> None:
    target = checklist(org, steps=0, title="Phase 2")
    step = {"title": "Call {{Process Name}}", "summary": "For {{Unknown}}"}
    ok(org.api.post(org.path(f"/checklists/{target['id']}/steps"), json=step), 201)
    trigger = checklist(org, steps=0, title="Phase 1")
    bp = {"id": target["id"], "tasks_within_process": True}
    steps = org.path(f"/checklists/{trigger['id']}/steps")
    ok(org.api.post(steps, json={"title": "Hand off", "bp_to_launch": bp}), 201)
    parent = run(org, trigger["id"], name="Acme")
    (hand_off,) = tasks_of(org, parent["id"])
    ok(complete(org.api, org, parent["id"], hand_off["id"]))
    _, injected = tasks_of(org, parent["id"])
    assert (injected["title"], injected["summary"]) == ("Call Acme", "For {{Unknown}}")
    assert injected["is_oneoff_task"] is True


def test_nothing_is_injected_from_an_archived_template(org: Org) -> None:
    trigger, target, _ = injecting(org)
    assert org.api.delete(org.path(f"/checklists/{target['id']}")).status_code == 200
    parent = run(org, trigger["id"])
    hand_off, wrap_up = tasks_of(org, parent["id"])
    ok(complete(org.api, org, parent["id"], hand_off["id"]))
    ok(complete(org.api, org, parent["id"], wrap_up["id"]))
    assert [t["title"] for t in tasks_of(org, parent["id"])] == ["Hand off", "Wrap up"]
    assert run_status(org, parent["id"]) == "complete"


def test_injecting_a_dual_version_template_uses_its_published_fields(org: Org) -> None:
    target = checklist(org, steps=0, title="Phase 2", dual_version_enabled=True)
    path = org.path(f"/checklists/{target['id']}")
    step = ok(org.api.post(path + "/steps", json={"title": "Check"}), 201)
    field = {"label": "Notes", "field_type": "text", "required": False}
    ok(org.api.post(path + f"/steps/{step['id']}/captures", json=field), 201)
    ok(org.api.put(path + "/publish"))
    draft = {"label": "Draft only", "field_type": "text", "required": True}
    ok(org.api.post(path + f"/steps/{step['id']}/captures", json=draft), 201)
    trigger = checklist(org, steps=0, title="Phase 1")
    bp = {"id": target["id"], "tasks_within_process": True}
    steps = org.path(f"/checklists/{trigger['id']}/steps")
    ok(org.api.post(steps, json={"title": "Hand off", "bp_to_launch": bp}), 201)
    parent = run(org, trigger["id"])
    (hand_off,) = tasks_of(org, parent["id"])
    ok(complete(org.api, org, parent["id"], hand_off["id"]))
    _, injected = tasks_of(org, parent["id"])
    read = ok(
        org.api.get(
            org.path(f"/runs/{parent['id']}/tasks/{injected['id']}"), params={"with": "form_fields"}
        )
    )
    assert [f["label"] for f in read["form_fields"]["data"]] == ["Notes"]
