"""The email preferences pages in a real browser: chosen by label, saved, everything turned
off, reached from the signed-in header, and free of serious accessibility problems (axe)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from checkrun.mail import kinds
from checkrun.web.email_pages import LABELS
from tests.conftest import LiveServer, Org
from tests.mail.test_preferences import ALL_OFF, link_of, modes
from tests.support.outbox import address
from tests.web.conftest import (
    browser,  # noqa: F401 - the module's browser fixture
    in_thread,
    member,
)
from tests.web.test_browser import accessible, sign_in


@pytest.fixture
def web_org(mail_server: LiveServer) -> Iterator[Org]:
    """Made outside the browser's event loop, like every database call here."""
    boot = in_thread(mail_server.new_org)
    with mail_server.client(boot.token) as api:
        yield Org(mail_server, boot.org_id, boot.user_id, boot.email, boot.token, api)


@pytest.fixture
def context(mail_server: LiveServer, browser: Any) -> Iterator[Any]:  # noqa: F811
    made = browser.new_context(base_url=mail_server.base, viewport={"width": 375, "height": 800})
    made.set_default_timeout(20_000)
    try:
        yield made
    finally:
        made.close()


def test_choosing_from_the_footer_link(web_org: Org, context: Any) -> None:
    email = address("browser")
    path = in_thread(lambda: link_of(web_org.server, web_org.id, email))
    page = context.new_page()
    page.goto(path)
    page.get_by_role("heading", name="Email preferences").wait_for()
    accessible(page)
    page.get_by_role("group", name=LABELS[kinds.COMMENT]).get_by_label("Off").check()
    page.get_by_role("group", name=LABELS[kinds.OVERDUE]).get_by_label("In my daily digest").check()
    page.get_by_role("button", name="Save choices").click()
    page.get_by_role("status").filter(has_text="Your choices were saved.").wait_for()
    accessible(page)
    chosen = in_thread(lambda: modes(web_org.server, web_org.id, email))
    assert chosen == {
        **kinds.DEFAULT_MODES,
        kinds.COMMENT: "off",
        kinds.OVERDUE: "digest",
        kinds.DAILY_DIGEST: "digest",
    }
    page.get_by_role("button", name="Turn off all email").click()
    page.get_by_role("status").filter(has_text="no more email").wait_for()
    assert in_thread(lambda: modes(web_org.server, web_org.id, email)) == ALL_OFF


def test_a_member_opens_email_settings_from_the_header(web_org: Org, context: Any) -> None:
    _, email, _ = in_thread(lambda: member(web_org, "light"))
    page = context.new_page()
    sign_in(page, email)
    page.get_by_role("link", name="Email settings").click()
    page.get_by_role("heading", name="Email preferences").wait_for()
    assert email in page.inner_text("main")
    accessible(page)
    page.get_by_role("group", name=LABELS[kinds.DAILY_DIGEST]).get_by_label(
        "On: one email a day"
    ).check()
    page.get_by_role("button", name="Save choices").click()
    page.get_by_role("status").filter(has_text="Your choices were saved.").wait_for()
    chosen = in_thread(lambda: modes(web_org.server, web_org.id, email))
    assert chosen[kinds.DAILY_DIGEST] == "digest"
