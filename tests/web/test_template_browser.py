"""Templates in a real browser (Chromium through Playwright, 375 px wide): an admin builds a
template with the keyboard-reachable forms, a field error shows at its field, and every page
passes axe's serious and critical rules."""

from __future__ import annotations

from typing import Any

from tests.conftest import Org
from tests.support.factories import checklist, ok
from tests.web.conftest import member, screenshot
from tests.web.test_browser import HOSTILE, accessible, no_script_ran, sign_in


def test_admin_builds_a_template_in_the_browser(org: Org, context: Any) -> None:
    _, email, _ = member(org, "admin")
    checklist(org, steps=0, title="Existing " + HOSTILE)
    page = context.new_page()
    sign_in(page, email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Templates").click()
    page.get_by_role("heading", name="Templates", level=1).wait_for()
    no_script_ran(page)
    accessible(page)
    screenshot(page, "templates")
    page.get_by_label("Title").fill("Onboarding")
    page.get_by_label("Summary (optional)").fill("For every <b>new</b> hire")
    page.get_by_role("button", name="Create template").click()
    page.get_by_text("Template created.").wait_for()
    for title in ("Paperwork", "Laptop"):
        page.get_by_label("Step title").fill(title)
        page.get_by_role("button", name="Add step").click()
        page.get_by_text("Step added.").wait_for()
    page.get_by_role("button", name="Move up Laptop").click()
    page.get_by_text("Step moved.").wait_for()
    assert page.locator(".tpl-steps h3").all_inner_texts() == ["Laptop", "Paperwork"]
    page.get_by_text("Add a kick-off field").click()
    page.get_by_label("Label").fill("Start date")
    page.get_by_label("Field type").select_option("date")
    page.get_by_role("button", name="Add kick-off field").click()
    page.get_by_text("Form field added.").wait_for()
    accessible(page)
    screenshot(page, "template")
    page.get_by_role("link", name="Edit step Laptop").click()
    page.get_by_label("Amount").fill("2")
    page.get_by_label("Unit").select_option("weeks")
    page.get_by_role("button", name="Save step").click()
    page.get_by_text("Step saved.").wait_for()
    page.get_by_label("Label").fill("Model")
    page.get_by_label("Field type").select_option("radio")
    page.get_by_label("Options (one per line; radio buttons, dropdown, checkboxes)").fill("Mac")
    page.get_by_role("button", name="Add form field").click()
    assert "at least two options" in page.locator("#nf-options-error").inner_text()
    accessible(page)
    page.locator("#nf-options-error").scroll_into_view_if_needed()
    screenshot(page, "template-step")
    page.get_by_label("Options (one per line; radio buttons, dropdown, checkboxes)").fill(
        "Mac\nLinux"
    )
    page.get_by_role("button", name="Add form field").click()
    page.get_by_text("Form field added.").wait_for()
    page.get_by_role("link", name="Edit Model").click()
    accessible(page)
    page.get_by_label("Required").check()
    page.get_by_role("button", name="Save field").click()
    page.get_by_text("Form field saved.").wait_for()
    template_id = page.url.split("/templates/")[1].split("/")[0]
    read = ok(org.api.get(org.path(f"/checklists/{template_id}"), params={"with": "steps"}))
    laptop = read["steps"][0]
    assert laptop["title"] == "Laptop" and laptop["deadline"]["value"] == 2
    assert laptop["deadline"]["unit"] == "weeks"
    (model,) = laptop["captures"]
    assert model["label"] == "Model" and model["required"] is True
    assert [f["label"] for f in read["prerun"]] == ["Start date"]
