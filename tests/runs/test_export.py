from __future__ import annotations

import csv
import io
from typing import Any

from tests.conftest import Org
from tests.support.factories import checklist, ok, run, tag

COLUMNS = 45


def build(org: Org) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """A template with a kick-off field and a step field; a run with a value, a comment and
    an issue on its first task, the first task completed."""
    template = checklist(org, steps=2, title="Hiring")
    path = org.path(f"/checklists/{template['id']}")
    prerun = ok(
        org.api.put(
            path,
            json={
                "title": "Hiring",
                "prerun": [{"label": "Candidate", "field_type": "text", "required": True}],
            },
        )
    )["prerun"]
    step = ok(org.api.get(path + "/steps"))[0]
    field = ok(
        org.api.post(
            f"{path}/steps/{step['id']}/captures",
            json={"label": "Salary", "field_type": "text"},
        ),
        201,
    )
    launched = run(org, template["id"], name="Hire Ada", prerun={prerun[0]["id"]: "Ada"})
    ok(
        org.api.post(
            org.path(f"/runs/{launched['id']}/comment"),
            json={"content": "process note"},
        ),
        201,
    )
    tasks = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))
    first = tasks[0]
    ok(
        org.api.put(
            org.path(f"/runs/{launched['id']}/tasks/{first['id']}"),
            json={"taskdata": {field["id"]: "100k"}},
        )
    )
    ok(org.api.post(org.path(f"/tasks/{first['id']}/comment"), json={"content": "Looks good"}), 201)
    ok(
        org.api.post(
            org.path(f"/tasks/{first['id']}/comment"),
            json={"content": "Missing CV", "label": "problem"},
        ),
        201,
    )
    return template, launched, tasks


def read_csv(org: Org, run_id: str) -> list[dict[str, str]]:
    response = org.api.get(org.path(f"/runs/{run_id}/export.csv"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].endswith('.csv"')
    rows = list(csv.reader(io.StringIO(response.text)))
    assert all(len(row) == COLUMNS for row in rows)
    header, *body = rows
    return [dict(zip(header, row, strict=True)) for row in body]


def test_csv_has_tallyfys_columns_and_a_row_per_field_task_and_comment(org: Org) -> None:
    template, launched, tasks = build(org)
    rows = read_csv(org, launched["id"])
    assert [r["type"] for r in rows] == [
        "kick_off_task",
        "process_task",
        "process_task_data",
        "process_task_comment",
        "process_task_comment",
        "process_task",
    ]
    kickoff, task, data, comment, issue, second = rows
    assert {r["blueprint_id"] for r in rows} == {template["id"]}
    assert {r["process_name"] for r in rows} == {"Hire Ada"}
    assert {r["total_tasks_in_process"] for r in rows} == {"2"}
    assert {r["blueprint_version"] for r in rows} == {"1"}
    assert (kickoff["question_in_form_field"], kickoff["answer_in_form_field"]) == (
        "Candidate",
        "Ada",
    )
    assert kickoff["kick_off_task_id"] == template["id"]
    assert (task["process_task_id"], task["has_form_fields"]) == (tasks[0]["id"], "Yes")
    assert task["no_of_form_fields"] == "1" and second["has_form_fields"] == "No"
    assert task["assigned_user_id"] == str(org.admin_id) and task["total_assignees"] == "1"
    assert (data["question_in_form_field"], data["answer_in_form_field"]) == ("Salary", "100k")
    assert data["process_task_data_name"] == tasks[0]["title"]
    assert (comment["comment"], comment["issue_reported"]) == ("Looks good", "No")
    assert (issue["comment"], issue["issue_reported"], issue["issue_resolved"]) == (
        "Missing CV",
        "Yes",
        "No",
    )
    assert task["no_of_issue_reported"] == "1" and task["total_comments"] == "1"
    assert task["process_task_status"] == "shown"


def test_csv_counts_completed_tasks_and_names_tags(org: Org) -> None:
    template = checklist(org, steps=2)
    launched = run(org, template["id"])
    first = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))[0]
    ok(
        org.api.post(
            org.path(f"/runs/{launched['id']}/completed-tasks"), json={"task_id": first["id"]}
        )
    )
    label = tag(org, "urgent")
    ok(
        org.api.post(
            org.path("/checklists/tags"),
            json={
                "tag_id": label,
                "subject_type": "Run",
                "subject_id": launched["id"],
                "tag_type": "private",
            },
        ),
        201,
    )
    rows = read_csv(org, launched["id"])
    assert {r["tasks_completed"] for r in rows} == {"1"}
    assert {r["process_tag"] for r in rows} == {"urgent"}
    done = next(r for r in rows if r["process_task_id"] == first["id"])
    assert done["completed_by"] == str(org.admin_id) and done["completed_on"]


def test_json_export_carries_tasks_fields_and_template(org: Org) -> None:
    template, launched, tasks = build(org)
    response = org.api.post(org.path(f"/runs/{launched['id']}/export"))
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["id"] == launched["id"] and data["checklist"]["data"]["id"] == template["id"]
    assert [t["id"] for t in data["tasks"]["data"]] == [t["id"] for t in tasks]
    threads = data["tasks"]["data"][0]["threads"]["data"]
    assert [t["content"] for t in threads] == ["Looks good", "Missing CV"]
    assert [f["label"] for f in data["form_fields"]["data"]] == ["Salary"]
    assert [t["content"] for t in data["threads"]["data"]] == ["process note"]


def test_export_refusals(org: Org) -> None:
    launched = run(org)
    _, light = org.member("light")
    assert light.post(org.path(f"/runs/{launched['id']}/export")).status_code == 403
    assert light.get(org.path(f"/runs/{launched['id']}/export.csv")).status_code == 403
    other = org.server.new_org("Other")
    with org.server.client(other.token) as stranger:
        base = f"/organizations/{other.org_id}/runs/{launched['id']}"
        assert stranger.post(base + "/export").status_code == 404
        assert stranger.get(base + "/export.csv").status_code == 404
