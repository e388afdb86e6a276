"""Server time of the web app's pages at 10k tasks, beside the API's `GET /me/tasks` and a bare
route, measured in-process (create_app + httpx's ASGI transport: no sockets, no other process).

    .venv/bin/python bench/web_bench.py [--tasks 10000] [--repeat 30] [--db sqlite|postgresql]

Seeds like the workflow benchmark (`workflow_seed.py`: 100 templates, 21 members, runs of 20
tasks), signs the admin in with a web session, then for each page: 3 uncounted requests, then
`--repeat` sequential ones, each timed from the request to the last byte of the response. The
statements each page sends are counted once (an N+1 shows up as a count that grows). Pages
another part of the web app has not added yet (answering 404) are reported as skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, text

sys.path.insert(0, str(Path(__file__).parent))
from common import machine, write_results  # noqa: E402
from workflow_seed import seed  # noqa: E402

TARGET_MS = 50.0
PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/"


def init(data_dir: Path, env: dict[str, str]) -> dict[str, Any]:
    import json
    import os

    full = {k: v for k, v in os.environ.items() if not k.startswith("CHECKRUN_")} | env
    out = subprocess.run(
        [sys.executable, "-m", "checkrun", "init", "--data-dir", str(data_dir), "--json"],
        env=full,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return dict(json.loads(out.stdout))


async def _pg(sql: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(PG + "postgres", isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


async def web_session(url: str, user_id: int, org_id: str) -> str:
    from checkrun.db import make_engine, make_sessionmaker
    from checkrun.members.models import User
    from checkrun.web import auth

    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as db:
            user = await db.get(User, user_id)
            assert user is not None
            raw = await auth.start_session(db, user, 3600, org_id)
            await db.commit()
            return raw
    finally:
        await engine.dispose()


def targets(org_id: str, task_id: str, run_id: str, runs_pages: int) -> list[tuple[str, str]]:
    return [
        ("bare route (baseline)", "/bench-bare"),
        ("API GET /me/tasks", f"/api/organizations/{org_id}/me/tasks"),
        ("My tasks", "/app/tasks"),
        ("task page", f"/app/tasks/{task_id}"),
        ("process page", f"/app/processes/{run_id}"),
        ("process list, page 1", "/app/processes"),
        (f"process list, page {runs_pages}", f"/app/processes?p={runs_pages}"),
        ("process list, template filter", "/app/processes?status=active&template=TEMPLATE"),
        ("launch picker", "/app/launch"),
        ("launch form (20 steps)", "/app/launch/TEMPLATE"),
        ("template list", "/app/templates"),
    ]


async def measure(
    url: str, data_dir: Path, boot: dict[str, Any], seeded: Any, repeat: int
) -> list[dict[str, Any]]:
    from checkrun.app import create_app
    from checkrun.config import Settings

    raw = await web_session(url, boot["user_id"], boot["org_id"])
    app = create_app(Settings(data_dir=data_dir, database_url=url))

    @app.get("/bench-bare", include_in_schema=False)
    async def bare() -> dict[str, object]:
        return {"data": {"id": "0" * 32, "status": "active"}}

    engine = app.state.engine
    statements: list[str] = []

    def record(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    transport = httpx.ASGITransport(app=app)
    out = []
    try:
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://bench",
            headers={
                "Authorization": f"Bearer {boot['token']}",
                "X-Tallyfy-Client": "APIClient",
                "Accept": "text/html",
            },
            cookies={"checkrun_session": raw},
        ) as client:
            mine = (
                await client.get(
                    f"/api/organizations/{boot['org_id']}/me/tasks",
                    headers={"Accept": "application/json"},
                )
            ).json()["data"]
            runs_pages = -(-seeded.counts["runs"] * 92 // 100 // 20)
            for name, path in targets(
                boot["org_id"], mine[0]["id"], seeded.active_run_ids[0], runs_pages
            ):
                path = path.replace("TEMPLATE", seeded.template_20)
                out.append(await _one(client, engine, statements, record, name, path, repeat))
    finally:
        await engine.dispose()
    return out


async def _one(
    client: httpx.AsyncClient,
    engine: Any,
    statements: list[str],
    record: Any,
    name: str,
    path: str,
    repeat: int,
) -> dict[str, Any]:
    first = await client.get(path)
    if first.status_code == 404:
        return {"page": name, "path": path, "skipped": "404 (not in this build)"}
    assert first.status_code == 200, (path, first.status_code, first.text[:300])
    for _ in range(2):
        await client.get(path)
    event.listen(engine.sync_engine, "before_cursor_execute", record)
    await client.get(path)
    event.remove(engine.sync_engine, "before_cursor_execute", record)
    count = len(statements)
    statements.clear()
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        answer = await client.get(path)
        times.append((time.perf_counter() - began) * 1000)
        assert answer.status_code == 200
    times.sort()
    return {
        "page": name,
        "path": path,
        "statements": count,
        "median_ms": round(statistics.median(times), 2),
        "p90_ms": round(times[int(len(times) * 0.9) - 1], 2),
        "max_ms": round(times[-1], 2),
        "bytes": len(first.content),
    }


def markdown(
    db: str, tasks: int, rows: list[dict[str, Any]], facts: dict[str, Any], counts: dict[str, int]
) -> str:
    bare = next(r["median_ms"] for r in rows if r["page"].startswith("bare"))
    lines = [
        f"# Web pages' server time, {tasks:,} tasks on {db}",
        "",
        f"Command: `{facts['command']}`",
        "",
        f"Machine: {facts['nproc']} cores (shared), Python {facts['python']}, {facts['platform']}.",
        "",
        f"Seed: {counts}.",
        "",
        "In-process (ASGI transport, no sockets), sequential requests after 3 uncounted "
        f"ones; target: median below {TARGET_MS:.0f} ms.",
        "",
        "| page | path | SQL statements | median ms | p90 ms | max ms | × bare |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if "skipped" in r:
            lines.append(f"| {r['page']} | `{r['path']}` | skipped: {r['skipped']} | | | | |")
            continue
        lines.append(
            f"| {r['page']} | `{r['path']}` | {r['statements']} | {r['median_ms']} | "
            f"{r['p90_ms']} | {r['max_ms']} | {r['median_ms'] / bare:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="checkrun-webbench-"))
    env: dict[str, str] = {}
    scratch = None
    try:
        if args.db == "postgresql":
            scratch = f"checkrun_webbench_{uuid.uuid4().hex[:8]}"
            asyncio.run(_pg(f"CREATE DATABASE {scratch}"))
            env["CHECKRUN_DATABASE_URL"] = PG + scratch
        boot = init(work, env)
        url = env.get("CHECKRUN_DATABASE_URL") or f"sqlite+aiosqlite:///{work / 'checkrun.db'}"
        seeded = asyncio.run(seed(url, boot["org_id"], boot["user_id"], args.tasks))
        rows = asyncio.run(measure(url, work, boot, seeded, args.repeat))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if scratch:
            asyncio.run(_pg(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)"))
    facts = machine()
    report = markdown(args.db, args.tasks, rows, facts, seeded.counts)
    name = "web" if args.db == "sqlite" else "web-postgresql"
    path = write_results(
        name,
        {
            "machine": facts,
            "db": args.db,
            "tasks": args.tasks,
            "seed": seeded.counts,
            "pages": rows,
        },
        report,
    )
    print(report)
    print(f"written: {path}")
    over = [r["page"] for r in rows if r.get("median_ms", 0) > TARGET_MS]
    if over:
        print("over the target:", ", ".join(over))
    return 0


if __name__ == "__main__":
    sys.exit(main())
