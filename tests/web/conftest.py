"""Helpers of the web app's tests: passwords and sign-in links arranged as the CLI does, a
browser shared by the session (Debian's Chromium, driven by Playwright)."""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.db import make_engine, make_sessionmaker
from checkrun.oauth import service as oauth
from checkrun.web import auth
from tests.conftest import LiveServer, Org, handed_out, live_server

T = TypeVar("T")
PASSWORD = "correct horse battery"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def in_thread(work: Callable[[], T]) -> T:
    """Playwright's sync API keeps an event loop running in the test's thread, where
    `asyncio.run` (database set-up, new organizations) can't run: those run in another."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(work).result()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """As the suite's `server`, started and stopped outside the browser's event loop."""
    managed = live_server(request.param, tmp_path_factory.mktemp(f"web-{request.param}"))
    live = in_thread(managed.__enter__)
    try:
        yield live
    finally:
        in_thread(lambda: managed.__exit__(None, None, None))


@pytest.fixture
def org(server: LiveServer) -> Iterator[Org]:
    boot = in_thread(server.new_org)
    with server.client(boot.token) as api:
        yield Org(server, boot.org_id, boot.user_id, boot.email, boot.token, api)


def in_db(server: LiveServer, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = make_engine(server.settings.resolved_database_url)
        try:
            async with make_sessionmaker(engine)() as db:
                result = await work(db)
                await db.commit()
                return result
        finally:
            await engine.dispose()

    return in_thread(lambda: asyncio.run(run()))


def set_password(server: LiveServer, email: str, password: str = PASSWORD) -> None:
    in_db(server, lambda db: oauth.set_password(db, email, password))


def sign_in_link(server: LiveServer, email: str) -> str:
    token = in_db(server, lambda db: auth.issue_sign_in_link(db, email, 3600))
    return f"/app/sign-in/link/{token}"


def member(org: Org, role: str) -> tuple[int, str, httpx.Client]:
    """A new member with `role` and a password: id, email, API client."""
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    made = org.api.post(
        f"/applications/{org.id}/users",
        json={"email": email, "first_name": role.title(), "last_name": "Member", "role": role},
    )
    assert made.status_code == 201, made.text
    token = org.api.post(f"/applications/{org.id}/users/{email}/token")
    assert token.status_code == 200, token.text
    set_password(org.server, email)
    return made.json()["data"]["id"], email, org.client(token.json()["access_token"])


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def browser_client(server: LiveServer) -> httpx.Client:
    return handed_out(
        httpx.Client(base_url=server.base, timeout=60, headers={"Accept": "text/html"})
    )


def signed_in(server: LiveServer, email: str, password: str = PASSWORD) -> httpx.Client:
    """An HTTP client holding a web session (no JavaScript: forms posted as a browser does)."""
    web = browser_client(server)
    form = web.get("/app/sign-in")
    done = web.post(
        "/app/sign-in",
        data={"csrf_token": csrf_of(form.text), "email": email, "password": password},
    )
    assert done.status_code == 303, done.text
    return web


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One browser for the browser tests' module. Not for the whole session: while Playwright's
    sync API runs, its event loop sits in the test thread, where the suite's other fixtures
    call `asyncio.run`; it stops when pytest leaves the module."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CHECKRUN_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is required (CHECKRUN_REQUIRE_BROWSER=1) but missing")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def context(server: LiveServer, browser: Any) -> Iterator[Any]:
    made = browser.new_context(base_url=server.base, viewport={"width": 375, "height": 800})
    made.set_default_timeout(20_000)
    try:
        yield made
    finally:
        made.close()


def screenshot(page: Any, name: str) -> None:
    """Saved only when asked (CHECKRUN_SCREENSHOTS=1): they are the README's pictures."""
    if os.environ.get("CHECKRUN_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
