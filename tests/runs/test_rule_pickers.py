"""Automations over HTTP, the last three of Tallyfy's: assignment from an Assignee Picker
field, deadlines counted from the trigger point, and conditions on one column of a table."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from tests.conftest import Org
from tests.runs.test_rule_events import act, complete, field_is, step_is, tasks
from tests.support.factories import ok, round_the_clock, with_owner_ids


class Form:
    """A template of two task steps whose kick-off form has an Assignee Picker `Owner` and a
    table `Items` (columns Item, Count)."""

    def __init__(self, org: Org) -> None:
        self.org = org
        made = ok(
            org.api.post(org.path("/checklists"), json={"title": "Form", "type": "procedure"}), 201
        )
        self.id: str = made["id"]
        self.steps = [
            ok(
                org.api.post(org.path(f"/checklists/{self.id}/steps"), json={"title": t}),
                201,
            )["id"]
            for t in ("One", "Two")
        ]
        fields = ok(
            org.api.put(
                org.path(f"/checklists/{self.id}"),
                json={
                    "title": "Form",
                    "prerun": [
                        {"label": "Owner", "field_type": "assignees_form"},
                        {
                            "label": "Items",
                            "field_type": "table",
                            "columns": [{"label": "Item"}, {"label": "Count"}],
                        },
                        {"label": "Note", "field_type": "text"},
                    ],
                },
            )
        )["prerun"]
        self.owner, self.items, self.note = (f["id"] for f in fields)

    def post_rule(self, conditions: list[dict[str, Any]], *actions: dict[str, Any]) -> Any:
        return self.org.api.post(
            self.org.path(f"/checklists/{self.id}/automated-actions"),
            json={"conditions": conditions, "then_actions": list(actions)},
        )

    def rule(self, conditions: list[dict[str, Any]], *actions: dict[str, Any]) -> dict[str, Any]:
        made: dict[str, Any] = ok(self.post_rule(conditions, *actions), 201)
        return made

    def launch(self, prerun: dict[str, Any]) -> dict[str, Any]:
        body = {"checklist_id": self.id, "prerun": prerun}
        launched: dict[str, Any] = ok(self.org.api.post(self.org.path("/runs"), json=body), 201)
        return launched

    def update(self, launched: dict[str, Any], prerun: dict[str, Any]) -> None:
        ok(self.org.api.put(self.org.path(f"/runs/{launched['id']}"), json={"prerun": prerun}))


def users(org: Org, launched: dict[str, Any]) -> list[list[int]]:
    return [t["owners"]["users"] for t in with_owner_ids(tasks(org, launched))]


def test_assignment_follows_the_assignee_picker_field(org: Org) -> None:
    picked, _ = org.member("standard")
    other, _ = org.member("standard")
    fallback, _ = org.member("standard")
    form = Form(org)
    one, two = form.steps
    picker = {"actionable_type": "Prerun", "actionable_id": form.owner}
    made = form.rule(
        [field_is(form.note, "equals", "go")],
        act("assignment", "assign_only", one, **picker),
        act("assignment", "assign", two, capture_id=form.owner, users=[fallback]),
    )
    stored = made["then_actions"]
    assert [(a["actionable_type"], a["actionable_id"]) for a in stored] == [
        ("Prerun", form.owner),
        ("Prerun", form.owner),
    ]
    assert stored[1]["assignees"]["users"] == [fallback]
    launched = form.launch({form.owner: {"users": [picked]}, form.note: "go"})
    assert users(org, launched) == [[picked], [org.admin_id, picked]]
    # The field changes: the tasks follow its current value.
    form.update(launched, {form.owner: {"users": [other]}})
    assert users(org, launched) == [[other], [org.admin_id, other]]
    # An empty picker: the action's own people, where it names some (Tallyfy's fallback).
    form.update(launched, {form.owner: {"users": []}})
    assert users(org, launched) == [[], [org.admin_id, fallback]]
    # The rule stops firing: the assignees it replaced come back.
    form.update(launched, {form.owner: {"users": [picked]}, form.note: "stop"})
    assert users(org, launched) == [[org.admin_id], [org.admin_id]]


def test_assignee_picker_actions_refused_where_they_do_not_fit(org: Org) -> None:
    form = Form(org)
    one, _ = form.steps
    go = [field_is(form.note, "equals", "go")]
    cases = [
        act("assignment", "assign", one, actionable_id=form.note),  # not a picker
        act("assignment", "assign", one, actionable_id="f" * 32),  # no such field
        act("assignment", "assign", one, actionable_type="Nonsense", actionable_id=form.owner),
        act("visibility", "hide", one, actionable_id=form.owner),
    ]
    for action in cases:
        answer = form.post_rule(go, action)
        assert answer.status_code == 422, (action, answer.text)
        assert any(k.startswith("then_actions.0") for k in answer.json()["errors"]), answer.text


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_deadline_counts_from_the_trigger_point(org: Org) -> None:
    round_the_clock(org)
    form = Form(org)
    one, two = form.steps
    made = form.rule(
        [step_is(one, "completed")],
        act(
            "deadline",
            "set",
            two,
            deadline={"value": 2, "unit": "hours", "option": "after", "relative_to": "trigger"},
        ),
    )
    assert made["then_actions"][0]["deadline"] == {
        "value": 2,
        "unit": "hours",
        "option": "from",
        "relative_to": "trigger",
    }
    launched = form.launch({})
    first, second = tasks(org, launched)
    time.sleep(2.1)  # the trigger (the completion) comes well after launch
    done = complete(org, launched, first)
    deadline = _at(done["tasks_changed_by_rules"][second["id"]]["deadline"])
    completed = _at(tasks(org, launched)[0]["completed_at"])
    assert abs(deadline - (completed + timedelta(hours=2))) <= timedelta(seconds=1)
    assert deadline - _at(launched["started_at"]) >= timedelta(hours=2, seconds=1)
    # Reopened, the rule stops firing: the step's own deadline comes back.
    ok(org.api.delete(org.path(f"/runs/{launched['id']}/completed-tasks/{first['id']}")))
    assert tasks(org, launched)[1]["deadline"] == second["deadline"]


def test_deadline_before_the_trigger_point_and_launch_by_default(org: Org) -> None:
    round_the_clock(org)
    form = Form(org)
    one, two = form.steps
    go = [field_is(form.note, "equals", "go")]
    before = {"value": 1, "unit": "days", "option": "before", "from": "trigger_point"}
    form.rule(go, act("deadline", "set", one, deadline=before))
    plain = form.rule(go, act("deadline", "set", two, deadline={"value": 3, "unit": "days"}))
    assert plain["then_actions"][0]["deadline"] == {"value": 3, "unit": "days"}
    launched = form.launch({})
    time.sleep(2.1)
    form.update(launched, {form.note: "go"})
    started = _at(launched["started_at"])
    first, second = (_at(t["deadline"]) for t in tasks(org, launched))
    assert second - started == timedelta(days=3)
    # One day before the value change that triggered it, which came after launch.
    assert first - (started - timedelta(days=1)) >= timedelta(seconds=1)
    assert first - started < timedelta(days=-1) + timedelta(minutes=1)


def test_deadline_options_refused_when_nonsense(org: Org) -> None:
    form = Form(org)
    one, _ = form.steps
    go = [field_is(form.note, "equals", "go")]
    for deadline in (
        {"value": 1, "unit": "days", "relative_to": "yesterday"},
        {"value": 1, "unit": "days", "option": "sideways"},
    ):
        answer = form.post_rule(go, act("deadline", "set", one, deadline=deadline))
        assert answer.status_code == 422, answer.text


def test_table_column_condition_reads_only_that_column(org: Org) -> None:
    form = Form(org)
    one, two = form.steps
    count_is_3 = {
        **field_is(form.items, "contains", "3"),
        "column_contains_name": "count",
    }
    made = form.rule([count_is_3], act("visibility", "hide", one))
    assert made["conditions"][0]["column_contains_name"] == "count"
    item_is_3 = {**field_is(form.items, "equals", "3"), "column_contains_name": "Item"}
    form.rule([item_is_3], act("visibility", "hide", two))
    launched = form.launch({form.items: ["Widget", "3"]})
    assert [t["status"] for t in tasks(org, launched)] == ["auto-skipped", "active"]
    form.update(launched, {form.items: ["3", "4"]})
    assert [t["status"] for t in tasks(org, launched)] == ["active", "auto-skipped"]


def test_table_column_condition_refused_when_nonsense(org: Org) -> None:
    form = Form(org)
    one, _ = form.steps
    hide = act("visibility", "hide", one)
    for condition in (
        {**field_is(form.items, "contains", "3"), "column_contains_name": "Price"},
        {**field_is(form.note, "contains", "3"), "column_contains_name": "Item"},
    ):
        answer = form.post_rule([condition], hide)
        assert answer.status_code == 422, answer.text
        assert "conditions.0.column_contains_name" in answer.json()["errors"], answer.text


def test_a_picker_rule_survives_an_update_and_keeps_its_field(org: Org) -> None:
    form = Form(org)
    one, _ = form.steps
    made = form.rule(
        [field_is(form.note, "equals", "go")],
        act("assignment", "assign", one, actionable_id=form.owner),
    )
    updated = ok(
        org.api.put(
            org.path(f"/checklists/{form.id}/automated-actions/{made['id']}"),
            json={"automated_alias": "Owner picks"},
        )
    )
    action = updated["then_actions"][0]
    assert (action["actionable_type"], action["actionable_id"]) == ("Prerun", form.owner)
    # The picker field is used by the rule: the kick-off form can't drop it.
    dropped = org.api.put(
        org.path(f"/checklists/{form.id}"),
        json={
            "title": "Form",
            "prerun": [{"id": form.note, "label": "Note", "field_type": "text"}],
        },
    )
    assert dropped.status_code == 403, dropped.text
