"""Workflow endpoints under load on SQLite and PostgreSQL, at 10k and 200k tasks, each figure
also as a ratio to a bare ASGI JSON endpoint measured in the same run.

    .venv/bin/python bench/workflow_bench.py [--db sqlite,postgresql] [--scales 10000,200000]
                                             [--duration 10] [--concurrency 16]

For each database and scale: seed an organization directly in the database
(bench/workflow_seed.py), time and EXPLAIN the SQL behind the list endpoints in-process, then
start `checkrun serve` (one process) and drive it on loopback (bench/loadgen.py) with:
  a  GET  /runs/{id}?with=tasks          (a random active or complete run)
  b  GET  /me/tasks                       (the admin: one of 20 members sharing the tasks)
  b2 GET  /users/{fixed}/tasks?status=active (a member holding 1,000 tasks at every scale)
  c  GET  /runs?status=active&page=50     (or the last page when there are fewer)
  d  POST /runs                           (launch the 20-step template)
  e  POST /runs/{id}/completed-tasks      (distinct open tasks)
Results: bench/results/workflow-<UTC date>.json and .md.
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
    LoadResult,
    Request,
    Scenario,
    default_generator,
    run_load,
    wrk_version,
)
from workflow_seed import Seeded, seed  # noqa: E402

PG_SERVER = "postgres@127.0.0.1:5432"
PER_PAGE = 10  # the API's default page size
RUNS_PAGE = 50
PROFILED = ("a", "b", "b2", "c")  # the reads whose SQL is timed and explained
BARE_APP = """
from fastapi import FastAPI

app = FastAPI()


@app.get("/api/bare")
async def bare() -> dict[str, object]:
    return {"data": {"id": "0" * 32, "status": "active"}}
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
            wait_until_up(origin + health, proc)
            yield Server(origin, proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


def checkrun_serve(
    data_dir: Path, env: dict[str, str], log: Path
) -> AbstractContextManager[Server]:
    return server(
        [sys.executable, "-m", "checkrun", "serve", "--data-dir", str(data_dir), "--workers", "1"],
        "/api/health",
        log,
        env,
    )


def bare_serve(directory: Path, log: Path) -> AbstractContextManager[Server]:
    """The same uvicorn settings as `checkrun serve`: one process, log level info."""
    (directory / "bare_app.py").write_text(BARE_APP)
    return server(
        [sys.executable, "-m", "uvicorn", "bare_app:app", "--workers", "1", "--log-level", "info"],
        "/api/bare",
        log,
        {},
        cwd=directory,
    )


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


def runs_page(seeded: Seeded) -> int:
    """Page 50, or the last full page when there are fewer active runs (a page past the end
    answers an empty list, which would flatter the small scale)."""
    return max(1, min(RUNS_PAGE, len(seeded.active_run_ids) // PER_PAGE))


def endpoints(org_id: str, seeded: Seeded) -> list[Endpoint]:
    org = f"/api/organizations/{org_id}"
    page = runs_page(seeded)
    return [
        Endpoint(
            "a",
            "GET /runs/{id}?with=tasks",
            Scenario(
                "a",
                [Request("GET", f"{org}/runs/{rid}?with=tasks") for rid in seeded.visible_run_ids],
            ),
        ),
        Endpoint("b", "GET /me/tasks", Scenario("b", [Request("GET", f"{org}/me/tasks")])),
        Endpoint(
            "b2",
            "GET /users/{fixed}/tasks?status=active",
            Scenario(
                "b2", [Request("GET", f"{org}/users/{seeded.fixed_member_id}/tasks?status=active")]
            ),
        ),
        Endpoint(
            "c",
            f"GET /runs?status=active&page={page}",
            Scenario("c", [Request("GET", f"{org}/runs?status=active&page={page}")]),
        ),
        Endpoint(
            "d",
            "POST /runs (20-step template)",
            Scenario("d", [Request("POST", f"{org}/runs", {"checklist_id": seeded.template_20})]),
        ),
        Endpoint(
            "e",
            "POST /runs/{id}/completed-tasks",
            Scenario(
                "e",
                [
                    Request("POST", f"{org}/runs/{run_id}/completed-tasks", {"task_id": task_id})
                    for run_id, task_id in seeded.open_tasks
                ],
                distinct=True,
            ),
        ),
    ]


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


def measure_endpoint(
    srv: Server, hdrs: dict[str, str], endpoint: Endpoint, args: argparse.Namespace
) -> dict[str, Any]:
    scenario = endpoint.scenario
    first = probe(srv.origin, hdrs, scenario.requests[0])
    out: dict[str, Any] = {
        "label": endpoint.label,
        "probe_status": first.status,
        "items": first.items,
    }
    if not first.available:
        return {**out, "available": False, "probe_body": first.body}
    if scenario.distinct:  # the probe used the first one
        scenario = Scenario(scenario.name, scenario.requests[1:], distinct=True)
    load, cpu_ms = loaded(srv, hdrs, scenario, args)
    if not 200 <= first.status < 300:
        load.errors += 1
        load.first_error = load.first_error or f"{first.status} {first.body[:160]}"
    return {**out, "available": True, **load.as_dict(), "server_cpu_ms": cpu_ms}


def loaded(
    srv: Server, hdrs: dict[str, str], scenario: Scenario, args: argparse.Namespace
) -> tuple[LoadResult, float]:
    """The load, and the server's CPU per request during it: unlike rps, this hardly moves
    when other work shares the machine."""
    before = srv.cpu_seconds()
    load = run_load(srv.origin, hdrs, scenario, args.duration, args.concurrency, args.generator)
    cpu = srv.cpu_seconds() - before
    return load, 1000 * cpu / max(load.requests, 1)


def measure_bare(directory: Path, args: argparse.Namespace) -> dict[str, Any]:
    with bare_serve(directory, directory / "bare.log") as srv:
        load, cpu_ms = loaded(srv, {}, Scenario("bare", [Request("GET", "/api/bare")]), args)
    return {**load.as_dict(), "server_cpu_ms": cpu_ms}


def measure_target(kind: str, scale: int, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    data_dir = work / f"{kind}-{scale}"
    data_dir.mkdir(parents=True)
    with database(kind, data_dir) as (url, env):
        boot = checkrun_init(data_dir, env)
        seeded = asyncio.run(seed(url, boot["org_id"], int(boot["user_id"]), scale))
        print(f"  seeded {seeded.counts} in {seeded.seconds:.1f} s", flush=True)
        targets = endpoints(boot["org_id"], seeded)
        queries = asyncio.run(
            profile_queries(url, data_dir, boot["token"], [e for e in targets if e.key in PROFILED])
        )
        results: dict[str, Any] = {}
        with checkrun_serve(data_dir, env, work / f"{kind}-{scale}.log") as srv:
            for endpoint in targets:
                results[endpoint.key] = measure_endpoint(
                    srv, headers(boot["token"]), endpoint, args
                )
                print("  " + _line(endpoint.key, results[endpoint.key]), flush=True)
    return {
        "seed": {**seeded.counts, "seconds": seeded.seconds},
        "endpoints": results,
        "queries": queries,
    }


def _line(key: str, r: dict[str, Any]) -> str:
    if not r["available"]:
        return f"{key:3} {r['label']:40} not available ({r['probe_status']})"
    return (
        f"{key:3} {r['label']:40} {r['rps']:8.1f} rps  p50 {r['p50_ms']:7.1f} ms  "
        f"p99 {r['p99_ms']:7.1f} ms  cpu {r['server_cpu_ms']:5.1f} ms/req  "
        f"errors {r['errors']}"
    )


# --- SQL behind the reads --------------------------------------------------------------------


async def profile_queries(
    url: str, data_dir: Path, token: str, targets: list[Endpoint]
) -> dict[str, list[dict[str, Any]]]:
    """Sends each read once through the app in-process, records its SQL, then times every
    SELECT on its own (median of 5) and keeps its plan: the statement whose time grows with
    the scale is named here."""
    from checkrun.app import create_app
    from checkrun.config import Settings

    app = create_app(Settings(data_dir=data_dir, database_url=url))
    engine = app.state.engine
    captured: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _many: bool) -> None:
        captured.append((statement, params))

    out: dict[str, list[dict[str, Any]]] = {}
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", headers=headers(token)
        ) as client:
            for endpoint in targets:
                request = endpoint.scenario.requests[0]
                await client.request(request.method, request.path)  # warm caches
                event.listen(engine.sync_engine, "before_cursor_execute", record)
                await client.request(request.method, request.path)
                event.remove(engine.sync_engine, "before_cursor_execute", record)
                out[endpoint.key] = [
                    await _time_statement(engine, s, p)
                    for s, p in captured
                    if s.lstrip().upper().startswith("SELECT")
                ]
                captured.clear()
    finally:
        await engine.dispose()
    return out


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


def with_ratios(results: dict[str, Any], bare: dict[str, float]) -> None:
    for target in results["targets"].values():
        for r in target["endpoints"].values():
            if r["available"]:
                r["rps_vs_bare"] = r["rps"] / bare["rps"]
                r["p50_vs_bare"] = r["p50_ms"] / bare["p50_ms"]
                r["p99_vs_bare"] = r["p99_ms"] / bare["p99_ms"]
                r["cpu_vs_bare"] = r["server_cpu_ms"] / bare["server_cpu_ms"]


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
                "p50": large[key]["p50_ms"] / small[key]["p50_ms"],
                "p99": large[key]["p99_ms"] / small[key]["p99_ms"],
                "rps": large[key]["rps"] / small[key]["rps"],
                "cpu": large[key]["server_cpu_ms"] / small[key]["server_cpu_ms"],
            }
            for key in small
            if small[key]["available"] and large[key]["available"]
        }
    return out


def bare_mean(start: dict[str, Any], end: dict[str, Any]) -> dict[str, float]:
    return {k: (start[k] + end[k]) / 2 for k in ("rps", "p50_ms", "p99_ms", "server_cpu_ms")}


def table(results: dict[str, Any]) -> list[str]:
    lines = [
        "| db / tasks | endpoint | items | rps | rps ÷ bare | p50 ms | p50 ÷ bare | p99 ms "
        "| p99 ÷ bare | server CPU ms/req | CPU ÷ bare | errors |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, target in results["targets"].items():
        for ep, r in target["endpoints"].items():
            name = f"{ep} {r['label']}"
            if not r["available"]:
                lines.append(
                    f"| {key} | {name} | | not available (HTTP {r['probe_status']}) "
                    "| | | | | | | | |"
                )
                continue
            note = " (ran out of tasks)" if r["exhausted"] else ""
            lines.append(
                f"| {key} | {name} | {'' if r['items'] is None else r['items']} "
                f"| {r['rps']:.1f} | {r['rps_vs_bare']:.3f} | {r['p50_ms']:.1f} "
                f"| {r['p50_vs_bare']:.1f} | {r['p99_ms']:.1f} | {r['p99_vs_bare']:.1f} "
                f"| {r['server_cpu_ms']:.2f} | {r['cpu_vs_bare']:.1f} | {r['errors']}{note} |"
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
    m, s, b = results["machine"], results["settings"], results["baseline"]
    lines = [
        f"# Workflow endpoints under load ({s['date']})",
        "",
        f"- command: `{m['command']}`",
        f"- machine: {m['nproc']} cores, Python {m['python']}, {m['platform']}",
        f"- generator: {s['generator']} ({s['wrk'] or 'asyncio + httpx'}), "
        f"{s['concurrency']} connections, {s['duration']:g} s per endpoint, loopback; "
        "server: `checkrun serve`, one process",
        f"- bare ASGI baseline (FastAPI, one JSON route, same uvicorn settings): "
        f"start {b['start']['rps']:.0f} rps p50 {b['start']['p50_ms']:.2f} ms "
        f"{b['start']['server_cpu_ms']:.2f} CPU ms/req, "
        f"end {b['end']['rps']:.0f} rps p50 {b['end']['p50_ms']:.2f} ms "
        f"{b['end']['server_cpu_ms']:.2f} CPU ms/req; ratios use their mean",
        "- server CPU ms/req: user + system CPU of the server process over the load, per "
        "request (PostgreSQL's own CPU is not in it)",
        "",
    ]
    for key, target in results["targets"].items():
        seeded = target["seed"]
        lines.append(
            f"- {key}: {seeded['runs']:,} runs ({seeded['active_runs']:,} active), "
            f"{seeded['tasks']:,} tasks, {seeded['task_owners']:,} assignments, "
            f"seeded in {seeded['seconds']:.0f} s"
        )
    lines += ["", *table(results), *scale_lines(results), *query_lines(results)]
    return "\n".join(lines) + "\n"


# --- main ------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--scales", default="10000,200000", help="task counts")
    parser.add_argument("--duration", type=float, default=10, help="seconds per endpoint")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--generator", choices=("wrk", "httpx"), default=default_generator())
    args = parser.parse_args()
    args.dbs = args.db.split(",")
    args.scale_list = [int(s) for s in args.scales.split(",")]
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
            "dbs": args.dbs,
            "scales": args.scale_list,
        },
        "baseline": {},
        "targets": {},
    }
    try:
        results["baseline"]["start"] = measure_bare(work, args)
        print(f"bare ASGI: {results['baseline']['start']}", flush=True)
        for kind in args.dbs:
            for scale in args.scale_list:
                print(f"{kind} / {scale:,} tasks", flush=True)
                results["targets"][f"{kind}/{scale}"] = measure_target(kind, scale, work, args)
        results["baseline"]["end"] = measure_bare(work, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    bare = bare_mean(results["baseline"]["start"], results["baseline"]["end"])
    results["baseline"]["mean"] = bare
    with_ratios(results, bare)
    results["scale_ratios"] = scale_ratios(results)
    results["seconds"] = time.perf_counter() - began
    text = markdown(results)
    path = write_results("workflow", results, text)
    print("\n" + "\n".join(table(results) + scale_lines(results)))
    print(f"\n{results['seconds']:.0f} s; written to {path} and {path.with_suffix('.json')}")


if __name__ == "__main__":
    main()
