"""A public kick-off form in a real browser (Chromium through Playwright): a visitor who is
not signed in fills it in, is told what to fix, and launches the process; axe checks."""

from __future__ import annotations

from typing import Any

from tests.conftest import Org
from tests.support.factories import checklist, ok
from tests.web.test_browser import HOSTILE, accessible, field_error, no_script_ran


def test_a_visitor_launches_through_the_public_kickoff_form(org: Org, context: Any) -> None:
    template = checklist(
        org,
        steps=1,
        title="Quote request " + HOSTILE,
        is_public_kickoff=True,
        prerun=[{"label": "Company", "field_type": "text", "required": True}],
    )
    field_id = template["prerun"][0]["id"]
    page = context.new_page()
    page.goto(f"/app/public/library/{org.id}/blueprint/{template['id']}/kick-off")
    assert page.get_by_role("heading", level=1).inner_text() == "Quote request " + HOSTILE
    # Nobody is signed in: no navigation of the app.
    assert page.get_by_role("navigation", name="Main").count() == 0
    accessible(page)
    page.get_by_label("Your email address").fill("visitor@example.com")
    page.get_by_role("button", name="Submit").click()
    assert "Company is required" in field_error(page, field_id)
    assert page.get_by_label("Your email address").input_value() == "visitor@example.com"
    accessible(page)
    page.get_by_label("Company").fill("Acme " + HOSTILE)
    page.get_by_role("button", name="Submit").click()
    page.get_by_role("heading", name="Thank you").wait_for()
    no_script_ran(page)
    accessible(page)
    runs = ok(org.api.get(org.path("/runs")))
    (launched,) = [r for r in runs if r["checklist_id"] == template["id"]]
    assert launched["prerun"] == {field_id: "Acme " + HOSTILE}
