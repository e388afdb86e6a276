from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.conftest import Org
from tests.support.factories import checklist, ok, round_the_clock, with_owner_ids


def template_with_rule(org: Org, verb: str) -> tuple[dict[str, Any], str, list[dict[str, Any]]]:
    template = checklist(org, steps=2)
    ko = ok(
        org.api.put(
            org.path(f"/checklists/{template['id']}"),
            json={
                "title": template["title"],
                "prerun": [{"label": "Contract", "field_type": "text"}],
            },
        )
    )["prerun"][0]
    steps = ok(org.api.get(org.path(f"/checklists/{template['id']}/steps")))
    ok(
        org.api.post(
            org.path(f"/checklists/{template['id']}/automated-actions"),
            json={
                "conditions": [
                    {
                        "conditionable_type": "Prerun",
                        "conditionable_id": ko["id"],
                        "operation": "equals",
                        "statement": "no",
                    }
                ],
                "then_actions": [
                    {
                        "action_type": "visibility",
                        "action_verb": verb,
                        "target_step_id": steps[1]["id"],
                    }
                ],
            },
        ),
        201,
    )
    return template, ko["id"], steps


def statuses(org: Org, run: dict[str, Any]) -> list[str]:
    return [t["status"] for t in ok(org.api.get(org.path(f"/runs/{run['id']}/tasks")))]


def test_hide_rule_skips_the_step_at_launch_and_progress_ignores_it(org: Org) -> None:
    template, field, _ = template_with_rule(org, "hide")
    hidden = ok(
        org.api.post(
            org.path("/runs"), json={"checklist_id": template["id"], "prerun": {field: "no"}}
        ),
        201,
    )
    assert statuses(org, hidden) == ["active", "auto-skipped"]
    assert hidden["progress"]["total"] == 1
    shown = ok(
        org.api.post(
            org.path("/runs"), json={"checklist_id": template["id"], "prerun": {field: "yes"}}
        ),
        201,
    )
    assert statuses(org, shown) == ["active", "active"]


def test_rules_follow_value_changes(org: Org) -> None:
    template, field, _ = template_with_rule(org, "hide")
    launched = ok(
        org.api.post(
            org.path("/runs"), json={"checklist_id": template["id"], "prerun": {field: "yes"}}
        ),
        201,
    )
    ok(org.api.put(org.path(f"/runs/{launched['id']}"), json={"prerun": {field: "no"}}))
    assert statuses(org, launched) == ["active", "auto-skipped"]
    ok(org.api.put(org.path(f"/runs/{launched['id']}"), json={"prerun": {field: "yes"}}))
    assert statuses(org, launched) == ["active", "active"]


def test_show_rule_keeps_the_step_hidden_until_it_fires(org: Org) -> None:
    template, field, _ = template_with_rule(org, "show")
    launched = ok(org.api.post(org.path("/runs"), json={"checklist_id": template["id"]}), 201)
    assert statuses(org, launched) == ["active", "auto-skipped"]
    ok(org.api.put(org.path(f"/runs/{launched['id']}"), json={"prerun": {field: "no"}}))
    assert statuses(org, launched) == ["active", "active"]


def test_completing_the_visible_tasks_completes_the_run(org: Org) -> None:
    template, field, _ = template_with_rule(org, "hide")
    launched = ok(
        org.api.post(
            org.path("/runs"), json={"checklist_id": template["id"], "prerun": {field: "no"}}
        ),
        201,
    )
    first = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))[0]
    ok(
        org.api.post(
            org.path(f"/runs/{launched['id']}/completed-tasks"), json={"task_id": first["id"]}
        )
    )
    assert ok(org.api.get(org.path(f"/runs/{launched['id']}")))["status"] == "complete"


def test_auto_naming_and_step_rules_at_launch(org: Org) -> None:
    template = checklist(
        org, steps=0, auto_naming=True, default_process_name_format="{{Client}} onboarding"
    )
    ok(
        org.api.put(
            org.path(f"/checklists/{template['id']}"),
            json={
                "title": template["title"],
                "auto_naming": True,
                "prerun": [{"label": "Client", "field_type": "text", "required": True}],
            },
        )
    )
    field = ok(org.api.get(org.path(f"/checklists/{template['id']}")))["prerun"][0]["id"]
    ok(
        org.api.post(
            org.path(f"/checklists/{template['id']}/steps"),
            json={"title": "Sign", "everyone_must_complete": True, "step_type": "approval"},
        ),
        201,
    )
    launched = ok(
        org.api.post(
            org.path("/runs"), json={"checklist_id": template["id"], "prerun": {field: "Acme"}}
        ),
        201,
    )
    assert launched["name"] == "Acme onboarding"
    (task,) = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))
    assert (task["everyone_must_complete"], task["task_type"]) == (True, "approval")
    missing = org.api.post(org.path("/runs"), json={"checklist_id": template["id"]})
    assert missing.status_code == 422
    assert missing.json()["errors"] == {f"prerun.{field}": ["Client is required"]}


def test_run_includes_assets_form_fields_tags_and_checklist(org: Org) -> None:
    template = checklist(org, steps=1)
    step = ok(org.api.get(org.path(f"/checklists/{template['id']}/steps")))[0]
    field = ok(
        org.api.post(
            org.path(f"/checklists/{template['id']}/steps/{step['id']}/captures"),
            json={"label": "Ref", "field_type": "text"},
        ),
        201,
    )
    launched = ok(org.api.post(org.path("/runs"), json={"checklist_id": template["id"]}), 201)
    (task,) = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))
    ok(
        org.api.put(
            org.path(f"/runs/{launched['id']}/tasks/{task['id']}"),
            json={"taskdata": {field["id"]: "R-7"}},
        )
    )
    asset = ok(
        org.api.post(
            org.path("/file"),
            files={"name": ("a.txt", b"x")},
            data={
                "subject_type": "Run",
                "subject_id": launched["id"],
                "step_id": step["id"],
                "checklist_id": template["id"],
                "uploaded_from": field["id"],
            },
        )
    )
    read = ok(
        org.api.get(
            org.path(f"/runs/{launched['id']}"),
            params={"with": "assets,form_fields,tags,checklist,next_task"},
        )
    )
    assert [a["id"] for a in read["assets"]["data"]] == [asset["id"]]
    assert [(f["id"], f["value"], f["task_id"]) for f in read["form_fields"]["data"]] == [
        (field["id"], "R-7", task["id"])
    ]
    assert read["tags"] == {"data": []}
    assert read["checklist"]["data"]["id"] == template["id"]
    assert read["next_task"]["data"]["id"] == task["id"]


def test_run_list_filters(org: Org) -> None:
    template = checklist(org, steps=1)
    starred = ok(
        org.api.post(
            org.path("/runs"),
            json={"checklist_id": template["id"], "name": "B starred", "starred": True},
        ),
        201,
    )
    plain = ok(
        org.api.post(org.path("/runs"), json={"checklist_id": template["id"], "name": "A plain"}),
        201,
    )

    def names(**params: str) -> list[str]:
        return [r["name"] for r in ok(org.api.get(org.path("/runs"), params=params))]

    assert names(starred="true") == [starred["name"]]
    assert names(sort="name") == [plain["name"], starred["name"]]
    assert names(sort="-name") == [starred["name"], plain["name"]]
    assert names(owners=str(org.admin_id), sort="name") == [plain["name"], starred["name"]]
    assert names(owners="999999") == []
    assert names(tag="f" * 32) == []
    assert names(type="form") == []


def template_with_actions(
    org: Org, *actions: dict[str, Any]
) -> tuple[dict[str, Any], str, list[dict[str, Any]]]:
    """Two steps; one rule "kick-off field Plan equals gold" running `actions` on step 2."""
    template = checklist(org, steps=2)
    ko = ok(
        org.api.put(
            org.path(f"/checklists/{template['id']}"),
            json={"title": template["title"], "prerun": [{"label": "Plan", "field_type": "text"}]},
        )
    )["prerun"][0]
    steps = ok(org.api.get(org.path(f"/checklists/{template['id']}/steps")))
    ok(
        org.api.post(
            org.path(f"/checklists/{template['id']}/automated-actions"),
            json={
                "conditions": [
                    {
                        "conditionable_type": "Prerun",
                        "conditionable_id": ko["id"],
                        "operation": "equals",
                        "statement": "gold",
                    }
                ],
                "then_actions": [{**a, "target_step_id": steps[1]["id"]} for a in actions],
            },
        ),
        201,
    )
    return template, ko["id"], steps


def second_task(org: Org, run: dict[str, Any]) -> dict[str, Any]:
    task: dict[str, Any] = with_owner_ids(ok(org.api.get(org.path(f"/runs/{run['id']}/tasks"))))[1]
    return task


def test_assignment_and_deadline_rules_apply_and_are_undone(org: Org) -> None:
    round_the_clock(org)  # the default deadline comes back as plain launch + 5 days
    member_id, _ = org.member("standard")
    template, field, _ = template_with_actions(
        org,
        {
            "action_type": "assignment",
            "action_verb": "assign_only",
            "assignees": {"users": [member_id]},
        },
        {
            "action_type": "deadline",
            "action_verb": "set",
            "deadline": {"value": 3, "unit": "hours"},
        },
    )
    launched = ok(
        org.api.post(
            org.path("/runs"), json={"checklist_id": template["id"], "prerun": {field: "Gold"}}
        ),
        201,
    )
    task = second_task(org, launched)
    assert task["owners"]["users"] == [member_id]
    started = datetime.fromisoformat(launched["started_at"].replace("Z", "+00:00"))
    assert datetime.fromisoformat(task["deadline"].replace("Z", "+00:00")) - started == (
        timedelta(hours=3)
    )
    ok(org.api.put(org.path(f"/runs/{launched['id']}"), json={"prerun": {field: "silver"}}))
    undone = second_task(org, launched)
    assert undone["owners"]["users"] == [org.admin_id]
    assert datetime.fromisoformat(undone["deadline"].replace("Z", "+00:00")) - started == (
        timedelta(days=5)
    )


def test_a_manual_assignment_stands_until_the_rule_changes_its_mind(org: Org) -> None:
    member_id, _ = org.member("standard")
    other_id, _ = org.member("standard")
    template, field, _ = template_with_actions(
        org, {"action_type": "assignment", "action_verb": "assign", "users": [member_id]}
    )
    launched = ok(
        org.api.post(
            org.path("/runs"), json={"checklist_id": template["id"], "prerun": {field: "gold"}}
        ),
        201,
    )
    task = second_task(org, launched)
    ok(
        org.api.put(
            org.path(f"/runs/{launched['id']}/tasks/{task['id']}"),
            json={"owners": {"users": [other_id]}},
        )
    )
    # Values change, the rule still assigns the same people: the manual choice stays.
    ok(org.api.put(org.path(f"/runs/{launched['id']}"), json={"prerun": {field: "GOLD"}}))
    assert second_task(org, launched)["owners"]["users"] == [other_id]


def test_rules_leave_completed_tasks_alone(org: Org) -> None:
    template, field, _ = template_with_rule(org, "hide")
    launched = ok(
        org.api.post(
            org.path("/runs"), json={"checklist_id": template["id"], "prerun": {field: "yes"}}
        ),
        201,
    )
    task = second_task(org, launched)
    ok(
        org.api.post(
            org.path(f"/runs/{launched['id']}/completed-tasks"), json={"task_id": task["id"]}
        )
    )
    ok(org.api.put(org.path(f"/runs/{launched['id']}"), json={"prerun": {field: "no"}}))
    assert statuses(org, launched) == ["active", "completed"]


def test_skipped_tasks_refuse_completion_and_leave_progress(org: Org) -> None:
    template, field, _ = template_with_rule(org, "hide")
    launched = ok(
        org.api.post(
            org.path("/runs"), json={"checklist_id": template["id"], "prerun": {field: "no"}}
        ),
        201,
    )
    skipped = second_task(org, launched)
    assert (skipped["status"], skipped["status_label"]) == ("auto-skipped", "Auto skipped")
    refused = org.api.post(
        org.path(f"/runs/{launched['id']}/completed-tasks"), json={"task_id": skipped["id"]}
    )
    assert refused.status_code == 422
    listed = ok(
        org.api.get(org.path(f"/runs/{launched['id']}/tasks"), params={"status": "auto-skipped"})
    )
    assert [t["id"] for t in listed] == [skipped["id"]]
    assert (
        ok(org.api.get(org.path(f"/runs/{launched['id']}"), params={"with": "next_task"}))[
            "next_task"
        ]["data"]["position"]
        == 1
    )


def test_task_values_drive_rules_too(org: Org) -> None:
    template = checklist(org, steps=2)
    first, second = ok(org.api.get(org.path(f"/checklists/{template['id']}/steps")))
    field = ok(
        org.api.post(
            org.path(f"/checklists/{template['id']}/steps/{first['id']}/captures"),
            json={"label": "Skip?", "field_type": "text"},
        ),
        201,
    )
    ok(
        org.api.post(
            org.path(f"/checklists/{template['id']}/automated-actions"),
            json={
                "conditions": [
                    {
                        "conditionable_type": "Capture",
                        "conditionable_id": field["id"],
                        "operation": "equals",
                        "statement": "yes",
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
    launched = ok(org.api.post(org.path("/runs"), json={"checklist_id": template["id"]}), 201)
    task = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))[0]
    path = org.path(f"/runs/{launched['id']}/tasks/{task['id']}")
    ok(org.api.put(path, json={"taskdata": {field["id"]: "yes"}}))
    assert statuses(org, launched) == ["active", "auto-skipped"]
    ok(
        org.api.post(
            org.path(f"/runs/{launched['id']}/completed-tasks"), json={"task_id": task["id"]}
        )
    )
    assert ok(org.api.get(org.path(f"/runs/{launched['id']}")))["status"] == "complete"
