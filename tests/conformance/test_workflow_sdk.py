"""Every method of the SDK's template, task/process and form-field managers, in the order a team
uses them, against a live server. Each test names the methods it drives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from tallyfy import TallyfySDK
from tallyfy.models import Capture, Run, RunsList, Step, Task, TasksList, Template, TemplatesList

from tests.conftest import Org
from tests.support.factories import ok


@dataclass
class Flow:
    sdk: TallyfySDK
    org: Org
    template: Template
    steps: list[Step]


@pytest.fixture
def flow(sdk: TallyfySDK, org: Org) -> Flow:
    template = sdk.templates.create_template(org.id, "Client onboarding", summary="New clients")
    assert isinstance(template, Template) and len(template.id) == 32
    for title in ("Collect details", "Approve contract", "Kick-off call"):
        created = sdk.templates.add_step_to_template(org.id, template.id, {"title": title})
        assert created["title"] == title
    steps = sdk.templates.get_template_steps(org.id, template.id)
    return Flow(sdk, org, template, steps)


def test_templates_read_update_and_list(flow: Flow) -> None:
    """create_template, add_step_to_template, get_template_steps, get_template,
    get_template_with_steps, update_template_metadata, get_all_templates"""
    sdk, org, template = flow.sdk, flow.org, flow.template
    assert [s.title for s in flow.steps] == ["Collect details", "Approve contract", "Kick-off call"]
    assert all(isinstance(s, Step) for s in flow.steps)
    fetched = sdk.templates.get_template(org.id, template.id)
    assert isinstance(fetched, Template) and fetched.title == "Client onboarding"
    with_steps = sdk.templates.get_template_with_steps(org.id, template.id)
    assert with_steps is not None and with_steps["step_count"] == 3
    updated = sdk.templates.update_template_metadata(
        org.id, template.id, title="Client onboarding v2"
    )
    assert isinstance(updated, Template) and updated.title == "Client onboarding v2"
    listed = sdk.templates.get_all_templates(org.id)
    assert isinstance(listed, TemplatesList)
    assert [t.id for t in listed.data] == [template.id]


def test_steps_edit_clone_reorder_delete(flow: Flow) -> None:
    """edit_description_on_step, add_assignees_to_step, clone_step, reorder_step, delete_step"""
    sdk, org, tid = flow.sdk, flow.org, flow.template.id
    first = flow.steps[0]
    edited = sdk.templates.edit_description_on_step(org.id, tid, first.id, "Ask for the VAT id")
    assert edited["summary"] == "Ask for the VAT id"
    assigned = sdk.templates.add_assignees_to_step(org.id, tid, first.id, [org.admin_id])
    assert assigned["assignees"] == [org.admin_id]
    clone = sdk.templates.clone_step(org.id, tid, first.id)
    assert clone["id"] != first.id
    sdk.templates.reorder_step(org.id, tid, flow.steps[2].id, 1)
    titles = [s.title for s in sdk.templates.get_template_steps(org.id, tid)]
    assert titles[0] == "Kick-off call"
    assert sdk.templates.delete_step(org.id, tid, clone["id"]) is True
    assert len(sdk.templates.get_template_steps(org.id, tid)) == 3


def test_form_fields_on_a_step(flow: Flow) -> None:
    """add_form_field_to_step, get_step, update_form_field, get_dropdown_options,
    add_dropdown_option, remove_dropdown_option, reorder_dropdown_options,
    update_dropdown_options, reorder_form_fields, move_form_field, delete_form_field"""
    sdk, org, tid = flow.sdk, flow.org, flow.template.id
    step_id, other_step = flow.steps[0].id, flow.steps[1].id
    plan = sdk.form_fields.add_form_field_to_step(
        org.id,
        tid,
        step_id,
        {
            "field_type": "dropdown",
            "label": "Plan",
            "options": [{"id": 1, "text": "Basic"}, {"id": 2, "text": "Pro"}],
        },
    )
    assert isinstance(plan, Capture) and plan.label == "Plan"
    note = sdk.form_fields.add_form_field_to_step(
        org.id, tid, step_id, {"field_type": "text", "label": "Note"}
    )
    step = sdk.form_fields.get_step(org.id, tid, step_id)
    assert isinstance(step, Step) and {c.id for c in step.captures} == {plan.id, note.id}
    renamed = sdk.form_fields.update_form_field(
        org.id, tid, step_id, note.id, label="Remark", field_type="text", required=False
    )
    assert isinstance(renamed, Capture) and renamed.label == "Remark"
    assert sdk.form_fields.get_dropdown_options(org.id, tid, step_id, plan.id) == ["Basic", "Pro"]
    assert sdk.form_fields.add_dropdown_option(org.id, tid, step_id, plan.id, "Team")
    assert sdk.form_fields.remove_dropdown_option(org.id, tid, step_id, plan.id, "Basic")
    assert sdk.form_fields.reorder_dropdown_options(org.id, tid, step_id, plan.id, ["Team", "Pro"])
    assert sdk.form_fields.get_dropdown_options(org.id, tid, step_id, plan.id) == ["Team", "Pro"]
    assert sdk.form_fields.update_dropdown_options(
        org.id, tid, step_id, plan.id, ["Gold", "Silver"]
    )
    assert sdk.form_fields.reorder_form_fields(
        org.id, tid, step_id, [{"id": note.id, "position": 1}, {"id": plan.id, "position": 2}]
    )
    assert sdk.form_fields.move_form_field(org.id, tid, step_id, note.id, other_step)
    assert [c.id for c in sdk.form_fields.get_step(org.id, tid, other_step).captures] == [note.id]
    assert sdk.form_fields.delete_form_field(org.id, tid, other_step, note.id)
    assert sdk.form_fields.get_step(org.id, tid, other_step).captures == []


def test_kickoff_fields_and_automations(flow: Flow) -> None:
    """get_kickoff_form_fields, create_automation_rule, update_automation_rule,
    get_step_dependencies, get_step_visibility_conditions, delete_automation_rule"""
    sdk, org, tid = flow.sdk, flow.org, flow.template.id
    updated = sdk.templates.update_template_metadata(
        org.id,
        tid,
        title="Onboarding",
        prerun=[
            {
                "label": "Needs contract",
                "field_type": "radio",
                "required": True,
                "options": [{"id": 1, "text": "yes"}, {"id": 2, "text": "no"}],
            }
        ],
    )
    assert updated is not None
    (kickoff,) = sdk.templates.get_kickoff_form_fields(org.id, tid)
    assert kickoff["label"] == "Needs contract"
    contract_step = flow.steps[1].id
    rule = sdk.templates.create_automation_rule(
        org.id,
        tid,
        {
            "automated_alias": "Skip contract",
            "conditions": [
                {
                    "conditionable_type": "Prerun",
                    "conditionable_id": kickoff["id"],
                    "operation": "equals",
                    "statement": "no",
                }
            ],
            "then_actions": [
                {
                    "action_type": "visibility",
                    "action_verb": "hide",
                    "target_step_id": contract_step,
                }
            ],
        },
    )
    assert rule["id"]
    changed = sdk.templates.update_automation_rule(
        org.id, tid, rule["id"], {"automated_alias": "No contract needed"}
    )
    assert changed["automated_alias"] == "No contract needed"
    deps = sdk.templates.get_step_dependencies(org.id, tid, contract_step)
    assert deps is not None
    visibility = sdk.templates.get_step_visibility_conditions(org.id, tid, contract_step)
    assert visibility is not None
    deleted = sdk.templates.delete_automation_rule(org.id, tid, rule["id"])
    assert deleted is not None
    template = sdk.templates.get_template(org.id, tid)
    assert template is not None and template.automated_actions == []


def test_processes_and_their_tasks(flow: Flow) -> None:
    """launch_process, get_process, get_organization_runs, get_organization_processes,
    update_process, get_tasks_for_process, get_task, update_task, complete_task, reopen_task,
    complete_kickoff_form, reopen_kickoff_form, archive_process, reactivate_process,
    get_my_tasks, get_user_tasks"""
    sdk, org, tid = flow.sdk, flow.org, flow.template.id
    run = sdk.tasks.launch_process(org.id, tid, "Acme onboarding")
    assert isinstance(run, Run) and run.name == "Acme onboarding"
    assert sdk.tasks.get_process(org.id, run.id).id == run.id
    runs = sdk.tasks.get_organization_runs(org.id, status="active")
    assert isinstance(runs, RunsList) and [r.id for r in runs.data] == [run.id]
    assert [r.id for r in sdk.tasks.get_organization_processes(org.id).data] == [run.id]
    assert sdk.tasks.update_process(org.id, run.id, name="Acme Ltd").name == "Acme Ltd"
    tasks = sdk.tasks.get_tasks_for_process(org.id, process_id=run.id)
    assert isinstance(tasks, TasksList) and len(tasks.data) == 3
    first = tasks.data[0]
    assert sdk.tasks.get_task(org.id, run.id, first.id).title == "Collect details"
    assert (
        sdk.tasks.update_task(org.id, run.id, first.id, title="Collect all details").title
        == "Collect all details"
    )
    done = sdk.tasks.complete_task(org.id, run.id, first.id)
    assert isinstance(done, Task) and done.status == "completed"
    reopened = sdk.tasks.reopen_task(org.id, run.id, first.id)
    assert reopened.id == first.id and reopened.status == "in-progress"
    assert sdk.tasks.complete_kickoff_form(org.id, run.id)
    assert sdk.tasks.reopen_kickoff_form(org.id, run.id)
    mine = sdk.tasks.get_my_tasks(org.id)
    assert {t.id for t in mine.data} >= {t.id for t in tasks.data}
    assert len(sdk.tasks.get_user_tasks(org.id, org.admin_id).data) == 3
    assert sdk.tasks.archive_process(org.id, run.id)
    assert sdk.tasks.reactivate_process(org.id, run.id).status == "active"


def test_one_off_tasks(sdk: TallyfySDK, org: Org) -> None:
    """create_task, get_standalone_task, update_standalone_task, complete_standalone_task,
    reopen_standalone_task, delete_standalone_task"""
    task = sdk.tasks.create_task(
        org.id,
        "Call the bank",
        "2030-01-01T10:00:00Z",
        user_ids=[org.admin_id],
        task_type="approval",
    )
    assert isinstance(task, Task) and task.status == "not-started"
    assert sdk.tasks.get_standalone_task(org.id, task.id).title == "Call the bank"
    owners = {"users": [org.admin_id], "guests": [], "groups": []}
    changed = sdk.tasks.update_standalone_task(
        org.id, task.id, title="Call the bank today", deadline="2030-01-02T10:00:00Z", owners=owners
    )
    assert changed.title == "Call the bank today"
    done = sdk.tasks.complete_standalone_task(org.id, task.id, is_approved=True)
    assert done.status == "completed" and done.is_approved is True
    assert sdk.tasks.reopen_standalone_task(org.id, task.id).status == "in-progress"
    assert sdk.tasks.delete_standalone_task(org.id, task.id)
    assert ok(org.api.get(org.path(f"/tasks/{task.id}")))["archived_at"] is not None


def test_template_clone_archive_and_delete(flow: Flow) -> None:
    """duplicate_template, delete_template, delete_template_with_references"""
    sdk, org, tid = flow.sdk, flow.org, flow.template.id
    copy = sdk.templates.duplicate_template(org.id, tid, "Onboarding copy", tenant=org.id)
    assert isinstance(copy, Template) and copy.id != tid and copy.title == "Onboarding copy"
    assert len(sdk.templates.get_template_steps(org.id, copy.id)) == 3
    assert sdk.templates.delete_template(org.id, copy.id) is True
    result: dict[str, Any] = sdk.templates.delete_template_with_references(org.id, tid)
    assert result["deleted_references"] == []
    assert org.api.get(org.path(f"/checklists/{tid}")).status_code == 404
