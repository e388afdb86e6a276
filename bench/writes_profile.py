"""Statements and CPU per write, in-process: launch of the 20-step template and completion.

    .venv/bin/python bench/writes_profile.py [--db postgresql] [--scale 2000] [--repeat 60]
                                             [--rounds 5] [--show] [--profile DIR] [--calls N]
                                             [--lines]

Seeds an organization as bench/workflow_bench.py does, boots `create_app` inside its lifespan
and sends `POST /runs` (the 20-step template) and `POST /runs/{id}/completed-tasks` (distinct
open tasks) through httpx's ASGI transport. For each: the statements one request runs (the
engine's `before_cursor_execute`; `--show` lists them) and the main thread's CPU per request
(`time.thread_time`, the client's share included), the lowest of `--rounds` rounds: compare
branches with each other on one machine, not with wrk figures. `--profile DIR` adds one more
round under cProfile per write and leaves its stats in DIR (`python -m pstats`). `--calls N`
adds one more round that counts Python calls per request (`call_counts.py`: steadier than CPU
on a shared machine) and lists the N checkrun functions (lines, with `--lines`) that make the most.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).parent))
from call_counts import count, report  # noqa: E402
from workflow_bench import checkrun_init, database, headers  # noqa: E402
from workflow_seed import seed  # noqa: E402

SEEN: ContextVar[list[list[Any]] | None] = ContextVar("statements", default=None)
Send = Callable[[], Awaitable[httpx.Response]]


def _record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
    seen = SEEN.get()
    if seen is not None:
        seen.append([" ".join(statement.split()), time.perf_counter()])


def _timed(*_: Any) -> None:
    """The statement's wall time, driver and database included, in place of its start."""
    seen = SEEN.get()
    if seen:
        seen[-1][1] = time.perf_counter() - seen[-1][1]


async def _ok(send: Send) -> None:
    response = await send()
    if response.status_code not in (200, 201):
        raise RuntimeError(f"{response.status_code} {response.text[:300]}")


async def measure(name: str, send: Send, args: Any) -> None:
    for _ in range(5):
        await _ok(send)
    seen: list[list[Any]] = []
    token = SEEN.set(seen)
    await _ok(send)
    SEEN.reset(token)
    rounds = []
    for _ in range(args.rounds):
        started = time.thread_time()
        for _ in range(args.repeat):
            await _ok(send)
        rounds.append(1000 * (time.thread_time() - started) / args.repeat)
    print(f"{name}: {len(seen)} statements, {min(rounds):.2f} ms CPU per request", flush=True)
    if args.profile:
        await profiled(name, send, args)
    if args.calls:
        await counted(send, args)
    if args.show:
        for statement, seconds in seen:
            print(f"    {1000 * seconds:6.2f} ms  {statement[:150]}")


async def profiled(name: str, send: Send, args: Any) -> None:
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(args.repeat):
        await _ok(send)
    profile.disable()
    Path(args.profile).mkdir(parents=True, exist_ok=True)
    slug = "launch" if name.startswith("POST /runs ") else "complete"
    profile.dump_stats(Path(args.profile) / f"{args.kind}-{slug}.prof")


async def counted(send: Send, args: Any) -> None:
    async def requests() -> None:
        for _ in range(args.repeat):
            await _ok(send)

    for line in report(await count(requests, args.lines), args.repeat, args.calls):
        print(line, flush=True)


async def run(url: str, work: Path, init: dict[str, Any], args: Any) -> None:
    from checkrun.app import create_app
    from checkrun.config import Settings

    seeded = await seed(url, init["org_id"], int(init["user_id"]), args.scale)
    app = create_app(Settings(data_dir=work, database_url=url, rate_limit_per_minute=0))
    org = f"/api/organizations/{init['org_id']}"
    open_tasks = list(seeded.open_tasks)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", headers=headers(init["token"])
        ) as client:

            def launch() -> Awaitable[httpx.Response]:
                return client.post(f"{org}/runs", json={"checklist_id": seeded.template_20})

            def complete() -> Awaitable[httpx.Response]:
                run_id, task_id = open_tasks.pop()
                body = {"task_id": task_id}
                return client.post(f"{org}/runs/{run_id}/completed-tasks", json=body)

            await measure("POST /runs (20 steps)", launch, args)
            await measure("POST /runs/{id}/completed-tasks", complete, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="postgresql")
    parser.add_argument("--scale", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--show", action="store_true")
    parser.add_argument("--profile", default=None)
    parser.add_argument("--calls", type=int, default=0, help="list the top N call sites")
    parser.add_argument("--lines", action="store_true", help="call sites by line")
    args = parser.parse_args()
    event.listen(Engine, "before_cursor_execute", _record)
    event.listen(Engine, "after_cursor_execute", _timed)
    for kind in args.db.split(","):
        args.kind = kind
        work = Path(tempfile.mkdtemp(prefix="writes-"))
        try:
            with database(kind, work) as (url, env):
                print(f"{kind} {args.scale}", flush=True)
                asyncio.run(run(url, work, checkrun_init(work, env), args))
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
