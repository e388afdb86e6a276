"""A shell run (one-off tasks launched without a template) and its tasks open in the web app
like any process, though no template row stands behind it."""

from __future__ import annotations

from tests.conftest import Org
from tests.support.factories import ok
from tests.web.conftest import set_password, signed_in


def test_shell_run_and_its_tasks_open_in_the_web_app(org: Org) -> None:
    first = ok(
        org.api.post(
            org.path("/tasks"),
            json={
                "title": "Sign the handbook",
                "task_type": "task",
                "owners": {"users": [org.admin_id]},
                "deadline": "2030-01-01T12:00:00Z",
                "separate_task_for_each_assignee": True,
            },
        ),
        201,
    )
    set_password(org.server, org.admin_email)
    web = signed_in(org.server, org.admin_email)
    process = web.get(f"/app/processes/{first['run_id']}")
    assert process.status_code == 200, process.text
    assert "Sign the handbook" in process.text
    task = web.get(f"/app/tasks/{first['id']}")
    assert task.status_code == 200, task.text
    assert web.get("/app/processes").status_code == 200
    assert web.get("/app/tasks").status_code == 200
