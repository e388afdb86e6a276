"""The web app over plain HTTP (forms as a browser without JavaScript posts them): routing
beside the API, sessions, CSRF, sign-in limits, guests' links, roles."""

from __future__ import annotations

import uuid

from tests.conftest import Org
from tests.support.factories import ok, one_off_task
from tests.web.conftest import (
    PASSWORD,
    browser_client,
    csrf_of,
    in_thread,
    member,
    set_password,
    sign_in_link,
    signed_in,
)


def test_root_opens_the_app_for_browsers_only(org: Org) -> None:
    web = browser_client(org.server)
    assert web.get("/").status_code == 302
    assert web.get("/").headers["location"] == "/app/"
    with org.server.client(None, prefix="") as plain_client:
        for path in ("/", "/no-such-endpoint", "/api/no-such-endpoint"):
            answer = plain_client.get(path)
            assert answer.status_code == 404
            assert answer.json()["code"] == "ENDPOINT_NOT_FOUND"
    # An unknown page is an HTML page, not the API's JSON.
    missing = web.get("/app/no-such-page")
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]


def test_sign_in_sets_a_strict_cookie_and_sign_out_ends_the_session(org: Org) -> None:
    set_password(org.server, org.admin_email)
    web = browser_client(org.server)
    form = web.get("/app/sign-in")
    assert 'for="email">Email' in form.text and 'for="password">Password' in form.text
    wrong = web.post(
        "/app/sign-in",
        data={"csrf_token": csrf_of(form.text), "email": org.admin_email, "password": "nope-nope"},
    )
    assert wrong.status_code == 401 and "incorrect" in wrong.text
    done = web.post(
        "/app/sign-in",
        data={"csrf_token": csrf_of(form.text), "email": org.admin_email, "password": PASSWORD},
    )
    assert done.status_code == 303
    cookie = done.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "max-age=" in cookie
    session = web.cookies["checkrun_session"]
    # A session is no API token.
    assert org.client(session).get(f"/organizations/{org.id}/me/tasks").status_code == 401
    inbox = web.get("/app/tasks")
    assert inbox.status_code == 200 and "My tasks" in inbox.text
    out = web.post("/app/sign-out", data={"csrf_token": csrf_of(inbox.text)})
    assert out.status_code == 303
    # The old cookie is dead on the server, not just forgotten by the browser.
    replay = browser_client(org.server)
    replay.cookies.set("checkrun_session", session)
    assert replay.get("/app/tasks").headers["location"].startswith("/app/sign-in")


def test_a_sign_in_link_works_once(org: Org) -> None:
    link = sign_in_link(org.server, org.admin_email)
    web = browser_client(org.server)
    page = web.get(link)
    assert page.status_code == 200
    used = web.post(link, data={"csrf_token": csrf_of(page.text)})
    assert used.status_code == 303 and used.headers["location"] == "/app/tasks"
    assert web.get("/app/tasks").status_code == 200
    other = browser_client(org.server)
    assert other.get(link).status_code == 404
    again = other.post(link, data={"csrf_token": csrf_of(other.get("/app/sign-in").text)})
    assert again.status_code == 404
    # Nor is the link an API token.
    token = link.rsplit("/", 1)[1]
    assert org.client(token).get(f"/organizations/{org.id}/me/tasks").status_code == 401


def test_forms_without_the_csrf_token_are_refused(org: Org) -> None:
    set_password(org.server, org.admin_email)
    web = browser_client(org.server)
    web.get("/app/sign-in")
    refused = web.post("/app/sign-in", data={"email": org.admin_email, "password": PASSWORD})
    assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
    task = one_off_task(org)
    web = signed_in(org.server, org.admin_email)
    forged = web.post(
        f"/app/tasks/{task['id']}",
        data={"action": "comment", "content": "x", "csrf_token": "forged"},
    )
    assert forged.status_code == 403
    threads = ok(org.api.get(org.path(f"/tasks/{task['id']}"), params={"with": "threads"}))
    assert threads["threads"]["data"] == []


def test_sign_in_attempts_are_limited_per_email(org: Org) -> None:
    web = browser_client(org.server)
    token = csrf_of(web.get("/app/sign-in").text)
    email = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    limit = org.server.settings.web_sign_in_attempts
    answers = [
        web.post(
            "/app/sign-in", data={"csrf_token": token, "email": email, "password": "wrong-password"}
        ).status_code
        for _ in range(limit + 1)
    ]
    assert answers[:limit] == [401] * limit
    assert answers[limit] == 429


def test_only_failed_sign_ins_count_against_the_limit(org: Org) -> None:
    _, email, _ = member(org, "standard")
    limit = org.server.settings.web_sign_in_attempts
    for _ in range(limit + 1):
        signed_in(org.server, email).close()
    web = browser_client(org.server)
    token = csrf_of(web.get("/app/sign-in").text)
    wrong = [
        web.post(
            "/app/sign-in", data={"csrf_token": token, "email": email, "password": "wrong-password"}
        ).status_code
        for _ in range(limit)
    ]
    assert wrong == [401] * limit
    # Past the limit even the right password is refused: a guesser learns nothing.
    right = web.post(
        "/app/sign-in", data={"csrf_token": token, "email": email, "password": PASSWORD}
    )
    assert right.status_code == 429
    assert int(right.headers["Retry-After"]) > 0


def test_a_member_of_two_organizations_picks_one(org: Org) -> None:
    other = in_thread(lambda: org.server.new_org("Second Org"))
    # The second org's admin joins the first as a standard member.
    made = org.api.post(
        f"/applications/{org.id}/users",
        json={"email": other.email, "first_name": "Two", "last_name": "Orgs", "role": "standard"},
    )
    assert made.status_code == 201, made.text
    set_password(org.server, other.email)
    web = signed_in(org.server, other.email)
    chooser = web.get("/app/orgs")
    assert "Second Org" in chooser.text and "Test Org" in chooser.text
    picked = web.post("/app/orgs", data={"csrf_token": csrf_of(chooser.text), "org_id": org.id})
    assert picked.status_code == 303
    assert "Test Org" in web.get("/app/tasks").text
    foreign = web.post("/app/orgs", data={"csrf_token": csrf_of(chooser.text), "org_id": "0" * 32})
    assert foreign.status_code == 403


def test_a_disabled_member_is_refused(org: Org) -> None:
    user_id, email, _ = member(org, "standard")
    web = signed_in(org.server, email)
    assert web.get("/app/tasks").status_code == 200
    ok(org.api.delete(org.path(f"/users/{user_id}/disable")))
    assert web.get("/app/tasks").status_code in (303, 403)


def test_a_light_member_cannot_archive(org: Org) -> None:
    user_id, email, _ = member(org, "light")
    task = one_off_task(org, owners={"users": [user_id]})
    web = signed_in(org.server, email)
    page = web.get(f"/app/tasks/{task['id']}")
    assert page.status_code == 200 and 'value="archive"' not in page.text
    refused = web.post(
        f"/app/tasks/{task['id']}", data={"csrf_token": csrf_of(page.text), "action": "archive"}
    )
    assert refused.status_code == 403
    assert ok(org.api.get(org.path(f"/tasks/{task['id']}")))["archived_at"] is None


def test_the_inbox_sections_count_my_tasks(org: Org) -> None:
    ok(org.api.post(org.path("/groups"), json={"name": "Team", "members": [org.admin_id]}), 201)
    one_off_task(org, title="Late one", deadline="2020-01-01T00:00:00Z")
    one_off_task(org, title="Later one", deadline="2099-01-01T00:00:00Z")
    set_password(org.server, org.admin_email)
    web = signed_in(org.server, org.admin_email)
    overdue = web.get("/app/tasks", params={"section": "overdue"}).text
    assert "Late one" in overdue and "Later one" not in overdue
    upcoming = web.get("/app/tasks", params={"section": "upcoming", "q": "later"}).text
    assert "Later one" in upcoming and "Late one" not in upcoming


def test_guest_link_opens_the_guest_page(org: Org) -> None:
    guest = ok(org.api.post(org.path("/guests"), json={"email": "guest@example.com"}), 201)
    assert "/app/guest/" in guest["link"]
    mine = one_off_task(org, title="For the guest", owners={"guests": ["guest@example.com"]})
    other = one_off_task(org, title="Not theirs")
    ok(
        org.api.post(
            org.path(f"/tasks/{mine['id']}/comment"),
            json={"content": "internal note", "state": "hide-for-guests"},
        ),
        201,
    )
    path = guest["link"].removeprefix(org.server.base)
    web = browser_client(org.server)
    home = web.get(path)
    assert home.status_code == 200 and "For the guest" in home.text
    assert "Not theirs" not in home.text
    page = web.get(f"{path}/tasks/{mine['id']}")
    assert page.status_code == 200 and "internal note" not in page.text
    assert web.get(f"{path}/tasks/{other['id']}").status_code == 404
    done = web.post(
        f"{path}/tasks/{mine['id']}", data={"csrf_token": csrf_of(page.text), "action": "complete"}
    )
    assert done.status_code == 303
    assert ok(org.api.get(org.path(f"/tasks/{mine['id']}")))["status"] == "completed"
    assert web.get("/app/guest/no-such-code").status_code == 404
    ok(org.api.delete(org.path("/guests/guest@example.com")))
    assert web.get(path).status_code == 404
