"""Automations driven by what happens to tasks (completed, approved, rejected, reopened) and
by the kick-off form, over HTTP: approval loops, show chains, per-condition logic,
assignment and deadline actions, and what the answers report."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.conftest import Org
from tests.support.factories import ok, round_the_clock, with_owner_ids


class Flow:
    """A template of the given step types with one kick-off text field `Plan`."""

    def __init__(self, org: Org, *types: str, **step_fields: Any) -> None:
        self.org = org
        created = ok(
            org.api.post(org.path("/checklists"), json={"title": "Flow", "type": "procedure"}), 201
        )
        self.id: str = created["id"]
        self.steps: list[str] = [
            ok(
                org.api.post(
                    org.path(f"/checklists/{self.id}/steps"),
                    json={"title": f"Step {i + 1}", "step_type": kind, **step_fields},
                ),
                201,
            )["id"]
            for i, kind in enumerate(types)
        ]
        self.plan: str = ok(
            org.api.put(
                org.path(f"/checklists/{self.id}"),
                json={"title": "Flow", "prerun": [{"label": "Plan", "field_type": "text"}]},
            )
        )["prerun"][0]["id"]

    def rule(self, conditions: list[dict[str, Any]], *actions: dict[str, Any]) -> dict[str, Any]:
        created: dict[str, Any] = ok(
            self.org.api.post(
                self.org.path(f"/checklists/{self.id}/automated-actions"),
                json={"conditions": conditions, "then_actions": list(actions)},
            ),
            201,
        )
        return created

    def launch(self, plan: str = "") -> dict[str, Any]:
        prerun = {self.plan: plan} if plan else {}
        launched: dict[str, Any] = ok(
            self.org.api.post(
                self.org.path("/runs"), json={"checklist_id": self.id, "prerun": prerun}
            ),
            201,
        )
        return launched


def step_is(step: str, operation: str, logic: str | None = None) -> dict[str, Any]:
    found = {"conditionable_type": "Step", "conditionable_id": step, "operation": operation}
    return {**found, "logic": logic} if logic else found


def field_is(
    field: str, operation: str, statement: Any = None, logic: str | None = None
) -> dict[str, Any]:
    found = {
        "conditionable_type": "Prerun",
        "conditionable_id": field,
        "operation": operation,
        "statement": statement,
    }
    return {**found, "logic": logic} if logic else found


def act(kind: str, verb: str, step: str, **more: Any) -> dict[str, Any]:
    return {"action_type": kind, "action_verb": verb, "target_step_id": step, **more}


def tasks(org: Org, launched: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))
    return with_owner_ids(found)


def statuses(org: Org, launched: dict[str, Any]) -> list[str]:
    return [t["status"] for t in tasks(org, launched)]


def complete(org: Org, launched: dict[str, Any], task: dict[str, Any], **body: Any) -> Any:
    return ok(
        org.api.post(
            org.path(f"/runs/{launched['id']}/completed-tasks"),
            json={"task_id": task["id"], **body},
        )
    )


def run_status(org: Org, launched: dict[str, Any]) -> str:
    status: str = ok(org.api.get(org.path(f"/runs/{launched['id']}")))["status"]
    return status


def test_rejection_reopens_an_earlier_step_and_approval_then_continues(org: Org) -> None:
    flow = Flow(org, "task", "approval", "task")
    draft, review, publish = flow.steps
    flow.rule([step_is(review, "rejected")], act("status", "reopen", draft))
    # Tallyfy's cascade: the reopened draft sends the review back too, to be answered again.
    flow.rule([step_is(draft, "reopened")], act("status", "reopen", review))
    flow.rule([step_is(review, "approved")], act("visibility", "show", publish))
    launched = flow.launch()
    first, second, third = tasks(org, launched)
    assert statuses(org, launched) == ["active", "active", "auto-skipped"]
    complete(org, launched, first)
    rejected = complete(org, launched, second, is_approved=False)
    changed = rejected["tasks_changed_by_rules"]
    assert changed[first["id"]]["status"] == "in-progress"
    assert changed[second["id"]]["status"] == "in-progress"
    assert third["id"] not in changed
    assert statuses(org, launched) == ["in-progress", "in-progress", "auto-skipped"]
    # The loop again: fix, reject once more, fix, then approve.
    complete(org, launched, first)
    complete(org, launched, second, is_approved=False)
    assert statuses(org, launched) == ["in-progress", "in-progress", "auto-skipped"]
    complete(org, launched, first)
    approved = complete(org, launched, second, is_approved=True)
    assert approved["status"] == "completed"
    assert approved["tasks_changed_by_rules"] == {third["id"]: {"status": "active"}}
    assert statuses(org, launched) == ["completed", "completed", "active"]
    complete(org, launched, third)
    assert run_status(org, launched) == "complete"


def test_a_decision_field_loops_each_time_its_task_is_completed(org: Org) -> None:
    flow = Flow(org, "task", "task", "task")
    draft, review, publish = flow.steps
    decision = ok(
        org.api.post(
            org.path(f"/checklists/{flow.id}/steps/{review}/captures"),
            json={"label": "Decision", "field_type": "text"},
        ),
        201,
    )["id"]

    def decided(value: str) -> dict[str, Any]:
        return {"conditionable_id": decision, "operation": "equals", "statement": value}

    flow.rule([decided("changes")], act("status", "reopen", draft))
    flow.rule([step_is(draft, "reopened")], act("status", "reopen", review))
    flow.rule([decided("ok")], act("visibility", "show", publish))
    launched = flow.launch()
    first, second, _ = tasks(org, launched)
    task_path = org.path(f"/runs/{launched['id']}/tasks/{second['id']}")
    complete(org, launched, first)
    ok(org.api.put(task_path, json={"taskdata": {decision: "changes"}}))
    # The form is submitted by completing its task: nothing is reopened before.
    assert statuses(org, launched) == ["completed", "active", "auto-skipped"]
    for _ in range(2):  # the same answer, submitted twice: two loops
        complete(org, launched, second)
        assert statuses(org, launched) == ["in-progress", "in-progress", "auto-skipped"]
        complete(org, launched, first)
    ok(org.api.put(task_path, json={"taskdata": {decision: "ok"}}))
    complete(org, launched, second)
    assert statuses(org, launched) == ["completed", "completed", "active"]


def test_reopen_acts_only_on_a_completed_task_and_loops_end(org: Org) -> None:
    flow = Flow(org, "task", "task")
    one, two = flow.steps
    # Two rules that reopen each other's step: bounded, and only completed tasks reopen.
    flow.rule([step_is(one, "completed")], act("status", "reopen", two))
    flow.rule([step_is(two, "reopened")], act("status", "reopen", one))
    launched = flow.launch()
    first, second = tasks(org, launched)
    done = complete(org, launched, first)
    # The second task was open: nothing to reopen, so nothing else happens.
    assert done["tasks_changed_by_rules"] == {}
    assert statuses(org, launched) == ["completed", "active"]
    ok(org.api.delete(org.path(f"/runs/{launched['id']}/completed-tasks/{first['id']}")))
    complete(org, launched, second)
    looped = complete(org, launched, first)
    # First done -> reopens the second -> "second reopened" reopens the first; then settles.
    assert looped["tasks_changed_by_rules"][second["id"]]["status"] == "in-progress"
    assert statuses(org, launched) == ["in-progress", "in-progress"]


def test_show_chain_follows_its_first_step(org: Org) -> None:
    flow = Flow(org, "task", "task", "task")
    _, middle, last = flow.steps
    capture = ok(
        org.api.post(
            org.path(f"/checklists/{flow.id}/steps/{middle}/captures"),
            json={"label": "Ready?", "field_type": "text"},
        ),
        201,
    )["id"]
    flow.rule([field_is(flow.plan, "equals", "go")], act("visibility", "show", middle))
    flow.rule(
        [{"conditionable_id": capture, "operation": "equals", "statement": "yes"}],
        act("visibility", "show", last),
    )
    launched = flow.launch("go")
    assert statuses(org, launched) == ["active", "active", "auto-skipped"]
    second = tasks(org, launched)[1]
    ok(
        org.api.put(
            org.path(f"/runs/{launched['id']}/tasks/{second['id']}"),
            json={"taskdata": {capture: "yes"}},
        )
    )
    assert statuses(org, launched) == ["active", "active", "active"]
    # The first link hides again: the step it showed, and what that step's rule showed.
    ok(org.api.put(org.path(f"/runs/{launched['id']}"), json={"prerun": {flow.plan: "stop"}}))
    assert statuses(org, launched) == ["active", "auto-skipped", "auto-skipped"]
    ok(org.api.put(org.path(f"/runs/{launched['id']}"), json={"prerun": {flow.plan: "go"}}))
    assert statuses(org, launched) == ["active", "active", "active"]


def test_completion_shows_the_next_step(org: Org) -> None:
    flow = Flow(org, "task", "task")
    one, two = flow.steps
    flow.rule([step_is(one, "completed")], act("visibility", "show", two))
    launched = flow.launch()
    first, second = tasks(org, launched)
    assert statuses(org, launched) == ["active", "auto-skipped"]
    done = complete(org, launched, first)
    assert done["tasks_changed_by_rules"] == {second["id"]: {"status": "active"}}
    assert run_status(org, launched) == "active"
    reopened = ok(org.api.delete(org.path(f"/runs/{launched['id']}/completed-tasks/{first['id']}")))
    assert reopened["tasks_changed_by_rules"] == {second["id"]: {"status": "auto-skipped"}}


def test_per_condition_logic_is_kept_and_and_binds_tighter(org: Org) -> None:
    flow = Flow(org, "task", "task")
    one, two = flow.steps
    # plan = a AND step one completed, OR plan = b
    rule = flow.rule(
        [
            field_is(flow.plan, "equals", "a"),
            step_is(one, "completed", logic="and"),
            field_is(flow.plan, "equals", "b", logic="or"),
        ],
        act("visibility", "hide", two),
    )
    assert [c["logic"] for c in rule["conditions"]] == ["and", "and", "or"]
    template = ok(org.api.get(org.path(f"/checklists/{flow.id}")))
    assert [c["logic"] for c in template["automated_actions"][0]["conditions"]] == [
        "and",
        "and",
        "or",
    ]
    assert statuses(org, flow.launch("b")) == ["active", "auto-skipped"]
    waiting = flow.launch("a")
    assert statuses(org, waiting) == ["active", "active"]
    complete(org, waiting, tasks(org, waiting)[0])
    assert statuses(org, waiting) == ["completed", "auto-skipped"]
    assert statuses(org, flow.launch("c")) == ["active", "active"]


def test_rule_wide_or_and_per_condition_or_agree(org: Org) -> None:
    flow = Flow(org, "task", "task")
    _, two = flow.steps
    created = ok(
        org.api.post(
            org.path(f"/checklists/{flow.id}/automated-actions"),
            json={
                "condition_logic": "OR",
                "conditions": [
                    field_is(flow.plan, "equals", "x"),
                    field_is(flow.plan, "equals", "y"),
                ],
                "then_actions": [act("visibility", "hide", two)],
            },
        ),
        201,
    )
    assert created["condition_logic"] == "OR"
    assert [c["logic"] for c in created["conditions"]] == ["or", "or"]
    assert statuses(org, flow.launch("y")) == ["active", "auto-skipped"]
    # A new rule-wide logic, conditions not sent: it becomes every condition's.
    path = org.path(f"/checklists/{flow.id}/automated-actions/{created['id']}")
    updated = ok(org.api.put(path, json={"condition_logic": "AND"}))
    assert [c["logic"] for c in updated["conditions"]] == ["and", "and"]
    assert statuses(org, flow.launch("y")) == ["active", "active"]


def test_equals_any_takes_a_list_or_commas(org: Org) -> None:
    flow = Flow(org, "task", "task", "task")
    _, two, three = flow.steps
    flow.rule(
        [field_is(flow.plan, "equals_any", ["Gold", "Platinum"])], act("visibility", "hide", two)
    )
    flow.rule([field_is(flow.plan, "is_any_of", "gold, silver")], act("visibility", "hide", three))
    assert statuses(org, flow.launch("platinum")) == ["active", "auto-skipped", "active"]
    assert statuses(org, flow.launch("GOLD")) == ["active", "auto-skipped", "auto-skipped"]
    assert statuses(org, flow.launch("bronze")) == ["active", "active", "active"]


def test_assign_adds_assign_only_replaces_unassign_and_clear_remove(org: Org) -> None:
    member, _ = org.member("standard")
    other, _ = org.member("standard")
    flow = Flow(org, "task", "task", "task", "task")
    one, two, three, four = flow.steps
    people = {"assignees": {"users": [member]}}
    go = [field_is(flow.plan, "equals", "go")]
    flow.rule(go, act("assignment", "assign", one, **people))
    flow.rule(go, act("assignment", "assign_only", two, **people))
    flow.rule(go, act("assignment", "unassign", three, users=[org.admin_id]))
    flow.rule(go, act("assignment", "clear", four))
    launched = flow.launch("go")
    owners = [t["owners"]["users"] for t in tasks(org, launched)]
    assert owners == [[org.admin_id, member], [member], [], []]
    # A later rule stacks on an earlier one, in template order.
    flow.rule(go, act("assignment", "assign", four, users=[other]))
    assert [t["owners"]["users"] for t in tasks(org, flow.launch("go"))][3] == [other]
    # The rules stop firing: the assignees they replaced come back.
    ok(org.api.put(org.path(f"/runs/{launched['id']}"), json={"prerun": {flow.plan: "no"}}))
    assert [t["owners"]["users"] for t in tasks(org, launched)] == [[org.admin_id]] * 4


def test_not_assigned_condition_picks_up_unassigned_tasks(org: Org) -> None:
    member, _ = org.member("standard")
    flow = Flow(org, "task", "task", assign_run_starter=False)
    one, two = flow.steps
    flow.rule([step_is(one, "not_assigned")], act("assignment", "assign", one, users=[member]))
    launched = flow.launch()
    # The rule's own assignee does not make the task "assigned" for it: it stays.
    assert [t["owners"]["users"] for t in tasks(org, launched)] == [[member], []]
    ok(org.api.put(org.path(f"/runs/{launched['id']}"), json={"prerun": {flow.plan: "x"}}))
    assert [t["owners"]["users"] for t in tasks(org, launched)] == [[member], []]
    del two


def test_deadline_action_on_completion_is_reported(org: Org) -> None:
    round_the_clock(org)
    flow = Flow(org, "task", "task")
    one, two = flow.steps
    flow.rule(
        [step_is(one, "completed")],
        act("deadline", "set", two, deadline={"value": 2, "unit": "hours"}),
    )
    launched = flow.launch()
    first, second = tasks(org, launched)
    done = complete(org, launched, first)
    deadline = done["tasks_changed_by_rules"][second["id"]]["deadline"]
    started = datetime.fromisoformat(launched["started_at"].replace("Z", "+00:00"))
    assert datetime.fromisoformat(deadline.replace("Z", "+00:00")) - started == timedelta(hours=2)
    assert tasks(org, launched)[1]["deadline"] == deadline


def test_an_acknowledged_expiring_step_shows_the_next(org: Org) -> None:
    flow = Flow(org, "expiring", "task")
    notice, follow_up = flow.steps
    flow.rule([step_is(notice, "acknowledged")], act("visibility", "show", follow_up))
    flow.rule([step_is(notice, "expired")], act("visibility", "hide", follow_up))
    launched = flow.launch()
    first, second = tasks(org, launched)
    done = complete(org, launched, first)
    assert done["tasks_changed_by_rules"] == {second["id"]: {"status": "active"}}


def test_reassigning_a_task_re_evaluates_not_assigned(org: Org) -> None:
    member, _ = org.member("standard")
    flow = Flow(org, "task", "task")
    one, two = flow.steps
    flow.rule([step_is(one, "not_assigned")], act("visibility", "show", two))
    launched = flow.launch()
    first = tasks(org, launched)[0]
    assert statuses(org, launched) == ["active", "auto-skipped"]
    ok(
        org.api.put(
            org.path(f"/runs/{launched['id']}/tasks/{first['id']}"),
            json={"owners": {"users": [], "guests": [], "groups": []}},
        )
    )
    assert statuses(org, launched) == ["active", "active"]
    ok(
        org.api.put(
            org.path(f"/runs/{launched['id']}/tasks/{first['id']}"),
            json={"owners": {"users": [member]}},
        )
    )
    assert statuses(org, launched) == ["active", "auto-skipped"]


def test_complete_prerun_reports_rules_evaluated_and_changes(org: Org) -> None:
    flow = Flow(org, "task", "task")
    one, two = flow.steps
    flow.rule([field_is(flow.plan, "equals", "x")], act("visibility", "hide", two))
    flow.rule([step_is(one, "completed")], act("visibility", "hide", one))
    launched = flow.launch()
    path = org.path(f"/runs/{launched['id']}/complete-prerun")
    done = ok(org.api.post(path))
    assert done["rules_evaluated"] == 2
    assert done["tasks_changed_by_rules"] == {}
    ok(org.api.put(org.path(f"/runs/{launched['id']}"), json={"prerun": {flow.plan: "x"}}))
    reopened = ok(org.api.delete(path))
    assert (reopened["rules_evaluated"], reopened["tasks_changed_by_rules"]) == (2, {})
    # Other run answers do not carry them.
    assert "rules_evaluated" not in ok(org.api.get(org.path(f"/runs/{launched['id']}")))


def test_step_conditions_refused_where_they_do_not_fit(org: Org) -> None:
    flow = Flow(org, "task", "approval", "expiring")
    plain, approval, expiring = flow.steps
    path = org.path(f"/checklists/{flow.id}/automated-actions")
    hide = act("visibility", "hide", plain)

    def refused(condition: dict[str, Any], action: dict[str, Any] = hide) -> dict[str, Any]:
        answer = org.api.post(path, json={"conditions": [condition], "then_actions": [action]})
        assert answer.status_code == 422, answer.text
        errors: dict[str, Any] = answer.json()["errors"]
        return errors

    assert "conditions.0.operation" in refused(step_is(plain, "approved"))
    assert "conditions.0.operation" in refused(step_is(approval, "expired"))
    assert "conditions.0.operation" in refused(step_is(plain, "equals"))
    assert "conditions.0.operation" in refused(field_is(flow.plan, "completed"))
    assert "conditions.0.conditionable_type" in refused(step_is(flow.plan, "completed"))
    assert "conditions.0.conditionable_id" in refused(step_is("f" * 32, "completed"))
    assert "then_actions.0" in refused(step_is(plain, "completed"), act("status", "close", plain))
    assert "then_actions.0" in refused(
        step_is(plain, "completed"), {"action_type": "status", "action_verb": "reopen"}
    )
    assert "then_actions.0" in refused(
        step_is(plain, "completed"), {"action_type": "webhook", "webhook_url": "ftp://x"}
    )
    assert "then_actions.0" in refused(
        step_is(plain, "completed"), act("assignment", "unassign", plain)
    )
    # What fits is stored with its canonical words.
    made = flow.rule(
        [
            step_is(approval, "is_rejected"),
            step_is(expiring, "acknowledged", logic="OR"),
            {"conditionable_id": plain, "operation": "completed", "logic": "ANY"},
        ],
        act("status", "re-open", plain),
        act("assignment", "clear", plain),
        {"action_type": "webhook", "url": "https://example.com/hook"},
    )
    assert [(c["conditionable_type"], c["operation"], c["logic"]) for c in made["conditions"]] == [
        ("Step", "rejected", "and"),
        ("Step", "acknowledged", "or"),
        ("Step", "completed", "or"),
    ]
    assert [(a["action_type"], a["action_verb"]) for a in made["then_actions"]] == [
        ("status", "reopen"),
        ("assignment", "clear"),
        ("webhook", "send"),
    ]
    assert made["then_actions"][2]["webhook_url"] == "https://example.com/hook"
    assert made["then_actions"][2]["target_step_id"] is None
