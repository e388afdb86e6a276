"""Workflow endpoints under load on SQLite and PostgreSQL, at several scales, each figure also
as a ratio to a bare baseline measured in the same run: a one-route FastAPI app that reads ONE
row (a task) with async SQLAlchemy from the same database through the same driver and returns
it through a pydantic model, under the same uvicorn settings.

    .venv/bin/python bench/workflow_bench.py [--db sqlite,postgresql] [--duration 10]
        [--scales 10000,200000,1000000] [--concurrency 16] [--rounds 3] [--no-workers-check]

For each database and scale: seed an organization directly in the database
(bench/workflow_seed.py), count the SQL statements of every request in-process (and time and
EXPLAIN those of the reads), then start `checkrun serve` (one process) and, `--rounds` times,
drive the baseline and then every endpoint on loopback (bench/loadgen.py):
  a  GET  /runs/{id}?with=tasks          (a random active or complete run)
  b  GET  /me/tasks                       (the admin: ~5% of all tasks are theirs)
  b2 GET  /users/{fixed}/tasks?status=active (a member holding 1,000 tasks at every scale)
  b3 GET  /me/tasks as that member        (page of 10 out of their 1,000)
  c  GET  /runs?status=active&page=50     (or the last page when there are fewer)
  f  GET  /organizations/{org}/tasks      (the organization's task list, first page)
  g  GET  /assets/{id}                    (a file uploaded before the load)
  d  POST /runs                           (launch the 20-step template)
  e  POST /runs/{id}/completed-tasks      (distinct open tasks)
Figures are medians over the rounds; ratios are medians of each round's ratio to the baseline
of that round. On PostgreSQL the reads are then driven against `checkrun serve --workers 2`
too: rps over the one-process figure, and the workers the supervisor replaced meanwhile.
Results: bench/results/workflow-<UTC date>.json and .md (`--name` changes the stem).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).parent))
from common import free_port, machine, wait_until_up, write_results  # noqa: E402
from loadgen import (  # noqa: E402
    Request,
    Scenario,
    default_generator,
    run_load,
    wrk_version,
)
from workflow_seed import Seeded, compact_counts, seed  # noqa: E402

PG_SERVER = "postgres@127.0.0.1:5432"
PER_PAGE = 10  # the API's default page size
RUNS_PAGE = 50
PROFILED = ("a", "b", "b2", "c")  # the reads whose SQL is timed and explained
READS = ("a", "b", "b2", "b3", "c", "f", "g")
BARE_APP = """
import os

from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

engine = create_async_engine(os.environ["BARE_DATABASE_URL"])
ROW_ID = os.environ["BARE_ROW_ID"]
app = FastAPI()


class TaskOut(BaseModel):
    id: str
    title: str
    status: str


@app.get("/api/bare")
async def bare() -> dict[str, TaskOut]:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT id, title, status FROM tasks WHERE id = :id"), {"id": ROW_ID}
            )
        ).one()
    return {"data": TaskOut(id=row.id, title=row.title, status=row.status)}
"""


# --- processes -------------------------------------------------------------------------------


def _env(extra: dict[str, str]) -> dict[str, str]:
    """The calling shell's CHECKRUN_* variables are dropped: every server starts from the
    defaults plus `extra`."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("CHECKRUN_")}
    # The per-user rate limit (600/min) would throttle the load itself.
    return {**inherited, "CHECKRUN_RATE_LIMIT_PER_MINUTE": "0", **extra}


def checkrun_init(data_dir: Path, env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "checkrun", "init", "--data-dir", str(data_dir), "--json"],
        env=_env(env),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return dict(json.loads(out.stdout))


@dataclass(frozen=True)
class Server:
    origin: str  # http://127.0.0.1:PORT
    pid: int

    def cpu_seconds(self) -> float:
        """User + system CPU of the server process, all its threads (not the database's)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def server(
    command: list[str], health: str, log: Path, env: dict[str, str], cwd: Path | None = None
) -> Iterator[Server]:
    """Starts `command` (which takes `--port`) on a free loopback port."""
    port = free_port()
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port)],
            env=_env(env),
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            origin = f"http://127.0.0.1:{port}"
            wait_until_up(origin + health, proc, timeout=300)  # a loaded machine starts slowly
            yield Server(origin, proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


def checkrun_serve(
    data_dir: Path, env: dict[str, str], log: Path, workers: int = 1
) -> AbstractContextManager[Server]:
    command = [sys.executable, "-m", "checkrun", "serve", "--data-dir", str(data_dir)]
    return server([*command, "--workers", str(workers)], "/api/health", log, env)


def bare_serve(directory: Path, log: Path, url: str, row_id: str) -> AbstractContextManager[Server]:
    """The same uvicorn settings as `checkrun serve`: one process, log level info."""
    (directory / "bare_app.py").write_text(BARE_APP)
    return server(
        [sys.executable, "-m", "uvicorn", "bare_app:app", "--workers", "1", "--log-level", "info"],
        "/api/bare",
        log,
        {"BARE_DATABASE_URL": url, "BARE_ROW_ID": row_id},
        cwd=directory,
    )


def checkrun_token(data_dir: Path, env: dict[str, str], email: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "checkrun", "token", "create", "--email", email]
        + ["--data-dir", str(data_dir), "--json"],
        env=_env(env),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return str(json.loads(out.stdout)["token"])


def upload_asset(origin: str, hdrs: dict[str, str], org_id: str, run_id: str) -> str:
    """A small file on a run (its kick-off form: the run's template and first step), for
    `GET /assets/{id}`."""
    org = f"{origin}/api/organizations/{org_id}"
    run = httpx.get(f"{org}/runs/{run_id}", headers=hdrs, timeout=60).json()["data"]
    task = httpx.get(f"{org}/runs/{run_id}/tasks", headers=hdrs, timeout=60).json()["data"][0]
    resp = httpx.post(
        f"{org}/file",
        headers=hdrs,
        data={
            "subject_type": "Run",
            "subject_id": run_id,
            "uploaded_from": "ko_field",
            "step_id": task["step_id"],
            "checklist_id": run["checklist_id"],
        },
        files={"name": ("notes.txt", b"benchmark " * 100)},
        timeout=60,
    )
    if not resp.is_success:
        raise RuntimeError(f"upload: {resp.status_code} {resp.text[:300]}")
    return str(resp.json()["data"]["id"])


def worker_pids(pid: int) -> set[int]:
    """The serving workers of `checkrun serve --workers N` (children running spawn_main)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            if ppid == pid and b"spawn_main" in (stat.parent / "cmdline").read_bytes():
                found.add(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


# --- PostgreSQL scratch databases ------------------------------------------------------------


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(f"postgresql://{PG_SERVER}/postgres", timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def database(kind: str, data_dir: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """Yields (SQLAlchemy URL, server env). PostgreSQL gets a scratch database, dropped after."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{(data_dir / 'checkrun.db').resolve()}", {}
        return
    if kind != "postgresql":
        raise ValueError(f"unknown database {kind!r}")
    name = f"checkrun_wbench_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        url = f"postgresql+asyncpg://{PG_SERVER}/{name}"
        yield url, {"CHECKRUN_DATABASE_URL": url}
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# --- scenarios -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    key: str
    label: str
    scenario: Scenario
    member: bool = False  # sent as the fixed member, not the admin


def runs_page(seeded: Seeded) -> int:
    """Page 50, or the last full page when there are fewer active runs (a page past the end
    answers an empty list, which would flatter the small scale)."""
    return max(1, min(RUNS_PAGE, len(seeded.active_run_ids) // PER_PAGE))


def endpoints(org_id: str, seeded: Seeded, asset_id: str) -> list[Endpoint]:
    """Completions use distinct tasks: each round its own share, the last task kept for the
    in-process count."""
    org = f"/api/organizations/{org_id}"
    page = runs_page(seeded)
    get = lambda key, label, path, member=False: Endpoint(  # noqa: E731
        key, label, Scenario(key, [Request("GET", path)]), member
    )
    completions = [
        Request("POST", f"{org}/runs/{run_id}/completed-tasks", {"task_id": task_id})
        for run_id, task_id in seeded.open_tasks
    ]
    return [
        Endpoint(
            "a",
            "GET /runs/{id}?with=tasks",
            Scenario(
                "a",
                [Request("GET", f"{org}/runs/{rid}?with=tasks") for rid in seeded.visible_run_ids],
            ),
        ),
        get("b", "GET /me/tasks (admin)", f"{org}/me/tasks"),
        get(
            "b2",
            "GET /users/{fixed}/tasks?status=active",
            f"{org}/users/{seeded.fixed_member_id}/tasks?status=active",
        ),
        get("b3", "GET /me/tasks (member, 1k tasks)", f"{org}/me/tasks", member=True),
        get("c", f"GET /runs?status=active&page={page}", f"{org}/runs?status=active&page={page}"),
        get("f", "GET /organizations/{org}/tasks", f"{org}/tasks"),
        get("g", "GET /assets/{id}", f"{org}/assets/{asset_id}"),
        Endpoint(
            "d",
            "POST /runs (20-step template)",
            Scenario("d", [Request("POST", f"{org}/runs", {"checklist_id": seeded.template_20})]),
        ),
        Endpoint(
            "e",
            "POST /runs/{id}/completed-tasks",
            Scenario("e", completions[:-1], distinct=True),
        ),
    ]


def round_scenario(endpoint: Endpoint, index: int, rounds: int) -> Scenario:
    """Round `index`'s share of a distinct scenario (the probe took the first request); the
    whole of any other."""
    scenario = endpoint.scenario
    if not scenario.distinct:
        return scenario
    left = scenario.requests[1:]
    share = len(left) // rounds
    return Scenario(scenario.name, left[index * share : (index + 1) * share], distinct=True)


def headers(token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "X-Tallyfy-Client": "APIClient",
        "Accept": "application/json",
    }


# --- measuring -------------------------------------------------------------------------------


@dataclass
class Probe:
    status: int
    available: bool
    items: int | None  # rows in a list answer's `data`
    body: str


def probe(origin: str, hdrs: dict[str, str], request: Request) -> Probe:
    """One request before the load: an endpoint that is not there yet (404 for an unknown route,
    405) is recorded as not available instead of being hammered."""
    resp = httpx.request(
        request.method, origin + request.path, json=request.body, headers=hdrs, timeout=60
    )
    missing = resp.status_code == 405 or (
        resp.status_code == 404 and "ENDPOINT_NOT_FOUND" in resp.text
    )
    items = None
    if resp.is_success and request.method == "GET":
        data = resp.json().get("data")
        items = len(data) if isinstance(data, list) else None
    return Probe(resp.status_code, not missing, items, resp.text[:300])


def loaded(
    srv: Server, hdrs: dict[str, str], scenario: Scenario, args: argparse.Namespace
) -> dict[str, Any]:
    """The load, and the server's CPU per request during it: unlike rps, this hardly moves
    when other work shares the machine."""
    before = srv.cpu_seconds()
    load = run_load(srv.origin, hdrs, scenario, args.duration, args.concurrency, args.generator)
    cpu = srv.cpu_seconds() - before
    return {**load.as_dict(), "server_cpu_ms": 1000 * cpu / max(load.requests, 1)}


FIGURES = ("rps", "p50_ms", "p99_ms", "server_cpu_ms")


def medians(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {k: statistics.median(r[k] for r in rounds) for k in FIGURES}
    out["errors"] = sum(r["errors"] for r in rounds)
    out["exhausted"] = any(r["exhausted"] for r in rounds)
    out["first_error"] = next((r["first_error"] for r in rounds if r["first_error"]), "")
    return out


def _over(a: float, b: float) -> float:
    """a / b, NaN when b is 0 (no request finished within the duration)."""
    return a / b if b else float("nan")


def ratios(rounds: list[dict[str, Any]], bare: list[dict[str, Any]]) -> dict[str, float]:
    """Medians of each round's ratio to the baseline of the same round."""
    return {
        f"{k.removesuffix('_ms')}_vs_bare": statistics.median(
            _over(r[k], b[k]) for r, b in zip(rounds, bare, strict=True)
        )
        for k in FIGURES
    }


def measure_rounds(
    srv: Server,
    bare: Server,
    hdrs: dict[str, dict[str, str]],
    targets: list[Endpoint],
    args: argparse.Namespace,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """`--rounds` times: the baseline, then every endpoint (the baseline and the endpoints
    alternate, so that a slow minute of the shared machine lands on both)."""
    who = {e.key: hdrs["member" if e.member else "admin"] for e in targets}
    first = {e.key: probe(srv.origin, who[e.key], e.scenario.requests[0]) for e in targets}
    bare_rounds: list[dict[str, Any]] = []
    rounds: dict[str, list[dict[str, Any]]] = {e.key: [] for e in targets}
    for index in range(args.rounds):
        bare_rounds.append(loaded(bare, {}, Scenario("bare", [Request("GET", "/api/bare")]), args))
        print(f"  round {index + 1}: bare {bare_rounds[-1]['rps']:.0f} rps", flush=True)
        for endpoint in targets:
            if first[endpoint.key].available:
                scenario = round_scenario(endpoint, index, args.rounds)
                rounds[endpoint.key].append(loaded(srv, who[endpoint.key], scenario, args))
    out: dict[str, Any] = {}
    for endpoint in targets:
        p = first[endpoint.key]
        result: dict[str, Any] = {"label": endpoint.label, "probe_status": p.status}
        result["items"], result["available"] = p.items, p.available
        if not p.available:
            out[endpoint.key] = {**result, "probe_body": p.body}
            continue
        result |= medians(rounds[endpoint.key]) | ratios(rounds[endpoint.key], bare_rounds)
        result["rounds"] = rounds[endpoint.key]
        # The probe's answer counts too (a distinct probe's task is in no round).
        if not 200 <= p.status < 300:
            result["errors"] += 1
            result["first_error"] = result["first_error"] or f"{p.status} {p.body[:160]}"
        out[endpoint.key] = result
        print("  " + _line(endpoint.key, result), flush=True)
    return {"rounds": bare_rounds, **medians(bare_rounds)}, out


def measure_workers(
    data_dir: Path,
    env: dict[str, str],
    log: Path,
    hdrs: dict[str, dict[str, str]],
    targets: list[Endpoint],
    one: dict[str, Any],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """The reads against `--workers 2`: rps over the one-process median, and the workers the
    supervisor replaced while they ran (uvicorn kills a worker that misses its health check)."""
    reads = [e for e in targets if e.key in READS and one[e.key]["available"]]
    out: dict[str, Any] = {}
    with checkrun_serve(data_dir, env, log, workers=2) as srv:
        time.sleep(2)  # both workers up
        pids = worker_pids(srv.pid)
        for endpoint in reads:
            who = hdrs["member" if endpoint.member else "admin"]
            load = run_load(
                srv.origin, who, endpoint.scenario, args.duration, args.concurrency, args.generator
            )
            out[endpoint.key] = {
                **load.as_dict(),
                "vs_one_worker": _over(load.rps, one[endpoint.key]["rps"]),
            }
        now_pids = worker_pids(srv.pid)
    lost = len(pids - now_pids)
    print(f"  --workers 2: {len(pids)} workers at the start, {lost} replaced", flush=True)
    return {"workers_at_start": len(pids), "workers_lost": lost, "endpoints": out}


def measure_target(kind: str, scale: int, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    data_dir = work / f"{kind}-{scale}"
    data_dir.mkdir(parents=True)
    with database(kind, data_dir) as (url, env):
        boot = checkrun_init(data_dir, env)
        seeded = asyncio.run(seed(url, boot["org_id"], int(boot["user_id"]), scale))
        # A deployment folds its counters as it goes; a bulk seed leaves one row per task.
        asyncio.run(compact_counts(url))
        print(f"  seeded {seeded.counts} in {seeded.seconds:.1f} s", flush=True)
        member = checkrun_token(data_dir, env, seeded.fixed_member_email)
        hdrs = {"admin": headers(boot["token"]), "member": headers(member)}
        log = work / f"{kind}-{scale}.log"
        with checkrun_serve(data_dir, env, log) as srv:
            asset = upload_asset(
                srv.origin, hdrs["admin"], boot["org_id"], seeded.active_run_ids[0]
            )
            targets = [
                t
                for t in endpoints(boot["org_id"], seeded, asset)
                if not args.only_keys or t.key in args.only_keys
            ]
            any_task = seeded.open_tasks[0][1]
            with bare_serve(data_dir, work / "bare.log", url, any_task) as bare:
                baseline, results = measure_rounds(srv, bare, hdrs, targets, args)
        workers = (
            measure_workers(data_dir, env, log, hdrs, targets, results, args)
            if kind == "postgresql" and args.workers_check
            else None
        )
        last = seeded.open_tasks[-1]
        queries = asyncio.run(profile_queries(url, data_dir, hdrs, targets, last))
    for key, statements in queries["counts"].items():
        results[key]["statements"] = statements
    return {
        "seed": {**seeded.counts, "seconds": seeded.seconds},
        "baseline": baseline,
        "endpoints": results,
        "queries": queries["timed"],
        "workers": workers,
    }


def _line(key: str, r: dict[str, Any]) -> str:
    if not r["available"]:
        return f"{key:3} {r['label']:40} not available ({r['probe_status']})"
    return (
        f"{key:3} {r['label']:40} {r['rps']:8.1f} rps  ÷bare {r['rps_vs_bare']:.3f}  "
        f"p50 {r['p50_ms']:7.1f} ms  cpu {r['server_cpu_ms']:5.1f} ms/req  errors {r['errors']}"
    )


# --- SQL behind the requests -----------------------------------------------------------------


async def profile_queries(
    url: str,
    data_dir: Path,
    hdrs: dict[str, dict[str, str]],
    targets: list[Endpoint],
    last_task: tuple[str, str],
) -> dict[str, Any]:
    """Sends each request once more through the app in-process and counts its SQL statements
    (authentication and the answer included); every SELECT of the reads is then timed on its
    own (median of 5) with its plan: the statement whose time grows with the scale is named
    here. The completion uses the one open task no round used."""
    from checkrun.app import create_app
    from checkrun.config import Settings

    app = create_app(Settings(data_dir=data_dir, database_url=url))
    engine = app.state.engine
    captured: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _many: bool) -> None:
        captured.append((statement, params))

    counts: dict[str, int] = {}
    timed: dict[str, list[dict[str, Any]]] = {}
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for endpoint in targets:
                request = endpoint.scenario.requests[0]
                if endpoint.key == "e":
                    run_id, task_id = last_task
                    org = request.path.rsplit("/runs/", 1)[0]
                    path = f"{org}/runs/{run_id}/completed-tasks"
                    request = Request("POST", path, {"task_id": task_id})
                who = hdrs["member" if endpoint.member else "admin"]
                if request.method == "GET":  # warm caches
                    await client.request(request.method, request.path, headers=who)
                event.listen(engine.sync_engine, "before_cursor_execute", record)
                await client.request(request.method, request.path, json=request.body, headers=who)
                event.remove(engine.sync_engine, "before_cursor_execute", record)
                counts[endpoint.key] = len(captured)
                if endpoint.key in PROFILED:
                    timed[endpoint.key] = [
                        await _time_statement(engine, s, p)
                        for s, p in captured
                        if s.lstrip().upper().startswith("SELECT")
                    ]
                captured.clear()
    finally:
        await engine.dispose()
        if app.state.numbering_engine is not None:
            await app.state.numbering_engine.dispose()
    return {"counts": counts, "timed": timed}


async def _time_statement(engine: Any, statement: str, params: Any) -> dict[str, Any]:
    sqlite = engine.url.get_backend_name() == "sqlite"
    times = []
    async with engine.connect() as conn:
        for _ in range(5):
            began = time.perf_counter()
            (await conn.exec_driver_sql(statement, params)).fetchall()
            times.append(1000 * (time.perf_counter() - began))
        explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
        rows = (await conn.exec_driver_sql(explain + statement, params)).fetchall()
    plan = [str(row[-1]) for row in rows]
    return {"sql": " ".join(statement.split()), "median_ms": statistics.median(times), "plan": plan}


# --- report ----------------------------------------------------------------------------------


def scale_ratios(results: dict[str, Any]) -> dict[str, dict[str, dict[str, float]]]:
    """Largest scale over smallest, per database and endpoint (1.0 is flat)."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for kind in results["settings"]["dbs"]:
        scales = sorted(
            int(k.split("/")[1]) for k in results["targets"] if k.startswith(kind + "/")
        )
        if len(scales) < 2:
            continue
        small = results["targets"][f"{kind}/{scales[0]}"]["endpoints"]
        large = results["targets"][f"{kind}/{scales[-1]}"]["endpoints"]
        out[kind] = {
            key: {
                "p50": _over(large[key]["p50_ms"], small[key]["p50_ms"]),
                "p99": _over(large[key]["p99_ms"], small[key]["p99_ms"]),
                "rps": _over(large[key]["rps"], small[key]["rps"]),
                "cpu": _over(large[key]["server_cpu_ms"], small[key]["server_cpu_ms"]),
            }
            for key in small
            if small[key]["available"] and large[key]["available"]
        }
    return out


def table(results: dict[str, Any]) -> list[str]:
    lines = [
        "| db / tasks | endpoint | items | SQL statements | rps | rps ÷ bare | p50 ms "
        "| p50 ÷ bare | p99 ms | server CPU ms/req | CPU ÷ bare | errors |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, target in results["targets"].items():
        b = target["baseline"]
        lines.append(
            f"| {key} | bare (one row, async SQLAlchemy, pydantic) | | 1 | {b['rps']:.1f} | 1 "
            f"| {b['p50_ms']:.1f} | 1 | {b['p99_ms']:.1f} | {b['server_cpu_ms']:.2f} | 1 | "
            f"{b['errors']} |"
        )
        for ep, r in target["endpoints"].items():
            name = f"{ep} {r['label']}"
            if not r["available"]:
                lines.append(
                    f"| {key} | {name} | | | not available (HTTP {r['probe_status']}) "
                    "| | | | | | | |"
                )
                continue
            note = " (ran out of tasks)" if r["exhausted"] else ""
            lines.append(
                f"| {key} | {name} | {'' if r['items'] is None else r['items']} "
                f"| {r.get('statements', '')} "
                f"| {r['rps']:.1f} | {r['rps_vs_bare']:.3f} | {r['p50_ms']:.1f} "
                f"| {r['p50_vs_bare']:.1f} | {r['p99_ms']:.1f} "
                f"| {r['server_cpu_ms']:.2f} | {r['server_cpu_vs_bare']:.1f} "
                f"| {r['errors']}{note} |"
            )
    return lines


def worker_lines(results: dict[str, Any]) -> list[str]:
    lines = []
    for key, target in results["targets"].items():
        w = target.get("workers")
        if not w:
            continue
        lines += [
            "",
            f"## {key}: `--workers 2` over `--workers 1`, reads",
            "",
            f"workers at the start: {w['workers_at_start']}, replaced by the supervisor during "
            f"the load (workers lost): {w['workers_lost']}",
            "",
            "| endpoint | rps (2 workers) | ÷ 1 worker | p50 ms | errors |",
            "|---|---|---|---|---|",
        ]
        for ep, r in w["endpoints"].items():
            lines.append(
                f"| {ep} | {r['rps']:.1f} | {r['vs_one_worker']:.2f} | {r['p50_ms']:.1f} "
                f"| {r['errors']} |"
            )
    return lines


def scale_lines(results: dict[str, Any]) -> list[str]:
    ratios = results["scale_ratios"]
    if not ratios:
        return []
    scales = results["settings"]["scales"]
    lines = [
        "",
        f"## {max(scales):,} vs {min(scales):,} tasks (1.00 is flat)",
        "",
        "| db | endpoint | p50 ratio | p99 ratio | rps ratio | server CPU/request ratio |",
        "|---|---|---|---|---|---|",
    ]
    for kind, per in ratios.items():
        for key, r in per.items():
            lines.append(
                f"| {kind} | {key} | {r['p50']:.2f} | {r['p99']:.2f} | {r['rps']:.2f} "
                f"| {r['cpu']:.2f} |"
            )
    return lines


def query_lines(results: dict[str, Any], top: int = 2) -> list[str]:
    lines = ["", "## Slowest statements behind the reads (in-process, median of 5)", ""]
    for key, target in results["targets"].items():
        for ep, statements in target["queries"].items():
            total = sum(s["median_ms"] for s in statements)
            lines.append(f"- **{key} {ep}**: {len(statements)} SELECTs, {total:.1f} ms in all")
            for s in sorted(statements, key=lambda s: -s["median_ms"])[:top]:
                lines.append(f"  - {s['median_ms']:.2f} ms `{s['sql'][:220]}`")
                lines.append(f"    plan: {' / '.join(s['plan'])[:300]}")
    return lines


def markdown(results: dict[str, Any]) -> str:
    m, s = results["machine"], results["settings"]
    lines = [
        f"# Workflow endpoints under load ({s['date']})",
        "",
        f"- command: `{m['command']}`",
        f"- machine: {m['nproc']} cores, Python {m['python']}, {m['platform']}",
        f"- generator: {s['generator']} ({s['wrk'] or 'asyncio + httpx'}), "
        f"{s['concurrency']} connections, {s['duration']:g} s per endpoint and round, "
        f"{s['rounds']} rounds, loopback; server: `checkrun serve`, one process",
        "- baseline: a one-route FastAPI app reading one task row with async SQLAlchemy from "
        "the same database and driver, answered through a pydantic model, same uvicorn "
        "settings; measured before the endpoints in every round",
        "- figures are medians over the rounds; ratios are medians of each round's ratio to "
        "its baseline; SQL statements: one request in-process, authentication and answer "
        "included",
        "- server CPU ms/req: user + system CPU of the server process over the load, per "
        "request (the database's own CPU is not in it)",
        "",
    ]
    for key, target in results["targets"].items():
        seeded = target["seed"]
        lines.append(
            f"- {key}: {seeded['runs']:,} runs ({seeded['active_runs']:,} active), "
            f"{seeded['tasks']:,} tasks, {seeded['task_owners']:,} assignments, "
            f"seeded in {seeded['seconds']:.0f} s"
        )
    lines += ["", *table(results), *worker_lines(results), *scale_lines(results)]
    lines += query_lines(results)
    return "\n".join(lines) + "\n"


# --- main ------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--scales", default="10000,200000,1000000", help="task counts")
    parser.add_argument("--duration", type=float, default=10, help="seconds per endpoint")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="alternations with the baseline")
    parser.add_argument(
        "--no-workers-check",
        dest="workers_check",
        action="store_false",
        help="skip the --workers 2 reads on PostgreSQL",
    )
    parser.add_argument("--generator", choices=("wrk", "httpx"), default=default_generator())
    parser.add_argument("--only", default="", help="endpoint keys to measure (d,e): all if empty")
    parser.add_argument(
        "--name", default="workflow", help="results file stem: bench/results/NAME-<date>"
    )
    args = parser.parse_args()
    args.dbs = args.db.split(",")
    args.scale_list = [int(s) for s in args.scales.split(",")]
    args.only_keys = set(filter(None, args.only.split(",")))
    return args


def main() -> None:
    # A terminated benchmark still stops its servers and drops its databases.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args = parse_args()
    began = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="checkrun-wbench-"))
    results: dict[str, Any] = {
        "machine": machine(),
        "settings": {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "generator": args.generator,
            "wrk": wrk_version(),
            "duration": args.duration,
            "concurrency": args.concurrency,
            "rounds": args.rounds,
            "dbs": args.dbs,
            "scales": args.scale_list,
        },
        "targets": {},
    }
    try:
        for kind in args.dbs:
            for scale in args.scale_list:
                print(f"{kind} / {scale:,} tasks", flush=True)
                results["targets"][f"{kind}/{scale}"] = measure_target(kind, scale, work, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["scale_ratios"] = scale_ratios(results)
    results["seconds"] = time.perf_counter() - began
    text = markdown(results)
    path = write_results(args.name, results, text)
    print("\n" + "\n".join(table(results) + worker_lines(results) + scale_lines(results)))
    print(f"\n{results['seconds']:.0f} s; written to {path} and {path.with_suffix('.json')}")


if __name__ == "__main__":
    main()
