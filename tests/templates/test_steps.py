from __future__ import annotations

from typing import Any

from tests.conftest import Org
from tests.support.factories import checklist, group, ok


def steps_of(org: Org, template: dict[str, Any]) -> list[dict[str, Any]]:
    return ok(org.api.get(org.path(f"/checklists/{template['id']}/steps")))


def step_path(org: Org, template: dict[str, Any], step: dict[str, Any]) -> str:
    return org.path(f"/checklists/{template['id']}/steps/{step['id']}")


def add_field(org: Org, template: dict[str, Any], step: dict[str, Any], **body: Any) -> Any:
    return org.api.post(step_path(org, template, step) + "/captures", json=body)


def test_steps_are_paginated_and_reordered(org: Org) -> None:
    template = checklist(org, steps=3)
    page = org.api.get(
        org.path(f"/checklists/{template['id']}/steps"), params={"per_page": 2}
    ).json()
    assert len(page["data"]) == 2 and page["meta"]["pagination"]["total_pages"] == 2
    first, second, third = steps_of(org, template)
    ok(org.api.put(step_path(org, template, third) + "/reorder", json={"position": 1}))
    assert [(s["title"], s["position"]) for s in steps_of(org, template)] == [
        ("Step 3", 1),
        ("Step 1", 2),
        ("Step 2", 3),
    ]


def test_put_replaces_the_step_and_absent_assignees_detach(org: Org) -> None:
    template = checklist(org, steps=1)
    (step,) = steps_of(org, template)
    path = step_path(org, template, step)
    ok(
        org.api.put(
            path,
            json={"title": "Review", "assignees": [org.admin_id], "everyone_must_complete": True},
        )
    )
    updated = ok(org.api.put(path, json={"title": "Review again"}))
    assert (updated["title"], updated["assignees"], updated["everyone_must_complete"]) == (
        "Review again",
        [],
        False,
    )
    assert org.api.put(path, json={"summary": "no title"}).status_code == 422
    assert org.api.put(path, json={"title": "x", "assignees": [987654]}).status_code == 422


def test_delete_renumbers_and_refuses_anchored_steps(org: Org) -> None:
    template = checklist(org, steps=3)
    first, second, third = steps_of(org, template)
    ok(
        org.api.put(
            step_path(org, template, third),
            json={
                "title": "Step 3",
                "deadline": {"value": 1, "unit": "days", "step": second["id"]},
            },
        )
    )
    refused = org.api.delete(step_path(org, template, second))
    assert refused.status_code == 422 and refused.json()["code"] == "STEP_IN_USE"
    assert org.api.delete(step_path(org, template, first)).status_code == 204
    assert [(s["id"], s["position"]) for s in steps_of(org, template)] == [
        (second["id"], 1),
        (third["id"], 2),
    ]


def test_clone_step_copies_its_fields(org: Org) -> None:
    template = checklist(org, steps=1)
    (step,) = steps_of(org, template)
    ok(add_field(org, template, step, label="Ref", field_type="text"), 201)
    copy = ok(org.api.post(step_path(org, template, step) + "/clone"), 201)
    assert copy["position"] == 2
    assert [c["label"] for c in copy["captures"]] == ["Ref"]
    assert (
        copy["captures"][0]["id"]
        != ok(org.api.get(step_path(org, template, step)))["captures"][0]["id"]
    )


def test_field_type_rules(org: Org) -> None:
    template = checklist(org, steps=1)
    (step,) = steps_of(org, template)
    for bad in (
        {"label": "R", "field_type": "radio", "options": [{"text": "only"}]},
        {"label": "D", "field_type": "dropdown"},
        {"label": "T", "field_type": "table"},
        {"label": "X", "field_type": "color"},
    ):
        assert add_field(org, template, step, **bad).status_code == 422
    field = ok(
        add_field(
            org,
            template,
            step,
            label="Size",
            field_type="radio",
            options=[{"text": "S"}, {"text": "L"}],
        ),
        201,
    )
    assert [o["id"] for o in field["options"]] == [1, 2]


def test_form_fields_object_lists_step_and_kickoff_fields(org: Org) -> None:
    template = checklist(org, steps=1)
    (step,) = steps_of(org, template)
    captured = ok(add_field(org, template, step, label="Ref", field_type="text"), 201)
    ok(
        org.api.put(
            org.path(f"/checklists/{template['id']}"),
            json={
                "title": template["title"],
                "prerun": [{"label": "Client", "field_type": "text"}],
            },
        )
    )
    data = ok(org.api.get(org.path(f"/checklists/{template['id']}/form-fields")))
    assert data["id"] == template["id"]
    assert [f["id"] for f in data["form_fields"]] == [captured["id"]]
    assert [f["label"] for f in data["ko_form_fields"]] == ["Client"]


def rule_body(field_id: str, step_id: str, verb: str = "hide") -> dict[str, Any]:
    return {
        "automated_alias": "r",
        "conditions": [{"conditionable_id": field_id, "operation": "equals", "statement": "no"}],
        "then_actions": [
            {"action_type": "visibility", "action_verb": verb, "target_step_id": step_id}
        ],
    }


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
    ok(
        org.api.post(
            org.path(f"/checklists/{template['id']}/automated-actions"),
            json=rule_body(field["id"], second["id"]),
        ),
        201,
    )
    copy = ok(
        org.api.post(
            org.path(f"/checklists/{template['id']}/clone"),
            data={"tenant": org.id, "title": "Copy"},
        ),
        201,
    )
    assert copy["title"] == "Copy" and copy["id"] != template["id"]
    new_steps = {s["id"] for s in steps_of(org, copy)}
    (rule,) = copy["automated_actions"]
    assert rule["then_actions"][0]["target_step_id"] in new_steps


def test_light_members_cannot_edit_steps(org: Org) -> None:
    template = checklist(org, steps=1)
    (step,) = steps_of(org, template)
    _, light = org.member("light")
    assert (
        light.post(org.path(f"/checklists/{template['id']}/steps"), json={"title": "x"}).status_code
        == 403
    )
    assert light.delete(step_path(org, template, step)).status_code == 403
    assert light.get(step_path(org, template, step)).status_code == 200


def test_step_reads_carry_what_the_sdk_needs(org: Org) -> None:
    template = checklist(org, steps=0)
    member, _ = org.member("standard")
    legal = group(org)
    created = ok(
        org.api.post(
            org.path(f"/checklists/{template['id']}/steps"),
            json={
                "title": "Sign",
                "step_type": "approval",
                "assignees": [member],
                "guests": ["Client@Example.com"],
                "groups": [legal],
                "assign_run_starter": False,
                "start_date": {"value": 1, "unit": "days"},
                "roles": ["signer"],
                "is_soft_start_date": True,
                "position": 9,
            },
        ),
        201,
    )
    read = ok(org.api.get(step_path(org, template, created)))
    assert {
        k: read[k]
        for k in (
            "title",
            "step_type",
            "position",
            "assignees",
            "guests",
            "groups",
            "assign_run_starter",
            "start_date",
            "roles",
            "is_soft_start_date",
            "send_chromeless",
            "captures",
        )
    } == {
        "title": "Sign",
        "step_type": "approval",
        "position": 1,
        "assignees": [member],
        "guests": ["client@example.com"],
        "groups": [legal],
        "assign_run_starter": False,
        "start_date": {"value": 1, "unit": "days"},
        "roles": ["signer"],
        "is_soft_start_date": True,
        "send_chromeless": False,
        "captures": [],
    }


def test_step_bodies_are_validated(org: Org) -> None:
    template = checklist(org, steps=2)
    first, second = steps_of(org, template)
    path = step_path(org, template, first)
    for body, field in (
        ({"step_type": "meeting"}, "step_type"),
        ({"guests": ["nobody"]}, "guests.0"),
        ({"assignees": [2**40]}, "assignees.0"),
        ({"deadline": {"value": 1, "unit": "fortnights"}}, "deadline.unit"),
        ({"deadline": {"value": -1}}, "deadline.value"),
        ({"deadline": {"value": 1, "option": "after"}}, "deadline.option"),
        ({"deadline": {"value": 1, "step": "0" * 32}}, "deadline.step"),
        ({"deadline": {"value": 1, "step": first["id"]}}, "deadline.step"),
        ({"start_date": {"value": 10**9}}, "start_date.value"),
        ({"max_assignable": 2**40}, "max_assignable"),
    ):
        refused = org.api.put(path, json={"title": "x", **body})
        assert refused.status_code == 422, (body, refused.text)
        assert field in refused.json()["errors"], (body, refused.json())
    anchored = ok(
        org.api.put(
            path,
            json={
                "title": "x",
                "deadline": {
                    "value": 2,
                    "unit": "hours",
                    "option": "prior_to",
                    "step": second["id"],
                },
            },
        )
    )
    assert anchored["deadline"] == {
        "value": 2,
        "unit": "hours",
        "option": "prior_to",
        "step": second["id"],
    }


def test_steps_list_defaults_to_ten_per_page(org: Org) -> None:
    template = checklist(org, steps=11)
    page = org.api.get(org.path(f"/checklists/{template['id']}/steps")).json()
    assert [s["position"] for s in page["data"]] == list(range(1, 11))
    assert page["meta"]["pagination"]["total_pages"] == 2
    assert page["meta"]["pagination"]["total"] == 11
    last = org.api.get(org.path(f"/checklists/{template['id']}/steps"), params={"page": 2})
    assert [s["title"] for s in last.json()["data"]] == ["Step 11"]


def test_reorder_moves_one_step_and_shifts_the_others(org: Org) -> None:
    template = checklist(org, steps=3)
    first, _, _ = steps_of(org, template)
    moved = ok(org.api.put(step_path(org, template, first) + "/reorder", json={"position": 99}))
    assert moved["position"] == 3
    assert [s["title"] for s in steps_of(org, template)] == ["Step 2", "Step 3", "Step 1"]
    for bad in ({"position": 0}, {}, {"position": "first"}):
        assert (
            org.api.put(step_path(org, template, first) + "/reorder", json=bad).status_code == 422
        )


def test_step_used_by_a_rule_field_cannot_be_deleted(org: Org) -> None:
    template = checklist(org, steps=2)
    first, second = steps_of(org, template)
    field = ok(add_field(org, template, first, label="Go?", field_type="text"), 201)
    ok(
        org.api.post(
            org.path(f"/checklists/{template['id']}/automated-actions"),
            json=rule_body(field["id"], second["id"]),
        ),
        201,
    )
    refused = org.api.delete(step_path(org, template, first))
    assert (refused.status_code, refused.json()["code"]) == (422, "STEP_IN_USE")
    assert refused.json()["message"]
    assert len(steps_of(org, template)) == 2


def test_field_get_put_delete(org: Org) -> None:
    template = checklist(org, steps=1)
    (step,) = steps_of(org, template)
    first = ok(
        add_field(
            org,
            template,
            step,
            label="Size",
            field_type="dropdown",
            options=[{"text": "S"}, {"text": "L"}],
        ),
        201,
    )
    second = ok(add_field(org, template, step, label="Notes", field_type="textarea"), 201)
    path = step_path(org, template, step) + f"/captures/{first['id']}"
    assert ok(org.api.get(path))["label"] == "Size"
    assert org.api.put(path, json={"field_type": "text"}).status_code == 422
    assert (
        org.api.put(
            path, json={"label": "Size", "field_type": "radio", "options": [{"text": "only"}]}
        ).status_code
        == 422
    )
    changed = ok(
        org.api.put(
            path,
            json={
                "label": "Plan",
                "field_type": "radio",
                "required": True,
                "options": [{"id": 2, "text": "A"}, {"id": 2, "text": "B"}, {"text": "C"}],
            },
        )
    )
    assert (changed["id"], changed["field_type"], changed["required"]) == (
        first["id"],
        "radio",
        True,
    )
    assert [o["id"] for o in changed["options"]] == [2, 1, 3]
    deleted = org.api.delete(path)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert org.api.get(path).status_code == 404
    assert org.api.delete(path).status_code == 404
    assert [
        (c["id"], c["position"])
        for c in ok(org.api.get(step_path(org, template, step)))["captures"]
    ] == [(second["id"], 1)]


def test_table_columns_are_numbered(org: Org) -> None:
    template = checklist(org, steps=1)
    (step,) = steps_of(org, template)
    table = ok(
        add_field(
            org,
            template,
            step,
            label="Items",
            field_type="table",
            columns=[{"label": "Name"}, {"text": "Qty"}],
        ),
        201,
    )
    assert table["columns"] == [{"id": 1, "label": "Name"}, {"id": 2, "label": "Qty"}]
    assert (
        add_field(
            org, template, step, label="T", field_type="table", columns=[{"id": 1}]
        ).status_code
        == 422
    )


def test_field_used_by_a_rule_cannot_be_deleted(org: Org) -> None:
    template = checklist(org, steps=2)
    first, second = steps_of(org, template)
    field = ok(add_field(org, template, first, label="Go?", field_type="text"), 201)
    ok(
        org.api.post(
            org.path(f"/checklists/{template['id']}/automated-actions"),
            json=rule_body(field["id"], second["id"]),
        ),
        201,
    )
    refused = org.api.delete(step_path(org, template, first) + f"/captures/{field['id']}")
    assert refused.status_code == 403
    assert refused.json()["message"] == (
        "Cannot delete a form field that is being used in a rule in other steps."
    )
    assert ok(org.api.get(step_path(org, template, first)))["captures"][0]["id"] == field["id"]


def test_kickoff_field_delete(org: Org) -> None:
    template = checklist(org, steps=1)
    (step,) = steps_of(org, template)
    base = org.path(f"/checklists/{template['id']}")
    used, free = ok(
        org.api.put(
            base,
            json={
                "title": "T",
                "prerun": [
                    {"label": "Plan", "field_type": "text"},
                    {"label": "Notes", "field_type": "text"},
                ],
            },
        )
    )["prerun"]
    ok(org.api.post(base + "/automated-actions", json=rule_body(used["id"], step["id"])), 201)
    assert org.api.delete(base + f"/preruns/{used['id']}").status_code == 403
    dropped = org.api.put(base, json={"title": "T", "prerun": [free]})
    assert dropped.status_code == 403
    assert org.api.delete(base + f"/preruns/{free['id']}").status_code == 204
    assert org.api.delete(base + f"/preruns/{free['id']}").status_code == 404
    assert [f["id"] for f in ok(org.api.get(base + "/form-fields"))["ko_form_fields"]] == [
        used["id"]
    ]


def test_form_fields_carry_their_step(org: Org) -> None:
    template = checklist(org, steps=2)
    _, second = steps_of(org, template)
    field = ok(add_field(org, template, second, label="Ref", field_type="text"), 201)
    data = ok(org.api.get(org.path(f"/checklists/{template['id']}/form-fields")))
    assert [(f["id"], f["step_id"]) for f in data["form_fields"]] == [(field["id"], second["id"])]
    assert data["ko_form_fields"] == []


def test_light_members_cannot_edit_fields_or_order(org: Org) -> None:
    template = checklist(org, steps=1)
    (step,) = steps_of(org, template)
    field = ok(add_field(org, template, step, label="Ref", field_type="text"), 201)
    _, light = org.member("light")
    path = step_path(org, template, step)
    body = {"label": "x", "field_type": "text"}
    assert light.post(path + "/captures", json=body).status_code == 403
    assert light.put(path + f"/captures/{field['id']}", json=body).status_code == 403
    assert light.delete(path + f"/captures/{field['id']}").status_code == 403
    assert light.put(path, json={"title": "x"}).status_code == 403
    assert light.put(path + "/reorder", json={"position": 1}).status_code == 403
    assert light.post(path + "/clone").status_code == 403
    assert light.get(path + f"/captures/{field['id']}").status_code == 200
    _, standard = org.member("standard")
    assert standard.put(path, json={"title": "By standard"}).status_code == 200


def test_steps_of_another_template_are_not_found(org: Org) -> None:
    one, two = checklist(org, steps=1), checklist(org, steps=1)
    (step,) = steps_of(org, one)
    wrong = org.path(f"/checklists/{two['id']}/steps/{step['id']}")
    for call in (org.api.get, org.api.delete):
        assert call(wrong).status_code == 404
    assert org.api.put(wrong, json={"title": "x"}).status_code == 404


def test_field_definitions_show_every_reference_setting(org: Org) -> None:
    """Unsent settings read as the reference's defaults; sent ones come back as sent, through
    every read of the definition (the capture, the step, the template's form-fields)."""
    template = checklist(org, steps=1)
    (step,) = steps_of(org, template)
    plain = ok(add_field(org, template, step, label="Plain", field_type="text"), 201)
    expected: dict[str, Any] = {
        "default_value_enabled": False,
        "default_value": None,
        "collect_time": False,
        "use_wysiwyg_editor": False,
        "field_validation": [],
        "prefix": None,
        "suffix": None,
        "settings": {},
    }
    assert {k: plain[k] for k in expected} == expected
    sent = {
        "default_value_enabled": True,
        "default_value": "7",
        "field_validation": ["numeric"],
        "prefix": "$",
        "suffix": "USD",
    }
    made = ok(add_field(org, template, step, label="Cost", field_type="text", **sent), 201)
    assert {k: made[k] for k in sent} == sent and made["collect_time"] is False
    (read,) = [f for f in steps_of(org, template)[0]["captures"] if f["id"] == made["id"]]
    assert {k: read[k] for k in sent} == sent
    listed = ok(org.api.get(org.path(f"/checklists/{template['id']}/form-fields")))
    (field,) = [f for f in listed["form_fields"] if f["id"] == made["id"]]
    assert field["prefix"] == "$" and field["settings"] == {}
