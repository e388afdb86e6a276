"""Upload and download throughput of a large file on each store, as a ratio to a raw write of the
same bytes to the same disk measured in the same run, and the server's peak memory meanwhile.

    python bench/files_bench.py [--size-mb 100] [--stores local,s3] [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3

sys.path.insert(0, str(Path(__file__).parent))
from common import (  # noqa: E402
    Checkrun,
    checkrun_server,
    free_port,
    machine,
    proc_status_kb,
    wait_until_up,
    write_results,
)

MB = 1024 * 1024


def raw_write_mbps(directory: Path, block: bytes, size: int) -> float:
    """The baseline: the same bytes written to the same disk in 1 MiB writes, then fsync."""
    path = directory / "raw.bin"
    start = time.perf_counter()
    with open(path, "wb") as fh:
        for _ in range(size // len(block)):
            fh.write(block)
        fh.flush()
        os.fsync(fh.fileno())
    elapsed = time.perf_counter() - start
    path.unlink()
    return size / MB / elapsed


def curl(server: Checkrun, *args: str) -> str:
    """curl as the client: a C client keeps the 2 shared cores for the server being measured."""
    done = subprocess.run(["curl", "-sS", "--fail-with-body", "-H",
                           f"Authorization: Bearer {server.token}", "-H",
                           "X-Tallyfy-Client: APIClient", *args],
                          capture_output=True, text=True, check=True, timeout=600)
    return done.stdout


def one_transfer(server: Checkrun, source: Path, sha256: str) -> dict[str, float]:
    with server.client() as api:
        task = api.post(f"/organizations/{server.org_id}/tasks", json={
            "title": "bench", "task_type": "task", "owners": {"users": [server.user_id]},
            "deadline": "2030-01-01T00:00:00Z"}).json()["data"]
    size = source.stat().st_size
    rss_before = proc_status_kb(server.proc.pid, "VmRSS")
    start = time.perf_counter()
    asset = json.loads(curl(server, "-F", f"name=@{source}", "-F", "subject_type=Task", "-F",
                            f"subject_id={task['id']}", "-F", "uploaded_from=ko_field",
                            f"{server.api}/organizations/{server.org_id}/file"))["data"]
    upload_s = time.perf_counter() - start
    peak = proc_status_kb(server.proc.pid, "VmHWM")
    assert asset["checksum"] == sha256, "stored bytes differ"
    target = source.with_suffix(".down")
    start = time.perf_counter()
    curl(server, "-o", str(target), f"{server.api}/organizations/{server.org_id}/file/"
         f"{asset['id']}/dl")
    download_s = time.perf_counter() - start
    assert file_sha256(target) == sha256, "downloaded bytes differ"
    target.unlink()
    return {"upload_mbps": size / MB / upload_s, "download_mbps": size / MB / download_s,
            "rss_before_mb": rss_before / 1024, "peak_rss_mb": peak / 1024}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(MB):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def moto(directory: Path) -> Iterator[dict[str, str]]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        endpoint = f"http://127.0.0.1:{port}"
        wait_until_up(endpoint, proc)
        env = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
               "AWS_DEFAULT_REGION": "us-east-1"}
        os.environ.update(env)
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="bench")
        yield {**env, "CHECKRUN_STORAGE_URL": "s3://bench/files",
               "CHECKRUN_S3_ENDPOINT_URL": endpoint}
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def measure_store(store: str, base: Path, source: Path, repeat: int) -> list[dict[str, float]]:
    data_dir = base / store
    sha256 = file_sha256(source)
    if store == "s3":
        with moto(base) as env, checkrun_server(data_dir, env) as server:
            return [one_transfer(server, source, sha256) for _ in range(repeat)]
    with checkrun_server(data_dir) as server:
        return [one_transfer(server, source, sha256) for _ in range(repeat)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=100)
    parser.add_argument("--stores", default="local,s3")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    size, block = args.size_mb * MB, os.urandom(MB)
    base = Path(tempfile.mkdtemp(prefix="checkrun-bench-", dir=os.getcwd()))
    raw = [raw_write_mbps(base, block, size) for _ in range(args.repeat)]
    baseline = statistics.median(raw)
    source = base / "source.zip"
    source.write_bytes(block * args.size_mb)
    results: dict[str, Any] = {"machine": machine(), "size_mb": args.size_mb,
                               "raw_write_mbps": {"median": baseline, "best": max(raw)},
                               "stores": {}}
    rows = []
    for store in args.stores.split(","):
        runs = measure_store(store, base, source, args.repeat)
        up = statistics.median(r["upload_mbps"] for r in runs)
        down = statistics.median(r["download_mbps"] for r in runs)
        peak = max(r["peak_rss_mb"] for r in runs)
        before = min(r["rss_before_mb"] for r in runs)
        results["stores"][store] = {
            "runs": runs, "upload_mbps": up, "download_mbps": down,
            "upload_vs_raw_write": up / baseline, "download_vs_raw_write": down / baseline,
            "rss_before_mb": before, "peak_rss_mb": peak, "peak_delta_mb": peak - before}
        rows.append(f"| {store} | {up:.0f} | {up / baseline:.2f} | {down:.0f} | "
                    f"{down / baseline:.2f} | {before:.0f} | {peak:.0f} | {peak - before:.0f} |")
    subprocess.run(["rm", "-rf", str(base)], check=False)
    markdown = "\n".join([
        f"# File throughput, {args.size_mb} MB (median of {args.repeat})", "",
        f"`{results['machine']['command']}` on {results['machine']['nproc']} cores, "
        f"Python {results['machine']['python']}.", "",
        f"Raw write with fsync to the same disk: **{baseline:.0f} MB/s** (best {max(raw):.0f}).",
        "", "| store | upload MB/s | × raw write | download MB/s | × raw write | "
        "server RSS before (MB) | peak RSS (MB) | peak − before (MB) |",
        "|---|---|---|---|---|---|---|---|", *rows, ""])
    path = write_results("files", results, markdown)
    print(markdown)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
