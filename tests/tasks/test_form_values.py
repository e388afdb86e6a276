"""Form values one at a time: GET /runs/{id}/form-fields, PUT /form-field/value (a stored
value's id) and POST /guests/{email}/form-field/value (create-or-update, as the guest), as
the n8n node calls them."""

from __future__ import annotations

from typing import Any

from tests.conftest import LiveServer, Org, new_org
from tests.support.factories import checklist, ok, one_off_task, run

TOOL = {"label": "Tool", "field_type": "dropdown", "options": [{"text": "Slack"}, {"text": "Jira"}]}


def template_with_fields(org: Org) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A template with one step holding a text field, and a kick-off text field."""
    template = checklist(org, steps=1)
    path = org.path(f"/checklists/{template['id']}")
    (step,) = ok(org.api.get(path + "/steps"))
    notes = ok(
        org.api.post(
            path + f"/steps/{step['id']}/captures",
            json={"label": "Notes", "field_type": "text", "required": False},
        ),
        201,
    )
    prerun = [{"label": "Client", "field_type": "text", "required": False}]
    (kickoff,) = ok(org.api.put(path, json={"title": template["title"], "prerun": prerun}))[
        "prerun"
    ]
    return template, notes, kickoff


def form_fields(org: Org, run_id: str) -> dict[str, Any]:
    return ok(org.api.get(org.path(f"/runs/{run_id}/form-fields")))


def put_value(org: Org, body: dict[str, Any]) -> Any:
    return org.api.put(org.path("/form-field/value"), json=body)


def test_run_form_fields_list_every_field_with_its_stored_value_id(org: Org) -> None:
    template, notes, kickoff = template_with_fields(org)
    launched = run(org, template["id"], prerun={kickoff["id"]: "Acme"})
    (task,) = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))
    read = form_fields(org, launched["id"])
    assert (read["id"], read["name"]) == (launched["id"], launched["name"])
    (field,) = read["form_fields"]
    # What the n8n node reads: the field definition's id, first in the list.
    assert (field["id"], field["task_id"], field["label"]) == (notes["id"], task["id"], "Notes")
    assert field["value"] is None and field["unique_id"] is None
    (ko,) = read["ko_form_fields"]
    assert (ko["id"], ko["value"], ko["unique_id"]) == (kickoff["id"], "Acme", None)
    path = org.path(f"/runs/{launched['id']}/tasks/{task['id']}")
    ok(org.api.put(path, json={"taskdata": {notes["id"]: "first"}}))
    (filled,) = form_fields(org, launched["id"])["form_fields"]
    assert filled["value"] == "first" and isinstance(filled["unique_id"], int)
    # The same id on the task's own form_fields include.
    included = ok(org.api.get(path, params={"with": "form_fields"}))["form_fields"]["data"]
    assert included[0]["unique_id"] == filled["unique_id"]


def test_put_form_field_value_updates_the_stored_value(org: Org) -> None:
    template, notes, _ = template_with_fields(org)
    launched = run(org, template["id"])
    (task,) = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))
    task_path = org.path(f"/runs/{launched['id']}/tasks/{task['id']}")
    ok(org.api.put(task_path, json={"taskdata": {notes["id"]: "first"}}))
    (field,) = form_fields(org, launched["id"])["form_fields"]
    updated = ok(put_value(org, {"id": field["unique_id"], "form_value": "second"}))
    assert updated["id"] == field["unique_id"] and updated["form_value"] == "second"
    assert (updated["task_id"], updated["capture_id"]) == (task["id"], notes["id"])
    assert ok(org.api.get(task_path))["taskdata"] == {notes["id"]: "second"}
    # The id as digits in a string, as a workflow's expression gives it.
    ok(put_value(org, {"id": str(field["unique_id"]), "form_value": "third"}))
    assert ok(org.api.get(task_path))["taskdata"] == {notes["id"]: "third"}


def test_a_field_definition_id_is_not_a_value_id(org: Org) -> None:
    """n8n's live suite sends the run's form_fields[0].id and expects an error naming the
    capture (Tallyfy answers 500 there); here it is a 422 that says which id to send."""
    template, notes, _ = template_with_fields(org)
    launched = run(org, template["id"])
    field_id = form_fields(org, launched["id"])["form_fields"][0]["id"]
    refused = put_value(org, {"id": field_id, "form_value": "x"})
    assert refused.status_code == 422
    assert list(refused.json()["errors"]) == ["id"] and "capture" in refused.json()["message"]
    assert put_value(org, {"id": 987654, "form_value": "x"}).status_code == 404
    assert put_value(org, {"form_value": "x"}).status_code == 422
    assert put_value(org, {"id": True, "form_value": "x"}).status_code == 422


def test_values_are_validated_and_follow_the_task_rules(org: Org) -> None:
    task = one_off_task(org, form_fields=[TOOL])
    path = org.path(f"/tasks/{task['id']}")
    (field,) = ok(org.api.get(path, params={"with": "form_fields"}))["form_fields"]["data"]
    body = {"title": task["title"], "deadline": task["deadline"], "owners": task["owners"]}
    chosen = {"id": 1, "text": "Slack"}
    ok(org.api.put(path, json={**body, "taskdata": {field["id"]: chosen}}))
    (field,) = ok(org.api.get(path, params={"with": "form_fields"}))["form_fields"]["data"]
    bad = put_value(org, {"id": field["unique_id"], "form_value": {"id": 1, "text": "Jira"}})
    assert bad.status_code == 422
    assert ok(org.api.get(path))["taskdata"] == {field["id"]: chosen}
    jira = {"id": 2, "text": "Jira"}
    assert ok(put_value(org, {"id": field["unique_id"], "form_value": jira}))["form_value"] == jira
    ok(org.api.post(org.path("/completed-tasks"), json={"task_id": task["id"]}))
    done = put_value(org, {"id": field["unique_id"], "form_value": chosen})
    assert done.status_code == 422 and list(done.json()["errors"]) == ["status"]


def test_light_members_fill_only_their_tasks_and_other_orgs_see_nothing(
    org: Org, server: LiveServer
) -> None:
    light_id, light = org.member("light")
    mine = one_off_task(org, owners={"users": [light_id]}, form_fields=[TOOL])
    theirs = one_off_task(org, form_fields=[TOOL])
    value_ids = {}
    for task in (mine, theirs):
        path = org.path(f"/tasks/{task['id']}")
        (field,) = ok(org.api.get(path, params={"with": "form_fields"}))["form_fields"]["data"]
        body = {"title": task["title"], "deadline": task["deadline"], "owners": task["owners"]}
        ok(org.api.put(path, json={**body, "taskdata": {field["id"]: {"id": 1, "text": "Slack"}}}))
        value_ids[task["id"]] = ok(org.api.get(path, params={"with": "form_fields"}))[
            "form_fields"
        ]["data"][0]["unique_id"]
    jira = {"id": value_ids[mine["id"]], "form_value": {"id": 2, "text": "Jira"}}
    with light:
        assert light.put(org.path("/form-field/value"), json=jira).status_code == 200
        other = {**jira, "id": value_ids[theirs["id"]]}
        assert light.put(org.path("/form-field/value"), json=other).status_code == 403
    with new_org(server) as stranger:
        assert put_value(stranger, jira).status_code == 404
        template, _, _ = template_with_fields(org)
        launched = run(org, template["id"])
        listed = stranger.api.get(stranger.path(f"/runs/{launched['id']}/form-fields"))
        assert listed.status_code == 404


def guest_path(org: Org, email: str) -> str:
    return org.path(f"/guests/{email}/form-field/value")


def test_guest_variant_creates_then_updates_as_the_guest(org: Org) -> None:
    email = "filler@example.com"
    task = one_off_task(org, owners={"guests": [email]}, form_fields=[TOOL])
    path = org.path(f"/tasks/{task['id']}")
    (field,) = ok(org.api.get(path, params={"with": "form_fields"}))["form_fields"]["data"]
    slack = {"id": 1, "text": "Slack"}
    made = ok(org.api.post(guest_path(org, email), json={"id": field["id"], "form_value": slack}))
    assert made["form_value"] == slack and isinstance(made["id"], int)
    assert made["task_id"] == task["id"]
    jira = {"id": 2, "text": "Jira"}
    again = ok(org.api.post(guest_path(org, email), json={"id": made["id"], "form_value": jira}))
    assert again["id"] == made["id"] and ok(org.api.get(path))["taskdata"] == {field["id"]: jira}
    params = {"entity_id": task["id"], "actor_type": "guest", "actor_email": email}
    assert ok(org.api.get(org.path("/activity-feeds"), params=params))


def test_guest_variant_refuses_what_the_guest_cannot_reach(org: Org) -> None:
    email, other = "one@example.com", "two@example.com"
    first = one_off_task(org, owners={"guests": [email]}, form_fields=[TOOL])
    second = one_off_task(org, owners={"guests": [email, other]}, form_fields=[TOOL])
    fields = {}
    for task in (first, second):
        path = org.path(f"/tasks/{task['id']}")
        fields[task["id"]] = ok(org.api.get(path, params={"with": "form_fields"}))["form_fields"][
            "data"
        ][0]["id"]
    slack = {"id": 1, "text": "Slack"}
    # Not the guest's field: 404; several tasks: task_id picks one.
    refused = org.api.post(
        guest_path(org, other), json={"id": fields[first["id"]], "form_value": slack}
    )
    assert refused.status_code == 404
    body = {"id": fields[second["id"]], "form_value": slack, "task_id": second["id"]}
    assert ok(org.api.post(guest_path(org, other), json=body))["task_id"] == second["id"]
    bad = org.api.post(guest_path(org, email), json={"id": fields[first["id"]], "form_value": "x"})
    assert bad.status_code == 422
    assert org.api.post(guest_path(org, "nobody@example.com"), json=body).status_code == 404
    assert ok(org.api.delete(org.path(f"/guests/{other}/disable")))
    assert org.api.post(guest_path(org, other), json=body).status_code == 403
    _, light = org.member("light")
    with light:
        assert light.post(guest_path(org, email), json=body).status_code == 403


def test_kickoff_file_given_by_url_at_launch(org: Org) -> None:
    template = checklist(org, steps=1)
    prerun = [{"label": "Contract", "field_type": "file", "required": False}]
    path = org.path(f"/checklists/{template['id']}")
    (field,) = ok(org.api.put(path, json={"title": template["title"], "prerun": prerun}))["prerun"]
    link = {"source": "url", "url": "https://example.com/c.pdf", "filename": "C.pdf"}
    launched = run(org, template["id"], prerun={field["id"]: [link]})
    (stored,) = launched["prerun"][field["id"]]
    assert (stored["source"], stored["url"], stored["filename"]) == ("url", link["url"], "C.pdf")
    bad = {"checklist_id": template["id"], "prerun": {field["id"]: [{**link, "url": "x"}]}}
    refused = org.api.post(org.path("/runs"), json=bad)
    assert refused.status_code == 422
    assert list(refused.json()["errors"]) == [f"prerun.{field['id']}"]
