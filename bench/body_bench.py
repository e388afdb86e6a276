"""The server's memory while large request bodies arrive that it must refuse.

    .venv/bin/python bench/body_bench.py [--size-mb 50] [--concurrency 8]

One `checkrun serve` on a fresh SQLite data directory. Each scenario sends `--concurrency`
bodies of `--size-mb` MiB at once, each from its own thread and connection, streamed from a
generator in 64 KiB pieces (the client never holds a body):
- `no token, Content-Length`: POST /checklists without Authorization, the length declared;
- `no token, chunked`: the same without a length (Transfer-Encoding: chunked);
- `token, chunked`: with a valid token, so the JSON limit (CHECKRUN_MAX_JSON_BYTES) refuses it.
The figure is the serving process's RSS growth: peak (VmHWM after a reset, and VmRSS polled
every 20 ms) minus VmRSS just before the scenario. The target is < 20 MB for each.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from common import Checkrun, checkrun_server, write_results  # noqa: E402
from files_bench import RssSampler, machine_facts, serving_pid  # noqa: E402

MB = 1024 * 1024
PIECE = 64 * 1024
TARGET_MB = 20


def body(size: int) -> Iterator[bytes]:
    piece = b'{"title": "' + b"a" * (PIECE - 11)
    sent = 0
    while sent < size:
        chunk = piece[: size - sent]
        sent += len(chunk)
        yield chunk


def send_one(
    server: Checkrun, size: int, token: bool, declared: bool, statuses: list[int | str]
) -> None:
    headers = {"X-Tallyfy-Client": "APIClient", "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {server.token}"
    if declared:
        headers["Content-Length"] = str(size)
    try:
        with httpx.Client(timeout=httpx.Timeout(300, connect=10)) as client:
            response = client.post(
                f"{server.api}/organizations/{server.org_id}/checklists",
                content=body(size),
                headers=headers,
            )
            statuses.append(response.status_code)
    except httpx.HTTPError as exc:
        statuses.append(type(exc).__name__)


def scenario(
    server: Checkrun, pid: int, size: int, concurrency: int, token: bool, declared: bool
) -> dict[str, Any]:
    statuses: list[int | str] = []
    threads = [
        threading.Thread(target=send_one, args=(server, size, token, declared, statuses))
        for _ in range(concurrency)
    ]
    with RssSampler(pid) as sampler:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return {**sampler.summary(), "statuses": dict(Counter(str(s) for s in statuses))}


SCENARIOS = {
    "no token, Content-Length": (False, True),
    "no token, chunked": (False, False),
    "token, chunked": (True, False),
}


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    results: dict[str, Any] = {
        "machine": machine_facts(work),
        "size_mb": args.size_mb,
        "concurrency": args.concurrency,
        "scenarios": {},
    }
    with checkrun_server(work / "data") as server:
        pid = serving_pid(server.proc.pid, httpx.URL(server.api).port or 80)
        for name, (token, declared) in SCENARIOS.items():
            found = scenario(server, pid, args.size_mb * MB, args.concurrency, token, declared)
            results["scenarios"][name] = found
            print(f"{name}: +{found['peak_delta_mb']:.1f} MB, {found['statuses']}", flush=True)
    return results


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        f"# Refused bodies: {results['concurrency']} concurrent bodies of {results['size_mb']} MB",
        "",
        f"`{m['command']}`",
        "",
        f"{m['nproc']} cores, Python {m['python']}, {m['platform']}. Code: {m['git_head']} "
        f"with {m['src_files_uncommitted']} uncommitted files under src/.",
        "",
        "| scenario | answers | RSS before MB | peak MB | peak Δ MB | target |",
        "|---|---|---|---|---|---|",
    ]
    for name, s in results["scenarios"].items():
        answers = ", ".join(f"{k} ×{v}" for k, v in s["statuses"].items())
        verdict = "pass" if s["peak_delta_mb"] < TARGET_MB else "FAIL"
        lines.append(
            f"| {name} | {answers} | {s['rss_before_mb']:.0f} | {s['peak_rss_mb']:.0f} "
            f"| {s['peak_delta_mb']:.1f} | < {TARGET_MB}: {verdict} |"
        )
    lines += [
        "",
        "Memory is the serving process's: VmRSS just before the scenario and the peak "
        "during it (VmHWM after a reset through /proc/PID/clear_refs, and VmRSS polled "
        "every 20 ms). MB is 2^20 bytes.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mb", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--work-dir", type=Path, default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="checkrun-body-bench-", dir=args.work_dir))
    try:
        results = run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    path = write_results("bodies", results, markdown(results))
    print(f"\nwritten to {path} and {path.with_suffix('.json')}")
    failed = any(s["peak_delta_mb"] >= TARGET_MB for s in results["scenarios"].values())
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
