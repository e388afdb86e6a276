"""Shared pieces of the benchmarks: servers as subprocesses on loopback, machine facts, output."""

from __future__ import annotations

import json
import os
import platform
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

RESULTS = Path(__file__).parent / "results"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


@dataclass
class Checkrun:
    proc: subprocess.Popen[bytes]
    api: str
    org_id: str
    user_id: int
    token: str

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.api,
            timeout=300,
            headers={
                "Authorization": f"Bearer {self.token}",
                "X-Tallyfy-Client": "APIClient",
                "Accept": "application/json",
            },
        )


@contextmanager
def checkrun_server(
    data_dir: Path, env: dict[str, str] | None = None, log: Path | None = None
) -> Iterator[Checkrun]:
    """`checkrun init` then `checkrun serve` (one process) on a free loopback port.

    CHECKRUN_* variables of the calling shell are dropped so that every run starts from the
    defaults plus `env`; the server's output goes to `log` when given.
    """
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("CHECKRUN_")}
    # The per-user rate limit (600/min) would throttle the load itself.
    full_env = {**inherited, "CHECKRUN_RATE_LIMIT_PER_MINUTE": "0", **(env or {})}
    init = subprocess.run(
        [sys.executable, "-m", "checkrun", "init", "--data-dir", str(data_dir), "--json"],
        env=full_env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    boot = json.loads(init.stdout)
    port = free_port()
    with open(log, "ab") if log else open(os.devnull, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "checkrun",
                "serve",
                "--data-dir",
                str(data_dir),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            api = f"http://127.0.0.1:{port}/api"
            wait_until_up(api + "/health", proc)
            yield Checkrun(proc, api, boot["org_id"], boot["user_id"], boot["token"])
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


def proc_status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def machine() -> dict[str, Any]:
    return {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "command": shlex.join(["python", *sys.argv]),
    }


def write_results(name: str, data: dict[str, Any], markdown: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    (RESULTS / f"{name}-{stamp}.json").write_text(json.dumps(data, indent=2) + "\n")
    path = RESULTS / f"{name}-{stamp}.md"
    path.write_text(markdown)
    return path
