"""A live server per database that sends email to a real SMTP server (aiosmtpd) on a loopback
port, with quick retries; and organizations on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import LiveServer, Org, live_server, new_org
from tests.support.smtp import SmtpServer

# Small settings so that retries and dead letters happen within a test.
FAST_MAIL = {
    "mail_max_attempts": 4,
    "mail_backoff_seconds": 0.05,
    "mail_backoff_max_seconds": 0.3,
    "mail_timeout_seconds": 5.0,
    "mail_poll_seconds": 0.2,
    "mail_from": "checkrun <checkrun@example.com>",
}


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpServer]:
    box = SmtpServer().start()
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def mail_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer
) -> Iterator[LiveServer]:
    with live_server(
        request.param,
        tmp_path_factory.mktemp(f"mail-{request.param}"),
        smtp_url=smtp.url,
        **FAST_MAIL,
    ) as live:
        yield live


@pytest.fixture
def mail_org(mail_server: LiveServer, smtp: SmtpServer) -> Iterator[Org]:
    smtp.accept()
    with new_org(mail_server) as made:
        yield made
