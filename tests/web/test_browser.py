"""The web app in a real browser (Chromium through Playwright): the core journeys of a member,
an approver and a guest, CSRF, hostile text, roles, and axe's accessibility rules."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe

from tests.conftest import Org
from tests.support.factories import ok, one_off_task
from tests.web.conftest import PASSWORD, member, screenshot, sign_in_link

HOSTILE = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
axe = Axe()


def accessible(page: Any) -> None:
    """No serious or critical axe violation on the page as it is now."""
    found = axe.run(page).response["violations"]
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in found
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], bad


def no_script_ran(page: Any) -> None:
    assert page.evaluate("window.__xss") is None


def sign_in(page: Any, email: str) -> None:
    page.goto("/app/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="My tasks").wait_for()


def field_error(page: Any, field_id: str) -> str:
    return str(page.locator(f"#field-{field_id} .field-error").inner_text())


def test_member_completes_a_task_with_a_required_field(org: Org, context: Any) -> None:
    user_id, email, _ = member(org, "standard")
    task = one_off_task(
        org,
        title="Send the contract",
        owners={"users": [user_id]},
        summary="<p>Ask <b>legal</b> first</p>",
        form_fields=[{"label": "Customer email", "field_type": "email", "required": True}],
    )
    field_id = ok(org.api.get(org.path(f"/tasks/{task['id']}"), params={"with": "form_fields"}))[
        "form_fields"
    ]["data"][0]["id"]
    page = context.new_page()
    page.goto("/app/sign-in")
    accessible(page)
    screenshot(page, "sign-in")
    sign_in(page, email)
    accessible(page)
    screenshot(page, "my-tasks")
    page.get_by_role("link", name="Send the contract").click()
    page.get_by_role("button", name="Complete").click()
    assert "Customer email is required" in field_error(page, field_id)
    page.get_by_label("Customer email").fill("not an email")
    page.get_by_role("button", name="Complete").click()
    assert "valid email address" in field_error(page, field_id)
    assert page.get_by_label("Customer email").input_value() == "not an email"
    accessible(page)
    screenshot(page, "task-field-error")
    page.get_by_label("Customer email").fill("buyer@example.com")
    page.get_by_role("button", name="Complete").click()
    page.get_by_text("Task completed.").wait_for()
    page.get_by_label("Your comment").fill("Sent " + HOSTILE)
    page.get_by_role("button", name="Comment").click()
    page.get_by_text("Comment posted.").wait_for()
    # Comments are rich text: sanitised, so the markup that could run is gone.
    assert page.locator(".thread .content").inner_text() == "Sent"
    assert page.locator(".thread .content img, .thread .content script").count() == 0
    no_script_ran(page)
    accessible(page)
    done = ok(org.api.get(org.path(f"/tasks/{task['id']}")))
    assert done["status"] == "completed" and done["taskdata"][field_id] == "buyer@example.com"


def test_an_approver_rejects_then_approves(org: Org, context: Any) -> None:
    task = one_off_task(org, title="Approve the budget", task_type="approval")
    page = context.new_page()
    page.goto(sign_in_link(org.server, org.admin_email))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="My tasks").wait_for()
    page.goto(f"/app/tasks/{task['id']}")
    page.get_by_role("button", name="Reject").click()
    page.get_by_text("Task rejected.").wait_for()
    assert ok(org.api.get(org.path(f"/tasks/{task['id']}")))["is_approved"] is False
    page.get_by_role("button", name="Reopen").click()
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("Task approved.").wait_for()
    assert ok(org.api.get(org.path(f"/tasks/{task['id']}")))["is_approved"] is True


def test_a_guest_completes_their_task_through_their_link(org: Org, context: Any) -> None:
    guest = ok(org.api.post(org.path("/guests"), json={"email": "visitor@example.com"}), 201)
    task = one_off_task(
        org,
        title="Upload your ID " + HOSTILE,
        owners={"guests": ["visitor@example.com"]},
        form_fields=[{"label": "Passport number", "field_type": "text", "required": True}],
    )
    page = context.new_page()
    page.goto(guest["link"])
    page.get_by_role("heading", name="Your tasks").wait_for()
    accessible(page)
    screenshot(page, "guest")
    page.get_by_role("link", name="Upload your ID").click()
    assert page.get_by_role("heading", level=1).inner_text() == task["title"]
    page.get_by_label("Passport number").fill("X1234567 " + HOSTILE)
    page.get_by_role("button", name="Complete").click()
    page.get_by_text("Task completed.").wait_for()
    no_script_ran(page)
    accessible(page)
    done = ok(org.api.get(org.path(f"/tasks/{task['id']}")))
    assert done["status"] == "completed"
    assert list(done["taskdata"].values()) == ["X1234567 " + HOSTILE]


def test_light_member_sees_no_admin_action_and_forged_forms_fail(org: Org, context: Any) -> None:
    user_id, email, _ = member(org, "light")
    task = one_off_task(org, title=HOSTILE, owners={"users": [user_id]})
    page = context.new_page()
    sign_in(page, email)
    no_script_ran(page)
    page.goto(f"/app/tasks/{task['id']}")
    assert page.get_by_role("heading", level=1).inner_text() == HOSTILE
    assert page.get_by_role("button", name="Archive").count() == 0
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove())")
    page.get_by_label("Your comment").fill("forged")
    page.get_by_role("button", name="Comment").click()
    page.get_by_role("heading", name="Form refused").wait_for()
    threads = ok(org.api.get(org.path(f"/tasks/{task['id']}"), params={"with": "threads"}))
    assert threads["threads"]["data"] == []
    no_script_ran(page)
