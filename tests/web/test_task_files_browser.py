"""A guest uploads a file through their link in a real browser, and fills a file field."""

from __future__ import annotations

from tests.conftest import Org
from tests.support.factories import ok
from tests.web.conftest import screenshot
from tests.web.test_browser import accessible
from tests.web.test_task_files import PDF, _stored, _task_with_file_field


def test_a_guest_uploads_files_in_the_browser(org: Org, context: object) -> None:
    guest = ok(org.api.post(org.path("/guests"), json={"email": "browser@example.com"}), 201)
    run_id, task_id, field_id = _task_with_file_field(org, {"guests": ["browser@example.com"]})
    page = context.new_page()  # type: ignore[attr-defined]
    page.goto(f"{guest['link']}/tasks/{task_id}")
    accessible(page)
    page.set_input_files(
        "#upload",
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"from the browser"}],
    )
    page.click("button:text('Attach')")
    page.wait_for_selector("text=File attached.")
    assert page.locator(".files .filename", has_text="notes.txt").count() == 1
    page.click("button[value='complete']")
    page.wait_for_selector(f"#err-{field_id}")
    page.set_input_files(
        f"#f_{field_id}",
        files=[{"name": "contract.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    page.click("button[value='save']")
    page.wait_for_selector("text=Your changes were saved.")
    accessible(page)
    screenshot(page, "guest-task-files")
    stored = _stored(org, run_id, task_id)
    assert stored["taskdata"][field_id][0]["filename"] == "contract.pdf"
