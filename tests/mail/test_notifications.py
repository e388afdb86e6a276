"""What email a change sends, to whom: assignments (one-off, new owners, one per person per
launch), comments and mentions, issues, reminders from the scheduler's events, a completed
process; preferences; and nothing for the person who did it or for a rolled-back change.
Asserted on what the real SMTP server receives."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.kit import events
from checkrun.mail.prefs import set_modes
from tests.conftest import LiveServer, Org
from tests.mail.support import (
    HOSTILE,
    assert_escaped,
    guest,
    mail_to,
    outbox,
    person,
)
from tests.support.factories import ok, one_off_task
from tests.support.outbox import in_session
from tests.support.smtp import SmtpServer
from tests.web.conftest import set_password, signed_in


def _task(
    org: Org, users: list[int], guests: list[str] | None = None, **fields: Any
) -> dict[str, Any]:
    title = fields.pop("title", f"Task {uuid.uuid4().hex[:6]}")
    return one_off_task(org, title=title, owners={"users": users, "guests": guests or []}, **fields)


def _rows(org: Org, kind: str, address: str, **where: str) -> list[dict[str, Any]]:
    extra = "".join(f" AND {k} = :{k}" for k in where)
    return outbox(
        org.server,
        f"org_id = :org AND kind = :kind AND to_email = :to{extra}",
        org=org.id,
        kind=kind,
        to=address.lower(),
        **where,
    )


def test_a_new_task_emails_members_and_guests_with_their_links(
    mail_org: Org, smtp: SmtpServer
) -> None:
    member_id, member_email, _ = person(mail_org)
    guest_email, guest_link = guest(mail_org)
    task = _task(mail_org, [member_id, mail_org.admin_id], [guest_email], title=HOSTILE)
    base = mail_org.server.base

    [mail] = mail_to(smtp, member_email, "New task")
    assert mail.subject == f"New task: {HOSTILE}" and member_email in mail.to
    link = f"{base}/app/tasks/{task['id']}"
    assert link in mail.text and f'href="{link}"' in mail.html
    assert HOSTILE in mail.text and "assigned you a task" in mail.text
    assert_escaped(mail.html)
    assert f"{base}/app/email-preferences/" in mail.text
    assert f"{base}/app/email-preferences/" in mail.html
    set_password(mail_org.server, member_email)
    page = signed_in(mail_org.server, member_email).get(link)
    assert page.status_code == 200 and "&lt;script&gt;" in page.text

    [to_guest] = mail_to(smtp, guest_email, "New task")
    guest_task = f"{guest_link}/tasks/{task['id']}"
    assert guest_task in to_guest.text and f"{base}/app/tasks/" not in to_guest.text
    opened = httpx.get(guest_task, timeout=30)
    assert opened.status_code == 200 and "&lt;script&gt;" in opened.text
    # The creator assigned themselves too: nobody is emailed about what they did.
    assert _rows(mail_org, "task_assigned", mail_org.admin_email) == []


def test_changing_owners_emails_only_the_people_added(mail_org: Org, smtp: SmtpServer) -> None:
    first_id, first_email, _ = person(mail_org)
    added_id, added_email, _ = person(mail_org)
    task = _task(mail_org, [first_id])
    mail_to(smtp, first_email, task["title"])
    ok(
        mail_org.api.put(
            mail_org.path(f"/tasks/{task['id']}"),
            json={
                "title": task["title"],
                "deadline": task["deadline"],
                "owners": {"users": [first_id, added_id]},
            },
        )
    )
    [mail] = mail_to(smtp, added_email, task["title"])
    assert f"/app/tasks/{task['id']}" in mail.text
    assert len(_rows(mail_org, "task_assigned", first_email, task_id=task["id"])) == 1


def test_a_group_assignment_reaches_its_members(mail_org: Org, smtp: SmtpServer) -> None:
    member_id, member_email, _ = person(mail_org)
    made = ok(
        mail_org.api.post(
            mail_org.path("/groups"),
            json={
                "name": f"Team {uuid.uuid4().hex[:6]}",
                "description": "A team",
                "members": [member_id, mail_org.admin_id],
            },
        ),
        201,
    )
    task = one_off_task(
        mail_org,
        title=f"Group task {uuid.uuid4().hex[:6]}",
        owners={"users": [], "groups": [made["id"]]},
    )
    [mail] = mail_to(smtp, member_email, task["title"])
    assert f"/app/tasks/{task['id']}" in mail.text
    assert _rows(mail_org, "task_assigned", mail_org.admin_email, task_id=task["id"]) == []


def test_a_launch_sends_each_person_one_email_listing_their_tasks(
    mail_org: Org, smtp: SmtpServer
) -> None:
    member_id, member_email, _ = person(mail_org)
    template = ok(
        mail_org.api.post(
            mail_org.path("/checklists"), json={"title": "Onboarding", "type": "procedure"}
        ),
        201,
    )
    for title, assignees in (
        ("Sign the contract", [member_id]),
        ("Order a laptop", [mail_org.admin_id]),
        ("Meet the team", [member_id]),
    ):
        ok(
            mail_org.api.post(
                mail_org.path(f"/checklists/{template['id']}/steps"),
                json={"title": title, "assignees": assignees},
            ),
            201,
        )
    name = f"Onboarding {uuid.uuid4().hex[:6]}"
    run = ok(
        mail_org.api.post(
            mail_org.path("/runs"), json={"checklist_id": template["id"], "name": name}
        ),
        201,
    )
    tasks = ok(mail_org.api.get(mail_org.path(f"/runs/{run['id']}/tasks")))
    mine = [t for t in tasks if t["title"] in ("Sign the contract", "Meet the team")]

    [mail] = mail_to(smtp, member_email, name)
    assert mail.subject == f"2 new tasks in {name}"
    for task in mine:
        assert f"/app/tasks/{task['id']}" in mail.text
    assert "Sign the contract" in mail.text and "Order a laptop" not in mail.text
    assert f"The process: {mail_org.server.base}/app/processes/{run['id']}" in mail.text
    assert len(_rows(mail_org, "task_assigned", member_email, run_id=run["id"])) == 1
    assert _rows(mail_org, "task_assigned", mail_org.admin_email, run_id=run["id"]) == []


def test_comments_reach_the_assignees_and_the_people_mentioned(
    mail_org: Org, smtp: SmtpServer
) -> None:
    assignee_id, assignee_email, _ = person(mail_org, first_name="Ann")
    author_id, author_email, author = person(mail_org, first_name="Bob")
    mentioned_id, mentioned_email, _ = person(mail_org, first_name="Cora")
    task = _task(mail_org, [assignee_id, author_id], title=HOSTILE)
    # Comments are HTML: shown as their text, scripts dropped, the rest escaped.
    content = (
        f"Could you check this, @[{mentioned_id}]? <script>steal()</script><b>Thanks</b> & bye"
    )
    ok(
        author.post(
            mail_org.path(f"/tasks/{task['id']}/comment"),
            json={"content": content, "sent_to": [mentioned_id]},
        ),
        201,
    )

    [to_assignee] = mail_to(smtp, assignee_email, "commented on")
    assert to_assignee.subject == f"Bob Member commented on {task['title']}"
    assert "Could you check this, @Cora Member? Thanks & bye" in to_assignee.text
    assert "steal" not in to_assignee.text + to_assignee.html
    assert f"/app/tasks/{task['id']}" in to_assignee.text
    assert_escaped(to_assignee.html)
    [to_mentioned] = mail_to(smtp, mentioned_email, "mentioned you")
    assert to_mentioned.subject == f"Bob Member mentioned you on {task['title']}"
    assert _rows(mail_org, "comment", author_email) == []


def test_issues_reach_the_assignees_when_reported_and_resolved(
    mail_org: Org, smtp: SmtpServer
) -> None:
    assignee_id, assignee_email, _ = person(mail_org)
    reporter_id, reporter_email, reporter = person(mail_org)
    task = _task(mail_org, [assignee_id, reporter_id])
    issue = ok(
        reporter.post(
            mail_org.path(f"/tasks/{task['id']}/problem"),
            json={"content": "The contract is missing"},
        ),
        201,
    )
    [reported] = mail_to(smtp, assignee_email, "Issue reported")
    assert reported.subject == f"Issue reported on {task['title']}"
    assert "The contract is missing" in reported.text
    assert f"/app/tasks/{task['id']}" in reported.text
    ok(
        mail_org.api.post(
            mail_org.path(f"/tasks/{task['id']}/resolved-threads"),
            json={"thread_id": issue["id"], "content": "Found it"},
        )
    )
    for address in (assignee_email, reporter_email):
        [resolved] = mail_to(smtp, address, "Issue resolved")
        assert "Found it" in resolved.text
    assert len(_rows(mail_org, "issue", reporter_email)) == 1


def test_an_issue_on_a_process_task_reaches_the_process_starter(
    mail_org: Org, smtp: SmtpServer
) -> None:
    member_id, _, member = person(mail_org)
    template = ok(
        mail_org.api.post(
            mail_org.path("/checklists"), json={"title": "Audit", "type": "procedure"}
        ),
        201,
    )
    ok(
        mail_org.api.post(
            mail_org.path(f"/checklists/{template['id']}/steps"),
            json={"title": "Check the books", "assignees": [member_id]},
        ),
        201,
    )
    run = ok(mail_org.api.post(mail_org.path("/runs"), json={"checklist_id": template["id"]}), 201)
    [task] = ok(mail_org.api.get(mail_org.path(f"/runs/{run['id']}/tasks")))
    ok(
        member.post(
            mail_org.path(f"/tasks/{task['id']}/problem"), json={"content": "Pages are missing"}
        ),
        201,
    )
    [mail] = mail_to(smtp, mail_org.admin_email, "Issue reported on Check the books")
    assert "Pages are missing" in mail.text


def _emit(
    server: LiveServer, org: Org, task: dict[str, Any], verb: str, commit: bool = True
) -> None:
    async def work(db: AsyncSession) -> None:
        await events.emit(
            db,
            events.Event(
                org_id=org.id,
                type="Task",
                verb=verb,
                entity_type="task",
                entity_id=task["id"],
                task_id=task["id"],
                run_id=task.get("run_id"),
                checklist_id=None,
                actor_id=None,
                source="System",
                extra={"deadline": task["deadline"]},
            ),
        )

    in_session(server, work, commit=commit)


def test_reminders_reach_each_assignee_once_per_deadline(mail_org: Org, smtp: SmtpServer) -> None:
    member_id, member_email, _ = person(mail_org)
    guest_email, guest_link = guest(mail_org)
    task = _task(mail_org, [member_id], [guest_email], title=HOSTILE)
    _emit(mail_org.server, mail_org, task, "due-soon")
    _emit(mail_org.server, mail_org, task, "due-soon")  # the same cause seen twice

    [soon] = mail_to(smtp, member_email, "Due soon")
    assert soon.subject == f"Due soon: {HOSTILE}" and "is due" in soon.text
    assert "2030" in soon.text and f"/app/tasks/{task['id']}" in soon.text
    assert_escaped(soon.html)
    [to_guest] = mail_to(smtp, guest_email, "Due soon")
    assert f"{guest_link}/tasks/{task['id']}" in to_guest.text
    assert len(_rows(mail_org, "due_soon", member_email, task_id=task["id"])) == 1

    _emit(mail_org.server, mail_org, task, "overdue")
    [late] = mail_to(smtp, member_email, "Overdue")
    assert late.subject == f"Overdue: {HOSTILE}" and "overdue" in late.text


def test_a_rolled_back_change_sends_nothing(mail_org: Org, smtp: SmtpServer) -> None:
    member_id, member_email, _ = person(mail_org)
    task = _task(mail_org, [member_id])
    _emit(mail_org.server, mail_org, task, "overdue", commit=False)
    assert _rows(mail_org, "overdue", member_email) == []
    _emit(mail_org.server, mail_org, task, "due-soon")
    mail_to(smtp, member_email, "Due soon")
    assert not [m for m in smtp.to(member_email) if "Overdue" in m.subject]


def _one_step_run(org: Org, assignee: int) -> tuple[dict[str, Any], dict[str, Any]]:
    template = ok(
        org.api.post(org.path("/checklists"), json={"title": "Payroll", "type": "procedure"}), 201
    )
    ok(
        org.api.post(
            org.path(f"/checklists/{template['id']}/steps"),
            json={"title": "Pay", "assignees": [assignee]},
        ),
        201,
    )
    run = ok(
        org.api.post(
            org.path("/runs"),
            json={"checklist_id": template["id"], "name": f"Payroll {uuid.uuid4().hex[:6]}"},
        ),
        201,
    )
    [task] = ok(org.api.get(org.path(f"/runs/{run['id']}/tasks")))
    return run, task


def test_a_completed_process_emails_its_starter_unless_they_completed_it(
    mail_org: Org, smtp: SmtpServer
) -> None:
    member_id, _, member = person(mail_org)
    run, task = _one_step_run(mail_org, member_id)
    ok(
        member.post(
            mail_org.path(f"/runs/{run['id']}/completed-tasks"), json={"task_id": task["id"]}
        )
    )
    [mail] = mail_to(smtp, mail_org.admin_email, f"Process completed: {run['name']}")
    assert f"{mail_org.server.base}/app/processes/{run['id']}" in mail.text
    assert "that you launched is complete" in mail.text

    own, own_task = _one_step_run(mail_org, mail_org.admin_id)
    ok(
        mail_org.api.post(
            mail_org.path(f"/runs/{own['id']}/completed-tasks"), json={"task_id": own_task["id"]}
        )
    )
    assert ok(mail_org.api.get(mail_org.path(f"/runs/{own['id']}")))["status"] == "complete"
    assert _rows(mail_org, "process_completed", mail_org.admin_email, run_id=own["id"]) == []


def test_preferences_turn_email_off_or_hold_it_for_the_digest(
    mail_org: Org, smtp: SmtpServer
) -> None:
    off_id, off_email, _ = person(mail_org)
    held_id, held_email, _ = person(mail_org)
    usual_id, usual_email, _ = person(mail_org)

    async def choose(db: AsyncSession) -> None:
        await set_modes(db, mail_org.id, off_email, {"task_assigned": "off"})
        await set_modes(db, mail_org.id, held_email, {"task_assigned": "digest"})

    in_session(mail_org.server, choose)
    task = _task(mail_org, [off_id, held_id, usual_id])
    mail_to(smtp, usual_email, task["title"])
    assert _rows(mail_org, "task_assigned", off_email) == []
    [held] = _rows(mail_org, "task_assigned", held_email)
    assert held["status"] == "held" and task["title"] in held["subject"]
    assert smtp.to(off_email) == [] and smtp.to(held_email) == []
