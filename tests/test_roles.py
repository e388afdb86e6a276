"""What each role may do (docs/compat.md, "Roles: what each role may do"): one test per rule,
with an administrator, a standard member and a light member of one organization. Each refusal
is a 403 that changes nothing; each test also shows the role that is allowed succeeding."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import Org
from tests.support.factories import checklist, ok, one_off_task, run, upload


@dataclass
class Team:
    org: Org
    standard_id: int
    standard: httpx.Client
    light_id: int
    light: httpx.Client

    @property
    def admin(self) -> httpx.Client:
        return self.org.api

    def path(self, suffix: str) -> str:
        return self.org.path(suffix)


@pytest.fixture
def team(org: Org) -> Iterator[Team]:
    standard_id, standard = org.member("standard")
    light_id, light = org.member("light")
    with standard, light:
        yield Team(org, standard_id, standard, light_id, light)


def forbidden(response: httpx.Response) -> None:
    assert response.status_code == 403, f"{response.status_code}: {response.text}"
    assert response.json()["code"] == "FORBIDDEN"


def run_tasks(team: Team, launched: dict[str, Any]) -> list[dict[str, Any]]:
    return ok(team.admin.get(team.path(f"/runs/{launched['id']}/tasks")))


def task_status(team: Team, task_id: str) -> str:
    return str(ok(team.admin.get(team.path(f"/tasks/{task_id}")))["status"])


def count(team: Team, suffix: str, **params: Any) -> int:
    response = team.admin.get(team.path(suffix), params={"per_page": 100, **params})
    return int(response.json()["meta"]["pagination"]["total"])


# --- templates -----------------------------------------------------------------------------------


def test_every_role_reads_templates(team: Team) -> None:
    template = checklist(team.org, steps=1)
    for client in (team.standard, team.light):
        assert ok(client.get(team.path(f"/checklists/{template['id']}")))["id"] == template["id"]
        assert [c["id"] for c in ok(client.get(team.path("/checklists")))] == [template["id"]]


def test_light_members_create_no_templates(team: Team) -> None:
    body = {"title": "Mine", "type": "procedure"}
    forbidden(team.light.post(team.path("/checklists"), json=body))
    assert count(team, "/checklists") == 0
    ok(team.standard.post(team.path("/checklists"), json=body), 201)
    assert count(team, "/checklists") == 1


def test_light_members_edit_no_templates_nor_their_steps(team: Team) -> None:
    template = checklist(team.org, steps=1)
    path = team.path(f"/checklists/{template['id']}")
    forbidden(team.light.put(path, json={"title": "Renamed"}))
    forbidden(team.light.post(path + "/steps", json={"title": "Extra"}))
    assert ok(team.admin.get(path))["title"] == "Onboarding"
    assert len(ok(team.admin.get(path + "/steps"))) == 1
    assert ok(team.standard.put(path, json={"title": "Renamed"}))["title"] == "Renamed"
    ok(team.standard.post(path + "/steps", json={"title": "Extra"}), 201)
    assert len(ok(team.admin.get(path + "/steps"))) == 2


def test_light_members_clone_no_templates(team: Team) -> None:
    template = checklist(team.org, steps=1)
    path = team.path(f"/checklists/{template['id']}/clone")
    forbidden(team.light.post(path, json={"tenant": team.org.id}))
    assert count(team, "/checklists") == 1
    assert team.standard.post(path, json={"tenant": team.org.id}).status_code in (200, 201)
    assert count(team, "/checklists") == 2


def test_light_members_archive_and_restore_no_templates(team: Team) -> None:
    template = checklist(team.org, steps=0)
    path = team.path(f"/checklists/{template['id']}")
    forbidden(team.light.delete(path))
    assert count(team, "/checklists") == 1
    ok_status = team.standard.delete(path).status_code
    assert ok_status == 200 and count(team, "/checklists") == 0
    forbidden(team.light.put(path + "/restore"))
    assert count(team, "/checklists") == 0
    assert team.standard.put(path + "/restore").status_code == 200
    assert count(team, "/checklists") == 1


def test_only_admins_delete_archived_templates(team: Team) -> None:
    template = checklist(team.org, steps=0)
    path = team.path(f"/checklists/{template['id']}")
    assert team.admin.delete(path).status_code == 200
    for client in (team.standard, team.light):
        forbidden(client.delete(path + "/delete"))
    assert count(team, "/checklists", archived="only") == 1
    assert team.admin.delete(path + "/delete").status_code == 200
    assert count(team, "/checklists", archived="only") == 0


# --- processes -----------------------------------------------------------------------------------


def test_light_members_launch_no_processes(team: Team) -> None:
    template = checklist(team.org, steps=1)
    body = {"checklist_id": template["id"], "name": "Mine"}
    forbidden(team.light.post(team.path("/runs"), json=body))
    assert count(team, "/runs") == 0
    launched = ok(team.standard.post(team.path("/runs"), json=body), 201)
    assert launched["started_by"] == team.standard_id or launched["owner_id"] == team.standard_id
    assert count(team, "/runs") == 1


def test_light_members_edit_no_processes(team: Team) -> None:
    launched = run(team.org, name="Original")
    path = team.path(f"/runs/{launched['id']}")
    forbidden(team.light.put(path, json={"name": "Renamed", "starred": True}))
    after = ok(team.admin.get(path))
    assert (after["name"], after["starred"]) == ("Original", False)
    assert ok(team.standard.put(path, json={"name": "Renamed"}))["name"] == "Renamed"


def test_light_members_neither_submit_nor_reopen_kick_off_forms(team: Team) -> None:
    launched = run(team.org)
    path = team.path(f"/runs/{launched['id']}/complete-prerun")
    forbidden(team.light.delete(path))
    assert ok(team.admin.get(team.path(f"/runs/{launched['id']}")))["prerun_status"] == "complete"
    reopened = ok(team.standard.delete(path))["prerun_status"]
    assert reopened != "complete"
    forbidden(team.light.post(path))
    assert ok(team.admin.get(team.path(f"/runs/{launched['id']}")))["prerun_status"] == reopened
    assert ok(team.standard.post(path))["prerun_status"] == "complete"


def test_light_members_archive_and_restore_no_processes(team: Team) -> None:
    launched = run(team.org)
    path = team.path(f"/runs/{launched['id']}")
    forbidden(team.light.delete(path))
    assert ok(team.admin.get(path))["status"] == "active"
    assert ok(team.standard.delete(path))["status"] == "archived"
    forbidden(team.light.put(path + "/activate"))
    assert ok(team.admin.get(path))["status"] == "archived"
    assert ok(team.standard.put(path + "/activate"))["status"] == "active"


def test_only_admins_delete_archived_processes(team: Team) -> None:
    launched = run(team.org)
    path = team.path(f"/runs/{launched['id']}")
    ok(team.admin.delete(path))
    for client in (team.standard, team.light):
        forbidden(client.delete(path + "/delete"))
    assert ok(team.admin.get(path))["status"] == "archived"
    assert team.admin.delete(path + "/delete").status_code == 200
    assert team.admin.get(path).status_code == 404


# --- completing and reopening --------------------------------------------------------------------


def test_light_members_complete_and_reopen_process_tasks_assigned_to_them(team: Team) -> None:
    launched = run(team.org, tasks={})
    first, _ = run_tasks(team, launched)
    ok(
        team.admin.put(
            team.path(f"/runs/{launched['id']}/tasks/{first['id']}"),
            json={"owners": {"users": [team.light_id]}},
        )
    )
    base = team.path(f"/runs/{launched['id']}/completed-tasks")
    assert ok(team.light.post(base, json={"task_id": first["id"]}))["status"] == "completed"
    assert ok(team.light.delete(f"{base}/{first['id']}"))["status"] == "in-progress"


def test_light_members_complete_no_task_assigned_to_someone_else(team: Team) -> None:
    launched = run(team.org)
    first, _ = run_tasks(team, launched)
    base = team.path(f"/runs/{launched['id']}/completed-tasks")
    forbidden(team.light.post(base, json={"task_id": first["id"]}))
    assert task_status(team, first["id"]) != "completed"
    assert ok(team.standard.post(base, json={"task_id": first["id"]}))["status"] == "completed"


def test_light_members_complete_no_one_off_task_of_someone_else(team: Team) -> None:
    task = one_off_task(team.org)
    forbidden(team.light.post(team.path("/completed-tasks"), json={"task_id": task["id"]}))
    assert task_status(team, task["id"]) == "not-started"
    done = ok(team.standard.post(team.path("/completed-tasks"), json={"task_id": task["id"]}))
    assert done["status"] == "completed"


def test_light_members_complete_tasks_assigned_to_one_of_their_groups(team: Team) -> None:
    group = ok(
        team.admin.post(
            team.path("/groups"),
            json={"name": "Field", "description": "Field crew", "members": [team.light_id]},
        ),
        201,
    )
    task = one_off_task(team.org, owners={"groups": [group["id"]]})
    done = ok(team.light.post(team.path("/completed-tasks"), json={"task_id": task["id"]}))
    assert done["status"] == "completed" and done["completer_id"] == team.light_id


def test_light_members_reopen_no_task_assigned_to_someone_else(team: Team) -> None:
    task = one_off_task(team.org)
    ok(team.admin.post(team.path("/completed-tasks"), json={"task_id": task["id"]}))
    forbidden(team.light.delete(team.path(f"/completed-tasks/{task['id']}")))
    assert task_status(team, task["id"]) == "completed"
    reopened = ok(team.standard.delete(team.path(f"/completed-tasks/{task['id']}")))
    assert reopened["status"] == "in-progress"


def test_light_members_complete_nothing_on_behalf_of_someone_else(team: Team) -> None:
    task = one_off_task(team.org, owners={"users": [team.light_id]})
    body = {"task_id": task["id"], "override_user": team.org.admin_id}
    forbidden(team.light.post(team.path("/completed-tasks"), json=body))
    assert task_status(team, task["id"]) == "not-started"
    done = ok(team.standard.post(team.path("/completed-tasks"), json=body))
    assert done["completer_id"] == team.org.admin_id


def test_only_assignees_reopen_a_task_restricted_to_its_assignees(team: Team) -> None:
    task = one_off_task(
        team.org, can_complete_only_assignees=True, owners={"users": [team.standard_id]}
    )
    ok(team.standard.post(team.path("/completed-tasks"), json={"task_id": task["id"]}))
    _, other = team.org.member("standard")
    with other:
        forbidden(other.delete(team.path(f"/completed-tasks/{task['id']}")))
    assert task_status(team, task["id"]) == "completed"
    assert (
        ok(team.standard.delete(team.path(f"/completed-tasks/{task['id']}")))["status"]
        == "in-progress"
    )
    ok(team.standard.post(team.path("/completed-tasks"), json={"task_id": task["id"]}))
    assert (
        ok(team.admin.delete(team.path(f"/completed-tasks/{task['id']}")))["status"]
        == "in-progress"
    )


# --- editing tasks -------------------------------------------------------------------------------


def _task_with_field(team: Team, owner: int) -> tuple[dict[str, Any], str]:
    task = one_off_task(
        team.org, owners={"users": [owner]}, form_fields=[{"label": "Serial", "field_type": "text"}]
    )
    read = ok(team.admin.get(team.path(f"/tasks/{task['id']}"), params={"with": "form_fields"}))
    return task, read["form_fields"]["data"][0]["id"]


def _put(task: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {
        "title": task["title"],
        "deadline": task["deadline"],
        "owners": task["owners"],
        **changes,
    }


def test_light_members_fill_in_the_form_fields_of_their_tasks(team: Team) -> None:
    task, field_id = _task_with_field(team, team.light_id)
    path = team.path(f"/tasks/{task['id']}")
    filled = ok(team.light.put(path, json=_put(task, taskdata={field_id: "SN-1"})))
    assert filled["taskdata"][field_id] == "SN-1"


def test_light_members_reassign_and_reschedule_nothing(team: Team) -> None:
    task, field_id = _task_with_field(team, team.light_id)
    path = team.path(f"/tasks/{task['id']}")
    for change in (
        {"owners": {"users": [team.standard_id]}},
        {"title": "Renamed"},
        {"deadline": "2031-01-01T12:00:00Z"},
    ):
        forbidden(team.light.put(path, json=_put(task, taskdata={field_id: "SN-2"}, **change)))
    after = ok(team.admin.get(path))
    assert after["title"] == task["title"] and after["deadline"] == task["deadline"]
    assert after["owners"]["users"] == [team.light_id]
    assert not (after.get("taskdata") or {}).get(field_id)
    moved = ok(team.standard.put(path, json=_put(task, owners={"users": [team.standard_id]})))
    assert moved["owners"]["users"] == [team.standard_id]


def test_light_members_edit_no_task_assigned_to_someone_else(team: Team) -> None:
    task, field_id = _task_with_field(team, team.org.admin_id)
    path = team.path(f"/tasks/{task['id']}")
    forbidden(team.light.put(path, json=_put(task, taskdata={field_id: "SN-3"})))
    assert not (ok(team.admin.get(path)).get("taskdata") or {}).get(field_id)
    filled = ok(team.standard.put(path, json=_put(task, taskdata={field_id: "SN-3"})))
    assert filled["taskdata"][field_id] == "SN-3"


# --- one-off tasks -------------------------------------------------------------------------------


def test_light_members_create_no_one_off_tasks(team: Team) -> None:
    body = {
        "title": "Mine",
        "task_type": "task",
        "owners": {"users": [team.light_id]},
        "deadline": "2030-01-01T12:00:00Z",
    }
    forbidden(team.light.post(team.path("/tasks"), json=body))
    assert count(team, "/tasks") == 0
    ok(team.standard.post(team.path("/tasks"), json=body), 201)
    assert count(team, "/tasks") == 1


def test_light_members_add_no_task_to_a_process(team: Team) -> None:
    launched = run(team.org)
    body = {
        "title": "Extra",
        "task_type": "task",
        "owners": {"users": [team.light_id]},
        "deadline": "2030-01-01T12:00:00Z",
        "run_id": launched["id"],
    }
    forbidden(team.light.post(team.path("/tasks"), json=body))
    assert len(run_tasks(team, launched)) == 2
    ok(team.standard.post(team.path("/tasks"), json=body), 201)
    assert len(run_tasks(team, launched)) == 3


def test_light_members_clone_no_tasks(team: Team) -> None:
    task = one_off_task(team.org, owners={"users": [team.light_id]})
    path = team.path(f"/tasks/{task['id']}/clone")
    forbidden(team.light.post(path))
    assert count(team, "/tasks") == 1
    assert team.standard.post(path).status_code in (200, 201)
    assert count(team, "/tasks") == 2


def test_light_members_archive_and_restore_no_one_off_tasks(team: Team) -> None:
    task = one_off_task(team.org, owners={"users": [team.light_id]})
    path = team.path(f"/tasks/{task['id']}")
    forbidden(team.light.delete(path))
    assert ok(team.admin.get(path))["archived_at"] is None
    assert team.standard.delete(path).status_code == 200
    forbidden(team.light.put(path + "/restore"))
    assert ok(team.admin.get(path))["archived_at"] is not None
    assert team.standard.put(path + "/restore").status_code == 200
    assert ok(team.admin.get(path))["archived_at"] is None


def test_only_admins_delete_one_off_tasks_permanently(team: Team) -> None:
    task = one_off_task(team.org)
    path = team.path(f"/tasks/{task['id']}")
    for client in (team.standard, team.light):
        forbidden(client.delete(path + "/delete"))
    assert ok(team.admin.get(path))["id"] == task["id"]
    assert team.admin.delete(path + "/delete").status_code == 204
    assert team.admin.get(path).status_code == 404


# --- comments and issues -------------------------------------------------------------------------


def threads(team: Team, task_id: str) -> list[dict[str, Any]]:
    read = ok(team.admin.get(team.path(f"/tasks/{task_id}"), params={"with": "threads"}))
    return list(read["threads"]["data"])


def test_every_role_comments(team: Team) -> None:
    task = one_off_task(team.org)
    for client in (team.admin, team.standard, team.light):
        ok(client.post(team.path(f"/tasks/{task['id']}/comment"), json={"content": "Hi"}), 201)
    assert len(threads(team, task["id"])) == 3


def test_light_members_post_no_bot_comments(team: Team) -> None:
    task = one_off_task(team.org, owners={"users": [team.light_id]})
    path = team.path(f"/tasks/{task['id']}/bot-comment")
    forbidden(team.light.post(path, json={"content": "Synced"}))
    assert threads(team, task["id"]) == []
    made = ok(team.standard.post(path, json={"content": "Synced"}), 201)
    assert made["author_type"] == "bot"


def test_only_authors_and_admins_change_a_comment(team: Team) -> None:
    task = one_off_task(team.org)
    made = ok(
        team.light.post(team.path(f"/tasks/{task['id']}/comment"), json={"content": "Mine"}), 201
    )
    path = team.path(f"/tasks/{task['id']}/comment/{made['id']}")
    forbidden(team.standard.put(path, json={"content": "Not yours"}))
    forbidden(team.standard.delete(path))
    assert [t["content"] for t in threads(team, task["id"])] == ["Mine"]
    assert ok(team.light.put(path, json={"content": "Edited"}))["content"] == "Edited"
    assert team.admin.delete(path).status_code == 204
    assert threads(team, task["id"]) == []


def test_light_members_report_and_resolve_issues(team: Team) -> None:
    task = one_off_task(team.org, owners={"users": [team.light_id]})
    base = team.path(f"/tasks/{task['id']}")
    issue = ok(team.light.post(base + "/problem", json={"content": "Broken"}), 201)
    assert issue["label"] == "problem"
    resolved = team.light.post(
        base + "/resolved-threads", json={"thread_id": issue["id"], "content": "Fixed"}
    )
    assert resolved.status_code in (200, 201), resolved.text
    assert all(t["label"] != "problem" or t["resolve_id"] for t in threads(team, task["id"]))


# --- files ---------------------------------------------------------------------------------------


def test_light_members_upload_to_tasks_but_not_to_templates(team: Team) -> None:
    task = one_off_task(team.org, owners={"users": [team.light_id]})
    template = checklist(team.org, steps=0)
    files = {"name": ("notes.txt", b"hello")}
    sent = {"subject_type": "Task", "subject_id": task["id"], "uploaded_from": "ko_field"}
    assert team.light.post(team.path("/file"), data=sent, files=files).status_code == 200
    sent = {"subject_type": "Checklist", "subject_id": template["id"], "uploaded_from": "ko_field"}
    forbidden(team.light.post(team.path("/file"), data=sent, files=files))
    assert team.standard.post(team.path("/file"), data=sent, files=files).status_code == 200


def test_only_uploaders_and_admins_delete_a_file(team: Team) -> None:
    task = one_off_task(team.org)
    asset = upload(team.org, "Task", task["id"])
    path = team.path(f"/file/{asset['id']}")
    for client in (team.standard, team.light):
        forbidden(client.delete(path))
    assert team.admin.get(team.path(f"/assets/{asset['id']}")).status_code == 200
    assert team.admin.delete(path).status_code == 200
    assert team.admin.get(team.path(f"/assets/{asset['id']}")).status_code == 404


# --- people --------------------------------------------------------------------------------------


def _invite(email: str, role: str = "standard") -> dict[str, Any]:
    return {
        "email": email,
        "first_name": "New",
        "last_name": "Person",
        "role": role,
        "message": "Welcome",
    }


def test_light_members_invite_nobody_and_standard_members_invite_no_admins(team: Team) -> None:
    before = count(team, "/users")
    forbidden(team.light.post(team.path("/users/invite"), json=_invite("l@example.com")))
    forbidden(
        team.standard.post(team.path("/users/invite"), json=_invite("a@example.com", "admin"))
    )
    assert count(team, "/users") == before
    ok(team.standard.post(team.path("/users/invite"), json=_invite("s@example.com")))
    ok(team.admin.post(team.path("/users/invite"), json=_invite("b@example.com", "admin")))
    assert count(team, "/users") == before + 2


def test_only_admins_change_roles_and_read_member_records(team: Team) -> None:
    path = team.path(f"/users/{team.light_id}")
    for client in (team.standard, team.light):
        forbidden(client.put(path + "/role", json={"role": "admin"}))
        forbidden(client.get(path))
    assert ok(team.admin.get(path))["role"] == "light"
    assert ok(team.admin.put(path + "/role", json={"role": "standard"}))["role"] == "standard"


def test_every_role_lists_members(team: Team) -> None:
    for client in (team.standard, team.light):
        listed = {u["id"] for u in ok(client.get(team.path("/users")))}
        assert {team.org.admin_id, team.standard_id, team.light_id} <= listed


def test_light_members_add_no_guests(team: Team) -> None:
    forbidden(team.light.post(team.path("/guests"), json={"email": "g1@example.com"}))
    assert count(team, "/guests") == 0
    ok(team.standard.post(team.path("/guests"), json={"email": "g1@example.com"}), 201)
    assert count(team, "/guests") == 1


def test_light_members_change_no_guest(team: Team) -> None:
    ok(team.admin.post(team.path("/guests"), json={"email": "g2@example.com"}), 201)
    path = team.path("/guests/g2@example.com")
    forbidden(team.light.put(path, json={"associated_members": [team.light_id]}))
    assert ok(team.admin.get(path))["details"]["associated_members"] == []
    changed = team.standard.put(path, json={"associated_members": [team.standard_id]})
    assert changed.status_code in (200, 201)
    assert changed.json()["data"]["details"]["associated_members"] == [team.standard_id]


def test_only_admins_disable_and_remove_guests(team: Team) -> None:
    ok(team.admin.post(team.path("/guests"), json={"email": "g3@example.com"}), 201)
    path = team.path("/guests/g3@example.com")
    for client in (team.standard, team.light):
        forbidden(client.delete(path + "/disable"))
        forbidden(client.delete(path))
    assert count(team, "/guests") == 1
    assert team.admin.delete(path).status_code == 200
    assert count(team, "/guests") == 0


def test_groups_are_managed_by_admins_and_by_standard_members_when_allowed(team: Team) -> None:
    body = {"name": "Ops", "description": "Operations"}
    for client in (team.standard, team.light):
        forbidden(client.post(team.path("/groups"), json=body))
    ok(team.admin.put(team.path(""), json={"allow_manage_groups": True}))
    forbidden(team.light.post(team.path("/groups"), json=body))
    assert count(team, "/groups") == 0
    ok(team.standard.post(team.path("/groups"), json=body), 201)
    assert count(team, "/groups") == 1


# --- organizing and settings ---------------------------------------------------------------------


def test_light_members_manage_no_tags(team: Team) -> None:
    forbidden(team.light.post(team.path("/tags"), json={"title": "Urgent"}))
    assert ok(team.admin.get(team.path("/tags"))) == []
    ok(team.standard.post(team.path("/tags"), json={"title": "Urgent"}), 201)
    assert len(ok(team.admin.get(team.path("/tags")))) == 1


def test_light_members_manage_no_folders(team: Team) -> None:
    body = {"name": "Finance", "folder_type": "checklist"}
    forbidden(team.light.post(team.path("/folders"), json=body))
    assert ok(team.admin.get(team.path("/folders"))) == []
    ok(team.standard.post(team.path("/folders"), json=body), 201)
    assert len(ok(team.admin.get(team.path("/folders")))) == 1


def test_only_admins_subscribe_webhooks(team: Team) -> None:
    body = {
        "object_type": "organization",
        "object_id": team.org.id,
        "notification_type": "webhook",
        "frequency": "electric",
        "webhook": "https://hooks.example.com/a",
    }
    for client, user_id in ((team.standard, team.standard_id), (team.light, team.light_id)):
        forbidden(client.post(team.path(f"/users/{user_id}/add-watcher"), json=body))
    assert ok(team.admin.get(team.path("/watchers"))) == []
    ok(team.admin.post(team.path(f"/users/{team.org.admin_id}/add-watcher"), json=body), 201)
    assert len(ok(team.admin.get(team.path("/watchers")))) == 1


def test_only_admins_change_organization_settings(team: Team) -> None:
    for client in (team.standard, team.light):
        forbidden(client.put(team.path(""), json={"name": "Taken over"}))
    assert ok(team.admin.get(team.path("")))["name"] == "Test Org"
    assert ok(team.admin.put(team.path(""), json={"name": "Renamed"}))["name"] == "Renamed"
