"""Statements and time per read, in-process, at several scales: what a GET costs beyond a bare
route reading one row.

    .venv/bin/python bench/reads_profile.py [--db sqlite,postgresql] [--scales 10000,200000]
                                            [--repeat 30]

For each database and scale: seed an organization (bench/workflow_seed.py), upload one file,
then send each GET through `create_app` with httpx's ASGI transport `--repeat` times (after two
uncounted warm-ups), recording the engine's statements. Beside them, a bare FastAPI route in
the same process reads one row through the same engine and pydantic: the baseline of the
ratios. The slowest statement of each read is timed alone and explained. No load is generated
(wrk runs belong to bench/workflow_bench.py). Results: bench/results/reads-<UTC date>.json/.md.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

sys.path.insert(0, str(Path(__file__).parent))
from common import machine, write_results  # noqa: E402
from workflow_bench import checkrun_init, database, headers, runs_page  # noqa: E402
from workflow_seed import Seeded, compact_counts, seed  # noqa: E402


class OrgRead(BaseModel):
    id: str
    name: str


def reads(org_id: str, seeded: Seeded, admin_id: int, asset_id: str) -> dict[str, str]:
    org = f"/api/organizations/{org_id}"
    run = seeded.visible_run_ids[len(seeded.visible_run_ids) // 2]
    return {
        "run_with_tasks": f"{org}/runs/{run}?with=tasks",
        "me_tasks_admin": f"{org}/me/tasks",
        "user_tasks_fixed_active": f"{org}/users/{seeded.fixed_member_id}/tasks?status=active",
        "user_tasks_admin": f"{org}/users/{admin_id}/tasks",
        "runs_active_page": f"{org}/runs?status=active&page={runs_page(seeded)}",
        "org_tasks": f"{org}/tasks",
        "asset": f"{org}/assets/{asset_id}",
    }


def bare_app(engine: AsyncEngine, org_id: str) -> FastAPI:
    """One route reading one row with async SQLAlchemy through pydantic."""
    from checkrun.orgs.models import Organization

    app = FastAPI()

    @app.get("/bare")
    async def bare() -> dict[str, Any]:
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    select(Organization.id, Organization.name).where(Organization.id == org_id)
                )
            ).one()
        return {"data": OrgRead(id=row.id, name=row.name).model_dump()}

    return app


class Recorder:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.captured: list[tuple[str, Any]] = []

    def __call__(self, _c: Any, _cur: Any, statement: str, params: Any, *_: Any) -> None:
        self.captured.append((statement, params))

    def __enter__(self) -> Recorder:
        self.captured.clear()
        event.listen(self.engine.sync_engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *_: Any) -> None:
        event.remove(self.engine.sync_engine, "before_cursor_execute", self)


async def timed(client: httpx.AsyncClient, path: str, repeat: int) -> tuple[float, int]:
    for _ in range(2):
        response = await client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:300]}")
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        await client.get(path)
        times.append(1000 * (time.perf_counter() - began))
    return statistics.median(times), len(times)


async def explain_slowest(engine: AsyncEngine, captured: list[tuple[str, Any]]) -> dict[str, Any]:
    sqlite = engine.url.get_backend_name() == "sqlite"
    best: dict[str, Any] = {"sql": "", "median_ms": 0.0, "plan": []}
    async with engine.connect() as conn:
        for statement, params in captured:
            if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            times = []
            for _ in range(5):
                began = time.perf_counter()
                (await conn.exec_driver_sql(statement, params)).fetchall()
                times.append(1000 * (time.perf_counter() - began))
            if statistics.median(times) > best["median_ms"]:
                explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
                rows = (await conn.exec_driver_sql(explain + statement, params)).fetchall()
                best = {
                    "sql": " ".join(statement.split()),
                    "median_ms": statistics.median(times),
                    "plan": [str(row[-1]) for row in rows],
                }
    return best


async def upload_asset(client: httpx.AsyncClient, org_id: str, task_id: str) -> str:
    response = await client.post(
        f"/api/organizations/{org_id}/assets",
        data={"subject_type": "Task", "subject_id": task_id, "uploaded_from": "ko_field"},
        files={"name": ("notes.txt", b"hello world", "text/plain")},
    )
    response.raise_for_status()
    return str(response.json()["data"]["id"])


async def profile(
    url: str, data_dir: Path, token: str, org_id: str, admin_id: int, seeded: Seeded, repeat: int
) -> dict[str, Any]:
    from checkrun.app import create_app
    from checkrun.config import Settings

    app = create_app(Settings(data_dir=data_dir, database_url=url, rate_limit_per_minute=0))
    engine: AsyncEngine = app.state.engine
    out: dict[str, Any] = {}
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", headers=headers(token)
        ) as client:
            asset_id = await upload_asset(client, org_id, seeded.open_tasks[0][1])
            bare = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=bare_app(engine, org_id)), base_url="http://b"
            )
            async with bare:
                with Recorder(engine) as rec:
                    await bare.get("/bare")
                ms, _ = await timed(bare, "/bare", repeat)
                out["bare"] = {"ms": ms, "statements": len(rec.captured)}
            for key, path in reads(org_id, seeded, admin_id, asset_id).items():
                with Recorder(engine) as rec:
                    await client.get(path)
                    await client.get(path)
                statements = rec.captured[len(rec.captured) // 2 :]
                ms, _ = await timed(client, path, repeat)
                out[key] = {
                    "path": path.split(org_id, 1)[-1],
                    "ms": ms,
                    "statements": len(statements),
                    "sql": [" ".join(s.split())[:160] for s, _ in statements],
                    "slowest": await explain_slowest(engine, statements),
                }
    finally:
        await engine.dispose()
    return out


def measure(kind: str, scale: int, repeat: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="reads-"))
    try:
        with database(kind, work) as (url, env):
            init = checkrun_init(work, env)
            seeded = asyncio.run(seed(url, init["org_id"], int(init["user_id"]), scale))
            asyncio.run(compact_counts(url))
            return asyncio.run(
                profile(
                    url, work, init["token"], init["org_id"], int(init["user_id"]), seeded, repeat
                )
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def markdown(results: dict[str, Any]) -> str:
    lines = ["# Reads in-process: statements and ms per request", ""]
    lines.append(f"Command: `{results['machine']['command']}`; median of {results['repeat']}.")
    lines += ["", "| db | tasks | read | statements | ms | vs bare | slowest stmt ms |"]
    lines.append("|---|---|---|---|---|---|---|")
    for target, reads_ in results["targets"].items():
        kind, scale = target.split(":")
        bare = reads_["bare"]["ms"]
        for key, r in reads_.items():
            slow = r.get("slowest", {}).get("median_ms", 0.0)
            lines.append(
                f"| {kind} | {scale} | {key} | {r['statements']} | {r['ms']:.2f} | "
                f"{bare / r['ms']:.2f} | {slow:.2f} |"
            )
    lines += ["", "## Scale ratios (largest / smallest scale, ms)", ""]
    for kind in results["dbs"]:
        scales = sorted(int(t.split(":")[1]) for t in results["targets"] if t.startswith(kind))
        if len(scales) < 2:
            continue
        small, large = (results["targets"][f"{kind}:{s}"] for s in (scales[0], scales[-1]))
        for key in small:
            if key != "bare":
                ratio = large[key]["ms"] / small[key]["ms"]
                lines.append(f"- {kind} {key}: {ratio:.2f}")
    lines += ["", "## Slowest statement per read, with its plan", ""]
    for target, reads_ in results["targets"].items():
        for key, r in reads_.items():
            if "slowest" in r:
                s = r["slowest"]
                lines.append(f"- **{target} {key}** {s['median_ms']:.2f} ms: `{s['sql'][:300]}`")
                lines += [f"  - {p}" for p in s["plan"][:12]]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--scales", default="10000,200000")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--name", default="reads")
    args = parser.parse_args()
    dbs = args.db.split(",")
    results: dict[str, Any] = {
        "machine": machine(),
        "repeat": args.repeat,
        "dbs": dbs,
        "targets": {},
    }
    for kind in dbs:
        for scale in (int(s) for s in args.scales.split(",")):
            print(f"{kind} {scale}...", flush=True)
            got = measure(kind, scale, args.repeat)
            results["targets"][f"{kind}:{scale}"] = got
            for key, r in got.items():
                print(f"  {key:26} {r['statements']:3} stmts {r['ms']:8.2f} ms", flush=True)
    path = write_results(args.name, results, markdown(results))
    print(path)


if __name__ == "__main__":
    main()
