"""Prometheus metrics at /metrics: requests by route template, method and status with their
durations, the outboxes' rows read from the database, delivery attempts, upload bytes and the
database pool; the path is a setting, a token can protect it; under `--workers N` with
PROMETHEUS_MULTIPROC_DIR every worker's scrape counts every worker's requests."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, Gauge
from prometheus_client.parser import text_string_to_metric_families

from checkrun.db import make_engine
from checkrun.kit.metrics import watch_pool
from tests.conftest import LiveServer, Org, free_port, live_server
from tests.support.factories import one_off_task, upload
from tests.support.serving import serve_process
from tests.test_cli import ENV

Labels = tuple[tuple[str, str], ...]
Samples = dict[tuple[str, Labels], float]


def parse(text: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def scrape(base: str, path: str = "/metrics", **headers: str) -> Samples:
    answer = httpx.get(base + path, headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return parse(answer.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def requests(samples: Samples, method: str, route: str, status: int) -> float:
    return value(
        samples, "checkrun_http_requests_total", method=method, route=route, status=str(status)
    )


CHECKLISTS = "/api/organizations/{org_id}/checklists"
CHECKLIST = "/api/organizations/{org_id}/checklists/{checklist_id}"


def test_requests_are_counted_by_route_template_method_and_status(org: Org) -> None:
    before = scrape(org.server.base)
    for _ in range(3):
        assert org.api.get(org.path("/checklists")).status_code == 200
    for _ in range(2):
        assert org.api.get(org.path("/checklists/nope")).status_code == 404
    assert org.api.post(org.path("/checklists"), json={}).status_code == 422
    assert httpx.get(org.server.base + "/no/such/page").status_code == 404
    after = scrape(org.server.base)

    def grew(method: str, route: str, status: int) -> float:
        return requests(after, method, route, status) - requests(before, method, route, status)

    assert grew("GET", CHECKLISTS, 200) == 3
    assert grew("GET", CHECKLIST, 404) == 2
    assert grew("POST", CHECKLISTS, 422) == 1
    assert grew("GET", "<unmatched>", 404) == 1
    assert grew("GET", "/metrics", 200) == 1  # the first scrape
    duration = "checkrun_http_request_duration_seconds_count"
    timed = value(after, duration, method="GET", route=CHECKLISTS)
    assert timed - value(before, duration, method="GET", route=CHECKLISTS) == 3
    routes = {dict(labels).get("route", "") for _, labels in after}
    assert not any(org.id in route or "nope" in route for route in routes)


def test_upload_bytes_are_counted(org: Org) -> None:
    task = one_off_task(org, title="Scan")
    before = value(scrape(org.server.base), "checkrun_upload_bytes_total")
    upload(org, "Task", task["id"], content=b"x" * 12345)
    after = value(scrape(org.server.base), "checkrun_upload_bytes_total")
    assert after - before == 12345


def _delivery(org_id: str, status: str, attempts: int, due: datetime, url: str) -> str:
    moment = due.strftime("%Y-%m-%d %H:%M:%S")
    return (
        "INSERT INTO webhook_deliveries (id, org_id, event, url, body, source, status, "
        "attempts, next_attempt_at, created_at) VALUES ("
        f"'{uuid.uuid4().hex}', '{org_id}', 'task.completed', '{url}', '{{}}', 'watcher', "
        f"'{status}', {attempts}, '{moment}', '{moment}')"
    )


@pytest.fixture
def quiet_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server of its own (its outbox holds only this test's rows) whose webhooks get one
    try, polled often."""
    with live_server(
        "sqlite", tmp_path, webhook_max_attempts=1, webhook_poll_seconds=0.2
    ) as server:
        yield server


def test_outbox_rows_come_from_the_database_and_attempts_are_counted(
    quiet_server: LiveServer,
) -> None:
    org_id = quiet_server.new_org().org_id
    later = datetime.now(UTC) + timedelta(days=1)
    closed = f"http://127.0.0.1:{free_port()}/hook"
    rows = [("pending", 0), ("pending", 2), ("dead", 3), ("dead", 1), ("dead", 10)]
    for status, attempts in rows:
        quiet_server.execute(_delivery(org_id, status, attempts, later, closed))
    first = scrape(quiet_server.base)
    assert value(first, "checkrun_outbox_rows", outbox="webhook", status="pending") == 2
    assert value(first, "checkrun_outbox_rows", outbox="webhook", status="dead") == 3
    assert value(first, "checkrun_outbox_retrying_rows", outbox="webhook") == 1
    assert value(first, "checkrun_outbox_rows", outbox="mail", status="pending") == 0

    # One due now, to a closed port: its one attempt fails and leaves it dead.
    quiet_server.execute(_delivery(org_id, "pending", 0, datetime.now(UTC), closed))
    dead = "checkrun_webhook_attempts_total"
    attempts_before = value(first, dead, outcome="dead")
    for _ in range(100):
        now = scrape(quiet_server.base)
        if value(now, "checkrun_outbox_rows", outbox="webhook", status="dead") == 4:
            break
        time.sleep(0.1)
    assert value(now, "checkrun_outbox_rows", outbox="webhook", status="dead") == 4
    assert value(now, "checkrun_outbox_rows", outbox="webhook", status="pending") == 2
    # At least: the counter is the process's, and other test servers may be retrying too.
    assert value(now, dead, outcome="dead") - attempts_before >= 1


def test_the_pool_gauges_follow_checkouts(tmp_path: Path) -> None:
    # Gauges of the test's own: the process's count the pools of every server it runs.
    registry = CollectorRegistry()
    size = Gauge("size", "", registry=registry)
    checked_out = Gauge("checked_out", "", registry=registry)

    async def work() -> list[float | None]:
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}")
        watch_pool(engine, size, checked_out)
        seen = [registry.get_sample_value("checked_out")]
        async with engine.connect():
            seen.append(registry.get_sample_value("checked_out"))
        seen.append(registry.get_sample_value("checked_out"))
        await engine.dispose()
        return seen

    assert asyncio.run(work()) == [0, 1, 0]
    assert registry.get_sample_value("size") == 5  # SQLAlchemy's default pool size


def test_the_path_is_a_setting_and_a_token_protects_it(tmp_path: Path) -> None:
    settings = {"metrics_path": "/internal/metrics", "metrics_token": "scrape-secret"}
    with live_server("sqlite", tmp_path, **settings) as server:
        assert httpx.get(server.base + "/metrics").status_code == 404
        refused = httpx.get(server.base + "/internal/metrics")
        wrong = httpx.get(
            server.base + "/internal/metrics", headers={"Authorization": "Bearer nope"}
        )
        samples = scrape(server.base, "/internal/metrics", Authorization="Bearer scrape-secret")
    assert refused.status_code == wrong.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert ("checkrun_db_pool_size", ()) in samples


def test_metrics_can_be_turned_off(tmp_path: Path) -> None:
    with live_server("sqlite", tmp_path, metrics_path="") as server:
        assert httpx.get(server.base + "/metrics").status_code == 404


def pool_sizes(base: str, until: float) -> list[float]:
    seen: list[float] = []
    deadline = time.monotonic() + 30
    while not seen or seen[-1] != until and time.monotonic() < deadline:
        seen.append(value(scrape(base), "checkrun_db_pool_size"))
        time.sleep(0.1 if seen[-1] != until else 0)
    return seen


def test_every_worker_scrape_counts_every_worker_request(tmp_path: Path) -> None:
    port = free_port()
    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = {**ENV, "PROMETHEUS_MULTIPROC_DIR": str(shared), "CHECKRUN_RATE_LIMIT_PER_MINUTE": "0"}
    args = ["--workers", "2", "--port", str(port), "--data-dir", str(tmp_path / "data")]
    with serve_process(args, env, port) as base:
        before = [requests(scrape(base), "GET", "/api/health", 200) for _ in range(4)]
        for _ in range(30):
            # A new connection each time, so that either worker may take it.
            assert httpx.get(base + "/api/health").status_code == 200
        after = [requests(scrape(base), "GET", "/api/health", 200) for _ in range(6)]
        pools = pool_sizes(base, until=2 * 5)  # both workers' pools, once both have started
    # The health checks of start-up count too, but no scrape may miss a worker's requests.
    assert len(set(before)) == 1, before
    assert set(after) == {before[0] + 30}, after
    assert list(shared.glob("histogram_*.db"))  # the workers kept their values there
    assert pools[-1] == 2 * 5, pools
