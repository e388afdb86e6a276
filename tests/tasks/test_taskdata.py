from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Org
from tests.support.factories import checklist, ok, one_off_task, run, upload

FIELDS = [
    {"label": "Name", "field_type": "text"},
    {"label": "Email", "field_type": "email"},
    {"label": "When", "field_type": "date"},
    {"label": "Size", "field_type": "radio", "options": [{"text": "S"}, {"text": "L"}]},
    {"label": "Tool", "field_type": "dropdown", "options": [{"text": "Slack"}, {"text": "Jira"}]},
    {"label": "Items", "field_type": "table", "columns": [{"label": "a"}, {"label": "b"}]},
    {"label": "Proof", "field_type": "file"},
]


def task_with_fields(org: Org) -> tuple[dict[str, Any], dict[str, str]]:
    task = one_off_task(org, form_fields=FIELDS)
    fields = ok(org.api.get(org.path(f"/tasks/{task['id']}"), params={"with": "form_fields"}))
    return task, {f["label"]: f["id"] for f in fields["form_fields"]["data"]}


def put_taskdata(org: Org, task: dict[str, Any], taskdata: dict[str, Any]) -> Any:
    body = {
        "title": task["title"],
        "deadline": task["deadline"],
        "owners": task["owners"],
        "taskdata": taskdata,
    }
    return org.api.put(org.path(f"/tasks/{task['id']}"), json=body)


def test_values_are_stored_and_read_back(org: Org) -> None:
    task, ids = task_with_fields(org)
    values = {
        ids["Name"]: "Ada",
        ids["Email"]: "ada@example.com",
        ids["Size"]: "L",
        ids["Tool"]: {"id": 2, "text": "Jira", "value": None},
        ids["Items"]: ["x", "3"],
        ids["When"]: "2030-05-01T10:00:00Z",
        "not-a-field": "dropped",
    }
    taskdata = ok(put_taskdata(org, task, values))["taskdata"]
    assert taskdata[ids["Name"]] == "Ada"
    assert taskdata[ids["Tool"]]["text"] == "Jira"
    assert taskdata[ids["When"]] == "2030-05-01T10:00:00Z"
    assert "not-a-field" not in taskdata
    read = ok(org.api.get(org.path(f"/tasks/{task['id']}"), params={"with": "form_fields"}))
    by_label = {f["label"]: f["value"] for f in read["form_fields"]["data"]}
    assert by_label["Items"] == ["x", "3"]


@pytest.mark.parametrize(
    "label, bad",
    [
        ("Email", "not-an-email"),
        ("Size", "XL"),
        ("Tool", {"id": 1, "text": "Jira"}),
        ("Items", ["only one"]),
        ("When", "someday"),
        ("Name", "x" * 201),
    ],
)
def test_bad_values_are_422_by_field(org: Org, label: str, bad: Any) -> None:
    task, ids = task_with_fields(org)
    refused = put_taskdata(org, task, {ids[label]: bad})
    assert refused.status_code == 422
    assert list(refused.json()["errors"]) == [f"taskdata.{ids[label]}"]


def test_file_field_holds_the_asset_with_its_links(org: Org) -> None:
    task, ids = task_with_fields(org)
    asset = upload(
        org, "Task", task["id"], b"signed", filename="proof.pdf", uploaded_from=ids["Proof"]
    )
    (value,) = ok(put_taskdata(org, task, {ids["Proof"]: [asset]}))["taskdata"][ids["Proof"]]
    assert value["id"] == asset["id"]
    assert value["url"] == f"organizations/{org.id}/file/{asset['id']}/dl"
    assert org.api.get(value["full_url"].removeprefix(org.server.api)).content == b"signed"


def test_one_off_update_requires_title_deadline_owners(org: Org) -> None:
    task = one_off_task(org)
    refused = org.api.put(org.path(f"/tasks/{task['id']}"), json={"title": "x"})
    assert refused.status_code == 422
    assert set(refused.json()["errors"]) == {"deadline", "owners"}


def test_owners_are_replaced(org: Org) -> None:
    member_id, _ = org.member("standard")
    task = one_off_task(org)
    body = {"title": "t", "deadline": "2031-01-01 09:00:00", "owners": {"users": [member_id]}}
    updated = ok(org.api.put(org.path(f"/tasks/{task['id']}"), json=body))
    assert updated["owners"]["users"] == [member_id]
    assert updated["deadline"] == "2031-01-01T09:00:00Z"


def test_process_task_update_through_its_run(org: Org) -> None:
    template = checklist(org, steps=1)
    steps = ok(org.api.get(org.path(f"/checklists/{template['id']}"), params={"with": "steps"}))[
        "steps"
    ]
    field = ok(
        org.api.post(
            org.path(f"/checklists/{template['id']}/steps/{steps[0]['id']}/captures"),
            json={"label": "Answer", "field_type": "text"},
        ),
        201,
    )
    launched = run(org, template["id"])
    (task,) = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))
    path = org.path(f"/runs/{launched['id']}/tasks/{task['id']}")
    updated = ok(org.api.put(path, json={"taskdata": {field["id"]: "42"}}))
    assert updated["taskdata"] == {field["id"]: "42"}
    other = run(org, template["id"])
    assert org.api.get(org.path(f"/runs/{other['id']}/tasks/{task['id']}")).status_code == 404


def test_chosen_options_come_back_exactly_as_sent(org: Org) -> None:
    """The n8n live suite compares a stored dropdown or multiselect with what it sent: no
    `value: null` (or any other key of the option's definition) may be added."""
    fields = [
        *FIELDS,
        {
            "label": "Addons",
            "field_type": "multiselect",
            "options": [{"text": "SSO"}, {"text": "Audit"}, {"text": "SLA"}],
        },
    ]
    task = one_off_task(org, form_fields=fields)
    read = ok(org.api.get(org.path(f"/tasks/{task['id']}"), params={"with": "form_fields"}))
    ids = {f["label"]: f["id"] for f in read["form_fields"]["data"]}
    chosen = [
        {"id": 1, "text": "SSO", "selected": True},
        {"id": 3, "text": "SLA", "selected": True},
    ]
    values = {ids["Tool"]: {"id": 2, "text": "Jira"}, ids["Addons"]: chosen}
    assert ok(put_taskdata(org, task, values))["taskdata"] == values
    again = ok(org.api.get(org.path(f"/tasks/{task['id']}")))["taskdata"]
    assert again == values


def test_unknown_keys_of_a_chosen_option_are_dropped(org: Org) -> None:
    task, ids = task_with_fields(org)
    sent = {"id": 1, "text": "Slack", "value": None, "colour": "red"}
    taskdata = ok(put_taskdata(org, task, {ids["Tool"]: sent}))["taskdata"]
    assert taskdata[ids["Tool"]] == {"id": 1, "text": "Slack", "value": None}


def test_file_given_by_url_is_kept_as_a_link(org: Org) -> None:
    """`source: "url"` (Tallyfy's external link form): stored as a link, never fetched."""
    task, ids = task_with_fields(org)
    link = {"source": "url", "url": "https://files.example.com/docs/Signed%20form.pdf"}
    (value,) = ok(put_taskdata(org, task, {ids["Proof"]: [link]}))["taskdata"][ids["Proof"]]
    assert value == {
        "filename": "Signed form.pdf",
        "source": "url",
        "url": link["url"],
        "full_url": link["url"],
        "uploaded_from": ids["Proof"],
    }
    named = {**link, "filename": "contract.pdf", "id": "ignored"}
    asset = upload(org, "Task", task["id"], b"x", filename="a.pdf", uploaded_from=ids["Proof"])
    both = ok(put_taskdata(org, task, {ids["Proof"]: [asset, named]}))["taskdata"][ids["Proof"]]
    assert [v.get("id") for v in both] == [asset["id"], None]
    assert both[1]["filename"] == "contract.pdf"


@pytest.mark.parametrize(
    "link",
    [
        {"source": "url", "url": "ftp://files.example.com/a.pdf"},
        {"source": "url", "url": "file:///etc/passwd"},
        {"source": "url", "url": "https://"},
        {"source": "url", "url": "http://[::1"},
        {"source": "url", "url": 42},
        {"source": "url", "url": "https://example.com/" + "a" * 2000},
        {"source": "url", "url": "https://example.com/a.pdf", "filename": "x" * 256},
        {"source": "url", "url": "https://example.com/a.pdf", "filename": 7},
    ],
)
def test_bad_links_are_422(org: Org, link: dict[str, Any]) -> None:
    task, ids = task_with_fields(org)
    refused = put_taskdata(org, task, {ids["Proof"]: [link]})
    assert refused.status_code == 422
    assert list(refused.json()["errors"]) == [f"taskdata.{ids['Proof']}"]
