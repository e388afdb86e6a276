"""Bursts of the same state change against a live server: how many extra successes, activity
rows and webhook deliveries, stuck everyone-must-complete tasks and 5xx answers they cause.

Run from the repository root (it reuses the test suite's live server and burst helpers):

    python bench/concurrency_bench.py [--db sqlite,postgresql] [--rounds 3]

Each round, on a fresh organization: 20 completions of one task at once; 5 assignees of one
everyone-must-complete task completing at once; 10 tag and 10 group update/delete pairs at once.
Every figure but the round count should be 0.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass, fields
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.concurrency import test_races as races  # noqa: E402
from tests.concurrency.conftest import Answer, burst  # noqa: E402
from tests.concurrency.test_exactly_once import entries, same, tasks_of, template  # noqa: E402
from tests.conftest import LiveServer, Org, live_server, new_org  # noqa: E402
from tests.support.factories import ok  # noqa: E402
from tests.webhooks.conftest import FAST, Receiver, deliveries  # noqa: E402


@dataclass
class Tally:
    rounds: int = 0
    extra_200: int = 0
    extra_activity: int = 0
    extra_webhooks: int = 0
    emc_stuck: int = 0
    server_errors: int = 0

    def errors(self, answers: list[Answer]) -> None:
        self.server_errors += sum(a.status >= 500 or a.status == 0 for a in answers)


def one_task(org: Org, receiver: Receiver, tally: Tally) -> None:
    launched = ok(
        org.api.post(
            org.path("/runs"),
            json={"checklist_id": template(org, receiver.url("/hook"), steps=2)["id"]},
        ),
        201,
    )
    task = tasks_of(org, launched)[0]
    answers = same(org, "POST", f"/runs/{launched['id']}/completed-tasks", {"task_id": task["id"]})
    tally.errors(answers)
    tally.extra_200 += sum(a.status == 200 for a in answers) - 1
    tally.extra_activity += entries(org, "task", task["id"], "completed") - 1
    tally.extra_webhooks += (
        len(deliveries(org, "event = 'task.completed' AND task_id = :t", t=task["id"])) - 1
    )


def everyone_must_complete(server: LiveServer, org: Org, receiver: Receiver, tally: Tally) -> None:
    members = [org.member("standard") for _ in range(4)]
    tokens = [org.token] + [
        str(c.headers["Authorization"]).removeprefix("Bearer ") for _, c in members
    ]
    made = template(
        org,
        receiver.url("/hook"),
        everyone_must_complete=True,
        assignees=[org.admin_id] + [m for m, _ in members],
    )
    run = ok(org.api.post(org.path("/runs"), json={"checklist_id": made["id"]}), 201)
    (task,) = tasks_of(org, run)
    path = org.path(f"/runs/{run['id']}/completed-tasks")
    tally.errors(
        burst(
            server.api,
            [(token, lambda c: c.post(path, json={"task_id": task["id"]})) for token in tokens],
        )
    )
    final = ok(org.api.get(org.path(f"/runs/{run['id']}/tasks/{task['id']}")))
    tally.emc_stuck += final["status"] != "completed"


def update_delete_pairs(org: Org, tally: Tally) -> None:
    tags = [races.tag(org) for _ in range(races.PAIRS)]
    pairs = races.race(
        org,
        [
            ("PUT", f"/tags/{i}", {"title": f"t-{races.unique()}"}, "DELETE", f"/tags/{i}")
            for i in tags
        ],
    )
    groups = [races.group(org) for _ in range(races.PAIRS)]
    pairs += races.race(
        org,
        [
            ("PUT", f"/groups/{i}", {"name": f"G {races.unique()}"}, "DELETE", f"/groups/{i}")
            for i in groups
        ],
    )
    tally.server_errors += sum(u.status >= 500 or d.status >= 500 for u, d in pairs)


def measure(backend: str, rounds: int) -> Tally:
    tally = Tally()
    with live_server(backend, Path(tempfile.mkdtemp()), **FAST) as server:
        receiver = Receiver()
        try:
            for _ in range(rounds):
                with new_org(server) as org:
                    one_task(org, receiver, tally)
                    everyone_must_complete(server, org, receiver, tally)
                    update_delete_pairs(org, tally)
                tally.rounds += 1
        finally:
            receiver.close()
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    names = [f.name for f in fields(Tally)]
    print("| database | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for backend in args.db.split(","):
        tally = measure(backend, args.rounds)
        print(f"| {backend} | " + " | ".join(str(getattr(tally, n)) for n in names) + " |")


if __name__ == "__main__":
    main()
