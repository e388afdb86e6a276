"""People pages and the task page's extras in a real browser (Chromium through Playwright):
an admin invites a member who chooses a password from the link; files, problems and history on
a task; axe's accessibility rules on each new page."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import Org
from tests.support.factories import ok, one_off_task
from tests.web.conftest import PASSWORD, screenshot, set_password
from tests.web.test_browser import HOSTILE, accessible, no_script_ran, sign_in
from tests.web.test_people import PNG


def test_admin_invites_a_member_who_sets_a_password(org: Org, context: Any) -> None:
    set_password(org.server, org.admin_email)
    ok(org.api.post(org.path("/guests"), json={"email": "gwen@example.com"}), 201)
    ok(
        org.api.post(
            org.path("/groups"), json={"name": "Ops " + HOSTILE, "members": [org.admin_id]}
        ),
        201,
    )
    page = context.new_page()
    sign_in(page, org.admin_email)
    page.get_by_role("link", name="People").click()
    page.get_by_role("heading", name="People").wait_for()
    email = f"ines-{uuid.uuid4().hex[:6]}@example.com"
    page.get_by_label("Email").fill(email)
    page.get_by_label("First name").fill("Ines")
    page.get_by_label("Last name").fill("Ng")
    page.get_by_label("Role", exact=True).select_option("light")
    accessible(page)
    screenshot(page, "people")
    page.get_by_role("button", name="Invite", exact=True).click()
    link = page.get_by_label("Invite link").input_value()
    accessible(page)
    screenshot(page, "invite-link")
    for tab, heading in (("Guests", "Guests"), ("Groups", "Groups")):
        page.goto("/app/people")
        page.get_by_role("link", name=tab, exact=True).click()
        page.get_by_role("heading", name=heading, exact=True).wait_for()
        accessible(page)
    no_script_ran(page)
    page.get_by_role("link", name="Ops").click()
    accessible(page)

    invitee = context.browser.new_context(
        base_url=org.server.base, viewport={"width": 375, "height": 800}
    )
    try:
        own = invitee.new_page()
        own.goto(link)
        accessible(own)
        own.get_by_label("New password", exact=True).fill(PASSWORD)
        own.get_by_label("New password again").fill(PASSWORD)
        own.get_by_role("button", name="Save password and sign in").click()
        own.get_by_role("heading", name="My tasks").wait_for()
        assert own.get_by_role("link", name="People").count() == 0
    finally:
        invitee.close()
    users = ok(org.api.get(org.path("/users")))
    joined = next(u for u in users if u["email"] == email)
    assert joined["status"] == "active" and joined["role"] == "light"


def test_a_member_attaches_a_file_reports_and_resolves_a_problem(
    org: Org, context: Any, tmp_path: Any
) -> None:
    set_password(org.server, org.admin_email)
    task = one_off_task(org, title="Check the photo")
    picture = tmp_path / "photo.png"
    picture.write_bytes(PNG)
    page = context.new_page()
    sign_in(page, org.admin_email)
    page.goto(f"/app/tasks/{task['id']}")
    page.get_by_label("Attach a file").set_input_files(str(picture))
    page.get_by_role("button", name="Attach", exact=True).click()
    page.get_by_text("File attached.").wait_for()
    # The preview is the served image itself (lazy: it loads once scrolled to).
    page.get_by_role("img", name="Preview of photo.png").scroll_into_view_if_needed()
    page.wait_for_function(
        "() => document.querySelector('img.preview').complete"
        " && document.querySelector('img.preview').naturalWidth === 1"
    )
    page.get_by_label("Your comment").fill("Blurry " + HOSTILE)
    page.get_by_role("button", name="Report a problem").click()
    page.get_by_text("Problem reported.").wait_for()
    no_script_ran(page)
    accessible(page)
    screenshot(page, "task-files-problem")
    page.get_by_label("How it was resolved").fill("Retaken")
    page.get_by_role("button", name="Resolve problem").click()
    page.get_by_text("Problem resolved.").wait_for()
    assert ok(org.api.get(org.path(f"/tasks/{task['id']}")))["problem"] is False
    history = page.locator(".history-list").inner_text()
    assert "Uploaded photo.png" in history and "Resolved an issue" in history
    accessible(page)
