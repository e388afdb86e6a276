"""Where the CPU of one read goes, in-process: cProfile over repeated GETs, grouped by package.

    .venv/bin/python bench/cpu_profile.py [--db sqlite] [--scale 10000] [--repeat 200]
                                          [--reads run_with_tasks,asset] [--top 25]
                                          [--dump DIR]

Seeds an organization as bench/reads_profile.py does, then for each read sends `--repeat`
GETs through `create_app` with httpx's ASGI transport under cProfile (the bare route of
reads_profile.py first, as the baseline). For each read: CPU ms per request (profiler overhead
included, so compare reads with each other and with the bare route, not with wrk figures),
the share of own time per package (sqlalchemy, fastapi/starlette, pydantic, the driver,
checkrun, the test client...), and the functions with the most own time. Results:
bench/results/cpu-<UTC date>.json/.md.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from common import machine, write_results  # noqa: E402
from reads_profile import bare_app, reads, upload_asset  # noqa: E402
from workflow_bench import checkrun_init, database, headers  # noqa: E402
from workflow_seed import compact_counts, seed  # noqa: E402

GROUPS = (
    ("sqlalchemy", "sqlalchemy"),
    ("asyncpg", "driver"),
    ("aiosqlite", "driver"),
    ("sqlite3", "driver"),
    ("fastapi", "fastapi+starlette"),
    ("starlette", "fastapi+starlette"),
    ("pydantic", "pydantic"),
    ("httpx", "test client (httpx)"),
    ("httpcore", "test client (httpx)"),
    ("anyio", "asyncio+anyio"),
    ("asyncio", "asyncio+anyio"),
    ("checkrun", "checkrun"),
    ("json", "json"),
    ("orjson", "json"),
)


def group_of(filename: str) -> str:
    if filename.startswith("~") or filename == "<built-in>":
        return "builtins"
    parts = Path(filename).parts
    for needle, name in GROUPS:
        if needle in parts or any(p.startswith(needle + ".") for p in parts):
            return name
    return "other"


def summarise(stats: pstats.Stats, requests: int, top: int) -> dict[str, Any]:
    by_group: dict[str, float] = defaultdict(float)
    rows = []
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (filename, line, func), (_cc, _nc, tottime, cumtime, _callers) in raw.items():
        by_group[group_of(filename)] += tottime
        rows.append((tottime, cumtime, f"{Path(filename).name}:{line}:{func}", filename))
    total = sum(by_group.values())
    rows.sort(reverse=True)
    return {
        "ms_per_request": 1000 * total / requests,
        "groups": {
            g: round(100 * t / total, 1) for g, t in sorted(by_group.items(), key=lambda x: -x[1])
        },
        "top": [
            {"own_ms": 1000 * t / requests, "cum_ms": 1000 * c / requests, "where": w}
            for t, c, w, _ in rows[:top]
        ],
    }


async def profiled(
    client: httpx.AsyncClient, path: str, repeat: int, top: int, dump: Path | None = None
) -> dict[str, Any]:
    for _ in range(5):
        response = await client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:300]}")
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for _ in range(repeat):
        await client.get(path)
    profiler.disable()
    if dump is not None:
        profiler.dump_stats(dump)
    return summarise(pstats.Stats(profiler), repeat, top)


async def run(url: str, work: Path, init: dict[str, Any], scale: int, args: Any) -> dict[str, Any]:
    from checkrun.app import create_app
    from checkrun.config import Settings

    seeded = await seed(url, init["org_id"], int(init["user_id"]), scale)
    await compact_counts(url)
    app = create_app(Settings(data_dir=work, database_url=url, rate_limit_per_minute=0))
    out: dict[str, Any] = {}
    async with app.router.lifespan_context(app):
        engine = app.state.engine
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://bench",
            headers=headers(init["token"]),
        ) as client:
            asset = await upload_asset(client, init["org_id"], seeded.open_tasks[0][1])
            bare = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=bare_app(engine, init["org_id"])),
                base_url="http://b",
            )
            async with bare:
                out["bare"] = await profiled(bare, "/bare", args.repeat, args.top)
            paths = reads(init["org_id"], seeded, int(init["user_id"]), asset)
            wanted = args.reads.split(",") if args.reads else list(paths)
            for key in wanted:
                dump = Path(args.dump) / f"{key}.prof" if args.dump else None
                out[key] = await profiled(client, paths[key], args.repeat, args.top, dump)
                print(f"  {key:26} {out[key]['ms_per_request']:7.2f} ms", flush=True)
    return out


def markdown(results: dict[str, Any]) -> str:
    lines = ["# CPU per read, in-process under cProfile", ""]
    lines.append(f"Command: `{results['machine']['command']}`; {results['repeat']} requests each.")
    for target, got in results["targets"].items():
        bare = got["bare"]["ms_per_request"]
        lines += ["", f"## {target}", "", "| read | CPU ms | × bare | where the own time goes |"]
        lines.append("|---|---|---|---|")
        for key, r in got.items():
            groups = ", ".join(f"{g} {p}%" for g, p in list(r["groups"].items())[:6])
            ms = r["ms_per_request"]
            lines.append(f"| {key} | {ms:.2f} | {ms / bare:.1f} | {groups} |")
        for key, r in got.items():
            lines += ["", f"### {target} {key}: most own time", ""]
            lines += [
                f"- {t['own_ms']:.3f} ms own, {t['cum_ms']:.3f} cum: `{t['where']}`"
                for t in r["top"]
            ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="sqlite")
    parser.add_argument("--scale", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--reads", default="")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--name", default="cpu")
    parser.add_argument("--dump", default="", help="a directory for each read's pstats file")
    args = parser.parse_args()
    results: dict[str, Any] = {"machine": machine(), "repeat": args.repeat, "targets": {}}
    for kind in args.db.split(","):
        work = Path(tempfile.mkdtemp(prefix="cpu-"))
        try:
            with database(kind, work) as (url, env):
                print(f"{kind} {args.scale}...", flush=True)
                init = checkrun_init(work, env)
                got = asyncio.run(run(url, work, init, args.scale, args))
                results["targets"][f"{kind}:{args.scale}"] = got
        finally:
            shutil.rmtree(work, ignore_errors=True)
    print(write_results(args.name, results, markdown(results)))


if __name__ == "__main__":
    main()
