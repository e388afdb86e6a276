"""Email leaves through a real SMTP server: what a committed outbox row becomes on the wire,
that a rolled-back one never leaves, retries through an outage, a final refusal, two server
processes on one database, expired leases, TLS, and the SMTP URL's forms."""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy.ext.asyncio import AsyncSession

from checkrun import migrate
from checkrun.app import create_app
from checkrun.config import Settings
from checkrun.mail import kinds
from checkrun.mail.models import MailMessage
from checkrun.mail.prefs import set_modes
from checkrun.mail.transport import SmtpTarget, SmtpTransport, build_message, parse_smtp_url
from checkrun.mail.worker import OFF_NOTICE
from tests.conftest import LiveServer, Org, free_port, live_server, new_org
from tests.mail.conftest import FAST_MAIL
from tests.support.clock import MovableClock
from tests.support.outbox import (
    address,
    all_in,
    attempted,
    enqueue_all,
    in_session,
    message,
    outbox,
    wait_rows,
)
from tests.support.serving import serve_process
from tests.support.smtp import SmtpServer
from tests.support.tls import self_signed, server_context

SMTP_USER, SMTP_PASSWORD = "mailer@example.com", "p@ss:w/rd %"


# --- what arrives ------------------------------------------------------------------------------


def test_a_committed_email_is_received_once_with_its_headers(
    mail_org: Org, smtp: SmtpServer
) -> None:
    to = address()
    assert enqueue_all(
        mail_org.server,
        [
            message(
                mail_org.id,
                to.upper(),
                "Task assigned: Review the contract",
                to_name="Ada Lovelace",
            )
        ],
    ) == [True]
    (got,) = smtp.wait_for(lambda m: to in m.recipients)
    assert got.subject == "Task assigned: Review the contract"
    assert got.message["From"] == FAST_MAIL["mail_from"]
    assert got.sender == "checkrun@example.com"
    assert got.to == f"Ada Lovelace <{to}>"
    assert got.text.strip() == "Plain: Task assigned: Review the contract"
    assert got.html.strip() == "<p>HTML: Task assigned: Review the contract</p>"
    assert got.message.get_content_type() == "multipart/alternative"
    assert got.message["Date"] and got.message["Auto-Submitted"] == "auto-generated"
    (row,) = wait_rows(mail_org.server, mail_org.id, all_in("sent", 1))
    assert got.message["Message-ID"] == f"<{row['id']}@example.com>"
    assert row["attempts"] == 1 and row["sent_at"] is not None and row["last_error"] is None
    unsubscribe = str(got.message["List-Unsubscribe"])
    prefix = f"<{mail_org.server.base}/app/email-preferences/"
    assert unsubscribe.startswith(prefix) and unsubscribe.endswith(">")
    assert got.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The link opens this address's page.
    page = httpx.get(unsubscribe[1:-1], timeout=30)
    assert page.status_code == 200 and to in page.text
    assert len(smtp.to(to)) == 1


def test_invites_have_no_unsubscribe_header(mail_org: Org, smtp: SmtpServer) -> None:
    to = address()
    enqueue_all(mail_org.server, [message(mail_org.id, to, "You are invited", kind=kinds.INVITE)])
    (got,) = smtp.wait_for(lambda m: to in m.recipients)
    assert got.message["List-Unsubscribe"] is None


def test_a_rolled_back_transaction_sends_nothing(mail_org: Org, smtp: SmtpServer) -> None:
    undone, kept = address("undone"), address("kept")
    enqueue_all(mail_org.server, [message(mail_org.id, undone)], commit=False)
    enqueue_all(mail_org.server, [message(mail_org.id, kept)])
    smtp.wait_for(lambda m: kept in m.recipients)
    (row,) = wait_rows(mail_org.server, mail_org.id, all_in("sent", 1))
    assert row["to_email"] == kept
    assert smtp.to(undone) == []


def test_choices_are_obeyed_when_enqueued(mail_org: Org) -> None:
    quiet, gathered = address("quiet"), address("gathered")

    async def choose(db: AsyncSession) -> None:
        await set_modes(db, mail_org.id, quiet, {kinds.TASK_ASSIGNED: "off"})
        await set_modes(db, mail_org.id, gathered, {kinds.TASK_ASSIGNED: "digest"})

    in_session(mail_org.server, choose)
    written = enqueue_all(
        mail_org.server,
        [
            message(mail_org.id, quiet),
            message(mail_org.id, gathered),
            message(mail_org.id, quiet, kind=kinds.PASSWORD_RESET),
        ],
    )
    assert written == [False, True, True]
    statuses = {
        (r["to_email"], r["kind"]): r["status"] for r in outbox(mail_org.server, mail_org.id)
    }
    assert statuses[(gathered, kinds.TASK_ASSIGNED)] == "held"
    assert (quiet, kinds.TASK_ASSIGNED) not in statuses
    assert statuses[(quiet, kinds.PASSWORD_RESET)] in ("pending", "sent")


# --- time frozen: retries happen only when the test moves the clock ---------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def clocked(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer
) -> Iterator[tuple[LiveServer, MovableClock]]:
    folder = tmp_path_factory.mktemp(f"mail-clock-{request.param}")
    clock = MovableClock(folder / "clock.txt")
    with live_server(
        request.param,
        folder,
        smtp_url=smtp.url,
        clock_file=clock.path,
        **{**FAST_MAIL, "mail_max_attempts": 3},
    ) as live:
        yield live, clock


@pytest.fixture
def clocked_org(clocked: tuple[LiveServer, MovableClock], smtp: SmtpServer) -> Iterator[Org]:
    smtp.accept()
    with new_org(clocked[0]) as made:
        yield made
    smtp.accept()


def test_an_outage_then_recovery_delivers_everything_once(
    clocked: tuple[LiveServer, MovableClock], clocked_org: Org, smtp: SmtpServer
) -> None:
    server, clock = clocked
    targets = [address(f"outage{i}") for i in range(5)]
    smtp.refuse()
    enqueue_all(server, [message(clocked_org.id, to) for to in targets])
    failed = wait_rows(
        server,
        clocked_org.id,
        lambda rows: len(rows) == 5 and all(r["attempts"] == 1 for r in rows),
    )
    assert {r["status"] for r in failed} == {"pending"}
    assert all("451" in (r["last_error"] or "") for r in failed)
    assert all(r["next_attempt_at"] > r["last_attempt_at"] for r in failed)
    smtp.accept()
    clock.advance(seconds=5)  # past every backoff
    smtp.wait_for(lambda m: m.recipients[0] in targets, count=5)
    rows = wait_rows(server, clocked_org.id, all_in("sent", 5))
    assert {r["attempts"] for r in rows} == {2}
    assert Counter(
        m.recipients[0] for m in smtp.messages if m.recipients[0] in targets
    ) == dict.fromkeys(targets, 1)


def test_a_failure_after_the_last_attempt_is_dead(
    clocked: tuple[LiveServer, MovableClock], clocked_org: Org, smtp: SmtpServer
) -> None:
    server, clock = clocked
    smtp.refuse()
    enqueue_all(server, [message(clocked_org.id, address("down"))])
    for attempt in (1, 2):
        wait_rows(server, clocked_org.id, attempted(attempt))
        clock.advance(seconds=5)
    (row,) = wait_rows(server, clocked_org.id, all_in("dead", 1))
    assert row["attempts"] == 3 and "451" in row["last_error"]


def test_a_permanent_refusal_is_dead_after_one_try(
    clocked: tuple[LiveServer, MovableClock], clocked_org: Org, smtp: SmtpServer
) -> None:
    server, clock = clocked
    gone, fine = address("gone"), address("fine")
    smtp.reject(gone)
    enqueue_all(server, [message(clocked_org.id, gone), message(clocked_org.id, fine)])
    smtp.wait_for(lambda m: fine in m.recipients)
    rows = wait_rows(
        server, clocked_org.id, lambda rows: all(r["status"] in ("dead", "sent") for r in rows)
    )
    status = {r["to_email"]: (r["status"], r["attempts"]) for r in rows}
    assert status == {gone: ("dead", 1), fine: ("sent", 1)}
    dead = next(r for r in rows if r["to_email"] == gone)
    assert "550" in dead["last_error"]
    clock.advance(hours=2)
    # Once a later email went out, the worker has looked again: the dead one stays dead.
    marker = address("marker")
    enqueue_all(server, [message(clocked_org.id, marker)])
    smtp.wait_for(lambda m: marker in m.recipients)
    assert smtp.to(gone) == []
    again = {r["to_email"]: (r["status"], r["attempts"]) for r in outbox(server, clocked_org.id)}
    assert again[gone] == ("dead", 1)


def test_an_expired_lease_is_taken_over_and_sent_once(
    clocked: tuple[LiveServer, MovableClock], clocked_org: Org, smtp: SmtpServer
) -> None:
    server, clock = clocked
    crashed, busy = address("crashed"), address("busy")
    moment = clock.moment

    async def add(db: AsyncSession) -> None:
        db.add_all(
            [
                MailMessage(
                    org_id=clocked_org.id,
                    kind=kinds.COMMENT,
                    to_email=crashed,
                    subject="Left by a crash",
                    text="t",
                    html="<p>h</p>",
                    next_attempt_at=moment,
                    lease_token="b" * 32,
                    lease_until=moment - timedelta(seconds=1),
                ),
                MailMessage(
                    org_id=clocked_org.id,
                    kind=kinds.COMMENT,
                    to_email=busy,
                    subject="Another worker has it",
                    text="t",
                    html="<p>h</p>",
                    next_attempt_at=moment,
                    lease_token="a" * 32,
                    lease_until=moment + timedelta(minutes=10),
                ),
            ]
        )

    in_session(server, add)
    smtp.wait_for(lambda m: crashed in m.recipients)
    rows = wait_rows(server, clocked_org.id, lambda rows: any(r["status"] == "sent" for r in rows))
    by_address = {r["to_email"]: r for r in rows}
    assert by_address[busy]["status"] == "pending" and by_address[busy]["attempts"] == 0
    assert smtp.to(busy) == []
    clock.advance(minutes=11)  # the other worker's lease runs out: it is taken over
    smtp.wait_for(lambda m: busy in m.recipients)
    wait_rows(server, clocked_org.id, all_in("sent", 2))
    assert len(smtp.to(crashed)) == 1 and len(smtp.to(busy)) == 1


# --- two servers on one database ------------------------------------------------------------


def _env_of(settings: Settings, port: int) -> dict[str, str]:
    """The environment of a `checkrun serve` with these settings on `port`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHECKRUN_")}
    env.update(
        CHECKRUN_DATA_DIR=str(settings.data_dir),
        CHECKRUN_PORT=str(port),
        CHECKRUN_PUBLIC_URL=f"http://127.0.0.1:{port}",
        CHECKRUN_SMTP_URL=settings.smtp_url or "",
    )
    if settings.database_url:
        env["CHECKRUN_DATABASE_URL"] = settings.database_url
    for name, value in FAST_MAIL.items():
        env[f"CHECKRUN_{name.upper()}"] = str(value)
    return env


@pytest.fixture(scope="module")
def twin(mail_server: LiveServer) -> Iterator[str]:
    """Another process, `checkrun serve`, on `mail_server`'s database (the same SQLite file,
    the same PostgreSQL database) and SMTP server; yields its base URL."""
    port = free_port()
    with serve_process([], _env_of(mail_server.settings, port), port, timeout=60) as base:
        yield base


def test_two_servers_on_one_database_send_each_email_once(
    mail_org: Org, twin: str, smtp: SmtpServer
) -> None:
    count = 60
    targets = [address(f"many{i}") for i in range(count)]
    enqueue_all(
        mail_org.server, [message(mail_org.id, to, f"Many {i}") for i, to in enumerate(targets)]
    )
    smtp.wait_for(lambda m: m.recipients[0] in targets, count=count)
    rows = wait_rows(mail_org.server, mail_org.id, all_in("sent", count))
    assert {r["attempts"] for r in rows} == {1}
    sent = Counter(m.recipients[0] for m in smtp.messages if m.recipients[0] in targets)
    assert sent == dict.fromkeys(targets, 1)


# --- TLS and authentication -------------------------------------------------------------------


class _Credentials:
    def __call__(
        self, server: object, session: object, envelope: object, mechanism: str, auth_data: object
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == SMTP_USER
            and auth_data.password.decode() == SMTP_PASSWORD
        )
        return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture(scope="module")
def starttls_box(certificate: tuple[Path, Path]) -> Iterator[SmtpServer]:
    box = SmtpServer(
        tls_context=server_context(*certificate),
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=_Credentials(),
    )
    box.start()
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture(scope="module")
def smtps_box(certificate: tuple[Path, Path]) -> Iterator[SmtpServer]:
    box = SmtpServer(ssl_context=server_context(*certificate))
    box.start()
    try:
        yield box
    finally:
        box.stop()


def _credentials_in_url() -> str:
    from urllib.parse import quote

    return f"{quote(SMTP_USER, safe='')}:{quote(SMTP_PASSWORD, safe='')}"


TLS_CASES = [
    ("sqlite", "starttls"),
    ("sqlite", "smtps"),
    ("postgresql", "starttls"),
    ("postgresql", "smtps"),
]


@pytest.fixture(scope="module", params=TLS_CASES, ids=["-".join(c) for c in TLS_CASES])
def tls_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    certificate: tuple[Path, Path],
    starttls_box: SmtpServer,
    smtps_box: SmtpServer,
) -> Iterator[tuple[LiveServer, SmtpServer, str]]:
    """One (database, TLS mode) at a time: (server, the SMTP server it sends to, mode)."""
    backend, mode = request.param
    if mode == "starttls":
        url = f"smtp://{_credentials_in_url()}@127.0.0.1:{starttls_box.port}?starttls=true"
    else:
        url = f"smtps://127.0.0.1:{smtps_box.port}"
    box = starttls_box if mode == "starttls" else smtps_box
    with live_server(
        backend,
        tmp_path_factory.mktemp(f"tls-{mode}-{backend}"),
        smtp_url=url,
        smtp_ca_file=certificate[0],
        **FAST_MAIL,
    ) as live:
        yield live, box, mode


def test_tls_with_a_configured_ca(tls_server: tuple[LiveServer, SmtpServer, str]) -> None:
    server, box, mode = tls_server
    with new_org(server) as org:
        to = address(mode)
        enqueue_all(server, [message(org.id, to, f"Over {mode}")])
        (got,) = box.wait_for(lambda m: to in m.recipients)
        assert got.subject == f"Over {mode}"
        wait_rows(server, org.id, all_in("sent", 1))


def test_an_untrusted_certificate_is_retried_not_sent(mail_org: Org, smtps_box: SmtpServer) -> None:
    settings = mail_org.server.settings.model_copy(
        update={"smtp_url": f"smtps://127.0.0.1:{smtps_box.port}", "smtp_ca_file": None}
    )
    row = MailMessage(
        id="f" * 32,
        org_id=mail_org.id,
        kind=kinds.COMMENT,
        to_email=address("untrusted"),
        subject="s",
        text="t",
        html="<p>h</p>",
    )
    outcome = asyncio.run(SmtpTransport(settings).send(row, None))
    assert not outcome.ok and not outcome.final
    assert "certificate" in (outcome.error or "").lower()
    assert smtps_box.to(row.to_email) == []


def test_wrong_credentials_are_retried(
    mail_org: Org, starttls_box: SmtpServer, certificate: tuple[Path, Path]
) -> None:
    settings = mail_org.server.settings.model_copy(
        update={
            "smtp_url": f"smtp://{SMTP_USER}:wrong@127.0.0.1:{starttls_box.port}?starttls=true",
            "smtp_ca_file": certificate[0],
        }
    )
    row = MailMessage(
        id="e" * 32,
        org_id=mail_org.id,
        kind=kinds.COMMENT,
        to_email=address("badauth"),
        subject="s",
        text="t",
        html="<p>h</p>",
    )
    outcome = asyncio.run(SmtpTransport(settings).send(row, None))
    assert not outcome.ok and not outcome.final and "535" in (outcome.error or "")


# --- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("smtp://mail.example.com", SmtpTarget("mail.example.com", 25)),
        (
            "smtp://u%40x.org:p%3Ass%2F@mail.example.com:2525",
            SmtpTarget("mail.example.com", 2525, "u@x.org", "p:ss/"),
        ),
        ("smtps://mail.example.com", SmtpTarget("mail.example.com", 465, use_tls=True)),
        (
            "smtp://a:b@mail.example.com?starttls=true",
            SmtpTarget("mail.example.com", 587, "a", "b", start_tls=True),
        ),
        (
            "smtp://mail.example.com:25?starttls=true",
            SmtpTarget("mail.example.com", 25, start_tls=True),
        ),
        ("smtp://mail.example.com/?starttls=false", SmtpTarget("mail.example.com", 25)),
    ],
)
def test_smtp_url_forms(url: str, target: SmtpTarget) -> None:
    assert parse_smtp_url(url) == target


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://mail.example.com", "smtp:// or smtps://"),
        ("mail.example.com:25", "smtp:// or smtps://"),
        ("smtp://", "no host"),
        ("smtp://mail.example.com:99999", "port"),
        ("smtp://mail.example.com:abc", "port"),
        ("smtps://mail.example.com?starttls=true", "TLS already"),
        ("smtp://mail.example.com?starttls=maybe", "true or false"),
        ("smtp://mail.example.com?tls=1", "unknown parameter"),
        ("smtp://mail.example.com/inbox", "no path"),
        ("smtp://user@mail.example.com", "user name and a password"),
        ("smtp://:secret@mail.example.com", "user name and a password"),
    ],
)
def test_a_bad_smtp_url_is_refused_with_what_is_wrong(url: str, says: str) -> None:
    with pytest.raises(ValueError, match="CHECKRUN_SMTP_URL") as refused:
        parse_smtp_url(url)
    assert says in str(refused.value)


def test_the_app_refuses_to_start_with_bad_mail_settings(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="CHECKRUN_SMTP_URL"):
        create_app(Settings(data_dir=tmp_path, smtp_url="smtp://"))
    with pytest.raises(ValueError, match="CHECKRUN_MAIL_FROM"):
        create_app(Settings(data_dir=tmp_path, smtp_url="smtp://127.0.0.1", mail_from="nobody"))
    with pytest.raises(ValueError, match="CHECKRUN_SMTP_CA_FILE"):
        create_app(
            Settings(
                data_dir=tmp_path,
                smtp_url="smtps://127.0.0.1",
                smtp_ca_file=tmp_path / "missing.pem",
            )
        )


def test_without_smtp_nothing_is_queued_and_one_line_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(data_dir=tmp_path)
    migrate.upgrade(settings.resolved_database_url)
    app = create_app(settings)

    async def lifespan() -> None:
        async with app.router.lifespan_context(app):
            pass

    with caplog.at_level(logging.INFO, logger="checkrun.mail"):
        asyncio.run(lifespan())
    said = [r.getMessage() for r in caplog.records if r.name == "checkrun.mail"]
    assert said == [OFF_NOTICE] and "CHECKRUN_SMTP_URL" in said[0]


def test_enqueue_writes_nothing_without_smtp(mail_org: Org) -> None:
    """A session carrying settings without CHECKRUN_SMTP_URL, on the same database."""
    off = LiveServer(
        mail_org.server.backend,
        mail_org.server.settings.model_copy(update={"smtp_url": None}),
        mail_org.server.base,
    )
    assert enqueue_all(off, [message(mail_org.id, address())]) == [False]
    assert outbox(off, mail_org.id) == []


def test_a_message_is_the_same_bytes_each_time_and_leaves_random_alone() -> None:
    """The boundary is the row's: a message sent again is byte-identical (apart from its
    Date), and building it does not draw from the process-wide `random` state (which
    hypothesis, fuzzing the API in the same process, watches)."""
    row = MailMessage(
        id="0" * 32,
        kind="assigned",
        to_email="a@example.com",
        to_name="A",
        subject="Hello",
        text="Plain",
        html="<p>Rich</p>",
    )
    state = random.getstate()
    first = build_message(row, "checkrun <checkrun@example.com>", None)
    second = build_message(row, "checkrun <checkrun@example.com>", None)
    del first["Date"], second["Date"]
    assert first.as_bytes() == second.as_bytes()
    assert random.getstate() == state
    assert first.get_boundary() == f"===============checkrun-{row.id}=="
