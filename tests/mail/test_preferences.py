"""Email preferences pages: the footer link's page (no sign-in) shows and saves, refuses what is
not a choice, turns everything off in one click (RFC 8058 too), is a 404 for a bad link; the
signed-in member's settings page; and `enqueue` obeys what was chosen."""

from __future__ import annotations

import re
import secrets

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.mail import kinds
from checkrun.mail.links import preferences_url
from checkrun.mail.prefs import modes_of
from tests.conftest import LiveServer, Org
from tests.support.outbox import address, enqueue_all, in_session, message, outbox
from tests.web.conftest import browser_client, csrf_of, member, signed_in

ALL_OFF = dict.fromkeys(kinds.CHOOSABLE, "off")


def link_of(server: LiveServer, org_id: str, email: str) -> str:
    """The path of `email`'s preferences page, as an email's footer has it."""

    async def work(db: AsyncSession) -> str:
        return await preferences_url(db, org_id, email)

    url = in_session(server, work)
    assert url.startswith(server.base + "/app/email-preferences/")
    return url.removeprefix(server.base)


def modes(server: LiveServer, org_id: str, email: str) -> dict[str, str]:
    async def work(db: AsyncSession) -> dict[str, str]:
        return await modes_of(db, org_id, email)

    return in_session(server, work)


def checked(html: str) -> dict[str, str]:
    """Which radio of each kind the page shows checked."""
    found = re.findall(r'<input type="radio" name="(\w+)" value="(\w+)" checked', html)
    return dict(found)


def test_the_link_page_shows_and_saves(mail_org: Org) -> None:
    email = address("prefs")
    path = link_of(mail_org.server, mail_org.id, email)
    web = browser_client(mail_org.server)
    page = web.get(path)
    assert page.status_code == 200
    assert email in page.text and "Test Org" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert checked(page.text) == kinds.DEFAULT_MODES
    for kind in kinds.CHOOSABLE:
        assert f'id="kind-{kind}"' in page.text
    assert "Turn off all email" in page.text
    # Looking changed nothing.
    web.get(path)
    assert modes(mail_org.server, mail_org.id, email) == kinds.DEFAULT_MODES

    saved = web.post(
        path,
        data={
            "csrf_token": csrf_of(page.text),
            "action": "save",
            kinds.COMMENT: "off",
            kinds.DUE_SOON: "digest",
        },
    )
    assert saved.status_code == 303 and saved.headers["location"] == path + "?notice=saved"
    expected = {
        **kinds.DEFAULT_MODES,
        kinds.COMMENT: "off",
        kinds.DUE_SOON: "digest",
        # Gathering anything for the digest turns it on.
        kinds.DAILY_DIGEST: "digest",
    }
    assert modes(mail_org.server, mail_org.id, email) == expected
    again = web.get(saved.headers["location"])
    assert checked(again.text) == expected and "Your choices were saved." in again.text


def test_what_is_not_a_choice_is_a_422_page_and_saves_nothing(mail_org: Org) -> None:
    email = address("bad")
    path = link_of(mail_org.server, mail_org.id, email)
    web = browser_client(mail_org.server)
    csrf = csrf_of(web.get(path).text)
    for bad in (
        {"no_such_kind": "off"},
        {kinds.COMMENT: "sometimes"},
        {kinds.DAILY_DIGEST: "instant"},
        {kinds.INVITE: "off"},
        {kinds.COMMENT: ["off", "instant"]},
    ):
        refused = web.post(path, data={"csrf_token": csrf, kinds.OVERDUE: "off", **bad})
        assert refused.status_code == 422, bad
        assert "text/html" in refused.headers["content-type"]
        assert 'role="alert"' in refused.text
    assert modes(mail_org.server, mail_org.id, email) == kinds.DEFAULT_MODES
    # A form without this browser's CSRF token is refused too.
    forged = browser_client(mail_org.server).post(path, data={kinds.COMMENT: "off"})
    assert forged.status_code == 403
    assert modes(mail_org.server, mail_org.id, email) == kinds.DEFAULT_MODES


def test_an_unknown_link_is_a_404_page(mail_org: Org) -> None:
    web = browser_client(mail_org.server)
    for token in (secrets.token_urlsafe(32), "x" * 300):
        path = f"/app/email-preferences/{token}"
        assert web.get(path).status_code == 404
        one_click = web.post(path, data={"List-Unsubscribe": "One-Click"})
        assert one_click.status_code == 404 and "text/html" in one_click.headers["content-type"]


def test_turn_off_all_email_button(mail_org: Org) -> None:
    email = address("button")
    path = link_of(mail_org.server, mail_org.id, email)
    web = browser_client(mail_org.server)
    csrf = csrf_of(web.get(path).text)
    done = web.post(path, data={"csrf_token": csrf, "action": "off", kinds.COMMENT: "instant"})
    assert done.status_code == 303 and done.headers["location"] == path + "?notice=off"
    assert modes(mail_org.server, mail_org.id, email) == ALL_OFF
    assert "no more email" in web.get(done.headers["location"]).text


def test_rfc_8058_one_click_turns_everything_off_in_this_org_only(mail_org: Org) -> None:
    email = address("oneclick")
    other = mail_org.server.new_org(f"Other {secrets.token_hex(4)}")
    path = link_of(mail_org.server, mail_org.id, email)
    link_of(mail_org.server, other.org_id, email)
    # As a mail client posts it: no cookie, no CSRF token; urlencoded or multipart.
    answer = httpx.post(
        mail_org.server.base + path, data={"List-Unsubscribe": "One-Click"}, timeout=30
    )
    assert answer.status_code == 200
    assert modes(mail_org.server, mail_org.id, email) == ALL_OFF
    assert modes(mail_org.server, other.org_id, email) == kinds.DEFAULT_MODES
    multipart = httpx.post(
        mail_org.server.base + link_of(mail_org.server, other.org_id, email),
        files={"List-Unsubscribe": (None, "One-Click")},
        timeout=30,
    )
    assert multipart.status_code == 200
    assert modes(mail_org.server, other.org_id, email) == ALL_OFF
    # Nothing more is queued for them; invitations still are.
    written = enqueue_all(
        mail_org.server,
        [message(mail_org.id, email), message(mail_org.id, email, kind=kinds.INVITE)],
    )
    assert written == [False, True]


def test_choices_made_on_the_page_are_obeyed_by_enqueue(mail_org: Org) -> None:
    email = address("obeyed")
    path = link_of(mail_org.server, mail_org.id, email)
    web = browser_client(mail_org.server)
    csrf = csrf_of(web.get(path).text)
    web.post(path, data={"csrf_token": csrf, kinds.TASK_ASSIGNED: "digest", kinds.COMMENT: "off"})
    written = enqueue_all(
        mail_org.server,
        [
            message(mail_org.id, email, "assigned", kind=kinds.TASK_ASSIGNED),
            message(mail_org.id, email, "comment", kind=kinds.COMMENT),
            message(mail_org.id, email, "issue", kind=kinds.ISSUE),
        ],
    )
    assert written == [True, False, True]
    rows = {
        r["subject"]: r["status"]
        for r in outbox(mail_org.server, mail_org.id)
        if r["to_email"] == email
    }
    assert rows["assigned"] == "held" and "comment" not in rows
    assert rows["issue"] in ("pending", "sent")


def test_a_signed_in_member_chooses_in_the_app(mail_org: Org) -> None:
    _, email, _ = member(mail_org, "standard")
    anonymous = browser_client(mail_org.server).get("/app/settings/email")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/app/sign-in")
    web = signed_in(mail_org.server, email)
    tasks = web.get("/app/tasks")
    assert 'href="/app/settings/email"' in tasks.text
    page = web.get("/app/settings/email")
    assert page.status_code == 200 and email in page.text
    assert checked(page.text) == kinds.DEFAULT_MODES
    saved = web.post(
        "/app/settings/email",
        data={
            "csrf_token": csrf_of(page.text),
            kinds.PROCESS_COMPLETED: "off",
            kinds.DAILY_DIGEST: "digest",
        },
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/app/settings/email?notice=saved"
    assert modes(mail_org.server, mail_org.id, email) == {
        **kinds.DEFAULT_MODES,
        kinds.PROCESS_COMPLETED: "off",
        kinds.DAILY_DIGEST: "digest",
    }
    # The same choices as the footer link's page shows.
    link_page = browser_client(mail_org.server).get(link_of(mail_org.server, mail_org.id, email))
    assert checked(link_page.text)[kinds.PROCESS_COMPLETED] == "off"
    refused = web.post(
        "/app/settings/email", data={"csrf_token": csrf_of(page.text), kinds.COMMENT: "loud"}
    )
    assert refused.status_code == 422
    forged = web.post("/app/settings/email", data={kinds.COMMENT: "off"})
    assert forged.status_code == 403
