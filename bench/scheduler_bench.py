"""The cost of one scheduler tick (every registered job, each under its lease, in its own
transaction) over a large organization, with nothing due and with a few rows due.

Run from the repository root:

    python bench/scheduler_bench.py [--db sqlite,postgresql] [--tasks 200000] [--repeat 21]

For each database: a fresh database (a temporary SQLite file; a new PostgreSQL database on
CHECKRUN_TEST_PG's server), migrated, with one organization that turned auto-complete and
auto-archive on, `--tasks` open assigned tasks (5% expiring) in active processes of 20 tasks,
whose deadlines spread over the next year, and 2,000 processes completed in the last week.
Then, in this process with the app's listeners installed, it times `Scheduler.tick()`:

- idle: nothing is due;
- a few due: before each repeat (not timed) 5 tasks get a reminder due, 2 expiring tasks reach
  their deadline, 2 tasks pass the auto-complete limit and 1 process the auto-archive period.

Medians of `--repeat` after one warm-up, beside the baseline of the same run: one primary-key
select of a task in a fresh session (the same session machinery). The SQL of a "few due" tick
is captured, the rows made due again, and each SELECT of tasks and runs shown with its plan
(EXPLAIN QUERY PLAN / EXPLAIN ANALYZE: the actual rows are the due ones).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from common import machine, write_results  # noqa: E402
from workflow_seed import check_not_null  # noqa: E402

from checkrun import listeners, migrate  # noqa: E402
from checkrun.config import Settings  # noqa: E402
from checkrun.db import make_engine, make_sessionmaker  # noqa: E402
from checkrun.kit.clock import now  # noqa: E402
from checkrun.members.service import create_organization  # noqa: E402
from checkrun.models import Organization, Run, Task, TaskOwner  # noqa: E402
from checkrun.scheduler import reminders  # noqa: E402
from checkrun.scheduler.loop import Scheduler  # noqa: E402
from checkrun.scheduler.registry import jobs  # noqa: E402

BATCH = 5000
TASKS_PER_RUN = 20
RUNS_DONE = 2000
Row = dict[str, Any]


# --- seeding ---------------------------------------------------------------------------------


def _task(org_id: str, number: int, admin: int, deadline: datetime, kind: str, run_id: str) -> Row:
    return {
        "id": uuid.uuid4().hex,
        "org_id": org_id,
        "increment_id": number,
        "run_id": run_id,
        "title": f"Task {number}",
        "task_type": kind,
        "status": "active",
        "position": 1,
        "deadline": deadline,
        "remind_at": deadline - timedelta(hours=24),
        "starter_id": admin,
        "created_at": deadline - timedelta(days=30),
        "updated_at": deadline - timedelta(days=30),
        "settings": {},
    }


def _run(org_id: str, number: int, admin: int, completed: datetime) -> Row:
    return {
        "id": uuid.uuid4().hex,
        "org_id": org_id,
        "increment_id": number,
        "checklist_id": uuid.uuid4().hex,
        "checklist_title": "Bench",
        "name": f"Run {number}",
        "status": "complete",
        "type": "procedure",
        "owner_id": admin,
        "started_by": admin,
        "prerun": {},
        "users": [],
        "groups": [],
        "settings": {},
        "created_at": completed - timedelta(days=3),
        "started_at": completed,
        "updated_at": completed,
        "completed_at": completed,
    }


async def _insert(engine: AsyncEngine, model: Any, rows: list[Row]) -> None:
    check_not_null(model.__table__, rows)
    async with engine.begin() as conn:
        for i in range(0, len(rows), BATCH):
            await conn.execute(insert(model), rows[i : i + BATCH])


async def seed(engine: AsyncEngine, settings: Settings, count: int) -> dict[str, Any]:
    async with make_sessionmaker(engine, settings)() as db:
        boot = await create_organization(db, "Scheduler bench", "bench@example.com")
        org = await db.get(Organization, boot.org_id)
        assert org is not None
        org.preferences = {
            "auto_complete_tasks": True,
            "auto_complete_task_months": 2,
            "auto_archive": True,
            "auto_archive_processes_after": {"unit": "weeks", "value": 2},
        }
        await db.commit()
    rng, start = random.Random(7), now()
    active = [
        {**_run(boot.org_id, n + 1, boot.user_id, start), "status": "active", "completed_at": None}
        for n in range(count // TASKS_PER_RUN + 1)
    ]
    await _insert(engine, Run, active)
    tasks = [
        _task(
            boot.org_id,
            n + 1,
            boot.user_id,
            start + timedelta(days=2, seconds=rng.randrange(365 * 86400)),
            "expiring" if rng.random() < 0.05 else "task",
            active[n // TASKS_PER_RUN]["id"],
        )
        for n in range(count)
    ]
    await _insert(engine, Task, tasks)
    await _insert(
        engine,
        TaskOwner,
        [{"task_id": t["id"], "kind": "user", "ref": str(boot.user_id)} for t in tasks],
    )
    await _insert(
        engine,
        Run,
        [
            _run(
                boot.org_id,
                len(active) + n + 1,
                boot.user_id,
                start - timedelta(seconds=rng.randrange(7 * 86400)),
            )
            for n in range(RUNS_DONE)
        ],
    )
    async with engine.begin() as conn:
        await conn.exec_driver_sql("ANALYZE")
    plain = [t["id"] for t in tasks if t["task_type"] == "task"]
    expiring = [t["id"] for t in tasks if t["task_type"] == "expiring"]
    return {
        "org_id": boot.org_id,
        "plain": plain,
        "expiring": expiring,
        "run_ids": [],
        "probe": plain[len(plain) // 2],
    }


async def make_due(engine: AsyncEngine, org_id: str, seeded: dict[str, Any]) -> None:
    """A few rows of each job due now (run between timed ticks)."""
    moment = now()
    tasks = Task.__table__
    async with engine.begin() as conn:
        await conn.execute(
            update(tasks)
            .where(tasks.c.id.in_(seeded["plain"][:5]))
            .values(
                remind_at=moment - timedelta(minutes=1),
                reminded_soon_for=None,
                reminded_overdue_for=None,
                deadline=moment + timedelta(hours=2),
            )
        )
        await conn.execute(
            update(tasks)
            .where(tasks.c.id.in_(seeded["expiring"][:2]))
            .values(
                status="active",
                completed_at=None,
                deadline=moment - timedelta(seconds=1),
                remind_at=None,
            )
        )
        await conn.execute(
            update(tasks)
            .where(tasks.c.id.in_(seeded["plain"][5:7]))
            .values(
                status="active",
                completed_at=None,
                deadline=moment - timedelta(days=70),
                remind_at=None,
            )
        )
        runs = Run.__table__
        if not seeded["run_ids"]:
            seeded["run_ids"].append(uuid.uuid4().hex)
            await conn.execute(
                insert(runs),
                [
                    {
                        **_run(org_id, 10_000, 1, moment),
                        "id": seeded["run_ids"][0],
                        "status_before_archive": None,
                        "starred": False,
                        "is_public": False,
                        "can_add_oot": True,
                    }
                ],
            )
        await conn.execute(
            update(runs)
            .where(runs.c.id == seeded["run_ids"][0])
            .values(status="complete", deleted_at=None, completed_at=moment - timedelta(days=20))
        )


# --- timing ----------------------------------------------------------------------------------


async def _median(
    repeat: int,
    work: Callable[[], Awaitable[Any]],
    before: Callable[[], Awaitable[Any]] | None = None,
) -> dict[str, float]:
    times: list[float] = []
    for i in range(repeat + 1):
        if before is not None:
            await before()
        began = time.perf_counter()
        await work()
        if i:  # the first is a warm-up
            times.append((time.perf_counter() - began) * 1000)
    return {"median_ms": statistics.median(times), "best_ms": min(times)}


async def _pk_select(sessions: async_sessionmaker[AsyncSession], task_id: str) -> None:
    async with sessions() as db:
        await db.execute(select(Task.id, Task.title).where(Task.id == task_id))


class Captured:
    """The SQL of a tick: its SELECTs of tasks and runs (to explain), and every statement's
    time."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.statements: list[tuple[str, Any]] = []
        self.timed: list[tuple[float, str]] = []
        self._began = 0.0

    def __enter__(self) -> Captured:
        event.listen(self.engine.sync_engine, "before_cursor_execute", self._seen)
        event.listen(self.engine.sync_engine, "after_cursor_execute", self._done)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine.sync_engine, "before_cursor_execute", self._seen)
        event.remove(self.engine.sync_engine, "after_cursor_execute", self._done)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        self._began = time.perf_counter()
        if statement.lstrip().upper().startswith("SELECT") and (
            " tasks" in statement or " runs" in statement
        ):
            self.statements.append((statement, parameters))

    def _done(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.timed.append(((time.perf_counter() - self._began) * 1000, _short(statement)))

    def slowest(self, count: int = 5) -> list[dict[str, Any]]:
        return [
            {"ms": round(ms, 2), "sql": sql[:160]}
            for ms, sql in sorted(self.timed, reverse=True)[:count]
        ]


def _short(statement: str) -> str:
    """The statement on one line, a long column list elided."""
    flat = " ".join(statement.split())
    return re.sub(r"^SELECT (.{120,}?) FROM ", "SELECT ... FROM ", flat)


async def plans(engine: AsyncEngine, statements: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    prefix = (
        "EXPLAIN QUERY PLAN "
        if engine.dialect.name == "sqlite"
        else "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) "
    )
    out, seen = [], set()
    async with engine.connect() as conn:
        for statement, parameters in statements:
            if statement in seen:
                continue
            seen.add(statement)
            rows = await conn.exec_driver_sql(prefix + statement, parameters)
            plan = [" ".join(str(c) for c in row[-1:]) for row in rows]
            out.append({"sql": _short(statement), "plan": plan})
    return out


def measure(backend: str, count: int, repeat: int) -> dict[str, Any]:
    from tests.conftest import _drop_postgres, _postgres_url

    workdir = Path(tempfile.mkdtemp(prefix="scheduler-bench-"))
    url = _postgres_url() if backend == "postgresql" else None
    settings = Settings(data_dir=workdir, database_url=url, scheduler_batch_size=500)
    try:
        migrate.upgrade(settings.resolved_database_url)
        return {
            "backend": backend,
            "tasks": count,
            **asyncio.run(_measure(settings, count, repeat)),
        }
    finally:
        if url:
            _drop_postgres(url)


async def _measure(settings: Settings, count: int, repeat: int) -> dict[str, Any]:
    engine = make_engine(settings.resolved_database_url)
    try:
        listeners.install()
        reminders.install()
        began = time.perf_counter()
        seeded = await seed(engine, settings, count)
        seconds = time.perf_counter() - began
        sessions = make_sessionmaker(engine, settings)
        scheduler = Scheduler(sessions, settings)
        baseline = await _median(repeat, lambda: _pk_select(sessions, seeded["probe"]))
        idle = await _median(repeat, scheduler.tick)
        due = await _median(
            repeat, scheduler.tick, before=lambda: make_due(engine, seeded["org_id"], seeded)
        )
        per_job = {}
        for job in jobs():
            per_job[job.name] = await _median(
                repeat,
                lambda job=job: scheduler.run_once(job),
                before=lambda: make_due(engine, seeded["org_id"], seeded),
            )
        await make_due(engine, seeded["org_id"], seeded)
        with Captured(engine) as captured:
            await scheduler.tick()
        await make_due(engine, seeded["org_id"], seeded)
        shown = await plans(engine, captured.statements)  # with the few rows due
        return {
            "seed_seconds": round(seconds, 1),
            "jobs": [j.name for j in jobs()],
            "baseline": baseline,
            "idle": idle,
            "few_due": due,
            "per_job": per_job,
            "statements": len(captured.timed),
            "slowest": captured.slowest(),
            "plans": shown,
        }
    finally:
        await engine.dispose()


def markdown(results: list[dict[str, Any]], command: str) -> str:
    lines = [
        "# Scheduler: the cost of one tick",
        "",
        f"`{command}` (2 shared cores). One tick runs every job "
        f"({', '.join(results[0]['jobs'])}), each taking its lease in one transaction and "
        "doing its work and giving the lease back in another. Baseline: one primary-key "
        "select of a task in a fresh session. Medians (best) in ms.",
        "",
        "| database | open tasks | baseline | idle tick | ratio | tick, a few due | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        base = r["baseline"]["median_ms"]
        lines.append(
            f"| {r['backend']} | {r['tasks']:,} | {base:.2f} ({r['baseline']['best_ms']:.2f}) "
            f"| {r['idle']['median_ms']:.1f} ({r['idle']['best_ms']:.1f}) "
            f"| {r['idle']['median_ms'] / base:.0f}x "
            f"| {r['few_due']['median_ms']:.1f} ({r['few_due']['best_ms']:.1f}) "
            f"| {r['few_due']['median_ms'] / base:.0f}x |"
        )
    lines += [
        "",
        "One job's run (lease included) with its few rows due, median ms:",
        "",
        "| database | " + " | ".join(results[0]["per_job"]) + " |",
        "|---|" + "---|" * len(results[0]["per_job"]),
    ]
    for r in results:
        lines.append(
            f"| {r['backend']} | "
            + " | ".join(f"{v['median_ms']:.1f}" for v in r["per_job"].values())
            + " |"
        )
    for r in results:
        lines += [
            "",
            f"Slowest statements of one tick with a few due on {r['backend']} "
            f"({r['statements']} statements in all):",
            "",
        ]
        lines += [f"- {s['ms']:.2f} ms: `{s['sql']}`" for s in r["slowest"]]
    for r in results:
        lines += ["", f"## Plans on {r['backend']} (the SELECTs of a tick with a few due)", ""]
        for p in r["plans"]:
            lines += ["```sql", p["sql"], "```", "", "```", *p["plan"], "```", ""]
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--tasks", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()
    results = [measure(b, args.tasks, args.repeat) for b in args.db.split(",")]
    info = machine()
    path = write_results(
        "scheduler", {"machine": info, "results": results}, markdown(results, info["command"])
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
