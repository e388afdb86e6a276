"""`checkrun serve` as a real subprocess on a given port, waited for until it answers."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


@contextmanager
def serve_process(
    args: list[str], env: dict[str, str], port: int, timeout: float = 90
) -> Iterator[str]:
    """Runs `checkrun serve ARGS` (which must bind `port`); yields its base URL once
    `/api/health` answers, and stops it afterwards."""
    with serve_subprocess(args, env, port, timeout) as (base, _):
        yield base


@contextmanager
def serve_subprocess(
    args: list[str], env: dict[str, str], port: int, timeout: float = 90
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`serve_process`, also yielding the process (its pid: the parent of any workers)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "checkrun", "serve", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            assert proc.poll() is None, "checkrun serve exited"
            try:
                if httpx.get(base + "/api/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "checkrun serve did not answer"
            time.sleep(0.1)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def children(pid: int) -> set[int]:
    """The pids whose parent is `pid` (from /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found
