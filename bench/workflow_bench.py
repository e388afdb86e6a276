"""Workflow endpoints under load, as ratios to a bare ASGI JSON endpoint measured in the same
run, on SQLite and PostgreSQL, and list latency at 10k vs 200k tasks.

    python bench/workflow_bench.py [--db sqlite,postgresql] [--scales 10000,200000]
                                   [--duration 8] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parent))
from common import checkrun_server, free_port, machine, wait_until_up, write_results  # noqa: E402

from checkrun.db import make_engine  # noqa: E402
from checkrun.models import (  # noqa: E402
    Checklist,
    Membership,
    Organization,
    Run,
    Step,
    Task,
    TaskOwner,
    User,
)

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
TASKS_PER_RUN = 20
ADMIN_RUNS = 50
BARE_APP = '''
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
async def hello(request):
    return JSONResponse({"data": {"id": "0" * 32, "status": "active"}})
app = Starlette(routes=[Route("/api/hello", hello)])
'''


@dataclass
class Seeded:
    run_ids: list[str]
    template_20: str
    open_tasks: list[tuple[str, str]]  # (run id, task id) still to complete


def _now() -> datetime:
    return datetime.now(UTC)


async def _insert(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), 5000):
        await conn.execute(table.__table__.insert(), rows[i:i + 5000])


def _members(org_id: str, admin_id: int) -> tuple[list[dict[str, Any]], list[int]]:
    ids = list(range(admin_id + 1, admin_id + 20))
    users = [{"id": i, "email": f"m{i}-{uuid.uuid4().hex[:6]}@example.com", "first_name": "M",
              "last_name": str(i)} for i in ids]
    return users, ids


def _templates(org_id: str, admin_id: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    templates, steps = [], []
    for n in range(100):
        tid = uuid.uuid4().hex
        templates.append({"id": tid, "org_id": org_id, "increment_id": n + 1,
                          "title": f"Template {n}", "type": "procedure", "created_by": admin_id})
        count = 20 if n == 0 else 5 + n % 16
        steps += [{"id": uuid.uuid4().hex, "checklist_id": tid, "title": f"Step {p}",
                   "alias": f"step-{p}", "position": p} for p in range(1, count + 1)]
    return templates, steps


async def seed(url: str, org_id: str, admin_id: int, task_count: int) -> Seeded:
    engine = make_engine(url)
    rng = random.Random(7)
    users, member_ids = _members(org_id, admin_id)
    owners_pool = [admin_id, *member_ids]
    templates, steps = _templates(org_id, admin_id)
    runs, tasks, owners = [], [], []
    open_tasks: list[tuple[str, str]] = []
    started = _now() - timedelta(days=30)
    for r in range(task_count // TASKS_PER_RUN):
        rid, status = uuid.uuid4().hex, rng.choice(["active"] * 8 + ["complete", "archived"])
        runs.append({"id": rid, "org_id": org_id, "increment_id": r + 1,
                     "checklist_id": templates[r % 100]["id"], "checklist_title": "T",
                     "name": f"Run {r}", "status": status, "owner_id": admin_id,
                     "started_by": admin_id, "created_at": started + timedelta(seconds=r),
                     "deleted_at": _now() if status == "archived" else None})
        for p in range(1, TASKS_PER_RUN + 1):
            tid = uuid.uuid4().hex
            done = status == "complete" or rng.random() < 0.3
            tasks.append({"id": tid, "org_id": org_id, "increment_id": len(tasks) + 1,
                          "run_id": rid, "title": f"Task {p}", "position": p,
                          "status": "completed" if done else "active",
                          "deadline": _now() + timedelta(days=rng.randint(-5, 20)),
                          "created_at": started + timedelta(seconds=len(tasks)),
                          "deleted_at": _now() if status == "archived" else None})
            # The measured user holds the same 1,000 tasks at every scale, so that /me/tasks
            # shows how its latency depends on the organization's size, not on the user's.
            owner = admin_id if r < ADMIN_RUNS else rng.choice(owners_pool[1:])
            owners.append({"task_id": tid, "kind": "user", "ref": str(owner)})
            if not done and status == "active" and owner == admin_id:
                open_tasks.append((rid, tid))
    async with engine.begin() as conn:
        await _insert(conn, User, users)
        await _insert(conn, Membership, [{"org_id": org_id, "user_id": i, "role": "standard"}
                                         for i in member_ids])
        await _insert(conn, Checklist, templates)
        await _insert(conn, Step, steps)
        await _insert(conn, Run, runs)
        await _insert(conn, Task, tasks)
        await _insert(conn, TaskOwner, owners)
        await conn.execute(Organization.__table__.update().where(
            Organization.id == org_id).values(run_seq=len(runs), task_seq=len(tasks),
                                              checklist_seq=100))
    async with engine.connect() as conn:
        # Planner statistics, as PostgreSQL's autovacuum would gather them after a bulk load.
        await conn.execute(text("ANALYZE"))
        await conn.commit()
    await engine.dispose()
    rng.shuffle(open_tasks)
    return Seeded([r["id"] for r in runs if r["status"] != "archived"], templates[0]["id"],
                  open_tasks)


@dataclass
class Load:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    def summary(self) -> dict[str, float]:
        lat = sorted(self.latencies) or [0.0]
        return {"rps": self.requests / self.seconds, "errors": self.errors,
                "p50_ms": 1000 * lat[len(lat) // 2],
                "p99_ms": 1000 * lat[min(len(lat) - 1, int(len(lat) * 0.99))]}


Call = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


async def drive(base: str, headers: dict[str, str], call: Call, duration: float,
                concurrency: int) -> Load:
    """A closed loop: `concurrency` workers send back-to-back requests for `duration` s."""
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + duration
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while time.perf_counter() < stop:
            start = time.perf_counter()
            try:
                response = await call(client)
                ok = response.status_code < 300
            except IndexError:  # nothing left to complete
                return
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - start)
            errors += 0 if ok else 1

    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits,
                                 timeout=60) as client:
        begin = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        seconds = time.perf_counter() - begin
    return Load(len(latencies), errors, seconds, latencies)


def calls(org: str, seeded: Seeded, admin_id: int) -> dict[str, Call]:
    rng = random.Random(11)
    pool = list(seeded.open_tasks)

    async def complete(c: httpx.AsyncClient) -> httpx.Response:
        run_id, task_id = pool.pop()
        return await c.post(f"/organizations/{org}/runs/{run_id}/completed-tasks",
                            json={"task_id": task_id})

    return {
        "get run with tasks": lambda c: c.get(
            f"/organizations/{org}/runs/{rng.choice(seeded.run_ids)}", params={"with": "tasks"}),
        "list /me/tasks": lambda c: c.get(f"/organizations/{org}/me/tasks"),
        "list runs active page 50": lambda c: c.get(
            f"/organizations/{org}/runs", params={"status": "active", "page": 50}),
        "launch 20-step process": lambda c: c.post(
            f"/organizations/{org}/runs", json={"checklist_id": seeded.template_20}),
        "complete a task": complete,
    }


@contextmanager
def bare_server(directory: Path) -> Iterator[str]:
    (directory / "bare_app.py").write_text(BARE_APP)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "bare_app:app", "--port",
                             str(port), "--log-level", "warning"], cwd=directory,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}/api"
        wait_until_up(base + "/hello", proc)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=15)


async def _pg(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def database(kind: str) -> Iterator[dict[str, str]]:
    if kind == "sqlite":
        yield {}
        return
    name = f"checkrun_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(_pg(f'CREATE DATABASE "{name}"'))
    try:
        yield {"CHECKRUN_DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"}
    finally:
        asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def measure(kind: str, scale: int, base: Path, args: argparse.Namespace,
            baseline_rps: float) -> dict[str, Any]:
    data_dir = base / f"{kind}-{scale}"
    with database(kind) as env, checkrun_server(data_dir, env) as server:
        url = env.get("CHECKRUN_DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir}/checkrun.db"
        seeded = asyncio.run(seed(url, server.org_id, server.user_id, scale))
        headers = {"Authorization": f"Bearer {server.token}", "X-Tallyfy-Client": "APIClient"}
        out: dict[str, Any] = {}
        for name, call in calls(server.org_id, seeded, server.user_id).items():
            load = asyncio.run(drive(server.api, headers, call, args.duration,
                                     args.concurrency)).summary()
            load["rps_vs_bare"] = load["rps"] / baseline_rps
            out[name] = load
            print(f"{kind:10} {scale:>7} {name:26} {load['rps']:8.1f} rps "
                  f"p50 {load['p50_ms']:7.1f} ms p99 {load['p99_ms']:7.1f} ms "
                  f"({load['rps_vs_bare']:.3f} x bare, {load['errors']} errors)", flush=True)
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--scales", default="10000,200000")
    parser.add_argument("--duration", type=float, default=8)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="checkrun-wbench-"))
    with bare_server(base) as bare:
        baseline = asyncio.run(drive(bare, {}, lambda c: c.get("/hello"), args.duration,
                                     args.concurrency)).summary()
    print(f"bare ASGI JSON: {baseline['rps']:.0f} rps p50 {baseline['p50_ms']:.1f} ms", flush=True)
    results: dict[str, Any] = {"machine": machine(), "bare_asgi": baseline, "runs": {}}
    for kind in args.db.split(","):
        for scale in (int(s) for s in args.scales.split(",")):
            results["runs"][f"{kind}/{scale}"] = measure(kind, scale, base, args, baseline["rps"])
    subprocess.run(["rm", "-rf", str(base)], check=False)
    path = write_results("workflow", results, markdown(results))
    print(f"written to {path}")


def markdown(results: dict[str, Any]) -> str:
    bare = results["bare_asgi"]
    lines = [f"# Workflow endpoints under load ({results['machine']['nproc']} cores)", "",
             f"`{results['machine']['command']}`", "",
             f"Bare ASGI JSON endpoint: **{bare['rps']:.0f} rps**, p50 {bare['p50_ms']:.1f} ms, "
             f"p99 {bare['p99_ms']:.1f} ms.", "",
             "| db / tasks | endpoint | rps | × bare | p50 ms | p99 ms | errors |",
             "|---|---|---|---|---|---|---|"]
    for key, endpoints in results["runs"].items():
        for name, r in endpoints.items():
            lines.append(f"| {key} | {name} | {r['rps']:.1f} | {r['rps_vs_bare']:.3f} | "
                         f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']} |")
    lines += ["", "List latency, 200k vs 10k tasks (p50 ratio):", ""]
    for kind in sorted({k.split("/")[0] for k in results["runs"]}):
        scales = sorted((int(k.split("/")[1]), v) for k, v in results["runs"].items()
                        if k.startswith(kind + "/"))
        if len(scales) < 2:
            continue
        small, large = scales[0][1], scales[-1][1]
        for name in ("list /me/tasks", "list runs active page 50", "get run with tasks"):
            ratio = large[name]["p50_ms"] / max(small[name]["p50_ms"], 1e-9)
            lines.append(f"- {kind}, {name}: {ratio:.2f}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
