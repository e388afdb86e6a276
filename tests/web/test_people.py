"""People pages, password links and the task page's extras over plain HTTP (forms as a browser
without JavaScript posts them): roles, CSRF, other organizations, what the services record."""

from __future__ import annotations

import re
import uuid

import httpx

from tests.conftest import Org
from tests.support.factories import ok, one_off_task
from tests.web.conftest import (
    PASSWORD,
    browser_client,
    csrf_of,
    in_thread,
    member,
    set_password,
    signed_in,
)

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def admin_web(org: Org) -> httpx.Client:
    set_password(org.server, org.admin_email)
    return signed_in(org.server, org.admin_email)


def link_on(html: str) -> str:
    found = re.search(r'value="(https?://[^"]+/app/password/[^"]+)"', html)
    assert found, "no password link on the page"
    return found.group(1).split("/app/", 1)[1]


def invite(web: httpx.Client, email: str, role: str = "standard") -> httpx.Response:
    page = web.get("/app/people")
    return web.post(
        "/app/people/invite",
        data={
            "csrf_token": csrf_of(page.text),
            "email": email,
            "first_name": "New",
            "last_name": "Person",
            "role": role,
        },
    )


def test_an_invited_member_chooses_a_password_from_the_link(org: Org) -> None:
    web = admin_web(org)
    email = f"new-{uuid.uuid4().hex[:8]}@example.com"
    shown = invite(web, email)
    assert shown.status_code == 200, shown.text
    path = "/app/" + link_on(shown.text)
    users = ok(org.api.get(org.path("/users")))
    invited = next(u for u in users if u["email"] == email)
    assert invited["status"] == "invited" and invited["role"] == "standard"

    guest_browser = browser_client(org.server)
    form = guest_browser.get(path)
    assert form.status_code == 200 and 'for="password_again"' in form.text
    short = guest_browser.post(
        path,
        data={"csrf_token": csrf_of(form.text), "password": "short", "password_again": "short"},
    )
    assert short.status_code == 422 and "at least 8" in short.text
    differ = guest_browser.post(
        path,
        data={"csrf_token": csrf_of(form.text), "password": PASSWORD, "password_again": "x" * 12},
    )
    assert differ.status_code == 422 and "not the same" in differ.text
    done = guest_browser.post(
        path,
        data={"csrf_token": csrf_of(form.text), "password": PASSWORD, "password_again": PASSWORD},
    )
    assert done.status_code == 303 and done.headers["location"] == "/app/tasks"
    assert guest_browser.get("/app/tasks").status_code == 200
    me = ok(org.api.get(org.path(f"/users/{invited['id']}")))
    assert me["status"] == "active" and me["approved_at"] is not None
    # Used up; and the password works on the sign-in form.
    assert browser_client(org.server).get(path).status_code == 404
    signed_in(org.server, email)


def test_people_pages_are_for_administrators_only(org: Org) -> None:
    for role in ("light", "standard"):
        user_id, email, _ = member(org, role)
        web = signed_in(org.server, email)
        tasks = web.get("/app/tasks")
        assert 'href="/app/people"' not in tasks.text
        for path in ("/app/people", "/app/people/guests", "/app/people/groups"):
            assert web.get(path).status_code == 403
        token = csrf_of(tasks.text)
        forged = [
            web.post(
                "/app/people/invite",
                data={
                    "csrf_token": token,
                    "role": "admin",
                    "email": "x@example.com",
                    "first_name": "X",
                    "last_name": "Y",
                },
            ),
            web.post(
                f"/app/people/members/{user_id}",
                data={"csrf_token": token, "action": "role", "role": "admin"},
            ),
            web.post(f"/app/people/members/{org.admin_id}/link", data={"csrf_token": token}),
            web.post("/app/people/groups", data={"csrf_token": token, "name": "Mine"}),
        ]
        assert [f.status_code for f in forged] == [403] * 4
        assert ok(org.api.get(org.path(f"/users/{user_id}")))["role"] == role
    assert all(u["email"] != "x@example.com" for u in ok(org.api.get(org.path("/users"))))
    assert ok(org.api.get(org.path("/groups"))) == []
    admin = admin_web(org)
    assert 'href="/app/people"' in admin.get("/app/tasks").text


def test_admin_changes_role_disables_enables_and_copies_a_reset_link(org: Org) -> None:
    user_id, email, _ = member(org, "light")
    web = admin_web(org)
    page = web.get("/app/people")
    assert email in page.text
    token = csrf_of(page.text)
    target = f"/app/people/members/{user_id}"
    assert (
        web.post(
            target, data={"csrf_token": token, "action": "role", "role": "standard"}
        ).status_code
        == 303
    )
    assert ok(org.api.get(org.path(f"/users/{user_id}")))["role"] == "standard"
    assert (
        web.post(target, data={"csrf_token": token, "action": "role", "role": "owner"}).status_code
        == 422
    )
    assert web.post(target, data={"csrf_token": token, "action": "disable"}).status_code == 303
    assert ok(org.api.get(org.path(f"/users/{user_id}")))["status"] == "disabled"
    assert web.post(target + "/link", data={"csrf_token": token}).status_code == 409
    assert web.post(target, data={"csrf_token": token, "action": "enable"}).status_code == 303
    assert ok(org.api.get(org.path(f"/users/{user_id}")))["status"] == "active"
    # Without the CSRF token nothing changes.
    assert web.post(target, data={"action": "disable"}).status_code == 403
    assert ok(org.api.get(org.path(f"/users/{user_id}")))["status"] == "active"
    # The default administrator is refused by the service (no 500).
    own = web.post(
        f"/app/people/members/{org.admin_id}", data={"csrf_token": token, "action": "disable"}
    )
    assert own.status_code == 400
    # A reset link: the member chooses a new password, the old one stops working.
    first = web.post(target + "/link", data={"csrf_token": token})
    second = web.post(target + "/link", data={"csrf_token": token})
    assert first.status_code == second.status_code == 200
    anon = browser_client(org.server)
    assert anon.get("/app/" + link_on(first.text)).status_code == 404  # replaced by the second
    path = "/app/" + link_on(second.text)
    form = anon.get(path)
    new_password = "a brand new password"
    done = anon.post(
        path,
        data={
            "csrf_token": csrf_of(form.text),
            "password": new_password,
            "password_again": new_password,
        },
    )
    assert done.status_code == 303
    signed_in(org.server, email, new_password)
    old = browser_client(org.server)
    tried = old.post(
        "/app/sign-in",
        data={
            "csrf_token": csrf_of(old.get("/app/sign-in").text),
            "email": email,
            "password": PASSWORD,
        },
    )
    assert tried.status_code == 401


def test_other_organizations_members_and_groups_are_404(org: Org) -> None:
    other = in_thread(lambda: org.server.new_org("Other Org"))
    with org.server.client(other.token) as api:
        group = ok(api.post(f"/organizations/{other.org_id}/groups", json={"name": "Theirs"}), 201)
    web = admin_web(org)
    token = csrf_of(web.get("/app/people").text)
    assert web.get(f"/app/people/groups/{group['id']}").status_code == 404
    assert (
        web.post(
            f"/app/people/groups/{group['id']}", data={"csrf_token": token, "action": "delete"}
        ).status_code
        == 404
    )
    assert (
        web.post(
            f"/app/people/members/{other.user_id}", data={"csrf_token": token, "action": "disable"}
        ).status_code
        == 404
    )
    assert (
        web.post(
            f"/app/people/members/{other.user_id}/link", data={"csrf_token": token}
        ).status_code
        == 404
    )
    assert (
        web.post(
            "/app/people/members/not-a-number", data={"csrf_token": token, "action": "disable"}
        ).status_code
        == 404
    )


def test_forgot_password_answers_the_same_for_every_address(org: Org) -> None:
    web = browser_client(org.server)
    sign_in = web.get("/app/sign-in")
    assert 'href="/app/forgot-password"' in sign_in.text
    form = web.get("/app/forgot-password")
    answers = [
        web.post("/app/forgot-password", data={"csrf_token": csrf_of(form.text), "email": address})
        for address in (org.admin_email, f"nobody-{uuid.uuid4().hex[:6]}@example.com")
    ]
    assert [a.status_code for a in answers] == [200, 200]
    strip = [re.sub(r'value="[^"]*"', "", a.text) for a in answers]
    assert strip[0] == strip[1] and "has been recorded" in strip[0]
    assert web.post("/app/forgot-password", data={"email": org.admin_email}).status_code == 403


def test_guests_are_added_disabled_enabled_and_removed(org: Org) -> None:
    web = admin_web(org)
    page = web.get("/app/people/guests")
    token = csrf_of(page.text)
    email = f"guest-{uuid.uuid4().hex[:6]}@example.com"
    bad = web.post("/app/people/guests", data={"csrf_token": token, "email": "not-an-email"})
    assert bad.status_code == 422 and "not a valid email" in bad.text
    member_email = org.admin_email
    refused = web.post("/app/people/guests", data={"csrf_token": token, "email": member_email})
    assert refused.status_code == 422
    assert (
        web.post(
            "/app/people/guests", data={"csrf_token": token, "email": email, "first_name": "Gus"}
        ).status_code
        == 303
    )
    assert email in web.get("/app/people/guests").text
    change = "/app/people/guests/change"
    assert (
        web.post(
            change, data={"csrf_token": token, "email": email, "action": "disable"}
        ).status_code
        == 303
    )
    assert ok(org.api.get(org.path(f"/guests/{email}")))["details"]["disabled_at"] is not None
    assert (
        web.post(change, data={"csrf_token": token, "email": email, "action": "enable"}).status_code
        == 303
    )
    assert ok(org.api.get(org.path(f"/guests/{email}")))["details"]["disabled_at"] is None
    assert (
        web.post(change, data={"csrf_token": token, "email": email, "action": "remove"}).status_code
        == 303
    )
    assert org.api.get(org.path(f"/guests/{email}")).status_code == 404
    assert (
        web.post(change, data={"csrf_token": token, "email": email, "action": "remove"}).status_code
        == 422
    )


def test_groups_are_created_renamed_given_members_and_deleted(org: Org) -> None:
    user_id, _, _ = member(org, "standard")
    web = admin_web(org)
    token = csrf_of(web.get("/app/people/groups").text)
    assert (
        web.post("/app/people/groups", data={"csrf_token": token, "name": " "}).status_code == 422
    )
    made = web.post(
        "/app/people/groups",
        data={"csrf_token": token, "name": "Ops", "members": [str(org.admin_id)]},
    )
    assert made.status_code == 303
    (group,) = ok(org.api.get(org.path("/groups")))
    assert group["name"] == "Ops" and group["members"] == [org.admin_id]
    again = web.post("/app/people/groups", data={"csrf_token": token, "name": "Ops"})
    assert again.status_code == 422 and "already been taken" in again.text
    path = f"/app/people/groups/{group['id']}"
    assert web.get(path).status_code == 200
    saved = web.post(
        path,
        data={
            "csrf_token": token,
            "action": "save",
            "name": "Operations",
            "members": [str(user_id), str(org.admin_id)],
        },
    )
    assert saved.status_code == 303
    (group,) = ok(org.api.get(org.path("/groups")))
    assert group["name"] == "Operations" and sorted(group["members"]) == sorted(
        [user_id, org.admin_id]
    )
    assert web.post(path, data={"csrf_token": token, "action": "delete"}).status_code == 303
    assert ok(org.api.get(org.path("/groups"))) == []


def test_a_file_is_attached_listed_previewed_and_downloaded(org: Org) -> None:
    task = one_off_task(org, title="With files")
    web = admin_web(org)
    page = web.get(f"/app/tasks/{task['id']}")
    assert 'enctype="multipart/form-data"' in page.text
    token = csrf_of(page.text)
    target = f"/app/tasks/{task['id']}/files"
    forged = web.post(
        target, data={"csrf_token": "forged"}, files={"file": ("x.png", PNG, "image/png")}
    )
    assert forged.status_code == 403
    assert web.get(f"/app/tasks/{task['id']}").text.count("/view") == 0
    wrong = web.post(
        target,
        data={"csrf_token": token},
        files={"file": ("page.html", b"<script>1</script>", "text/html")},
    )
    assert wrong.status_code == 422 and "must be a file of type" in wrong.text
    done = web.post(
        target,
        data={"csrf_token": token, "subject_id": "0" * 32},
        files={"file": ("dot.png", PNG, "image/png")},
    )
    assert done.status_code == 303, done.text
    shown = web.get(f"/app/tasks/{task['id']}")
    asset_id = re.search(r"/app/files/([0-9a-f]{32})/view", shown.text).group(1)  # type: ignore[union-attr]
    assert "dot.png" in shown.text and "Uploaded dot.png" in shown.text  # the history
    inline = web.get(f"/app/files/{asset_id}/view")
    assert inline.status_code == 200 and inline.content == PNG
    assert inline.headers["content-type"] == "image/png"
    assert inline.headers["content-security-policy"] == "sandbox"
    assert inline.headers["x-content-type-options"] == "nosniff"
    assert inline.headers["content-disposition"].startswith("inline")
    download = web.get(f"/app/files/{asset_id}")
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith("attachment")
    meta = ok(org.api.get(org.path(f"/assets/{asset_id}")))[0]
    assert meta["subject"] == {"id": task["id"], "type": "Task"}
    # Past the 1 MiB form-body limit: the upload route streams, like the API's.
    big = web.post(
        target,
        data={"csrf_token": token},
        files={"file": ("big.pdf", b"%PDF-1.4\n" + b"0" * (2 * 1024 * 1024), "application/pdf")},
    )
    assert big.status_code == 303, big.text
    assert "big.pdf" in web.get(f"/app/tasks/{task['id']}").text
    # No session: sign in first; another organization's file: 404.
    assert browser_client(org.server).get(f"/app/files/{asset_id}").status_code == 303
    other = in_thread(lambda: org.server.new_org("Files Org"))
    set_password(org.server, other.email)
    stranger = signed_in(org.server, other.email)
    assert stranger.get(f"/app/files/{asset_id}/view").status_code == 404
    assert stranger.get(f"/app/tasks/{task['id']}").status_code == 404


def test_a_problem_is_reported_and_resolved(org: Org) -> None:
    user_id, email, _ = member(org, "light")
    task = one_off_task(org, title="Blocked one", owners={"users": [user_id]})
    web = signed_in(org.server, email)
    page = web.get(f"/app/tasks/{task['id']}")
    assert 'value="problem"' in page.text
    token = csrf_of(page.text)
    empty = web.post(
        f"/app/tasks/{task['id']}", data={"csrf_token": token, "action": "problem", "content": " "}
    )
    assert empty.status_code == 422
    reported = web.post(
        f"/app/tasks/{task['id']}",
        data={"csrf_token": token, "action": "problem", "content": "The <b>printer</b> is down"},
    )
    assert reported.status_code == 303
    read = ok(org.api.get(org.path(f"/tasks/{task['id']}"), params={"with": "issues"}))
    assert read["problem"] is True
    (issue,) = read["issues"]["data"]
    blocked = web.post(f"/app/tasks/{task['id']}", data={"csrf_token": token, "action": "complete"})
    assert blocked.status_code in (400, 409, 422)
    page = web.get(f"/app/tasks/{task['id']}")
    assert "Resolve problem" in page.text and "Reported an issue" in page.text
    for bad in ("", "0" * 32, "x" * 100):
        refused = web.post(
            f"/app/tasks/{task['id']}",
            data={"csrf_token": token, "action": "resolve", "thread_id": bad},
        )
        assert refused.status_code == 422, bad
    resolved = web.post(
        f"/app/tasks/{task['id']}",
        data={
            "csrf_token": token,
            "action": "resolve",
            "thread_id": issue["id"],
            "resolution": "Fixed the cable",
        },
    )
    assert resolved.status_code == 303
    assert ok(org.api.get(org.path(f"/tasks/{task['id']}")))["problem"] is False
    page = web.get(f"/app/tasks/{task['id']}")
    assert "Resolve problem" not in page.text and "Fixed the cable" in page.text
