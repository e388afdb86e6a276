"""The token -> actor cache: a cached request reads nothing about its token or membership, and
every change made in the process is seen by the very next request, however long the TTL. The
server here trusts its cache for ten minutes, so only invalidation can explain a refusal."""

from __future__ import annotations

import itertools
import os
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests.conftest import LiveServer, Org, live_server, new_org
from tests.oauth.conftest import OAuthSetup, new_client, set_password, token_post
from tests.support.clock import MovableClock
from tests.support.factories import group, ok, one_off_task

LONG_TTL = 600.0
TOKEN_SECONDS = 3600
_stamps = itertools.count(1)
AUTH_TABLES = re.compile(r"\b(access_tokens|memberships)\b")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def clocked(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, MovableClock]]:
    data = tmp_path_factory.mktemp(f"authcache-{request.param}")
    clock = MovableClock(tmp_path_factory.mktemp("clock") / "now")
    overrides: dict[str, Any] = {
        "clock_file": clock.path,
        "auth_cache_seconds": LONG_TTL,
        "oauth_access_token_seconds": TOKEN_SECONDS,
    }
    with live_server(request.param, data, **overrides) as live:
        yield live, clock


@pytest.fixture
def org(clocked: tuple[LiveServer, MovableClock]) -> Iterator[Org]:
    with new_org(clocked[0]) as made:
        yield made


def move(clocked: tuple[LiveServer, MovableClock], **delta: float) -> None:
    clock = clocked[1]
    clock.advance(**delta)
    stamp = time.time_ns() + next(_stamps) * 1_000_000
    os.utime(clock.path, ns=(stamp, stamp))


class Statements:
    """Every statement any engine of this process sends (the live server runs in it)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, _c: Any, _cur: Any, statement: str, *_: Any) -> None:
        self.seen.append(statement)

    def __enter__(self) -> Statements:
        event.listen(Engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *_: Any) -> None:
        event.remove(Engine, "before_cursor_execute", self)


def test_a_cached_request_reads_neither_token_nor_membership(org: Org) -> None:
    ok(org.api.get(org.path("/checklists")))
    with Statements() as statements:
        ok(org.api.get(org.path("/checklists")))
        ok(
            org.api.post(org.path("/checklists"), json={"title": "Cached", "type": "procedure"}),
            201,
        )
    assert statements.seen
    assert [s for s in statements.seen if AUTH_TABLES.search(s)] == []


def test_disable_and_enable_are_seen_at_once(org: Org) -> None:
    user_id, member = org.member("standard")
    with member:
        ok(member.get(org.path("/me")))
        ok(org.api.delete(org.path(f"/users/{user_id}/disable")))
        assert member.get(org.path("/me")).status_code == 403
        ok(org.api.put(org.path(f"/users/{user_id}/enable")))
        ok(member.get(org.path("/me")))


def test_role_change_is_seen_at_once(org: Org) -> None:
    user_id, member = org.member("standard")
    with member:
        ok(member.post(org.path("/checklists"), json={"title": "Mine", "type": "procedure"}), 201)
        ok(org.api.put(org.path(f"/users/{user_id}/role"), json={"role": "light"}))
        assert (
            member.post(
                org.path("/checklists"), json={"title": "No", "type": "procedure"}
            ).status_code
            == 403
        )
        ok(org.api.put(org.path(f"/users/{user_id}/role"), json={"role": "standard"}))
        ok(member.post(org.path("/checklists"), json={"title": "Again", "type": "procedure"}), 201)


def test_removed_member_is_refused_at_once(org: Org) -> None:
    user_id, member = org.member("standard")
    with member:
        ok(member.get(org.path("/me")))
        ok(org.api.delete(org.path(f"/users/{user_id}")))
        assert member.get(org.path("/me")).status_code in (401, 403)


def test_profile_change_is_seen_at_once(org: Org) -> None:
    ok(org.api.get(org.path("/me")))
    ok(
        org.api.put(
            org.path("/me"), json={"first_name": "Renamed", "last_name": "Admin", "timezone": "UTC"}
        )
    )
    assert ok(org.api.get(org.path("/me")))["first_name"] == "Renamed"


def test_revoked_token_is_refused_at_once(org: Org) -> None:
    set_password(org.server, org.admin_email)
    setup = OAuthSetup(org, new_client(org.server, org.id))
    first = setup.password_grant().json()
    with org.server.client(first["access_token"]) as old:
        ok(old.get(org.path("/me")))
        rotated = token_post(
            org.server,
            setup.form(grant_type="refresh_token", refresh_token=first["refresh_token"]),
        )
        assert rotated.status_code == 200, rotated.text
        assert old.get(org.path("/me")).status_code == 401
        # The body guard refuses it too, before a body is read.
        assert (
            old.post(org.path("/checklists"), json={"title": "x", "type": "procedure"}).status_code
            == 401
        )


def test_expiry_is_honoured_from_the_cache(
    org: Org, clocked: tuple[LiveServer, MovableClock]
) -> None:
    set_password(org.server, org.admin_email)
    setup = OAuthSetup(org, new_client(org.server, org.id))
    token = setup.password_grant().json()["access_token"]
    with org.server.client(token) as client:
        ok(client.get(org.path("/me")))
        move(clocked, seconds=TOKEN_SECONDS + 1)
        expired = client.get(org.path("/me"))
        assert expired.status_code == 401
        assert "expired" in expired.json()["message"]
        assert (
            client.post(
                org.path("/checklists"), json={"title": "x", "type": "procedure"}
            ).status_code
            == 401
        )
    move(clocked, seconds=-(TOKEN_SECONDS + 1))
    ok(org.api.get(org.path("/me")))


def test_joining_or_leaving_a_group_is_seen_at_once_in_my_tasks(org: Org) -> None:
    """A member's groups are cached with their membership: a change of who is in a group
    (added, removed, group deleted) shows in their task list at the next request."""
    user_id, member = org.member("standard")
    team = group(org)
    to_team = one_off_task(org, owners={"groups": [team]})["id"]

    def mine() -> list[str]:
        return [t["id"] for t in ok(member.get(org.path("/me/tasks")))]

    with member:
        assert to_team not in mine()
        ok(org.api.put(org.path(f"/groups/{team}"), json={"members": [user_id]}), 201)
        assert to_team in mine()
        ok(org.api.put(org.path(f"/groups/{team}"), json={"members": []}), 201)
        assert to_team not in mine()
        ok(org.api.put(org.path(f"/groups/{team}"), json={"members": [user_id]}), 201)
        assert to_team in mine()
        assert org.api.delete(org.path(f"/groups/{team}")).status_code == 204
        assert to_team not in mine()
