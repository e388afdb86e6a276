"""Launching a run: what it copies from the template and the request, naming, and refusals."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.conftest import Org
from tests.support.factories import checklist, group, ok, round_the_clock, run, tag, with_owner_ids

UNKNOWN_ID = "0" * 32
STEP_FLAGS = {
    "everyone_must_complete": True,
    "can_complete_only_assignees": True,
    "prevent_guest_comment": True,
    "max_assignable": 3,
    "top_secret": True,
}


def add_step(org: Org, template: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body = {"title": f"Step {fields.get('title', 'x')}", **fields}
    return ok(org.api.post(org.path(f"/checklists/{template['id']}/steps"), json=body), 201)


def tasks_of(org: Org, launched: dict[str, Any]) -> list[dict[str, Any]]:
    return with_owner_ids(ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks"))))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def with_kickoff(
    org: Org, fields: list[dict[str, Any]], **template: Any
) -> tuple[dict[str, Any], dict[str, str]]:
    """A template with these kick-off fields (and one step); their ids by label."""
    made = checklist(org, steps=1, **template)
    ok(
        org.api.put(
            org.path(f"/checklists/{made['id']}"),
            json={"title": made["title"], "prerun": fields, **template},
        )
    )
    read = ok(org.api.get(org.path(f"/checklists/{made['id']}")))
    return made, {f["label"]: f["id"] for f in read["prerun"]}


# --- what the run and its tasks carry ---------------------------------------------------------


def test_step_rules_are_copied_onto_tasks(org: Org) -> None:
    template = checklist(org, steps=0)
    add_step(org, template, title="Strict", **STEP_FLAGS)
    add_step(org, template, title="Plain")
    strict, plain = tasks_of(org, run(org, template["id"]))
    assert {k: strict[k] for k in STEP_FLAGS} == STEP_FLAGS
    assert {k: plain[k] for k in STEP_FLAGS} == {
        "everyone_must_complete": False,
        "can_complete_only_assignees": False,
        "prevent_guest_comment": False,
        "max_assignable": 0,
        "top_secret": False,
    }


def test_users_groups_and_tags_are_kept(org: Org) -> None:
    member_id, _ = org.member("standard")
    team, label = group(org), tag(org)
    launched = run(org, users=[member_id, org.admin_id], groups=[team], tags=[label])
    assert (launched["users"], launched["groups"]) == ([member_id, org.admin_id], [team])
    read = ok(org.api.get(org.path(f"/runs/{launched['id']}"), params={"with": "tags"}))
    assert (read["users"], read["groups"]) == ([member_id, org.admin_id], [team])
    assert [t["tag_id"] for t in read["tags"]["data"]] == [label]


def test_owner_and_starter_can_be_chosen(org: Org) -> None:
    member_id, _ = org.member("standard")
    launched = run(org, owner_id=member_id, user_id=member_id)
    assert (launched["owner_id"], launched["started_by"]) == (member_id, member_id)
    # The starter is who a step without assignees goes to.
    assert {t["owners"]["users"][0] for t in tasks_of(org, launched)} == {member_id}


@pytest.mark.parametrize(
    "field, value, key",
    [
        ("owner_id", 999_999, "owner_id"),
        ("user_id", 999_999, "user_id"),
        ("users", [999_999], "users.0"),
        ("parent_id", UNKNOWN_ID, "parent_id"),
    ],
)
def test_launch_refuses_unknown_people_and_parents(
    org: Org, field: str, value: Any, key: str
) -> None:
    template = checklist(org)
    response = org.api.post(org.path("/runs"), json={"checklist_id": template["id"], field: value})
    assert response.status_code == 422, response.text
    assert list(response.json()["errors"]) == [key]
    assert ok(org.api.get(org.path("/runs"))) == []


def test_parent_run_is_recorded(org: Org) -> None:
    parent = run(org)
    child = run(org, parent_id=parent["id"])
    assert child["parent_id"] == parent["id"]
    assert parent["parent_id"] is None


def test_task_overrides_at_launch(org: Org) -> None:
    member_id, _ = org.member("standard")
    template = checklist(org, steps=2)
    first, second = ok(org.api.get(org.path(f"/checklists/{template['id']}/steps")))
    launched = run(
        org,
        template["id"],
        tasks={
            first["id"]: {
                "deadline": "2031-02-03T04:05:06Z",
                "owners": {"users": [member_id]},
                "max_assignable": 2,
            },
            UNKNOWN_ID: {"deadline": "2031-01-01T00:00:00Z"},
        },
    )
    one, two = tasks_of(org, launched)
    assert (one["deadline"], one["owners"]["users"], one["max_assignable"]) == (
        "2031-02-03T04:05:06Z",
        [member_id],
        2,
    )
    assert two["owners"]["users"] == [org.admin_id]
    refused = org.api.post(
        org.path("/runs"),
        json={
            "checklist_id": template["id"],
            "tasks": {second["id"]: {"owners": {"users": [999_999]}}},
        },
    )
    assert refused.status_code == 422


def test_deadlines_count_from_launch_or_from_another_step(org: Org) -> None:
    # Working time is tests/tasks/test_deadlines.py's; here every moment works.
    round_the_clock(org)
    template = checklist(org, steps=0)
    base = add_step(
        org,
        template,
        title="Base",
        deadline={"value": 2, "unit": "days"},
        start_date={"value": 1, "unit": "hours"},
    )
    add_step(
        org, template, title="After", deadline={"value": 3, "unit": "days", "step": base["id"]}
    )
    add_step(
        org,
        template,
        title="Before",
        deadline={"value": 1, "unit": "days", "option": "prior_to", "step": base["id"]},
    )
    add_step(org, template, title="Default")
    launched = run(org, template["id"])
    started = at(launched["started_at"])
    base_task, after, before, default = tasks_of(org, launched)
    assert at(base_task["deadline"]) - started == timedelta(days=2)
    assert at(base_task["started_at"]) - started == timedelta(hours=1)
    assert at(after["deadline"]) - started == timedelta(days=5)
    assert at(before["deadline"]) - started == timedelta(days=1)
    assert at(default["deadline"]) - started == timedelta(days=5)
    assert default["started_at"] == launched["started_at"]


# --- naming ------------------------------------------------------------------------------------


def test_auto_name_uses_template_name_date_and_required_fields(org: Org) -> None:
    template, ids = with_kickoff(
        org,
        [
            {"label": "Client", "field_type": "text", "required": True},
            {"label": "Notes", "field_type": "textarea", "required": True},
            {"label": "Optional", "field_type": "text"},
        ],
        auto_naming=True,
        default_process_name_format="{{Template Name}} for {{client}}: {{Notes}} {{Optional}} "
        "on {{Date}}",
    )
    launched = run(
        org,
        template["id"],
        prerun={ids["Client"]: "Acme", ids["Notes"]: "long text", ids["Optional"]: "x"},
    )
    # Only required fields that can be named by (not textarea) are replaced.
    assert re.fullmatch(
        r"Onboarding for Acme: \{\{Notes\}\} \{\{Optional\}\} on "
        r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}",
        launched["name"],
    ), launched["name"]


def test_auto_name_by_alias_and_sent_name_wins(org: Org) -> None:
    template, ids = with_kickoff(
        org,
        [{"label": "Client name", "field_type": "text", "required": True}],
        auto_naming=True,
        default_process_name_format="{{client_name}} onboarding",
    )
    assert run(org, template["id"], prerun={ids["Client name"]: "Zed"})["name"] == (
        "Zed onboarding"
    )
    assert (
        run(org, template["id"], name="Mine", prerun={ids["Client name"]: "Zed"})["name"] == "Mine"
    )


def test_without_auto_naming_the_format_is_not_used(org: Org) -> None:
    template = checklist(
        org, steps=1, title="Audit", default_process_name_format="{{Template Name}} custom"
    )
    assert run(org, template["id"])["name"].startswith("Audit - ")


def test_name_longer_than_550_is_422(org: Org) -> None:
    response = org.api.post(
        org.path("/runs"), json={"checklist_id": checklist(org)["id"], "name": "x" * 551}
    )
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["name"]


@pytest.mark.parametrize(
    "body",
    [
        {"users": "1"},
        {"tags": "abc"},
        {"tasks": []},
        {"prerun": [{"a": 1}]},
        {"starred": "maybe"},
    ],
)
def test_malformed_launch_bodies_are_422(org: Org, body: dict[str, Any]) -> None:
    response = org.api.post(org.path("/runs"), json={"checklist_id": checklist(org)["id"], **body})
    assert response.status_code == 422, response.text
    assert response.json()["error"] is True
