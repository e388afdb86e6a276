"""Live servers with quick webhook delivery, a real local receiver, and bursts of parallel
requests released together by a barrier."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import CLIENT_HEADERS, LiveServer, live_server
from tests.webhooks.conftest import FAST, Receiver

BURST = 20


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """Overrides the suite's server for tests/concurrency/: same app, quick webhooks."""
    with live_server(
        request.param, tmp_path_factory.mktemp(f"conc-{request.param}"), **FAST
    ) as live:
        yield live


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    try:
        yield made
    finally:
        made.close()


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any

    @property
    def data(self) -> Any:
        return self.body["data"] if isinstance(self.body, dict) else None


def _answer(response: httpx.Response) -> Answer:
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = response.text
    return Answer(response.status_code, body)


Call = Callable[[httpx.Client], httpx.Response]


def burst(api: str, calls: list[tuple[str, Call]]) -> list[Answer]:
    """Runs every (token, call) on its own thread and connection, all released at once; answers
    in the order of `calls`. A transport failure is an answer too (status 0), never a hang."""
    barrier = threading.Barrier(len(calls))
    answers: list[Answer | None] = [None] * len(calls)

    def work(i: int, token: str, call: Call) -> None:
        headers = {**CLIENT_HEADERS, "Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=api, headers=headers, timeout=120) as client:
            client.get("/health")  # the connection is open before the barrier
            barrier.wait()
            try:
                answers[i] = _answer(call(client))
            except httpx.HTTPError as exc:
                answers[i] = Answer(0, repr(exc))

    threads = [threading.Thread(target=work, args=(i, *c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [a if a is not None else Answer(0, "no answer") for a in answers]


def statuses(answers: list[Answer]) -> list[int]:
    return sorted(a.status for a in answers)
