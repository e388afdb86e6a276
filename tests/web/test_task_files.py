"""File form fields on the task page and guests' files, over plain HTTP: multipart forms as a
browser without JavaScript posts them, the stored value read back through the API."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import Org
from tests.support.factories import checklist, ok, run
from tests.web.conftest import browser_client, csrf_of, member, signed_in

PDF = b"%PDF-1.4\n% a test file\n"


def _task_with_file_field(org: Org, owners: dict[str, Any]) -> tuple[str, str, str]:
    """A process task holding a required file field: run id, task id, field id."""
    template = checklist(org, steps=1)
    steps = ok(org.api.get(org.path(f"/checklists/{template['id']}"), params={"with": "steps"}))[
        "steps"
    ]
    field = ok(
        org.api.post(
            org.path(f"/checklists/{template['id']}/steps/{steps[0]['id']}/captures"),
            json={"label": "Signed contract", "field_type": "file", "required": True},
        ),
        201,
    )
    launched = run(org, template["id"])
    (task,) = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))
    path = org.path(f"/runs/{launched['id']}/tasks/{task['id']}")
    ok(org.api.put(path, json={"owners": owners}))
    return launched["id"], task["id"], field["id"]


def _stored(org: Org, run_id: str, task_id: str) -> dict[str, Any]:
    return ok(org.api.get(org.path(f"/runs/{run_id}/tasks/{task_id}")))


def test_a_member_fills_a_file_field(org: Org) -> None:
    run_id, task_id, field_id = _task_with_file_field(org, {"users": [org.admin_id]})
    _, email, _ = member(org, "admin")
    web = signed_in(org.server, email)
    page = web.get(f"/app/tasks/{task_id}")
    assert 'enctype="multipart/form-data"' in page.text and f'name="f_{field_id}"' in page.text
    csrf = csrf_of(page.text)
    missing = web.post(
        f"/app/tasks/{task_id}",
        data={"csrf_token": csrf, "action": "complete"},
        files={f"f_{field_id}": ("", b"", "application/octet-stream")},
    )
    assert missing.status_code == 422
    assert re.search(rf'id="err-{field_id}"[^>]*>Signed contract is required', missing.text)
    forged = web.post(
        f"/app/tasks/{task_id}",
        data={"csrf_token": "forged", "action": "save"},
        files={f"f_{field_id}": ("contract.pdf", PDF, "application/pdf")},
    )
    assert forged.status_code == 403
    assert _stored(org, run_id, task_id)["taskdata"].get(field_id) is None
    done = web.post(
        f"/app/tasks/{task_id}",
        data={"csrf_token": csrf, "action": "complete"},
        files={f"f_{field_id}": ("contract.pdf", PDF, "application/pdf")},
    )
    assert done.status_code == 303, done.text
    stored = _stored(org, run_id, task_id)
    assert stored["status"] == "completed"
    (value,) = stored["taskdata"][field_id]
    assert value["filename"] == "contract.pdf"
    shown = web.get(f"/app/tasks/{task_id}")
    assert f'href="/app/files/{value["id"]}"' in shown.text
    assert web.get(f"/app/files/{value['id']}").content == PDF


def test_a_refused_file_shows_at_its_field(org: Org) -> None:
    run_id, task_id, field_id = _task_with_file_field(org, {"users": [org.admin_id]})
    _, email, _ = member(org, "admin")
    web = signed_in(org.server, email)
    csrf = csrf_of(web.get(f"/app/tasks/{task_id}").text)
    refused = web.post(
        f"/app/tasks/{task_id}",
        data={"csrf_token": csrf, "action": "save"},
        files={f"f_{field_id}": ("page.html", b"<b>x</b>", "text/html")},
    )
    assert refused.status_code == 422
    assert re.search(rf'id="err-{field_id}"[^>]*>The name must be a file of type', refused.text)
    assert _stored(org, run_id, task_id)["taskdata"].get(field_id) is None


def test_a_guest_attaches_a_file_and_fills_the_field(org: Org) -> None:
    guest = ok(org.api.post(org.path("/guests"), json={"email": "files@example.com"}), 201)
    run_id, task_id, field_id = _task_with_file_field(org, {"guests": ["files@example.com"]})
    _, other_task, _ = _task_with_file_field(org, {"users": [org.admin_id]})
    base = guest["link"].removeprefix(org.server.base)
    web = browser_client(org.server)
    page = web.get(f"{base}/tasks/{task_id}")
    csrf = csrf_of(page.text)
    attached = web.post(
        f"{base}/tasks/{task_id}/files",
        data={"csrf_token": csrf},
        files={"file": ("notes.txt", b"from the guest", "text/plain")},
    )
    assert attached.status_code == 303, attached.text
    shown = web.get(f"{base}/tasks/{task_id}")
    found = re.search(rf'href="{base}/tasks/{task_id}/files/([0-9a-f]{{32}})"', shown.text)
    assert found and "notes.txt" in shown.text
    download = web.get(f"{base}/tasks/{task_id}/files/{found.group(1)}")
    assert download.content == b"from the guest"
    saved = web.post(
        f"{base}/tasks/{task_id}",
        data={"csrf_token": csrf, "action": "complete"},
        files={f"f_{field_id}": ("contract.pdf", PDF, "application/pdf")},
    )
    assert saved.status_code == 303, saved.text
    stored = _stored(org, run_id, task_id)
    assert stored["status"] == "completed"
    assert stored["taskdata"][field_id][0]["filename"] == "contract.pdf"
    # Another task's id, another task's file, a forged form: refused.
    assert (
        web.post(
            f"{base}/tasks/{other_task}/files",
            data={"csrf_token": csrf},
            files={"file": ("x.txt", b"x", "text/plain")},
        ).status_code
        == 404
    )
    assert web.get(f"{base}/tasks/{other_task}/files/{found.group(1)}").status_code == 404
    ok(org.api.delete(org.path("/guests/files@example.com")))
    assert web.get(f"{base}/tasks/{task_id}/files/{found.group(1)}").status_code == 404
    assert (
        web.post(
            f"{base}/tasks/{task_id}/files",
            data={"csrf_token": csrf},
            files={"file": ("x.txt", b"x", "text/plain")},
        ).status_code
        == 404
    )


def test_a_link_set_through_the_api_shows_as_a_link(org: Org) -> None:
    run_id, task_id, field_id = _task_with_file_field(org, {"users": [org.admin_id]})
    link = {"source": "url", "url": "https://files.example.com/c.pdf?a=1&b=2", "filename": "C"}
    path = org.path(f"/runs/{run_id}/tasks/{task_id}")
    ok(org.api.put(path, json={"taskdata": {field_id: [link]}}))
    _, email, _ = member(org, "admin")
    page = signed_in(org.server, email).get(f"/app/tasks/{task_id}")
    assert page.status_code == 200
    assert 'href="https://files.example.com/c.pdf?a=1&amp;b=2"' in page.text
    assert 'value="" checked' not in page.text


def test_saving_the_form_keeps_a_link_and_adds_an_upload(org: Org) -> None:
    run_id, task_id, field_id = _task_with_file_field(org, {"users": [org.admin_id]})
    link = {"source": "url", "url": "https://files.example.com/c.pdf", "filename": "C"}
    path = org.path(f"/runs/{run_id}/tasks/{task_id}")
    ok(org.api.put(path, json={"taskdata": {field_id: [link]}}))
    _, email, _ = member(org, "admin")
    web = signed_in(org.server, email)
    csrf = csrf_of(web.get(f"/app/tasks/{task_id}").text)
    done = web.post(
        f"/app/tasks/{task_id}",
        data={"csrf_token": csrf, "action": "complete"},
        files={f"f_{field_id}": ("contract.pdf", PDF, "application/pdf")},
    )
    assert done.status_code == 303, done.text
    stored = _stored(org, run_id, task_id)["taskdata"][field_id]
    assert [v["filename"] for v in stored] == ["contract.pdf", "C"]
    assert stored[1]["url"] == link["url"] and stored[1]["source"] == "url"
