"""`Idempotency-Key` on POST, over HTTP on both databases: a retry gets the first answer again
and creates nothing, however many arrive at once; another request under the same key is
refused; keys belong to their caller and are forgotten after 24 hours."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer, Org, live_server, new_org
from tests.support.clock import MovableClock
from tests.support.factories import checklist, db_count, one_off_task


def launch(
    api: httpx.Client, org: Org, template: str, key: str, name: str = "Retried"
) -> httpx.Response:
    return api.post(
        org.path("/runs"),
        json={"checklist_id": template, "name": name},
        headers={"Idempotency-Key": key},
    )


def runs_named(org: Org, name: str) -> int:
    return db_count(org, "runs", "org_id = :o AND name = :n", o=org.id, n=name)


def test_a_retried_launch_answers_the_first_answer_and_launches_once(org: Org) -> None:
    template = checklist(org, steps=2)["id"]
    key, name = uuid.uuid4().hex, f"Once {uuid.uuid4().hex[:6]}"
    first = launch(org.api, org, template, key, name)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    again = launch(org.api, org, template, key, name)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["content-type"] == first.headers["content-type"]
    assert runs_named(org, name) == 1
    # A new key is a new request.
    assert launch(org.api, org, template, uuid.uuid4().hex, name).status_code == 201
    assert runs_named(org, name) == 2


def test_the_same_key_with_another_request_is_refused(org: Org) -> None:
    template = checklist(org, steps=1)["id"]
    key = uuid.uuid4().hex
    assert launch(org.api, org, template, key, "First").status_code == 201
    other = launch(org.api, org, template, key, "Second")
    assert other.status_code == 422
    assert other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    elsewhere = org.api.post(org.path("/tasks"), json={}, headers={"Idempotency-Key": key})
    assert elsewhere.status_code == 422 and elsewhere.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert runs_named(org, "Second") == 0


def test_keys_belong_to_their_caller(org: Org) -> None:
    template = checklist(org, steps=1)["id"]
    _, member = org.member("admin")
    key, name = uuid.uuid4().hex, f"Mine {uuid.uuid4().hex[:6]}"
    mine, theirs = (
        launch(org.api, org, template, key, name),
        launch(member, org, template, key, name),
    )
    assert mine.status_code == theirs.status_code == 201
    assert "idempotent-replayed" not in theirs.headers
    assert mine.json()["data"]["id"] != theirs.json()["data"]["id"]
    assert runs_named(org, name) == 2


def test_retries_sent_at_once_launch_once(org: Org) -> None:
    template = checklist(org, steps=3)["id"]
    key, name, count = uuid.uuid4().hex, f"Racing {uuid.uuid4().hex[:6]}", 8
    start = Barrier(count)

    def send(_: int) -> httpx.Response:
        with org.server.client(org.token) as api:
            start.wait()
            return launch(api, org, template, key, name)

    with ThreadPoolExecutor(count) as pool:
        answers = list(pool.map(send, range(count)))
    statuses = Counter(a.status_code for a in answers)
    assert set(statuses) <= {201, 409} and statuses[201] >= 1, statuses
    assert len({a.json()["data"]["id"] for a in answers if a.status_code == 201}) == 1
    for busy in (a for a in answers if a.status_code == 409):
        assert busy.json()["code"] == "IDEMPOTENCY_KEY_IN_USE" and busy.headers["Retry-After"]
    assert runs_named(org, name) == 1
    settled = launch(org.api, org, template, key, name)  # once the first is done: its answer
    assert settled.status_code == 201 and settled.headers["Idempotent-Replayed"] == "true"


def test_a_refusal_is_not_kept(org: Org) -> None:
    key = uuid.uuid4().hex
    body = {"title": "", "task_type": "task"}
    first = org.api.post(org.path("/tasks"), json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 422
    second = org.api.post(org.path("/tasks"), json=body, headers={"Idempotency-Key": key})
    assert second.status_code == 422 and "idempotent-replayed" not in second.headers


def test_an_upload_retried_is_stored_once(org: Org) -> None:
    task = one_off_task(org)
    key, content = uuid.uuid4().hex, b"%PDF-1.4 " + uuid.uuid4().bytes * 40_000

    def upload() -> httpx.Response:
        return org.api.post(
            org.path("/file"),
            data={"subject_type": "Task", "subject_id": task["id"], "uploaded_from": "ko_field"},
            files={"name": ("plan.pdf", content)},
            headers={"Idempotency-Key": key},
        )

    first, again = upload(), upload()
    assert first.status_code == again.status_code == 200, first.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["data"]["id"] == first.json()["data"]["id"]
    assert db_count(org, "assets", "subject_id = :t", t=task["id"]) == 1


@pytest.mark.parametrize("key", ["", "with space", "x" * 256, "ünïcode"])
def test_a_key_that_cannot_be_one_is_refused(org: Org, key: str) -> None:
    headers = {b"Idempotency-Key": key.encode()}
    refused = org.api.post(org.path("/tasks"), json={}, headers=headers)
    assert refused.status_code == 422 and refused.json()["code"] == "INVALID_IDEMPOTENCY_KEY"


def test_reads_ignore_the_key(org: Org) -> None:
    key = uuid.uuid4().hex
    for _ in range(2):
        read = org.api.get(org.path("/runs"), headers={"Idempotency-Key": key})
        assert read.status_code == 200 and "idempotent-replayed" not in read.headers


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def clocked(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, MovableClock]]:
    clock = MovableClock(tmp_path_factory.mktemp("clock") / "now")
    overrides: dict[str, Any] = {"clock_file": clock.path, "scheduler_poll_seconds": 0.2}
    data = tmp_path_factory.mktemp(f"idempotency-{request.param}")
    with live_server(request.param, data, **overrides) as live:
        yield live, clock


def test_a_key_is_forgotten_after_a_day(clocked: tuple[LiveServer, MovableClock]) -> None:
    server, clock = clocked
    with new_org(server) as org:
        template = checklist(org, steps=1)["id"]
        key, name = uuid.uuid4().hex, "Daily"
        assert launch(org.api, org, template, key, name).status_code == 201
        clock.advance(hours=23)
        assert launch(org.api, org, template, key, name).headers["Idempotent-Replayed"] == "true"
        clock.advance(hours=1, seconds=1)
        later = launch(org.api, org, template, key, name)
        assert later.status_code == 201 and "idempotent-replayed" not in later.headers
        assert runs_named(org, name) == 2
        clock.advance(hours=25)  # every key expired: the scheduler forgets them
        waited = time.monotonic() + 20
        while db_count(org, "idempotent_requests", "1 = 1") and time.monotonic() < waited:
            time.sleep(0.1)
        assert db_count(org, "idempotent_requests", "1 = 1") == 0


def test_a_body_past_the_upload_limit_is_refused_before_it_runs(tmp_path: Path) -> None:
    with live_server("sqlite", tmp_path, max_upload_bytes=1000) as server, new_org(server) as org:
        task = one_off_task(org)
        refused = org.api.post(
            org.path("/file"),
            data={"subject_type": "Task", "subject_id": task["id"], "uploaded_from": "ko_field"},
            files={"name": ("big.pdf", b"x" * (1024 * 1024 + 2000))},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert refused.status_code == 413, refused.text
        assert db_count(org, "assets", "subject_id = :t", t=task["id"]) == 0
        assert db_count(org, "idempotent_requests", "1 = 1") == 0
