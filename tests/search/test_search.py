"""GET /organizations/{org}/search (§2.13): parameters, result shapes, structured filters,
tags, folders, archived items and tenancy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tallyfy import TallyfySDK

from checkrun.kit.ids import new_id
from checkrun.kit.names import name_key
from tests.conftest import Org
from tests.support.factories import checklist, ok, one_off_task, run


def search(org: Org, status: int = 200, /, **params: Any) -> Any:
    response = org.api.get(org.path("/search"), params=params)
    assert response.status_code == status, response.text
    return response.json()


def ids(body: Any, kind: str) -> list[str]:
    return [item["id"] for item in body[kind]["data"]]


def errors_of(org: Org, **params: Any) -> dict[str, list[str]]:
    body = search(org, 422, **params)
    assert body["error"] is True and body["message"]
    errors: dict[str, list[str]] = body["errors"]
    return errors


@pytest.fixture
def world(org: Org) -> dict[str, Any]:
    """A template with two steps and a form field, a run of it, and a one-off task."""
    template = checklist(org, steps=2, title="Vendor onboarding")
    step = ok(org.api.get(org.path(f"/checklists/{template['id']}/steps")))[0]
    capture = ok(
        org.api.post(
            org.path(f"/checklists/{template['id']}/steps/{step['id']}/captures"),
            json={"label": "Vendor tax id", "field_type": "text", "required": False},
        ),
        201,
    )
    launched = run(org, template["id"], name="Acme vendor")
    task = one_off_task(org, title="Call the vendor", deadline="2030-01-01T12:00:00Z")
    return {"template": template, "step": step, "capture": capture, "run": launched, "task": task}


# --- parameters ---------------------------------------------------------------------------


def test_search_text_is_required(org: Org) -> None:
    assert errors_of(org) == {"search": ["The search field is required."]}
    assert "search" in errors_of(org, search="   ")


def test_default_types_and_result_shapes(org: Org, world: dict[str, Any]) -> None:
    body = search(org, search="vendor")
    assert set(body) == {"blueprint", "process", "task"}
    blueprint = body["blueprint"]["data"][0]
    assert blueprint["id"] == world["template"]["id"]
    assert blueprint["search_type"] == "blueprint"
    assert blueprint["title"] == blueprint["name"] == "Vendor onboarding"
    assert blueprint["steps_count"] == 2 and blueprint["status"] == "active"
    assert blueprint["type"] == "procedure" and blueprint["organization_id"] == org.id
    assert blueprint["folders"] == [] and blueprint["is_public"] is False
    assert blueprint["increment_id"] == world["template"]["increment_id"]
    process = body["process"]["data"][0]
    assert process["id"] == world["run"]["id"] and process["name"] == "Acme vendor"
    assert process["status"] == "active" and process["starter_id"] == org.admin_id
    assert process["due_date_passed"] is False and process["due_soon"] is False
    assert process["folders"] == []
    task = body["task"]["data"][0]
    assert task["id"] == world["task"]["id"] and task["title"] == "Call the vendor"
    assert task["is_oneoff_task"] is True and task["run_id"] is None
    assert task["owners"] == {"users": [org.admin_id], "guests": [], "groups": []}
    assert task["status"] == world["task"]["status"]
    assert task["status_label"] and task["deadline"] == "2030-01-01T12:00:00Z"
    meta = body["task"]["meta"]["pagination"]
    assert meta["total"] == 1 and meta["per_page"] == 20 and meta["current_page"] == 1


def test_steps_captures_and_snippets(org: Org, world: dict[str, Any]) -> None:
    body = search(org, search="vendor tax", on="capture,step,snippet")
    assert set(body) == {"capture", "step", "snippet"}
    assert ids(body, "capture") == [world["capture"]["id"]]
    capture = body["capture"]["data"][0]
    assert capture["label"] == "Vendor tax id" and capture["field_type"] == "text"
    assert capture["step_id"] == world["step"]["id"]
    assert body["step"]["data"] == [] and body["snippet"]["data"] == []
    assert body["snippet"]["meta"]["pagination"]["total"] == 0
    steps = search(org, search="step 2", on="step")
    assert [s["title"] for s in steps["step"]["data"]] == ["Step 2"]
    assert steps["step"]["data"][0]["checklist_id"] == world["template"]["id"]


@pytest.mark.parametrize("on", ["nope", "blueprint,nope", ",", "process;task"])
def test_unknown_type_is_422(org: Org, on: str) -> None:
    assert "on" in errors_of(org, search="x", on=on)


def test_page_and_per_page(org: Org) -> None:
    template = checklist(org, steps=1, title="Batch")
    made = [run(org, template["id"], name=f"Batch run {i}")["id"] for i in range(3)]
    first = search(org, search="batch run", on="process", per_page=2)
    second = search(org, search="batch run", on="process", per_page=2, page=2)
    assert ids(first, "process") + ids(second, "process") == made  # ordered by name
    meta = first["process"]["meta"]["pagination"]
    assert meta["total"] == 3 and meta["total_pages"] == 2 and meta["count"] == 2
    assert "page=2" in meta["links"]["next"]
    assert second["process"]["meta"]["pagination"]["count"] == 1
    capped = search(org, search="batch", on="process", per_page=500)
    assert capped["process"]["meta"]["pagination"]["per_page"] == 100


def test_archived_items_are_left_out(org: Org, world: dict[str, Any]) -> None:
    assert org.api.delete(org.path(f"/runs/{world['run']['id']}")).status_code == 200
    assert org.api.delete(org.path(f"/tasks/{world['task']['id']}")).status_code in (200, 204)
    assert org.api.delete(org.path(f"/checklists/{world['template']['id']}")).status_code == 200
    body = search(org, search="vendor", on="blueprint,process,task,step,capture")
    assert {kind: found["data"] for kind, found in body.items()} == {
        "blueprint": [],
        "process": [],
        "task": [],
        "step": [],
        "capture": [],
    }


def test_results_stay_in_their_organization(org: Org, world: dict[str, Any]) -> None:
    other = org.server.new_org()
    with org.server.client(other.token) as them:
        body = them.get(
            f"/organizations/{other.org_id}/search",
            params={"search": "vendor", "on": "blueprint,process,task,capture"},
        )
        assert body.status_code == 200
        assert all(found["data"] == [] for found in body.json().values())
        assert them.get(org.path("/search"), params={"search": "vendor"}).status_code == 403


# --- tags and folders ---------------------------------------------------------------------


def tag(org: Org, title: str, subject_type: str, subject_id: str) -> None:
    tag_id = new_id()
    column = {"Checklist": "checklist_id", "Run": "run_id", "Task": "task_id"}[subject_type]
    org.server.execute(
        "INSERT INTO tags (id, org_id, title, title_key, color, auto_generated, created_at, "
        f"updated_at) VALUES ('{tag_id}', '{org.id}', '{title}', '{name_key(title)}', '#3366ff', "
        "FALSE, "
        "'2025-01-01 00:00:00', '2025-01-01 00:00:00')"
    )
    org.server.execute(
        "INSERT INTO tag_associations (org_id, tag_id, tag_type, subject_type, subject_id, "
        f"{column}, created_at) VALUES ('{org.id}', '{tag_id}', 'private', '{subject_type}', "
        f"'{subject_id}', '{subject_id}', '2025-01-01 00:00:00')"
    )


def test_tags_true_also_matches_tag_titles(org: Org, world: dict[str, Any]) -> None:
    tag(org, "Quarterly", "Checklist", world["template"]["id"])
    tag(org, "Quarter end", "Task", world["task"]["id"])
    without = search(org, search="quarter")
    assert all(found["data"] == [] for found in without.values())
    for value in ("true", "1"):
        body = search(org, search="quarter", tags=value)
        assert ids(body, "blueprint") == [world["template"]["id"]]
        assert ids(body, "task") == [world["task"]["id"]]
        assert ids(body, "process") == []
    assert all(
        found["data"] == [] for found in search(org, search="quarter", tags="false").values()
    )


def test_folders_are_a_bare_list(org: Org, world: dict[str, Any]) -> None:
    folder_id = new_id()
    org.server.execute(
        "INSERT INTO folders (id, org_id, name, folder_type, position, created_at, updated_at) "
        f"VALUES ('{folder_id}', '{org.id}', 'Vendors', 'run', 1, '2025-01-01 00:00:00', "
        "'2025-01-01 00:00:00')"
    )
    org.server.execute(
        "INSERT INTO folder_objects (org_id, folder_id, subject_type, subject_id, run_id, "
        f"created_at) VALUES ('{org.id}', '{folder_id}', 'Run', '{world['run']['id']}', "
        f"'{world['run']['id']}', '2025-01-01 00:00:00')"
    )
    org.server.execute(
        f"UPDATE checklists SET folder_id = '{folder_id}' WHERE id = '{world['template']['id']}'"
    )
    body = search(org, search="vendor", on="blueprint,process")
    for kind in ("blueprint", "process"):
        folders = body[kind]["data"][0]["folders"]
        assert isinstance(folders, list)
        assert [(f["id"], f["name"]) for f in folders] == [(folder_id, "Vendors")]


# --- structured filters -------------------------------------------------------------------


def f(**cond: str) -> dict[str, str]:
    return {f"filter[{k}]": v for k, v in cond.items()}


def test_single_condition_filters(org: Org, world: dict[str, Any]) -> None:
    template = world["template"]
    other = run(org, template["id"], name="Globex vendor")
    acme = world["run"]["id"]
    assert ids(
        search(
            org, search="vendor", on="process", **f(type="field", field="name", value="ACME VENDOR")
        ),
        "process",
    ) == [acme]
    assert ids(
        search(
            org,
            search="vendor",
            on="process",
            **f(field="title", operation="<>", value="Acme vendor"),
        ),
        "process",
    ) == [other["id"]]
    assert ids(
        search(
            org,
            search="vendor",
            on="process",
            **f(field="title", operation="!=", value="Acme vendor"),
        ),
        "process",
    ) == [other["id"]]
    assert (
        ids(
            search(org, search="vendor", on="process", **f(field="status", value="complete")),
            "process",
        )
        == []
    )
    assert (
        len(
            ids(
                search(
                    org,
                    search="vendor",
                    on="process",
                    **f(field="starter", value=str(org.admin_id)),
                ),
                "process",
            )
        )
        == 2
    )
    assert ids(
        search(
            org,
            search="vendor",
            on="process",
            **f(field="increment_id", operation=">", value=str(world["run"]["increment_id"])),
        ),
        "process",
    ) == [other["id"]]
    assert ids(
        search(org, search="vendor", on="blueprint", **f(field="type", value="procedure")),
        "blueprint",
    ) == [template["id"]]
    assert (
        ids(
            search(org, search="vendor", on="blueprint", **f(field="is_public", value="true")),
            "blueprint",
        )
        == []
    )


def test_date_filters(org: Org, world: dict[str, Any]) -> None:
    today = datetime.now(UTC).date()
    tomorrow = (today + timedelta(days=1)).isoformat()
    task_id = world["task"]["id"]

    def tasks(**cond: str) -> list[str]:
        return ids(search(org, search="call the vendor", on="task", **f(**cond)), "task")

    assert tasks(field="date", value=today.isoformat()) == [task_id]
    assert tasks(field="created_at", operation=">=", value=today.isoformat()) == [task_id]
    assert tasks(field="created_at", operation="<", value=today.isoformat()) == []
    assert tasks(field="created_at", operation="<", value=tomorrow) == [task_id]
    assert tasks(field="created_at", operation=">", value=today.isoformat()) == []
    assert tasks(field="created_at", operation="<>", value=today.isoformat()) == []
    assert tasks(field="deadline", value="2030-01-01") == [task_id]
    assert tasks(field="deadline", operation=">", value="2029-12-31T23:59:59Z") == [task_id]
    assert tasks(field="deadline", operation="<=", value="2030-01-01T11:00:00Z") == []
    assert tasks(field="completed_at", operation="!=", value="2030-01-01") == [task_id]


def test_boolean_groups_and_nesting(org: Org, world: dict[str, Any]) -> None:
    template = world["template"]
    globex = run(org, template["id"], name="Globex vendor")["id"]
    acme = world["run"]["id"]
    either = {
        "filter[0][type]": "boolean",
        "filter[0][value]": "OR",
        "filter[1][type]": "field",
        "filter[1][field]": "name",
        "filter[1][value]": "Acme vendor",
        "filter[2][field]": "name",
        "filter[2][operation]": "=",
        "filter[2][value]": "Globex vendor",
    }
    assert sorted(ids(search(org, search="vendor", on="process", **either), "process")) == sorted(
        [acme, globex]
    )
    both = {**either, "filter[0][value]": "and"}
    assert ids(search(org, search="vendor", on="process", **both), "process") == []
    nested = {
        "filter[0][type]": "boolean",
        "filter[0][value]": "AND",
        "filter[1][field]": "status",
        "filter[1][value]": "active",
        "filter[2][0][type]": "boolean",
        "filter[2][0][value]": "OR",
        "filter[2][1][field]": "name",
        "filter[2][1][value]": "Globex vendor",
        "filter[2][2][field]": "name",
        "filter[2][2][value]": "Nobody",
    }
    assert ids(search(org, search="vendor", on="process", **nested), "process") == [globex]
    oneoff = {
        "filter[0][type]": "boolean",
        "filter[0][value]": "AND",
        "filter[1][field]": "is_oneoff_task",
        "filter[1][value]": "false",
    }
    body = search(org, search="step", on="task", **oneoff)
    assert len(ids(body, "task")) == 4  # two steps in each of the two runs
    assert all(t["is_oneoff_task"] is False for t in body["task"]["data"])


@pytest.mark.parametrize(
    "params, key",
    [
        ({"filter": "title=Foo"}, "filter"),
        (f(field="nope", value="x"), "filter.field"),
        (f(value="x"), "filter.field"),
        (f(field="title"), "filter.value"),
        (f(field="title", operation="LIKE", value="x"), "filter.operation"),
        (f(field="title", operator="=", value="x"), "filter.operator"),
        (f(type="boolean", field="title", value="x"), "filter.type"),
        (f(field="starter", value="me"), "filter.value"),
        (f(field="created_at", value="yesterday"), "filter.value"),
        (f(field="is_public", operation="<", value="true"), "filter.operation"),
        (f(field="is_public", value="maybe"), "filter.value"),
        ({"filter[1][field]": "title", "filter[1][value]": "x"}, "filter.0"),
        (
            {
                "filter[0][type]": "boolean",
                "filter[0][value]": "XOR",
                "filter[1][field]": "title",
                "filter[1][value]": "x",
            },
            "filter.0.value",
        ),
        ({"filter[0][type]": "boolean", "filter[0][value]": "AND"}, "filter"),
        ({"filter[0][type]": "boolean", "filter[0][value]": "AND", "filter[1]": "x"}, "filter.1"),
    ],
)
def test_malformed_filters_are_422(org: Org, params: dict[str, str], key: str) -> None:
    errors = errors_of(org, search="vendor", on="blueprint", **params)
    assert list(errors) == [key], errors


def test_field_must_exist_on_every_type_searched(org: Org) -> None:
    errors = errors_of(
        org, search="x", on="task,blueprint", **f(field="deadline", value="2030-01-01")
    )
    assert "not available on blueprint" in errors["filter"][0]
    assert "title" in errors["filter"][0]  # the allowed fields are listed
    assert search(org, search="x", on="task", **f(field="deadline", value="2030-01-01"))


def test_official_sdk_search_with_filters(org: Org, world: dict[str, Any]) -> None:
    sdk = TallyfySDK(api_key=org.token, base_url=org.server.base, max_retries=0)
    found = sdk.searches.search(
        org.id,
        "vendor",
        on="process",
        filter_=[
            {"type": "boolean", "value": "AND"},
            {"field": "status", "value": "active"},
            [
                {"type": "boolean", "value": "OR"},
                {"field": "title", "value": "Acme vendor"},
                {"field": "title", "value": "Nobody"},
            ],
        ],
    )
    assert [r.id for r in found.data] == [world["run"]["id"]]
    assert found.data[0].folders == []
    assert sdk.searches.search_snippets(org.id, "vendor").data == []
    tasks = sdk.searches.search_tasks(org.id, "call the vendor")
    assert tasks.data[0].owners is not None and tasks.data[0].owners.users == [org.admin_id]
