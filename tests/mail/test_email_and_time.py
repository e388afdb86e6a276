"""Email and time together, as a person meets them: the scheduler of a live server (whose clock
the test moves) reminds an assignee over real SMTP at the right moments and once each; the
preferences link in that email turns the daily digest on, and the digest arrives at the
member's next local morning; a process of two servers on one database sends each once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import LiveServer, Org, live_server, new_org
from tests.mail.conftest import FAST_MAIL
from tests.scheduler.conftest import FAST_SCHEDULER, one_off, ticks
from tests.support.clock import MovableClock
from tests.support.smtp import Received, SmtpServer
from tests.web.conftest import browser_client, csrf_of

MONDAY = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
DEADLINE = MONDAY + timedelta(days=2, hours=3)  # Wednesday 12:00 UTC
PREFERENCES = re.compile(r"(http://[^\s\"<>]+/app/email-preferences/[A-Za-z0-9_-]+)")


@pytest.fixture(scope="module")
def clock(tmp_path_factory: pytest.TempPathFactory) -> MovableClock:
    return MovableClock(tmp_path_factory.mktemp("clock") / "now.txt", MONDAY)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def timed(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    smtp: SmtpServer,
    clock: MovableClock,
) -> Iterator[LiveServer]:
    with live_server(
        request.param,
        tmp_path_factory.mktemp(f"timed-{request.param}"),
        smtp_url=smtp.url,
        clock_file=clock.path,
        **FAST_MAIL,
        **FAST_SCHEDULER,
    ) as live:
        yield live


@pytest.fixture
def timed_org(timed: LiveServer, clock: MovableClock, smtp: SmtpServer) -> Iterator[Org]:
    clock.set(MONDAY)
    smtp.accept()
    with new_org(timed) as made:
        yield made


def _member(org: Org) -> tuple[int, str]:
    user_id, client = org.member("standard")
    me = client.get("/me")
    assert me.status_code == 200, me.text
    return user_id, str(me.json()["data"]["email"])


def _at(clock: MovableClock, server: LiveServer, moment: datetime, job: str) -> None:
    clock.set(moment)
    ticks(server, job)


def _reminders(smtp: SmtpServer, email: str, title: str) -> list[str]:
    return [
        m.subject
        for m in smtp.to(email)
        if title in m.subject and m.subject.split(":")[0] in ("Due soon", "Overdue")
    ]


def test_an_assignee_is_reminded_by_email_at_each_moment_once(
    timed: LiveServer, timed_org: Org, clock: MovableClock, smtp: SmtpServer
) -> None:
    user_id, email = _member(timed_org)
    title = "Send the quarterly report"
    task = one_off(timed_org, DEADLINE, title=title, owners={"users": [user_id]})

    _at(clock, timed, DEADLINE - timedelta(hours=24, seconds=1), "reminders")
    assert _reminders(smtp, email, title) == []
    _at(clock, timed, DEADLINE - timedelta(hours=24), "reminders")
    soon = smtp.wait_for(lambda m: m.subject == f"Due soon: {title}" and email in m.recipients)
    _at(clock, timed, DEADLINE - timedelta(seconds=1), "reminders")
    assert _reminders(smtp, email, title) == [f"Due soon: {title}"]
    _at(clock, timed, DEADLINE, "reminders")
    smtp.wait_for(lambda m: m.subject == f"Overdue: {title}" and email in m.recipients)
    _at(clock, timed, DEADLINE + timedelta(days=2), "reminders")
    assert sorted(_reminders(smtp, email, title)) == sorted(
        [f"Due soon: {title}", f"Overdue: {title}"]
    )

    mail: Received = soon[0]
    assert f"/app/tasks/{task['id']}" in mail.text
    assert title in mail.html and PREFERENCES.search(mail.text)
    # The admin who created the task is not its assignee: nothing was sent to them.
    assert _reminders(smtp, timed_org.admin_email, title) == []


def test_the_footer_link_turns_on_the_digest_which_comes_the_next_local_morning(
    timed: LiveServer, timed_org: Org, clock: MovableClock, smtp: SmtpServer
) -> None:
    user_id, email = _member(timed_org)
    title = "Review the contract"
    one_off(timed_org, DEADLINE, title=title, owners={"users": [user_id]})
    assigned = smtp.wait_for(lambda m: email in m.recipients and title in m.subject)[0]
    found = PREFERENCES.search(assigned.text)
    assert found is not None
    path = found.group(1).removeprefix(timed.base)
    web = browser_client(timed)
    page = web.get(path)
    saved = web.post(
        path, data={"csrf_token": csrf_of(page.text), "action": "save", "daily_digest": "digest"}
    )
    assert saved.status_code == 303, saved.text

    def digests() -> list[Received]:
        return [m for m in smtp.to(email) if m.subject.startswith("Your daily digest")]

    # Members are in UTC unless they say otherwise: the digest is due at 06:00 UTC Tuesday.
    _at(clock, timed, datetime(2030, 1, 8, 5, 59, tzinfo=UTC), "daily_digest")
    assert digests() == []
    _at(clock, timed, datetime(2030, 1, 8, 6, 0, tzinfo=UTC), "daily_digest")
    mail = smtp.wait_for(
        lambda m: email in m.recipients and m.subject.startswith("Your daily digest")
    )[0]
    assert title in mail.text
    _at(clock, timed, datetime(2030, 1, 8, 12, 0, tzinfo=UTC), "daily_digest")
    assert len(digests()) == 1
