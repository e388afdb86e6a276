"""Shared pieces of the benchmarks: servers as subprocesses on loopback, machine facts, output."""

from __future__ import annotations

import json
import os
import platform
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
        return httpx.Client(base_url=self.api, timeout=300, headers={
            "Authorization": f"Bearer {self.token}", "X-Tallyfy-Client": "APIClient",
            "Accept": "application/json"})


@contextmanager
def checkrun_server(data_dir: Path, env: dict[str, str] | None = None) -> Iterator[Checkrun]:
    """`checkrun init` then `checkrun serve` (one process) on a free loopback port."""
    full_env = {**os.environ, **(env or {})}
    init = subprocess.run([sys.executable, "-m", "checkrun", "init", "--data-dir",
                           str(data_dir), "--json"], env=full_env, capture_output=True,
                          text=True, check=True, timeout=120)
    boot = json.loads(init.stdout)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "checkrun", "serve", "--data-dir",
                             str(data_dir), "--port", str(port)], env=full_env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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


def proc_status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def machine() -> dict[str, Any]:
    return {"nproc": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "command": " ".join(sys.argv)}


def write_results(name: str, data: dict[str, Any], markdown: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    (RESULTS / f"{name}-{stamp}.json").write_text(json.dumps(data, indent=2) + "\n")
    path = RESULTS / f"{name}-{stamp}.md"
    path.write_text(markdown)
    return path
