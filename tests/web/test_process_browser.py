"""Processes in a real browser (Chromium through Playwright): a member launches a template
through its kick-off form and completes the process; a one-off task from the form; axe."""

from __future__ import annotations

from typing import Any

from tests.conftest import Org
from tests.support.factories import checklist, ok, with_owner_ids
from tests.web.conftest import member, screenshot, set_password
from tests.web.test_browser import HOSTILE, accessible, field_error, no_script_ran, sign_in


def nav(page: Any, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()


def test_member_launches_with_a_kickoff_form_and_completes_the_process(
    org: Org, context: Any
) -> None:
    template = checklist(
        org,
        steps=1,
        title="Vendor check",
        prerun=[{"label": "Vendor email", "field_type": "email", "required": True}],
    )
    field_id = template["prerun"][0]["id"]
    _, email, _ = member(org, "standard")
    page = context.new_page()
    sign_in(page, email)
    nav(page, "Processes")
    page.get_by_role("heading", name="Processes", exact=True).wait_for()
    page.get_by_role("link", name="Launch a process").click()
    accessible(page)
    page.get_by_role("link", name="Vendor check").click()
    page.get_by_label("Process name").fill("Check " + HOSTILE)
    page.get_by_label("Vendor email").fill("not an email")
    page.get_by_role("button", name="Launch").click()
    assert "valid email address" in field_error(page, field_id)
    assert page.get_by_label("Vendor email").input_value() == "not an email"
    accessible(page)
    screenshot(page, "launch-field-error")
    page.get_by_label("Vendor email").fill("vendor@example.com")
    page.get_by_role("button", name="Launch").click()
    page.get_by_text("Process launched.").wait_for()
    assert page.get_by_role("heading", level=1).inner_text() == "Check " + HOSTILE
    no_script_ran(page)
    accessible(page)
    screenshot(page, "process")
    page.get_by_role("link", name="Step 1").click()
    page.get_by_role("button", name="Complete").click()
    page.get_by_text("Task completed.").wait_for()
    nav(page, "Processes")
    page.get_by_role("link", name="Check " + HOSTILE).click()
    page.get_by_text("1 of 1 tasks done").wait_for()
    (launched,) = ok(org.api.get(org.path("/runs")))
    assert launched["status"] == "complete"
    assert launched["prerun"] == {field_id: "vendor@example.com"}


def test_admin_creates_a_one_off_task_and_filters_processes(org: Org, context: Any) -> None:
    user_id, _, _ = member(org, "standard")
    set_password(org.server, org.admin_email)
    page = context.new_page()
    sign_in(page, org.admin_email)
    nav(page, "New task")
    page.get_by_role("button", name="Create task").click()
    page.locator("#err-title").wait_for()
    accessible(page)
    page.get_by_label("Title").fill("Renew the lease")
    page.get_by_label("Assign to members").select_option(str(user_id))
    page.get_by_label("Date").fill("2030-03-01")
    page.get_by_label("Time").fill("10:15")
    page.get_by_label("Description").fill("Call the landlord")
    screenshot(page, "new-task")
    page.get_by_role("button", name="Create task").click()
    page.get_by_text("Task created.").wait_for()
    listed = with_owner_ids(ok(org.api.get(org.path("/tasks"))))
    (task,) = [t for t in listed if t["title"] == "Renew the lease"]
    assert task["owners"]["users"] == [user_id] and task["deadline"].startswith("2030-03-01T10:15")
    nav(page, "Processes")
    page.get_by_label("Status").select_option("archived")
    page.get_by_role("button", name="Filter").click()
    page.get_by_text("0 processes").wait_for()
    accessible(page)
    screenshot(page, "processes")
