"""Every change of templates, steps, form fields, rules, processes, tasks and files leaves its
activity-feed entry, made by the member who made the change."""

from __future__ import annotations

from typing import Any

from tests.activity.feed import about, feed, summary
from tests.conftest import Org
from tests.support.factories import checklist, ok, one_off_task, run, upload

DEADLINE = "2030-01-01T12:00:00Z"


def test_entry_shape_follows_the_real_service(org: Org) -> None:
    template = checklist(org, steps=0)
    (entry,) = feed(org, entity_type="checklist", entity_id=template["id"])
    assert isinstance(entry["id"], int)
    assert entry["organization_id"] == org.id
    assert entry["verb"] == ["created"] and entry["type"] == ["Blueprint"]
    assert entry["source"] == ["Member"]
    assert entry["actor_type"] == ["App\\Models\\User"]
    assert entry["actor_id"] == [org.admin_id]
    assert entry["actor"][0]["email"] == org.admin_email
    assert entry["actor"][0]["id"] == org.admin_id
    assert entry["auditable_type"] == "App\\Models\\Checklist"
    assert entry["auditable_id"] == template["id"]
    assert entry["entity_type"] == "checklist" and entry["entity_id"] == template["id"]
    assert entry["parentable_type"] is None and entry["parent"] == {"data": None}
    assert entry["description"] == ["Created template Onboarding"]
    assert entry["field"] is None and entry["old_value"] is None and entry["text"] is None
    assert entry["created_at"].endswith("Z") and entry["undoable"] is False
    assert entry["origin"] is None


def test_template_lifecycle_is_recorded(org: Org) -> None:
    template = checklist(org, steps=0)
    base = org.path(f"/checklists/{template['id']}")
    ok(org.api.put(base, json={"title": "Renamed", "summary": "Why"}))
    assert org.api.delete(base).status_code == 200
    ok(org.api.put(base + "/restore"))
    copy = ok(org.api.post(base + "/clone", json={}), 201)
    assert about(org, "checklist", template["id"]) == [
        ("Blueprint", "created", None),
        ("Blueprint", "updated", "title"),
        ("Blueprint", "updated", "summary"),
        ("Blueprint", "archived", None),
        ("Blueprint", "unarchived", None),
    ]
    renamed = feed(org, entity_type="checklist", entity_id=template["id"], field="title")[0]
    assert (renamed["old_value"], renamed["new_value"]) == (["Onboarding"], ["Renamed"])
    (cloned,) = feed(org, entity_type="checklist", entity_id=copy["id"])
    assert cloned["verb"] == ["created"] and cloned["description"] == ["Cloned template Renamed"]
    assert org.api.delete(base).status_code == 200
    assert org.api.delete(base + "/delete").status_code == 200
    deleted = feed(org, entity_type="checklist", entity_id=template["id"])
    assert summary(deleted)[-1] == ("Blueprint", "deleted", None)


def test_steps_form_fields_and_kickoff_fields_are_recorded(org: Org) -> None:
    template = checklist(org, steps=2)
    base = org.path(f"/checklists/{template['id']}")
    first, second = ok(org.api.get(base + "/steps"))
    step = base + f"/steps/{first['id']}"
    ok(org.api.put(step, json={"title": "First, renamed"}))
    ok(org.api.put(base + f"/steps/{second['id']}/reorder", json={"position": 1}))
    clone = ok(org.api.post(step + "/clone"), 201)
    assert org.api.delete(base + f"/steps/{clone['id']}").status_code == 204
    field = ok(org.api.post(step + "/captures", json={"label": "Ref", "field_type": "text"}), 201)
    ok(
        org.api.put(
            step + f"/captures/{field['id']}", json={"label": "Reference", "field_type": "text"}
        )
    )
    assert org.api.delete(step + f"/captures/{field['id']}").status_code in (200, 204)
    ko = ok(
        org.api.put(
            base, json={"title": "Onboarding", "prerun": [{"label": "Plan", "field_type": "text"}]}
        )
    )
    assert org.api.delete(base + f"/preruns/{ko['prerun'][0]['id']}").status_code in (200, 204)
    assert about(org, "step", first["id"]) == [
        ("Step", "created", None),
        ("Step", "updated", None),
        ("Step", "updated", "form_fields"),
        ("Step", "updated", "form_fields"),
        ("Step", "updated", "form_fields"),
    ]
    assert about(org, "step", second["id"]) == [
        ("Step", "created", None),
        ("Step", "re-ordered", "position"),
    ]
    moved = feed(org, entity_type="step", entity_id=second["id"], verb="re-ordered")[0]
    assert (moved["old_value"], moved["new_value"]) == ([2], [1])
    assert about(org, "step", clone["id"]) == [("Step", "created", None), ("Step", "deleted", None)]
    renamed = feed(org, entity_type="step", entity_id=first["id"], field="form_fields")
    assert [e["description"][0] for e in reversed(renamed)] == [
        "Added form field Ref",
        "Updated form field Reference",
        "Removed form field Reference",
    ]
    assert renamed[1]["old_value"] == ["Ref"] and renamed[1]["new_value"] == ["Reference"]
    kickoff = feed(org, entity_type="checklist", entity_id=template["id"], field="prerun")
    assert [e["description"][0] for e in reversed(kickoff)] == [
        "Updated template Onboarding",
        "Removed kick-off field Plan",
    ]
    assert (
        feed(org, entity_type="step", entity_id=first["id"])[0]["parentable_type"]
        == "App\\Models\\Checklist"
    )


def test_automation_rules_are_recorded(org: Org) -> None:
    template = checklist(org, steps=2)
    base = org.path(f"/checklists/{template['id']}")
    ko = ok(
        org.api.put(
            base, json={"title": "Onboarding", "prerun": [{"label": "Plan", "field_type": "text"}]}
        )
    )
    steps = ok(org.api.get(base + "/steps"))
    rule = ok(
        org.api.post(
            base + "/automated-actions",
            json={
                "conditions": [
                    {
                        "conditionable_type": "Prerun",
                        "conditionable_id": ko["prerun"][0]["id"],
                        "operation": "equals",
                        "statement": "no",
                    }
                ],
                "then_actions": [
                    {
                        "action_type": "visibility",
                        "action_verb": "hide",
                        "target_step_id": steps[1]["id"],
                    }
                ],
            },
        ),
        201,
    )
    ok(org.api.put(base + f"/automated-actions/{rule['id']}", json={"automated_alias": "Skip"}))
    assert org.api.delete(base + f"/automated-actions/{rule['id']}").status_code in (200, 204)
    entries = feed(
        org, entity_type="checklist", entity_id=template["id"], field="automated_actions"
    )
    assert [e["description"][0] for e in reversed(entries)] == [
        "Added an automation rule",
        "Updated an automation rule",
        "Removed an automation rule",
    ]
    assert entries[2]["new_value"][0]["id"] == rule["id"]
    assert entries[1]["new_value"][0]["automated_alias"] == "Skip"
    assert entries[0]["old_value"] == [rule["id"]]


def test_process_lifecycle_is_recorded(org: Org) -> None:
    launched = run(org)
    path = org.path(f"/runs/{launched['id']}")
    ok(org.api.put(path, json={"name": "Renamed run", "starred": True}))
    ok(org.api.delete(path + "/complete-prerun"))
    ok(org.api.post(path + "/complete-prerun"))
    ok(org.api.delete(path))
    ok(org.api.put(path + "/activate"))
    process = [e for e in about(org, "run", launched["id"]) if e[0] == "Process"]
    assert process == [
        ("Process", "created", None),
        ("Process", "updated", "name"),
        ("Process", "updated", "starred"),
        ("Process", "updated", "prerun_status"),
        ("Process", "updated", "prerun_status"),
        ("Process", "archived", None),
        ("Process", "unarchived", None),
    ]
    kickoff = feed(org, entity_type="run", entity_id=launched["id"], field="prerun_status")
    assert [(e["old_value"], e["new_value"]) for e in reversed(kickoff)] == [
        (["completed"], ["pending"]),
        (["pending"], ["completed"]),
    ]
    ok(org.api.delete(path))
    assert org.api.delete(path + "/delete").status_code == 200
    assert about(org, "run", launched["id"])[-1] == ("Process", "deleted", None)


def test_task_completion_and_process_completion_are_filed_under_the_run(org: Org) -> None:
    launched = run(org, checklist(org, steps=1)["id"])
    (task,) = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))
    ok(
        org.api.post(
            org.path(f"/runs/{launched['id']}/completed-tasks"), json={"task_id": task["id"]}
        )
    )
    assert about(org, "run", launched["id"]) == [
        ("Process", "created", None),
        ("Task", "completed", None),
        ("Process", "completed", None),
    ]
    completed = feed(org, entity_type="task", entity_id=task["id"])[0]
    assert completed["parentable_type"] == "App\\Models\\Run"
    assert completed["parentable_id"] == launched["id"]
    assert completed["auditable_type"] == "App\\Models\\Task"


def test_one_off_task_lifecycle_is_recorded(org: Org) -> None:
    user_id, _ = org.member("standard")
    task = one_off_task(org)
    path = org.path(f"/tasks/{task['id']}")
    ok(
        org.api.put(
            path,
            json={
                "title": "Call back",
                "deadline": DEADLINE,
                "owners": {"users": [org.admin_id, user_id]},
            },
        )
    )
    ok(org.api.delete(path), 200)
    ok(org.api.put(path + "/restore"))
    copy = ok(org.api.post(path + "/clone"), 201)
    assert about(org, "task", task["id"]) == [
        ("Task", "created", None),
        ("Task", "updated", "title"),
        ("Task", "owners-updated", "owners"),
        ("Task", "archived", None),
        ("Task", "unarchived", None),
    ]
    owners = feed(org, entity_type="task", entity_id=task["id"], verb="owners-updated")[0]
    assert owners["old_value"][0]["users"] == [org.admin_id]
    assert owners["new_value"][0]["users"] == [org.admin_id, user_id]
    assert about(org, "task", copy["id"]) == [("Task", "created", None)]
    assert feed(org, entity_type="task", entity_id=copy["id"])[0]["description"] == [
        "Cloned Call back"
    ]
    ok(org.api.delete(path))
    assert org.api.delete(path + "/delete").status_code == 204
    assert about(org, "task", task["id"])[-1] == ("Task", "deleted", None)


def test_ad_hoc_task_and_form_values_in_a_run_are_recorded(org: Org) -> None:
    template = checklist(org, steps=1)
    base = org.path(f"/checklists/{template['id']}")
    (step,) = ok(org.api.get(base + "/steps"))
    field = ok(
        org.api.post(
            base + f"/steps/{step['id']}/captures", json={"label": "Ref", "field_type": "text"}
        ),
        201,
    )
    launched = run(org, template["id"])
    (task,) = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))
    ok(
        org.api.put(
            org.path(f"/runs/{launched['id']}/tasks/{task['id']}"),
            json={"taskdata": {field["id"]: "A-1"}},
        )
    )
    added = one_off_task(org, run_id=launched["id"], title="Extra check")
    entries = feed(org, entity_type="run", entity_id=launched["id"], type="Task")
    assert summary(entries) == [("Task", "updated", "taskdata"), ("Task", "created", None)]
    assert entries[1]["new_value"] == [{field["id"]: "A-1"}]
    assert entries[0]["entity_id"] == added["id"]
    assert entries[0]["description"] == [f"Added Extra check to {launched['name']}"]


def test_file_upload_download_archive_and_delete_are_recorded(org: Org) -> None:
    template = checklist(org, steps=0)
    asset = upload(org, "Checklist", template["id"])
    download = org.path(f"/file/{asset['id']}/dl")
    assert org.api.get(download).status_code == 200
    # The rest of a download fetched in pieces is the same download.
    assert org.api.get(download, headers={"Range": "bytes=5-"}).status_code == 206
    assert org.api.get(org.path(f"/file/{asset['id']}")).status_code == 200  # viewing inline
    ok(org.api.delete(org.path(f"/assets/{asset['id']}")))
    entries = feed(org, type="Asset")
    assert summary(entries) == [
        ("Asset", "uploaded", None),
        ("Asset", "emitted", None),
        ("Asset", "archived", None),
    ]
    assert entries[1]["description"] == ["File downloaded: notes.txt"]
    assert {e["checklist_id"] for e in entries} == {template["id"]}
    assert entries[0]["parentable_type"] == "App\\Models\\Checklist"
    other = upload(org, "Checklist", template["id"], filename="second.txt")
    assert org.api.delete(org.path(f"/file/{other['id']}")).status_code == 200
    deleted = feed(org, type="Asset", verb="deleted")
    assert [(e["entity_id"], e["description"]) for e in deleted] == [
        (other["id"], ["Deleted second.txt"])
    ]


def test_every_entry_names_the_member_who_made_the_change(org: Org) -> None:
    user_id, client = org.member("standard")
    template = checklist(org, steps=1)
    launched = ok(client.post(org.path("/runs"), json={"checklist_id": template["id"]}), 201)
    ok(client.put(org.path(f"/runs/{launched['id']}"), json={"name": "Mine"}))
    entries: list[dict[str, Any]] = feed(org, entity_type="run", entity_id=launched["id"])
    assert {e["actor_id"][0] for e in entries} == {user_id}
    assert {e["actor"][0]["full_name"] for e in entries} == {"Standard Member"}
