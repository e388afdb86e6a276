"""Rate limits (§1.10): the per-minute request limit (memory and Redis backends, shared between
app instances through Redis, failing open when Redis is down) and the hourly caps' limiter."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from checkrun.db import make_engine, make_sessionmaker
from checkrun.kit.ratelimit import MemoryLimiter, RedisLimiter
from checkrun.members.models import User
from checkrun.members.service import issue_token
from tests.conftest import CLIENT_HEADERS, LiveServer, live_server

REDIS_URL = "redis://127.0.0.1:6379/0"
LIMIT = 5


def redis_or_skip() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable: {exc}")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def limited(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp(f"limited-{request.param}")
    with live_server(request.param, data, rate_limit_per_minute=LIMIT) as server:
        yield server


def second_token(server: LiveServer, user_id: int, org_id: str) -> str:
    async def work() -> str:
        engine = make_engine(server.settings.resolved_database_url)
        try:
            async with make_sessionmaker(engine)() as db:
                user = await db.get(User, user_id)
                assert user is not None
                token = await issue_token(db, user, org_id)
                await db.commit()
                return token
        finally:
            await engine.dispose()

    return asyncio.run(work())


def get(
    server: LiveServer,
    path: str,
    token: str | None = None,
    ip_headers: dict[str, str] | None = None,
) -> httpx.Response:
    headers = dict(CLIENT_HEADERS)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    headers.update(ip_headers or {})
    with httpx.Client(base_url=server.api, headers=headers, timeout=60) as client:
        return client.get(path)


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    body = response.json()
    assert body["error"] is True and body["code"] == "RATE_LIMIT_EXCEEDED"
    assert f"{LIMIT} requests per minute" in body["message"]
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.headers["x-ratelimit-limit"] == str(LIMIT)
    assert response.headers["x-ratelimit-remaining"] == "0"


def test_limit_per_user_with_headers_on_every_answer(limited: LiveServer) -> None:
    boot = limited.new_org()
    remaining = []
    for _ in range(LIMIT):
        response = get(limited, "/me", boot.token)
        assert response.status_code == 200
        assert response.headers["x-ratelimit-limit"] == str(LIMIT)
        remaining.append(int(response.headers["x-ratelimit-remaining"]))
    # The first answer counts under the token itself; from then on the user is known.
    assert remaining == [4, 4, 3, 2, 1]
    for _ in range(2):
        get(limited, "/me", boot.token)
    assert_refused(get(limited, "/me", boot.token))
    other = limited.new_org()
    fine = get(limited, "/me", other.token)
    assert fine.status_code == 200 and fine.headers["x-ratelimit-remaining"] == "4"


def test_all_tokens_of_a_user_share_one_count(limited: LiveServer) -> None:
    boot = limited.new_org()
    other_token = second_token(limited, boot.user_id, boot.org_id)
    assert get(limited, "/me", boot.token).status_code == 200  # token:A
    assert get(limited, "/me", other_token).status_code == 200  # token:B, user learnt
    answers = [get(limited, "/me", boot.token if i % 2 else other_token) for i in range(LIMIT)]
    assert [r.status_code for r in answers] == [200] * LIMIT
    assert [r.headers["x-ratelimit-remaining"] for r in answers] == ["4", "3", "2", "1", "0"]
    assert_refused(get(limited, "/me", boot.token))
    assert_refused(get(limited, "/me", other_token))


def test_unauthenticated_requests_count_per_client_address(limited: LiveServer) -> None:
    statuses = [get(limited, "/me").status_code for _ in range(LIMIT)]
    refused = get(limited, "/me")
    assert statuses.count(401) + statuses.count(429) == LIMIT
    assert_refused(refused)
    # A token-bearing caller from the same address has its own budget.
    boot = limited.new_org()
    assert get(limited, "/me", boot.token).status_code == 200


def test_health_and_openapi_are_exempt(limited: LiveServer) -> None:
    for _ in range(LIMIT + 2):
        health = get(limited, "/health")
        assert health.status_code == 200
        assert "x-ratelimit-limit" not in health.headers
    assert get(limited, "/openapi.json").status_code == 200


def test_token_endpoint_is_limited_too(limited: LiveServer) -> None:
    """Unauthenticated, so per address: guessing passwords is capped as well."""
    with httpx.Client(base_url=limited.api, timeout=60) as client:
        answers = [
            client.post("/oauth/token", data={"grant_type": "nope"}) for _ in range(LIMIT + 1)
        ]
    assert answers[-1].status_code == 429
    assert all(r.headers["x-ratelimit-limit"] == str(LIMIT) for r in answers)


def test_default_limit_is_600_and_0_turns_it_off(server: LiveServer, tmp_path: Path) -> None:
    boot = server.new_org()
    response = get(server, "/me", boot.token)
    assert response.headers["x-ratelimit-limit"] == "600"
    with live_server("sqlite", tmp_path, rate_limit_per_minute=0) as unlimited:
        boot = unlimited.new_org()
        answers = [get(unlimited, "/me", boot.token) for _ in range(12)]
        assert {r.status_code for r in answers} == {200}
        assert "x-ratelimit-limit" not in answers[-1].headers


# --- Redis --------------------------------------------------------------------------------


def test_two_app_instances_share_one_count_through_redis(tmp_path: Path) -> None:
    redis_or_skip()
    prefix = f"checkrun-test-{uuid.uuid4().hex}"
    settings = {"rate_limit_per_minute": LIMIT, "redis_url": REDIS_URL, "redis_prefix": prefix}
    (tmp_path / "a").mkdir()
    with live_server("sqlite", tmp_path / "a", **settings) as first:
        boot = first.new_org()
        # A second API process on the same database and Redis.
        with live_server("sqlite", tmp_path / "a", **settings) as second:
            answers = [get(first if i % 2 else second, "/me", boot.token) for i in range(7)]
            # The token's first answer (before its user is known) counts under the token.
            assert [r.status_code for r in answers] == [200] * 6 + [429]
            assert [r.headers["x-ratelimit-remaining"] for r in answers] == [
                "4",
                "4",
                "3",
                "2",
                "1",
                "0",
                "0",
            ]
            assert_refused(get(first, "/me", boot.token))
            keys = redis.Redis.from_url(REDIS_URL).keys(f"{prefix}:rl:minute:*")
            assert keys
            assert 0 < redis.Redis.from_url(REDIS_URL).ttl(keys[0]) <= 60


def test_redis_limiter_counts_atomically_and_expires() -> None:
    redis_or_skip()
    prefix = f"checkrun-test-{uuid.uuid4().hex}"

    async def work() -> list[tuple[bool, int]]:
        limiter = RedisLimiter(REDIS_URL, prefix)
        try:
            decisions = await asyncio.gather(*(limiter.hit("k", 10, 3600) for _ in range(12)))
            return sorted(((d.allowed, d.remaining) for d in decisions), reverse=True)
        finally:
            await limiter.close()

    results = asyncio.run(work())
    assert [allowed for allowed, _ in results].count(True) == 10
    assert sorted(r for _, r in results) == [0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    ttl = redis.Redis.from_url(REDIS_URL).ttl(f"{prefix}:rl:k")
    assert 3500 < ttl <= 3600


def test_unreachable_redis_fails_open_to_per_process_counting(tmp_path: Path) -> None:
    with live_server(
        "sqlite", tmp_path, rate_limit_per_minute=LIMIT, redis_url="redis://127.0.0.1:1/0"
    ) as server:
        boot = server.new_org()
        answers = [get(server, "/me", boot.token) for _ in range(LIMIT + 2)]
        assert [r.status_code for r in answers[:LIMIT]] == [200] * LIMIT
        assert_refused(answers[-1])


def test_memory_limiter_windows() -> None:
    async def work() -> None:
        limiter = MemoryLimiter()
        first = await limiter.hit("a", 2, 60)
        assert first.allowed and first.remaining == 1 and 59 <= first.retry_after <= 60
        assert (await limiter.hit("a", 2, 60)).remaining == 0
        refused = await limiter.hit("a", 2, 60)
        assert not refused.allowed and refused.retry_after >= 1
        assert (await limiter.hit("b", 2, 60)).allowed
        short = await limiter.hit("c", 1, 1)
        assert short.allowed
        await asyncio.sleep(1.05)
        assert (await limiter.hit("c", 1, 1)).allowed

    asyncio.run(work())
