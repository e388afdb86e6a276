"""The official SDK's automation rules: per-condition logic, step conditions and a status
action round-trip through its models, and an approval loop runs through its task calls."""

from __future__ import annotations

from tallyfy import TallyfySDK
from tallyfy.models import Template

from tests.conftest import Org


def test_an_approval_loop_built_and_run_through_the_sdk(sdk: TallyfySDK, org: Org) -> None:
    template = sdk.templates.create_template(org.id, "Purchase request")
    assert isinstance(template, Template)
    for title, kind in (("Draft", "task"), ("Manager review", "approval"), ("Pay", "task")):
        sdk.templates.add_step_to_template(org.id, template.id, {"title": title, "step_type": kind})
    draft, review, pay = (s.id for s in sdk.templates.get_template_steps(org.id, template.id))

    def on(step: str, operation: str, logic: str = "and") -> dict[str, str]:
        return {
            "conditionable_type": "Step",
            "conditionable_id": step,
            "operation": operation,
            "statement": "",
            "logic": logic,
        }

    sdk.templates.create_automation_rule(
        org.id,
        template.id,
        {
            "automated_alias": "Rejected: back to the draft",
            "conditions": [on(review, "rejected")],
            "then_actions": [
                {"action_type": "status", "action_verb": "reopen", "target_step_id": draft}
            ],
        },
    )
    sdk.templates.create_automation_rule(
        org.id,
        template.id,
        {
            "automated_alias": "Draft reopened: review again",
            "conditions": [on(draft, "reopened")],
            "then_actions": [
                {"action_type": "status", "action_verb": "reopen", "target_step_id": review}
            ],
        },
    )
    sdk.templates.create_automation_rule(
        org.id,
        template.id,
        {
            "automated_alias": "Approved or paid already: show payment",
            "conditions": [on(review, "approved"), on(pay, "completed", logic="or")],
            "then_actions": [
                {"action_type": "visibility", "action_verb": "show", "target_step_id": pay}
            ],
        },
    )
    fetched = sdk.templates.get_template(org.id, template.id)
    assert fetched is not None
    rules = {r.automated_alias: r for r in fetched.automated_actions}
    shown = rules["Approved or paid already: show payment"]
    assert [(c.conditionable_type, c.operation, c.logic) for c in shown.conditions] == [
        ("Step", "approved", "and"),
        ("Step", "completed", "or"),
    ]
    loop = rules["Rejected: back to the draft"].then_actions[0]
    assert (loop.action_type, loop.action_verb, loop.target_step_id) == ("status", "reopen", draft)

    run = sdk.tasks.launch_process(org.id, template.id, "Laptop")
    first, second, third = sdk.tasks.get_tasks_for_process(org.id, process_id=run.id).data
    assert third.status == "auto-skipped"
    sdk.tasks.complete_task(org.id, run.id, first.id)
    rejected = sdk.tasks.complete_task(org.id, run.id, second.id, is_approved=False)
    assert rejected.id == second.id
    statuses = [t.status for t in sdk.tasks.get_tasks_for_process(org.id, process_id=run.id).data]
    assert statuses == ["in-progress", "in-progress", "auto-skipped"]
    sdk.tasks.complete_task(org.id, run.id, first.id)
    sdk.tasks.complete_task(org.id, run.id, second.id, is_approved=True)
    statuses = [t.status for t in sdk.tasks.get_tasks_for_process(org.id, process_id=run.id).data]
    assert statuses == ["completed", "completed", "active"]
    assert sdk.tasks.complete_kickoff_form(org.id, run.id)
