"""Variables in step titles and summaries resolve in the tasks; `original_title` keeps the raw
text."""

from __future__ import annotations

from typing import Any

from tests.conftest import Org
from tests.support.factories import checklist, ok, run


def template_with(org: Org, steps: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, str]]:
    """A template "Onboarding" with a kick-off field "Client name" and these steps; the
    kick-off field's id."""
    made = checklist(org, steps=0)
    prerun = [{"label": "Client name", "field_type": "text", "required": False}]
    ok(
        org.api.put(
            org.path(f"/checklists/{made['id']}"), json={"title": made["title"], "prerun": prerun}
        )
    )
    for step in steps:
        ok(org.api.post(org.path(f"/checklists/{made['id']}/steps"), json=step), 201)
    read = ok(org.api.get(org.path(f"/checklists/{made['id']}"), params={"with": "steps"}))
    return read, {f["label"]: f["id"] for f in read["prerun"]}


def tasks_of(org: Org, run_id: str) -> list[dict[str, Any]]:
    return ok(org.api.get(org.path(f"/runs/{run_id}/tasks")))


def get_task(org: Org, run_id: str, task_id: str) -> dict[str, Any]:
    return ok(org.api.get(org.path(f"/runs/{run_id}/tasks/{task_id}"), params={"with": "summary"}))


def test_kickoff_and_system_variables_resolve_at_launch(org: Org) -> None:
    template, ids = template_with(
        org,
        [
            {
                "title": "Call {{client_name}} for {{TEMPLATE_NAME}}",
                "summary": "In {{Process Name}}",
            },
            {"title": "Plain step"},
            {"title": "Keep {{unknown}}"},
        ],
    )
    launched = run(org, template["id"], name="Acme onboarding", prerun={ids["Client name"]: "Acme"})
    first, plain, unknown = tasks_of(org, launched["id"])
    assert first["title"] == "Call Acme for Onboarding"
    assert first["original_title"] == "Call {{client_name}} for {{TEMPLATE_NAME}}"
    assert get_task(org, launched["id"], first["id"])["summary"] == "In Acme onboarding"
    assert (plain["title"], plain["original_title"]) == ("Plain step", "Plain step")
    assert unknown["title"] == "Keep {{unknown}}"
    # An unanswered field renders empty.
    other = run(org, template["id"])
    assert tasks_of(org, other["id"])[0]["title"] == "Call  for Onboarding"


def test_titles_follow_a_changed_kickoff_value_until_completed(org: Org) -> None:
    template, ids = template_with(
        org, [{"title": "Call {{client_name}}"}, {"title": "Bill {{client_name}}"}]
    )
    launched = run(org, template["id"], prerun={ids["Client name"]: "Acme"})
    call, bill = tasks_of(org, launched["id"])
    ok(
        org.api.post(
            org.path(f"/runs/{launched['id']}/completed-tasks"), json={"task_id": call["id"]}
        )
    )
    ok(
        org.api.put(
            org.path(f"/runs/{launched['id']}"), json={"prerun": {ids["Client name"]: "Zed"}}
        )
    )
    call, bill = tasks_of(org, launched["id"])
    assert (call["title"], bill["title"]) == ("Call Acme", "Bill Zed")
    assert bill["original_title"] == "Bill {{client_name}}"


def test_a_form_field_of_an_earlier_step_resolves_when_filled(org: Org) -> None:
    template, _ = template_with(org, [{"title": "Ask"}, {"title": "Answer was {{the_answer}}"}])
    ask_step = template["steps"][0]
    field = ok(
        org.api.post(
            org.path(f"/checklists/{template['id']}/steps/{ask_step['id']}/captures"),
            json={"label": "The answer", "field_type": "text"},
        ),
        201,
    )
    launched = run(org, template["id"])
    ask, later = tasks_of(org, launched["id"])
    assert later["title"] == "Answer was "
    path = org.path(f"/runs/{launched['id']}/tasks/{ask['id']}")
    ok(org.api.put(path, json={"taskdata": {field["id"]: "42"}}))
    assert tasks_of(org, launched["id"])[1]["title"] == "Answer was 42"


def test_a_title_set_by_hand_stops_following(org: Org) -> None:
    template, ids = template_with(org, [{"title": "Call {{client_name}}"}])
    launched = run(org, template["id"], prerun={ids["Client name"]: "Acme"})
    (task,) = tasks_of(org, launched["id"])
    path = org.path(f"/runs/{launched['id']}/tasks/{task['id']}")
    ok(org.api.put(path, json={"title": "Call them"}))
    ok(
        org.api.put(
            org.path(f"/runs/{launched['id']}"), json={"prerun": {ids["Client name"]: "Zed"}}
        )
    )
    (task,) = tasks_of(org, launched["id"])
    assert (task["title"], task["original_title"]) == ("Call them", "Call {{client_name}}")
