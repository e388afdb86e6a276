"""Invitations and password resets by email once SMTP is configured: the API's and the web
app's invite email a link to choose a password (the admin is told it was sent, not shown it),
and forgot-password emails the link without telling who has an account."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx

from tests.conftest import LiveServer, Org, live_server, new_org
from tests.mail.conftest import FAST_MAIL
from tests.mail.support import assert_escaped, mail_to, outbox, person
from tests.support.factories import ok
from tests.support.smtp import SmtpServer
from tests.web.conftest import PASSWORD, browser_client, csrf_of, set_password, signed_in

LINK = re.compile(r"(http://[^\s\"<>]+/app/password/ckp_[A-Za-z0-9_-]+)")


def _link(text: str) -> str:
    found = LINK.search(text)
    assert found, f"no password link in {text!r}"
    return found.group(1)


def _choose_password(server: LiveServer, link: str) -> httpx.Response:
    web = browser_client(server)
    form = web.get(link)
    assert form.status_code == 200 and "Choose your password" in form.text
    return web.post(
        link,
        data={"csrf_token": csrf_of(form.text), "password": PASSWORD, "password_again": PASSWORD},
    )


def test_an_api_invitation_emails_a_link_to_choose_a_password(
    mail_org: Org, smtp: SmtpServer
) -> None:
    email = f"new-{uuid.uuid4().hex[:8]}@example.com"
    ok(
        mail_org.api.post(
            mail_org.path("/users/invite"),
            json={
                "email": email,
                "first_name": "Nia",
                "last_name": "New",
                "role": "standard",
                "message": "Welcome aboard",
            },
        )
    )
    [mail] = mail_to(smtp, email, "invited you to")
    assert mail.subject == "Admin User invited you to Test Org on checkrun"
    link = _link(mail.text)
    assert link.startswith(mail_org.server.base) and f'href="{link}"' in mail.html
    assert "Hello Nia New" in mail.text and "expires in 7 days" in mail.text
    chosen = _choose_password(mail_org.server, link)
    assert chosen.status_code == 303, chosen.text
    users = ok(mail_org.api.get(mail_org.path("/users")))
    assert next(u for u in users if u["email"] == email)["status"] == "active"


def test_the_web_invite_says_the_invitation_was_sent(mail_org: Org, smtp: SmtpServer) -> None:
    set_password(mail_org.server, mail_org.admin_email)
    web = signed_in(mail_org.server, mail_org.admin_email)
    email = f"web-{uuid.uuid4().hex[:8]}@example.com"
    page = web.get("/app/people")
    shown = web.post(
        "/app/people/invite",
        data={
            "csrf_token": csrf_of(page.text),
            "email": email,
            "first_name": "Wes",
            "last_name": "<script>x</script> & <b>bold</b>",
            "role": "light",
        },
    )
    assert shown.status_code == 200, shown.text
    assert f"Invitation sent to {email}" in shown.text and "/app/password/" not in shown.text
    [mail] = mail_to(smtp, email, "invited you to")
    assert "Hello Wes <script>x</script> & <b>bold</b>" in mail.text
    assert_escaped(mail.html)
    assert _choose_password(mail_org.server, _link(mail.text)).status_code == 303


def test_forgot_password_emails_the_link_and_tells_nobody_who_has_an_account(
    mail_org: Org, smtp: SmtpServer
) -> None:
    _, email, _ = person(mail_org)
    set_password(mail_org.server, email, "an old password 123")
    nobody = f"nobody-{uuid.uuid4().hex[:6]}@example.com"
    web = browser_client(mail_org.server)
    form = web.get("/app/forgot-password")
    answers = [
        web.post("/app/forgot-password", data={"csrf_token": csrf_of(form.text), "email": address})
        for address in (email, nobody)
    ]
    assert [a.status_code for a in answers] == [200, 200]
    strip = [re.sub(r'value="[^"]*"', "", a.text) for a in answers]
    assert strip[0] == strip[1] and "we have emailed it a link" in strip[0]

    [mail] = mail_to(smtp, email, "Reset your checkrun password")
    assert "expires in 60 minutes" in mail.text and "ignore this email" in mail.text
    assert _choose_password(mail_org.server, _link(mail.text)).status_code == 303
    signed_in(mail_org.server, email, PASSWORD)
    assert outbox(mail_org.server, "to_email = :to", to=nobody) == []


def test_a_forged_host_header_never_reaches_the_link_in_a_reset_email(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    """Password-reset poisoning: whoever asks for a reset of someone else's address, with their
    own site in the Host header, must not get that site into the victim's email, even on a
    server without CHECKRUN_PUBLIC_URL."""
    with (
        live_server("sqlite", tmp_path, smtp_url=smtp.url, public_url=None, **FAST_MAIL) as server,
        new_org(server) as org,
    ):
        _, email, _ = person(org)
        web = browser_client(server)
        form = web.get("/app/forgot-password")
        asked = web.post(
            "/app/forgot-password",
            headers={"Host": "attacker.example"},
            data={"csrf_token": csrf_of(form.text), "email": email},
        )
        assert asked.status_code == 200, asked.text
        [mail] = mail_to(smtp, email, "Reset your checkrun password")
    assert "attacker.example" not in mail.text + mail.html
    assert _link(mail.text).startswith("http://127.0.0.1:8000/app/password/")


def test_links_of_a_server_on_every_address_name_localhost() -> None:
    from checkrun.config import Settings
    from checkrun.mail.links import base_of

    assert base_of(Settings(host="0.0.0.0", port=8123)) == "http://localhost:8123"
    assert base_of(Settings(host="10.0.0.5", port=80)) == "http://10.0.0.5:80"
    assert base_of(Settings(public_url="https://work.example.com/")) == "https://work.example.com"
