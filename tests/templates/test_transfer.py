"""Template export (GET with steps) and import (POST it back), as the Go CLI's `blueprint
export` / `blueprint import` do."""

from __future__ import annotations

from typing import Any

from tests.conftest import Org
from tests.support.factories import checklist, ok

# What the Go CLI strips from an export before posting it.
STRIPPED = (
    "id owner_id created_by alias steps_count industry_tags topic_tags folder_id kickoff_title "
    "kickoff_description started_processes created_at last_updated archived_at"
).split()


def source(org: Org) -> dict[str, Any]:
    """Two steps (the second's deadline counts from the first), a step field, a kick-off
    field and a rule reading the kick-off field that hides the second step."""
    template = checklist(org, steps=2, title="Vendor", summary="Buy things")
    path = org.path(f"/checklists/{template['id']}")
    kickoff = ok(
        org.api.put(
            path,
            json={
                "title": "Vendor",
                "prerun": [
                    {
                        "label": "Kind",
                        "field_type": "dropdown",
                        "options": [{"text": "Goods"}, {"text": "Services"}],
                    }
                ],
            },
        )
    )["prerun"][0]
    first, second = ok(org.api.get(path + "/steps"))
    ok(
        org.api.put(
            f"{path}/steps/{second['id']}",
            json={
                "title": "Pay",
                "deadline": {"value": 2, "unit": "days", "option": "from", "step": first["id"]},
            },
        )
    )
    ok(
        org.api.post(
            f"{path}/steps/{first['id']}/captures",
            json={"label": "Amount", "field_type": "text", "required": True},
        ),
        201,
    )
    ok(
        org.api.post(
            path + "/automated-actions",
            json={
                "automated_alias": "No pay for services",
                "conditions": [
                    {
                        "conditionable_type": "Prerun",
                        "conditionable_id": kickoff["id"],
                        "operation": "equals",
                        "statement": "Services",
                    }
                ],
                "then_actions": [
                    {
                        "action_type": "visibility",
                        "action_verb": "hide",
                        "target_step_id": second["id"],
                    }
                ],
            },
        ),
        201,
    )
    return ok(org.api.get(path, params={"with": "steps,automated_actions"}))


def imported_body(exported: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in exported.items() if k not in STRIPPED}


def test_export_then_import_makes_the_same_template_with_new_ids(org: Org) -> None:
    exported = source(org)
    made = ok(org.api.post(org.path("/checklists"), json=imported_body(exported)), 201)
    copy = ok(org.api.get(org.path(f"/checklists/{made['id']}"), params={"with": "steps"}))
    assert copy["id"] != exported["id"]
    assert (copy["title"], copy["summary"], copy["steps_count"]) == ("Vendor", "Buy things", 2)
    old_steps, new_steps = exported["steps"], copy["steps"]
    assert [s["title"] for s in new_steps] == ["Step 1", "Pay"]
    assert not {s["id"] for s in new_steps} & {s["id"] for s in old_steps}
    assert [c["label"] for c in new_steps[0]["captures"]] == ["Amount"]
    assert new_steps[0]["captures"][0]["required"] is True
    assert new_steps[1]["deadline"]["step"] == new_steps[0]["id"]
    (field,) = copy["prerun"]
    assert (field["label"], [o["text"] for o in field["options"]]) == (
        "Kind",
        ["Goods", "Services"],
    )
    assert field["id"] != exported["prerun"][0]["id"]
    (rule,) = copy["automated_actions"]
    assert rule["automated_alias"] == "No pay for services"
    assert rule["conditions"][0]["conditionable_id"] == field["id"]
    assert rule["conditions"][0]["conditionable_type"] == "Prerun"
    assert rule["then_actions"][0]["target_step_id"] == new_steps[1]["id"]
    # The source is untouched.
    again = ok(org.api.get(org.path(f"/checklists/{exported['id']}"), params={"with": "steps"}))
    assert [s["id"] for s in again["steps"]] == [s["id"] for s in old_steps]


def test_imported_rules_run_on_launch(org: Org) -> None:
    made = ok(org.api.post(org.path("/checklists"), json=imported_body(source(org))), 201)
    field = made["prerun"][0]
    launched = ok(
        org.api.post(
            org.path("/runs"),
            json={"checklist_id": made["id"], "prerun": {field["id"]: field["options"][1]}},
        ),
        201,
    )
    tasks = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))
    assert [(t["title"], t["status"]) for t in tasks] == [
        ("Step 1", "active"),
        ("Pay", "auto-skipped"),
    ]


def test_import_into_another_organization(org: Org) -> None:
    exported = source(org)
    other = org.server.new_org("Elsewhere")
    with org.server.client(other.token) as there:
        made = there.post(f"/organizations/{other.org_id}/checklists", json=imported_body(exported))
        assert made.status_code == 201
        data = made.json()["data"]
        assert data["steps_count"] == 2 and len(data["automated_actions"]) == 1


def test_import_refusals(org: Org) -> None:
    body = imported_body(source(org))
    step = body["steps"][1]
    dangling = {
        **body,
        "steps": [body["steps"][0], {**step, "deadline": {**step["deadline"], "step": "x" * 32}}],
    }
    refused = org.api.post(org.path("/checklists"), json=dangling)
    assert refused.status_code == 422 and "steps.1.deadline.step" in refused.json()["errors"]
    stranger = {**body, "steps": [{**body["steps"][0], "assignees": [999999]}]}
    refused = org.api.post(org.path("/checklists"), json=stranger)
    assert refused.status_code == 422 and "steps.0.assignees.0" in refused.json()["errors"]
    (rule,) = body["automated_actions"]
    broken = {
        **body,
        "automated_actions": [
            {**rule, "then_actions": [{**rule["then_actions"][0], "target_step_id": "y" * 32}]}
        ],
    }
    refused = org.api.post(org.path("/checklists"), json=broken)
    assert refused.status_code == 422
    assert "automated_actions.0.then_actions.0.target_step_id" in refused.json()["errors"]
    before = len(ok(org.api.get(org.path("/checklists"))))
    assert before == 1  # nothing of the refused imports stayed
    _, light = org.member("light")
    assert light.post(org.path("/checklists"), json=body).status_code == 403
