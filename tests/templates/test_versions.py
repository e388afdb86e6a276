"""Template versions: a run keeps the version it was launched from; with dual versions edits
go to a draft that `PUT /checklists/{id}/publish` makes the launched version."""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.db import make_engine
from checkrun.runs.models import Run
from checkrun.templates.versions import rules_for_run
from tests.conftest import Org
from tests.support.factories import checklist, ok, run


def template_path(org: Org, template: dict[str, Any]) -> str:
    return org.path(f"/checklists/{template['id']}")


def steps_of(org: Org, template: dict[str, Any]) -> list[dict[str, Any]]:
    return ok(org.api.get(template_path(org, template) + "/steps"))


def rename_step(org: Org, template: dict[str, Any], step: dict[str, Any], title: str) -> None:
    ok(org.api.put(f"{template_path(org, template)}/steps/{step['id']}", json={"title": title}))


def task_titles(org: Org, launched: dict[str, Any]) -> list[str]:
    return [t["title"] for t in ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))]


def csv_rows(org: Org, launched: dict[str, Any]) -> list[dict[str, str]]:
    response = org.api.get(org.path(f"/runs/{launched['id']}/export.csv"))
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.text)))


def read(org: Org, template: dict[str, Any]) -> dict[str, Any]:
    return ok(org.api.get(template_path(org, template)))


def publish(org: Org, template: dict[str, Any]) -> dict[str, Any]:
    return ok(org.api.put(template_path(org, template) + "/publish"))


def with_field(org: Org, template: dict[str, Any], label: str) -> dict[str, Any]:
    step = steps_of(org, template)[0]
    return ok(
        org.api.post(
            f"{template_path(org, template)}/steps/{step['id']}/captures",
            json={"label": label, "field_type": "text"},
        ),
        201,
    )


def test_a_run_keeps_the_version_it_was_launched_from(org: Org) -> None:
    template = checklist(org, steps=2)
    field = with_field(org, template, "Amount")
    first = run(org, template["id"])
    step = steps_of(org, template)[0]
    rename_step(org, template, step, "Renamed")
    path = f"{template_path(org, template)}/steps/{step['id']}/captures/{field['id']}"
    ok(org.api.put(path, json={"label": "Total", "field_type": "text"}))
    second = run(org, template["id"])
    # Edits apply at once: the next launch has them, the first run keeps its version.
    assert task_titles(org, first) == ["Step 1", "Step 2"]
    assert task_titles(org, second) == ["Renamed", "Step 2"]
    old, new = csv_rows(org, first), csv_rows(org, second)
    assert {r["blueprint_version"] for r in old} == {"1"}
    assert {r["blueprint_version"] for r in new} == {"2"}
    assert [r["question_in_form_field"] for r in old if r["type"] == "process_task_data"] == [
        "Amount"
    ]
    assert [r["question_in_form_field"] for r in new if r["type"] == "process_task_data"] == [
        "Total"
    ]
    # Without dual versions the template is always published.
    assert read(org, template)["is_published_state"] is True


def test_edits_before_any_launch_make_no_version(org: Org) -> None:
    template = checklist(org, steps=1)
    step = steps_of(org, template)[0]
    rename_step(org, template, step, "One")
    rename_step(org, template, step, "Two")
    launched = run(org, template["id"])
    assert {r["blueprint_version"] for r in csv_rows(org, launched)} == {"1"}


def test_kickoff_fields_of_a_run_are_its_versions(org: Org) -> None:
    template = checklist(org, steps=1)
    body = {"title": "T", "prerun": [{"label": "Customer", "field_type": "text"}]}
    (field,) = ok(org.api.put(template_path(org, template), json=body))["prerun"]
    launched = run(org, template["id"], prerun={field["id"]: "Acme"})
    renamed = {"title": "T", "prerun": [{**field, "label": "Client"}]}
    ok(org.api.put(template_path(org, template), json=renamed))
    (kickoff,) = [r for r in csv_rows(org, launched) if r["type"] == "kick_off_task"]
    assert (kickoff["question_in_form_field"], kickoff["answer_in_form_field"]) == (
        "Customer",
        "Acme",
    )


def test_dual_versions_launch_the_published_version_until_the_draft_is_published(
    org: Org,
) -> None:
    template = checklist(org, steps=0, dual_version_enabled=True)
    assert read(org, template)["is_published_state"] is True
    for title in ("Step 1", "Step 2"):
        ok(org.api.post(template_path(org, template) + "/steps", json={"title": title}), 201)
    # Steps added after creation are draft edits: version 1 was published with none.
    assert read(org, template)["is_published_state"] is False
    assert task_titles(org, run(org, template["id"])) == []
    publish(org, template)
    first, second = steps_of(org, template)
    rename_step(org, template, first, "Draft title")
    ok(org.api.delete(f"{template_path(org, template)}/steps/{second['id']}"), 204)
    draft = read(org, template)
    assert draft["is_published_state"] is False and draft["dual_version_enabled"] is True
    assert [t["title"] for t in ok(org.api.get(org.path("/checklists?status=draft")))] == [
        template["title"]
    ]
    assert ok(org.api.get(org.path("/checklists?status=published"))) == []
    # The draft is what the template reads like; launches still use the published version.
    assert [s["title"] for s in steps_of(org, template)] == ["Draft title"]
    before = run(org, template["id"])
    assert task_titles(org, before) == ["Step 1", "Step 2"]
    published = publish(org, template)
    assert published["is_published_state"] is True
    after = run(org, template["id"])
    assert task_titles(org, after) == ["Draft title"]
    assert task_titles(org, before) == ["Step 1", "Step 2"]
    assert {r["blueprint_version"] for r in csv_rows(org, before)} == {"2"}
    assert {r["blueprint_version"] for r in csv_rows(org, after)} == {"3"}
    # Publishing again with nothing new changes nothing.
    assert publish(org, template)["is_published_state"] is True
    assert {r["blueprint_version"] for r in csv_rows(org, run(org, template["id"]))} == {"3"}


def test_turning_dual_versions_on_publishes_and_off_applies_the_draft(org: Org) -> None:
    template = checklist(org, steps=1)
    path = template_path(org, template)
    ok(org.api.put(path, json={"title": template["title"], "dual_version_enabled": True}))
    step = steps_of(org, template)[0]
    rename_step(org, template, step, "Draft")
    assert task_titles(org, run(org, template["id"])) == ["Step 1"]
    off = ok(org.api.put(path, json={"title": template["title"], "dual_version_enabled": False}))
    assert off["is_published_state"] is True
    assert task_titles(org, run(org, template["id"])) == ["Draft"]


def test_publish_refusals(org: Org) -> None:
    template = checklist(org, steps=1)
    # Nothing to publish without dual versions: answered as it is.
    assert publish(org, template)["id"] == template["id"]
    _, light = org.member("light")
    assert light.put(template_path(org, template) + "/publish").status_code == 403
    other = org.server.new_org("Other")
    with org.server.client(other.token) as stranger:
        path = f"/organizations/{other.org_id}/checklists/{template['id']}/publish"
        assert stranger.put(path).status_code == 404


def rules_of_run(org: Org, run_id: str) -> list[dict[str, Any]]:
    """`versions.rules_for_run` on the server's database (what rule evaluation reads)."""

    async def work() -> list[dict[str, Any]]:
        engine = make_engine(org.server.settings.resolved_database_url)
        try:
            async with AsyncSession(engine) as db:
                found = await db.get(Run, run_id)
                assert found is not None
                return await rules_for_run(db, found)
        finally:
            await engine.dispose()

    return asyncio.run(work())


def test_a_run_is_evaluated_with_the_rules_of_its_version(org: Org) -> None:
    for dual in (False, True):
        template = checklist(org, steps=0, dual_version_enabled=dual)
        path = template_path(org, template)
        step = ok(org.api.post(path + "/steps", json={"title": "Check"}), 201)
        body = {"title": "T", "prerun": [{"label": "Kind", "field_type": "text"}]}
        (field,) = ok(org.api.put(path, json=body))["prerun"]
        rule = {
            "conditions": [
                {"conditionable_id": field["id"], "operation": "equals", "statement": "a"}
            ],
            "then_actions": [
                {"action_type": "visibility", "action_verb": "hide", "target_step_id": step["id"]}
            ],
        }
        made = ok(org.api.post(path + "/automated-actions", json=rule), 201)
        if dual:
            publish(org, template)
        first = run(org, template["id"])
        changed = {"conditions": [{**rule["conditions"][0], "statement": "b"}]}
        ok(org.api.put(f"{path}/automated-actions/{made['id']}", json=changed))
        if dual:
            # Not published yet: a launch still evaluates the published rules.
            draft_run = run(org, template["id"])
            assert rules_of_run(org, draft_run["id"])[0]["conditions"][0]["statement"] == "a"
            publish(org, template)
        second = run(org, template["id"])
        assert rules_of_run(org, first["id"])[0]["conditions"][0]["statement"] == "a"
        assert rules_of_run(org, second["id"])[0]["conditions"][0]["statement"] == "b"
