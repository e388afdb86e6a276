"""Processes, launching and one-off tasks over plain HTTP (forms posted as a browser without
JavaScript does): kick-off errors at their field, roles, CSRF, other organizations' ids."""

from __future__ import annotations

from typing import Any

from tests.conftest import Org
from tests.support.factories import checklist, ok, run, tag
from tests.web.conftest import csrf_of, in_thread, member, set_password, signed_in


def kickoff_template(org: Org, title: str = "Hiring") -> dict[str, Any]:
    made = checklist(
        org,
        steps=2,
        title=title,
        prerun=[
            {"label": "Candidate email", "field_type": "email", "required": True},
            {"label": "Notes", "field_type": "textarea"},
        ],
    )
    return made


def admin_web(org: Org) -> Any:
    set_password(org.server, org.admin_email)
    return signed_in(org.server, org.admin_email)


def post(web: Any, path: str, data: dict[str, Any], page: str | None = None) -> Any:
    token = csrf_of(web.get(page or path).text)
    return web.post(path, data={"csrf_token": token, **data})


def test_launch_shows_kickoff_errors_at_the_field_then_launches(org: Org) -> None:
    template = kickoff_template(org)
    email_id = template["prerun"][0]["id"]
    web = admin_web(org)
    picker = web.get("/app/launch")
    assert f'href="/app/launch/{template["id"]}"' in picker.text
    form = web.get(f"/app/launch/{template['id']}")
    assert form.status_code == 200
    assert f'for="f_{email_id}">Candidate email' in form.text and ">Launch</button>" in form.text
    empty = post(web, f"/app/launch/{template['id']}", {"name": "Ann"})
    assert empty.status_code == 422
    assert f'id="err-{email_id}">Candidate email is required' in empty.text
    wrong = post(web, f"/app/launch/{template['id']}", {"name": "Ann", f"f_{email_id}": "nope"})
    assert wrong.status_code == 422 and "valid email" in wrong.text
    # What was typed stays in the form.
    assert 'value="nope"' in wrong.text and 'value="Ann"' in wrong.text
    assert ok(org.api.get(org.path("/runs"))) == []
    done = post(
        web,
        f"/app/launch/{template['id']}",
        {"name": "Hire Ann", f"f_{email_id}": "ann@example.com"},
    )
    assert done.status_code == 303
    (launched,) = ok(org.api.get(org.path("/runs")))
    assert done.headers["location"] == f"/app/processes/{launched['id']}?notice=launched"
    assert launched["name"] == "Hire Ann" and launched["prerun"] == {email_id: "ann@example.com"}
    page = web.get(done.headers["location"])
    assert "Process launched." in page.text and "ann@example.com" in page.text


def test_the_process_page_shows_tasks_assignees_progress_and_kickoff(org: Org) -> None:
    template = kickoff_template(org)
    email_id = template["prerun"][0]["id"]
    launched = run(org, template["id"], name="<b>Hire Bo</b>", prerun={email_id: "bo@example.com"})
    tasks = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))
    ok(
        org.api.post(
            org.path(f"/runs/{launched['id']}/completed-tasks"), json={"task_id": tasks[0]["id"]}
        )
    )
    user_id, _, _ = member(org, "standard")
    ok(
        org.api.put(
            org.path(f"/runs/{launched['id']}/tasks/{tasks[1]['id']}"),
            json={"owners": {"users": [user_id]}},
        )
    )
    web = admin_web(org)
    page = web.get(f"/app/processes/{launched['id']}")
    assert page.status_code == 200
    assert "&lt;b&gt;Hire Bo&lt;/b&gt;" in page.text and "<b>Hire Bo" not in page.text
    assert "1 of 2 tasks done" in page.text
    assert f'href="/app/tasks/{tasks[0]["id"]}">Step 1' in page.text
    assert "Completed" in page.text and "Standard Member" in page.text
    assert "Candidate email" in page.text and "bo@example.com" in page.text
    assert ">Archive</button>" in page.text


def test_archive_restore_and_delete_follow_the_roles(org: Org) -> None:
    launched = run(org, name="Quarter close")
    path = f"/app/processes/{launched['id']}"
    _, email, _ = member(org, "standard")
    standard = signed_in(org.server, email)
    assert (
        post(standard, path, {"action": "archive"}).headers["location"].endswith("?notice=archived")
    )
    archived = standard.get(path)
    assert ">Restore</button>" in archived.text and "Delete permanently" not in archived.text
    refused = post(standard, path, {"action": "delete"})
    assert refused.status_code == 403 and "administrators" in refused.text
    assert post(standard, path, {"action": "restore"}).status_code == 303
    assert ok(org.api.get(org.path(f"/runs/{launched['id']}")))["archived_at"] is None
    admin = admin_web(org)
    # The web deletes only what was archived first.
    early = post(admin, path, {"action": "delete"})
    assert early.status_code == 422 and "Archive the process" in early.text
    post(admin, path, {"action": "archive"})
    assert "Delete permanently" in admin.get(path).text
    gone = post(admin, path, {"action": "delete"})
    assert gone.status_code == 303 and gone.headers["location"].endswith("notice=deleted")
    assert org.api.get(org.path(f"/runs/{launched['id']}")).status_code == 404
    assert admin.get(path).status_code == 404


def test_a_light_member_sees_and_reaches_no_manager_action(org: Org) -> None:
    template = kickoff_template(org)
    launched = run(org, template["id"], prerun={template["prerun"][0]["id"]: "a@example.com"})
    _, email, _ = member(org, "light")
    light = signed_in(org.server, email)
    page = light.get(f"/app/processes/{launched['id']}")
    assert page.status_code == 200
    assert ">Archive</button>" not in page.text and "/app/new-task" not in page.text
    listing = light.get("/app/processes")
    assert listing.status_code == 200 and "/app/launch" not in listing.text
    assert light.get(f"/app/launch/{template['id']}").status_code == 403
    assert light.get("/app/new-task").status_code == 403
    token = csrf_of(page.text)
    forged = light.post(
        f"/app/processes/{launched['id']}", data={"csrf_token": token, "action": "archive"}
    )
    assert forged.status_code == 403
    assert (
        light.post(f"/app/launch/{template['id']}", data={"csrf_token": token}).status_code == 403
    )
    assert (
        light.post(
            "/app/new-task",
            data={
                "csrf_token": token,
                "title": "x",
                "users": str(org.admin_id),
                "deadline_date": "2030-01-01",
            },
        ).status_code
        == 403
    )
    assert ok(org.api.get(org.path(f"/runs/{launched['id']}")))["archived_at"] is None
    assert len(ok(org.api.get(org.path("/runs")))) == 1
    assert [t for t in ok(org.api.get(org.path("/tasks"))) if t["title"] == "x"] == []


def test_other_organizations_ids_answer_the_404_page(org: Org) -> None:
    other = in_thread(org.server.new_org)
    with org.server.client(other.token) as api:
        theirs = Org(org.server, other.org_id, other.user_id, other.email, other.token, api)
        template = checklist(theirs)
        launched = run(theirs, template["id"])
    web = admin_web(org)
    token = csrf_of(web.get("/app/processes").text)
    for path in (
        f"/app/processes/{launched['id']}",
        f"/app/launch/{template['id']}",
        "/app/processes/" + "x" * 300,
        "/app/launch/" + "x" * 300,
    ):
        answer = web.get(path)
        assert answer.status_code == 404 and "Page not found" in answer.text, path
    assert (
        web.post(
            f"/app/processes/{launched['id']}", data={"csrf_token": token, "action": "archive"}
        ).status_code
        == 404
    )
    assert web.post(f"/app/launch/{template['id']}", data={"csrf_token": token}).status_code == 404
    with org.server.client(other.token) as api:
        assert (
            ok(api.get(f"/organizations/{other.org_id}/runs/{launched['id']}"))["archived_at"]
            is None
        )


def test_forms_without_the_csrf_token_change_nothing(org: Org) -> None:
    template = checklist(org, steps=1)
    launched = run(org, template["id"])
    web = admin_web(org)
    assert web.post(f"/app/launch/{template['id']}", data={"name": "x"}).status_code == 403
    assert (
        web.post(f"/app/processes/{launched['id']}", data={"action": "archive"}).status_code == 403
    )
    assert (
        web.post(
            "/app/new-task",
            data={"title": "x", "users": str(org.admin_id), "deadline_date": "2030-01-01"},
        ).status_code
        == 403
    )
    assert len(ok(org.api.get(org.path("/runs")))) == 1
    assert ok(org.api.get(org.path(f"/runs/{launched['id']}")))["archived_at"] is None


def test_the_process_list_filters_by_status_template_and_tag_and_pages(org: Org) -> None:
    first, second = checklist(org, steps=1, title="Alpha"), checklist(org, steps=1, title="Beta")
    urgent = tag(org, "urgent")
    tagged = run(org, first["id"], name="Tagged one", tags=[urgent])
    for i in range(20):
        run(org, second["id"], name=f"Beta run {i:02d}")
    archived = run(org, first["id"], name="Old one")
    ok(org.api.delete(org.path(f"/runs/{archived['id']}")))
    web = admin_web(org)
    everything = web.get("/app/processes")
    assert "21 processes" in everything.text and "Page 1 of 2" in everything.text
    assert "Old one" not in everything.text
    second_page = web.get("/app/processes", params={"p": "2"})
    assert "Page 2 of 2" in second_page.text and 'rel="prev"' in second_page.text
    only_archived = web.get("/app/processes", params={"status": "archived"})
    assert "Old one" in only_archived.text and "1 process<" in only_archived.text
    by_template = web.get("/app/processes", params={"template": first["id"]})
    assert "Tagged one" in by_template.text and "Beta run" not in by_template.text
    by_tag = web.get("/app/processes", params={"tag": urgent})
    assert f'href="/app/processes/{tagged["id"]}"' in by_tag.text and "1 process<" in by_tag.text
    junk = web.get(
        "/app/processes", params={"status": "nonsense", "tag": "x" * 500, "p": "99999999"}
    )
    assert junk.status_code == 200


def test_a_one_off_task_for_people_with_a_deadline(org: Org) -> None:
    user_id, _, _ = member(org, "standard")
    web = admin_web(org)
    form = web.get("/app/new-task")
    assert 'for="title">Title' in form.text and 'for="deadline_time">Time' in form.text
    assert f'value="{user_id}"' in form.text
    empty = post(web, "/app/new-task", {"title": "", "description": "keep me"})
    assert empty.status_code == 422
    assert 'id="err-title"' in empty.text and 'id="err-deadline"' in empty.text
    assert "keep me" in empty.text
    nobody = post(web, "/app/new-task", {"title": "Call", "deadline_date": "2030-05-01"})
    assert nobody.status_code == 422 and 'id="err-assignees"' in nobody.text
    done = post(
        web,
        "/app/new-task",
        {
            "title": "Call the bank",
            "users": [str(user_id), str(org.admin_id)],
            "deadline_date": "2030-05-01",
            "deadline_time": "09:30",
            "description": "<p>Ask about <b>fees</b></p>",
        },
    )
    assert done.status_code == 303
    task_id = done.headers["location"].split("/")[-1].split("?")[0]
    task = ok(org.api.get(org.path(f"/tasks/{task_id}")))
    assert task["title"] == "Call the bank" and task["run_id"] is None
    assert task["deadline"].startswith("2030-05-01T09:30:00")
    assert sorted(task["owners"]["users"]) == sorted([user_id, org.admin_id])
    assert "fees" in task["summary"]
    assert "Task created." in web.get(done.headers["location"]).text
