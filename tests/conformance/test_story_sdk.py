"""One team's day with the SDK alone, in the order people do it: invite a colleague, add a guest,
make a group, tag a template, launch and tag a process, talk on a task, raise and resolve an
issue, file the template, search, finish the work. The per-domain files test each manager on its
own; this one checks that the domains fit together."""

from __future__ import annotations

import uuid

from tallyfy import TallyfySDK
from tallyfy.models import RunsList

from tests.conftest import Org


def test_a_team_day(sdk: TallyfySDK, org: Org) -> None:
    suffix = uuid.uuid4().hex[:6]
    colleague = sdk.users.invite_user_to_organization(
        org.id, f"lin-{suffix}@example.com", "Lin", "Chen", role="standard"
    )
    assert colleague is not None and colleague.status == "invited"
    guest = sdk.users.create_guest(org.id, f"client-{suffix}@example.com", "Cleo", "Client")
    group = sdk.groups.create_group(
        org.id, "Delivery", description="Delivery team", members=[org.admin_id, colleague.id]
    )
    assert sorted(group.members) == sorted([org.admin_id, colleague.id])

    template = sdk.templates.create_template(org.id, "Client delivery")
    assert template is not None
    for title in ("Plan", "Deliver"):
        sdk.templates.add_step_to_template(
            org.id, template.id, {"title": title, "groups": [group.id], "guests": [guest.email]}
        )
    tag = sdk.tags.create_tag(org.id, "Client work", color="#336699")
    assert sdk.tags.tag_template(org.id, template.id, tag.id)
    folder = sdk.folders.create_folder(org.id, "Delivery templates")
    assert sdk.folders.add_object_to_folder(org.id, folder.id, template.id, "checklist")

    process = sdk.tasks.launch_process(org.id, template.id, "Acme delivery")
    assert sdk.tags.tag_process(org.id, process.id, tag.id)
    tasks = sdk.tasks.get_tasks_for_process(org.id, process_id=process.id).data
    assert [t.title for t in tasks] == ["Plan", "Deliver"]
    assert tasks[0].owners is not None and tasks[0].owners.groups == [group.id]
    assert tasks[0].owners.guests == [guest.email]
    plan = tasks[0]
    sdk.threads.add_task_comment(org.id, plan.id, "Kick-off on Monday", state="open")
    issue = sdk.threads.report_task_issue(org.id, plan.id, "Budget not approved")
    assert sdk.tasks.get_process(org.id, process.id).status == "problem"
    assert sdk.threads.resolve_task_issues(org.id, plan.id, issue.id, content="Approved")
    assert len(sdk.threads.get_task_comments(org.id, process.id, plan.id)) == 3
    guest_tasks = sdk.users.get_guest_tasks(org.id, guest.guest_id or "")
    assert {t.id for t in guest_tasks.data} == {t.id for t in tasks}

    assert sdk.searches.search_processes_by_name(org.id, "Acme delivery") == process.id
    assert sdk.templates.search_templates_by_name(org.id, "client delivery") == template.id
    for task in tasks:
        assert sdk.tasks.complete_task(org.id, process.id, task.id).status == "completed"
    done = sdk.tasks.get_process(org.id, process.id, with_="tags")
    assert done.status == "complete"
    assert done.tags is not None
    by_tag = sdk.tasks.get_organization_runs(org.id, tag=tag.id, status="complete")
    assert [r.id for r in by_tag.data] == [process.id]


def test_facade_wrappers_that_differ_from_the_managers(sdk: TallyfySDK, org: Org) -> None:
    """TallyfySDK.get_organization_runs (per_page 25), get_tasks_for_process
    (without_pagination), search (search_type alias)."""
    template = sdk.templates.create_template(org.id, "Facade")
    assert template is not None
    sdk.templates.add_step_to_template(org.id, template.id, {"title": "Only step"})
    process = sdk.tasks.launch_process(org.id, template.id, "Facade run")
    runs = sdk.get_organization_runs(org.id)
    assert isinstance(runs, RunsList) and [r.id for r in runs.data] == [process.id]
    assert runs.meta is not None and runs.meta.per_page == 25
    tasks = sdk.get_tasks_for_process(org.id, process_id=process.id)
    assert [t.title for t in tasks.data] == ["Only step"]
    assert [r.id for r in sdk.search(org.id, "facade", search_type="blueprint").data] == [
        template.id
    ]
