"""A closed-loop HTTP load generator on loopback: `wrk` (C, with a Lua script) when installed,
else asyncio + httpx. Both send `concurrency` back-to-back request streams for `duration`
seconds and check every response for a 2xx.

wrk is preferred because the machines are small: a Python generator spends more CPU per request
than a bare ASGI endpoint does, so it would measure itself rather than the server.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

WRK_SCRIPT = r"""
local threads, counter = {}, 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local nthreads, i = tonumber(args[2]), 0
  distinct = args[3] == "1"
  reqs, nxt, errors, exhausted, first_error = {}, 0, 0, 0, ""
  for line in io.lines(args[1]) do
    if not distinct or i % nthreads == id then
      local m, p, b = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      if b == "" then b = nil end
      reqs[#reqs + 1] = wrk.format(m, p, nil, b)
    end
    i = i + 1
  end
  math.randomseed(7 + id)
end

function request()
  if not distinct then return reqs[math.random(#reqs)] end
  nxt = nxt + 1
  if nxt > #reqs then
    -- Nothing left to send once: stop, and send only a harmless request meanwhile.
    exhausted = 1
    wrk.thread:stop()
    return wrk.format("GET", "/api/health")
  end
  return reqs[nxt]
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    errors = errors + 1
    if first_error == "" then
      first_error = (status .. " " .. string.sub(body, 1, 160)):gsub('[%c\\"]', " ")
    end
  end
end

function done(summary, latency, requests)
  local errs, exh, first = 0, 0, ""
  for _, t in ipairs(threads) do
    errs = errs + t:get("errors")
    exh = math.max(exh, t:get("exhausted"))
    if first == "" then first = t:get("first_error") end
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "non2xx": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p99_us": %d, "exhausted": %d, "first_error": "%s"}\n',
    summary.requests, summary.duration, errs, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), exh, first))
end
"""


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # absolute path with query, e.g. /api/organizations/.../runs?page=2
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    requests: list[Request]
    # Every request sent at most once (completing distinct tasks); otherwise picked at random.
    distinct: bool = False


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    exhausted: bool = False
    first_error: str = ""
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "rps": self.rps,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "requests": self.requests,
            "errors": self.errors,
            "seconds": self.seconds,
            "exhausted": self.exhausted,
            "first_error": self.first_error,
        }


def default_generator() -> str:
    return "wrk" if shutil.which("wrk") else "httpx"


def wrk_version() -> str | None:
    if not shutil.which("wrk"):
        return None
    out = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10)
    return (out.stdout or out.stderr).strip().splitlines()[0]


def run_load(
    origin: str,
    headers: dict[str, str],
    scenario: Scenario,
    duration: float,
    concurrency: int,
    generator: str,
) -> LoadResult:
    """`origin` is scheme://host:port; request paths are absolute."""
    if generator == "wrk":
        return _run_wrk(origin, headers, scenario, duration, concurrency)
    return asyncio.run(_run_httpx(origin, headers, scenario, duration, concurrency))


# --- wrk -------------------------------------------------------------------------------------

WRK_THREADS = 1  # one thread drives 16 connections easily and leaves the other core alone


def _write_requests(directory: Path, requests: list[Request]) -> Path:
    path = directory / "requests.tsv"
    with path.open("w") as out:
        for r in requests:
            body = json.dumps(r.body, separators=(",", ":")) if r.body is not None else ""
            out.write(f"{r.method}\t{r.path}\t{body}\n")
    return path


def _run_wrk(
    origin: str, headers: dict[str, str], scenario: Scenario, duration: float, concurrency: int
) -> LoadResult:
    with tempfile.TemporaryDirectory(prefix="wrk-") as tmp:
        directory = Path(tmp)
        script = directory / "scenario.lua"
        script.write_text(WRK_SCRIPT)
        data = _write_requests(directory, scenario.requests)
        command = [
            "wrk",
            "-t",
            str(WRK_THREADS),
            "-c",
            str(concurrency),
            "-d",
            f"{duration:g}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
        ]
        for name, value in {**headers, "Content-Type": "application/json"}.items():
            command += ["-H", f"{name}: {value}"]
        command += [origin, "--", str(data), str(WRK_THREADS), "1" if scenario.distinct else "0"]
        out = subprocess.run(command, capture_output=True, text=True, timeout=duration + 90)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stderr or out.stdout}")
    r = json.loads(line.removeprefix("WRKJSON "))
    return LoadResult(
        requests=r["requests"],
        errors=r["non2xx"] + r["socket_errors"],
        seconds=r["duration_us"] / 1e6,
        p50_ms=r["p50_us"] / 1000,
        p99_ms=r["p99_us"] / 1000,
        exhausted=bool(r["exhausted"]),
        first_error=r["first_error"],
    )


# --- asyncio + httpx -------------------------------------------------------------------------


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))]


async def _run_httpx(
    origin: str, headers: dict[str, str], scenario: Scenario, duration: float, concurrency: int
) -> LoadResult:
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    first_error = ""
    pending = iter(scenario.requests)
    rng = random.Random(7)
    exhausted = False
    stop = time.perf_counter() + duration

    def next_request() -> Request | None:
        nonlocal exhausted
        if not scenario.distinct:
            return rng.choice(scenario.requests)
        found = next(pending, None)
        exhausted = exhausted or found is None
        return found

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal first_error
        while time.perf_counter() < stop and (req := next_request()) is not None:
            start = time.perf_counter()
            try:
                resp = await client.request(req.method, req.path, json=req.body)
                status = str(resp.status_code)
                if not 200 <= resp.status_code < 300 and not first_error:
                    first_error = f"{status} {resp.text[:160]}"
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            latencies.append(time.perf_counter() - start)
            statuses[status] += 1

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=origin, headers=headers, limits=limits, timeout=30
    ) as client:
        begin = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        seconds = time.perf_counter() - begin
    latencies.sort()
    errors = sum(n for s, n in statuses.items() if not s.startswith("2"))
    return LoadResult(
        requests=len(latencies),
        errors=errors,
        seconds=seconds,
        p50_ms=1000 * _percentile(latencies, 0.50),
        p99_ms=1000 * _percentile(latencies, 0.99),
        exhausted=exhausted,
        first_error=first_error,
        statuses=dict(statuses),
    )
