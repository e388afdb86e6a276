from __future__ import annotations

from typing import Any

from tests.conftest import Org
from tests.support.factories import checklist, ok


def steps_of(org: Org, template: dict[str, Any]) -> list[dict[str, Any]]:
    return ok(org.api.get(org.path(f"/checklists/{template['id']}/steps")))


def step_path(org: Org, template: dict[str, Any], step: dict[str, Any]) -> str:
    return org.path(f"/checklists/{template['id']}/steps/{step['id']}")


def add_field(org: Org, template: dict[str, Any], step: dict[str, Any], **body: Any) -> Any:
    return org.api.post(step_path(org, template, step) + "/captures", json=body)


def test_steps_are_paginated_and_reordered(org: Org) -> None:
    template = checklist(org, steps=3)
    page = org.api.get(org.path(f"/checklists/{template['id']}/steps"),
                       params={"per_page": 2}).json()
    assert len(page["data"]) == 2 and page["meta"]["pagination"]["total_pages"] == 2
    first, second, third = steps_of(org, template)
    ok(org.api.put(step_path(org, template, third) + "/reorder", json={"position": 1}))
    assert [(s["title"], s["position"]) for s in steps_of(org, template)] == [
        ("Step 3", 1), ("Step 1", 2), ("Step 2", 3)]


def test_put_replaces_the_step_and_absent_assignees_detach(org: Org) -> None:
    template = checklist(org, steps=1)
    (step,) = steps_of(org, template)
    path = step_path(org, template, step)
    ok(org.api.put(path, json={"title": "Review", "assignees": [org.admin_id],
                               "everyone_must_complete": True}))
    updated = ok(org.api.put(path, json={"title": "Review again"}))
    assert (updated["title"], updated["assignees"], updated["everyone_must_complete"]) == (
        "Review again", [], False)
    assert org.api.put(path, json={"summary": "no title"}).status_code == 422
    assert org.api.put(path, json={"title": "x", "assignees": [987654]}).status_code == 422


def test_delete_renumbers_and_refuses_anchored_steps(org: Org) -> None:
    template = checklist(org, steps=3)
    first, second, third = steps_of(org, template)
    ok(org.api.put(step_path(org, template, third), json={
        "title": "Step 3", "deadline": {"value": 1, "unit": "days", "step": second["id"]}}))
    refused = org.api.delete(step_path(org, template, second))
    assert refused.status_code == 422 and refused.json()["code"] == "STEP_IN_USE"
    assert org.api.delete(step_path(org, template, first)).status_code == 204
    assert [(s["id"], s["position"]) for s in steps_of(org, template)] == [
        (second["id"], 1), (third["id"], 2)]


def test_clone_step_copies_its_fields(org: Org) -> None:
    template = checklist(org, steps=1)
    (step,) = steps_of(org, template)
    ok(add_field(org, template, step, label="Ref", field_type="text"), 201)
    copy = ok(org.api.post(step_path(org, template, step) + "/clone"), 201)
    assert copy["position"] == 2
    assert [c["label"] for c in copy["captures"]] == ["Ref"]
    assert copy["captures"][0]["id"] != ok(org.api.get(step_path(org, template, step)))[
        "captures"][0]["id"]


def test_field_type_rules(org: Org) -> None:
    template = checklist(org, steps=1)
    (step,) = steps_of(org, template)
    for bad in ({"label": "R", "field_type": "radio", "options": [{"text": "only"}]},
                {"label": "D", "field_type": "dropdown"},
                {"label": "T", "field_type": "table"},
                {"label": "X", "field_type": "color"}):
        assert add_field(org, template, step, **bad).status_code == 422
    field = ok(add_field(org, template, step, label="Size", field_type="radio",
                         options=[{"text": "S"}, {"text": "L"}]), 201)
    assert [o["id"] for o in field["options"]] == [1, 2]


def test_form_fields_object_lists_step_and_kickoff_fields(org: Org) -> None:
    template = checklist(org, steps=1)
    (step,) = steps_of(org, template)
    captured = ok(add_field(org, template, step, label="Ref", field_type="text"), 201)
    ok(org.api.put(org.path(f"/checklists/{template['id']}"), json={
        "title": template["title"], "prerun": [{"label": "Client", "field_type": "text"}]}))
    data = ok(org.api.get(org.path(f"/checklists/{template['id']}/form-fields")))
    assert data["id"] == template["id"]
    assert [f["id"] for f in data["form_fields"]] == [captured["id"]]
    assert [f["label"] for f in data["ko_form_fields"]] == ["Client"]


def rule_body(field_id: str, step_id: str, verb: str = "hide") -> dict[str, Any]:
    return {"automated_alias": "r", "conditions": [
        {"conditionable_id": field_id, "operation": "equals", "statement": "no"}],
        "then_actions": [{"action_type": "visibility", "action_verb": verb,
                          "target_step_id": step_id}]}


def test_rules_are_validated_and_guard_what_they_use(org: Org) -> None:
    template = checklist(org, steps=2)
    first, second = steps_of(org, template)
    field = ok(add_field(org, template, first, label="Go?", field_type="text"), 201)
    rules = org.path(f"/checklists/{template['id']}/automated-actions")
    bad = org.api.post(rules, json=rule_body("f" * 32, second["id"]))
    assert bad.status_code == 422
    rule = ok(org.api.post(rules, json=rule_body(field["id"], second["id"])), 201)
    inline = ok(org.api.get(org.path(f"/checklists/{template['id']}")))["automated_actions"]
    assert [r["id"] for r in inline] == [rule["id"]]
    assert org.api.delete(step_path(org, template, second)).status_code == 422
    in_use = org.api.delete(step_path(org, template, first) + f"/captures/{field['id']}")
    assert in_use.status_code == 403
    assert org.api.delete(f"{rules}/{rule['id']}").status_code == 204
    assert org.api.delete(f"{rules}/{rule['id']}").status_code == 404
    assert org.api.delete(step_path(org, template, second)).status_code == 204


def test_template_clone_remaps_rules(org: Org) -> None:
    template = checklist(org, steps=2)
    first, second = steps_of(org, template)
    field = ok(add_field(org, template, first, label="Go?", field_type="text"), 201)
    ok(org.api.post(org.path(f"/checklists/{template['id']}/automated-actions"),
                    json=rule_body(field["id"], second["id"])), 201)
    copy = ok(org.api.post(org.path(f"/checklists/{template['id']}/clone"),
                           data={"tenant": org.id, "title": "Copy"}), 201)
    assert copy["title"] == "Copy" and copy["id"] != template["id"]
    new_steps = {s["id"] for s in steps_of(org, copy)}
    (rule,) = copy["automated_actions"]
    assert rule["then_actions"][0]["target_step_id"] in new_steps


def test_light_members_cannot_edit_steps(org: Org) -> None:
    template = checklist(org, steps=1)
    (step,) = steps_of(org, template)
    _, light = org.member("light")
    assert light.post(org.path(f"/checklists/{template['id']}/steps"),
                      json={"title": "x"}).status_code == 403
    assert light.delete(step_path(org, template, step)).status_code == 403
    assert light.get(step_path(org, template, step)).status_code == 200
