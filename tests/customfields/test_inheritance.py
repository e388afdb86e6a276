"""Inheritance at creation, once and forward: a launched process takes its template's values,
its tasks their steps'; later changes to the template reach no process already running."""

from __future__ import annotations

from tests.conftest import Org
from tests.customfields.test_keys import make_key
from tests.customfields.test_values import fields, put
from tests.support.factories import checklist, ok, run


def test_a_process_and_its_tasks_inherit_at_launch(org: Org) -> None:
    make_key(org, "cost_center", applies_to="template")
    make_key(org, "sla", applies_to="step", field_type="number")
    make_key(org, "priority", applies_to="process")
    template = checklist(org, steps=2)
    tpl = org.path(f"/checklists/{template['id']}")
    first, second = ok(org.api.get(tpl + "/steps"))
    put(org.api, tpl, {"cost_center": "CC-1"})
    put(org.api, f"{tpl}/steps/{first['id']}", {"sla": 4})

    launched = run(org, template["id"])
    process = org.path(f"/runs/{launched['id']}")
    assert fields(org.api, process) == {"cost_center": "CC-1"}
    tasks = {t["step_id"]: t for t in ok(org.api.get(process + "/tasks"))}
    assert fields(org.api, f"{process}/tasks/{tasks[first['id']]['id']}") == {"sla": 4}
    assert fields(org.api, f"{process}/tasks/{tasks[second['id']]['id']}") == {}

    # The process's own copy: changed on it alone, and the template's later change stays away.
    ok(org.api.patch(process + "/custom-fields/cost_center", json={"value": "CC-2"}))
    ok(org.api.patch(process + "/custom-fields/priority", json={"value": "high"}))
    put(org.api, tpl, {"cost_center": "CC-9"})
    assert fields(org.api, process) == {"cost_center": "CC-2", "priority": "high"}
    assert fields(org.api, tpl) == {"cost_center": "CC-9"}
    again = run(org, template["id"])
    assert fields(org.api, org.path(f"/runs/{again['id']}")) == {"cost_center": "CC-9"}


def test_a_template_without_values_launches_a_process_without_any(org: Org) -> None:
    make_key(org, "cost_center", applies_to="template")
    launched = run(org)
    assert fields(org.api, org.path(f"/runs/{launched['id']}")) == {}


def test_the_task_list_filters_by_a_custom_field(org: Org) -> None:
    make_key(org, "priority", applies_to="task")
    make_key(org, "size", applies_to="task", field_type="number")
    launched = run(org)
    process = org.path(f"/runs/{launched['id']}")
    first, second = ok(org.api.get(process + "/tasks"))
    ok(
        org.api.patch(
            f"{process}/tasks/{first['id']}/custom-fields/priority", json={"value": "High"}
        )
    )
    ok(
        org.api.patch(
            f"{process}/tasks/{second['id']}/custom-fields/priority", json={"value": "Low"}
        )
    )
    ok(org.api.patch(f"{process}/tasks/{second['id']}/custom-fields/size", json={"value": 3}))

    def listed(**params: str) -> list[str]:
        return [t["id"] for t in ok(org.api.get(org.path("/tasks"), params=params))]

    assert listed(custom_field_key="priority", custom_field_value="High") == [first["id"]]
    assert listed(custom_field_key="priority", custom_field_value="high") == []
    assert listed(custom_field_key="size", custom_field_value="3") == [second["id"]]
    assert sorted(listed(custom_field_key="priority")) == sorted([first["id"], second["id"]])
    assert listed(custom_field_key="nope", custom_field_value="High") == []
    refused = org.api.get(org.path("/tasks"), params={"custom_field_value": "High"})
    assert refused.status_code == 422
    in_run = ok(
        org.api.get(
            process + "/tasks", params={"custom_field_key": "priority", "custom_field_value": "Low"}
        )
    )
    assert [t["id"] for t in in_run] == [second["id"]]
