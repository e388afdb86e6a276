"""`checkrun serve` as a real subprocess on a given port, waited for until it answers."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx


@contextmanager
def serve_process(
    args: list[str], env: dict[str, str], port: int, timeout: float = 90
) -> Iterator[str]:
    """Runs `checkrun serve ARGS` (which must bind `port`); yields its base URL once
    `/api/health` answers, and stops it afterwards."""
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
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
