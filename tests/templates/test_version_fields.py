"""A process task keeps the form fields of the template version its run was launched from:
fields added (or made required) later show only on later runs, and don't block completion."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Org
from tests.support.factories import checklist, ok, run


def captures_path(org: Org, template: dict[str, Any]) -> str:
    step = ok(org.api.get(org.path(f"/checklists/{template['id']}/steps")))[0]
    return org.path(f"/checklists/{template['id']}/steps/{step['id']}/captures")


def add_field(org: Org, template: dict[str, Any], label: str, required: bool) -> dict[str, Any]:
    body = {"label": label, "field_type": "text", "required": required}
    return ok(org.api.post(captures_path(org, template), json=body), 201)


def first_task(org: Org, launched: dict[str, Any]) -> dict[str, Any]:
    path = org.path(f"/runs/{launched['id']}/tasks")
    tasks: list[dict[str, Any]] = ok(org.api.get(path, params={"with": "form_fields"}))
    return tasks[0]


def labels(task: dict[str, Any]) -> list[str]:
    return [f["label"] for f in task["form_fields"]["data"]]


def complete(org: Org, launched: dict[str, Any], task: dict[str, Any]) -> Any:
    return org.api.post(
        org.path(f"/runs/{launched['id']}/completed-tasks"), json={"task_id": task["id"]}
    )


def publish(org: Org, template: dict[str, Any]) -> None:
    ok(org.api.put(org.path(f"/checklists/{template['id']}/publish")))


@pytest.mark.parametrize("dual", [False, True])
def test_a_required_field_added_later_shows_and_blocks_only_on_later_runs(
    org: Org, dual: bool
) -> None:
    template = checklist(org, steps=1, **({"dual_version_enabled": True} if dual else {}))
    kept = add_field(org, template, "Amount", required=False)
    if dual:
        publish(org, template)
    earlier = run(org, template["id"])
    added = add_field(org, template, "PO number", required=True)
    if dual:
        # Unpublished, the draft's field is on no process yet.
        assert labels(first_task(org, run(org, template["id"]))) == ["Amount"]
        publish(org, template)
    later = run(org, template["id"])

    old, new = first_task(org, earlier), first_task(org, later)
    assert labels(old) == ["Amount"]
    assert labels(new) == ["Amount", "PO number"]
    # The earlier run's task takes values for its own fields; the new one's is not its own
    # (a field a task doesn't have is left out, as before).
    path = org.path(f"/runs/{earlier['id']}/tasks/{old['id']}")
    body = {"title": old["title"], "taskdata": {kept["id"]: "12", added["id"]: "x"}}
    assert org.api.put(path, json=body).status_code == 200
    assert [f["value"] for f in first_task(org, earlier)["form_fields"]["data"]] == ["12"]
    # The new required field blocks only the later run's task.
    assert complete(org, earlier, old).status_code == 200
    refused = complete(org, later, new)
    assert refused.status_code == 422
    assert f"taskdata.{added['id']}" in refused.json()["errors"]


def test_a_field_made_required_after_a_launch_does_not_block_the_earlier_run(org: Org) -> None:
    template = checklist(org, steps=1)
    field = add_field(org, template, "Amount", required=False)
    earlier = run(org, template["id"])
    path = f"{captures_path(org, template)}/{field['id']}"
    ok(org.api.put(path, json={"label": "Amount", "field_type": "text", "required": True}))
    later = run(org, template["id"])
    assert [f["required"] for f in first_task(org, earlier)["form_fields"]["data"]] == [False]
    assert complete(org, earlier, first_task(org, earlier)).status_code == 200
    assert complete(org, later, first_task(org, later)).status_code == 422


def test_a_field_removed_from_the_template_leaves_the_earlier_runs_too(org: Org) -> None:
    template = checklist(org, steps=1)
    gone = add_field(org, template, "Amount", required=True)
    add_field(org, template, "Notes", required=False)
    earlier = run(org, template["id"])
    assert org.api.delete(f"{captures_path(org, template)}/{gone['id']}").status_code in (200, 204)
    task = first_task(org, earlier)
    # Its values are removed with it (Tallyfy's documented behaviour), so the field goes
    # from the running processes too, and no longer blocks completion.
    assert labels(task) == ["Notes"]
    assert complete(org, earlier, task).status_code == 200
