"""Upload and download throughput of one large file on each store, as a ratio to a raw write of
the same bytes to the same disk measured in the same run, and the server's memory meanwhile.

    .venv/bin/python bench/files_bench.py [--size-mb 100] [--stores local,s3] [--repeat 3]

MB here is 2**20 bytes. The client is httpx in this process: the upload streams the source file
from disk in 64 KiB pieces (`files=` with an open file object), the download streams into
SHA-256 and is dropped. Everything runs on 127.0.0.1 and every step has a time limit.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import boto3
import httpx

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
DEFAULT_MAX_UPLOAD = 100 * MB  # checkrun's own default for CHECKRUN_MAX_UPLOAD_BYTES
SAMPLE_EVERY_S = 0.02
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
}
HTTP_TIMEOUT = httpx.Timeout(300, connect=10)


# --- the source file and the baseline ---------------------------------------------------------


def write_source(path: Path, size_mb: int) -> str:
    """N MB of random bytes, written 1 MiB at a time and synced (so that their writeback does
    not land in the first baseline measurement); returns their SHA-256."""
    digest = hashlib.sha256()
    with open(path, "wb") as fh:
        for _ in range(size_mb):
            chunk = os.urandom(MB)
            digest.update(chunk)
            fh.write(chunk)
        fh.flush()
        os.fsync(fh.fileno())
    return digest.hexdigest()


def raw_write_mbps(source: Path, directory: Path) -> float:
    """The baseline: the source's bytes (hot in the page cache, as for the upload) written to a
    new file in `directory` in 1 MiB writes, then fsync; the copy is removed afterwards."""
    target = directory / "raw-write.bin"
    start = time.perf_counter()
    with open(source, "rb") as src, open(target, "wb") as dst:
        while chunk := src.read(MB):
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    elapsed = time.perf_counter() - start
    target.unlink()
    return source.stat().st_size / MB / elapsed


def sha256_mbps(seconds: float = 0.5) -> float:
    """How fast this client can hash: a ceiling on the download figure, which hashes as it
    reads."""
    block, digest, done = os.urandom(MB), hashlib.sha256(), 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        digest.update(block)
        done += 1
    return done / (time.perf_counter() - start)


# --- the server's memory ----------------------------------------------------------------------


def children_of(pid: int) -> list[int]:
    """Every descendant of `pid`, parents before children."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        kids = [child for child, parent in parents.items() if parent in frontier]
        found += kids
        frontier = kids
    return found


def listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":
                inodes.add(fields[9])
    return inodes


def holds_socket(pid: int, inodes: set[str]) -> bool:
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for fd in fds:
        try:
            link = os.readlink(fd)
        except OSError:
            continue
        if link.startswith("socket:[") and link[8:-1] in inodes:
            return True
    return False


def serving_pid(root: int, port: int) -> int:
    """The process that accepts on `port`: the deepest of `root` and its descendants holding
    the listening socket (with uvicorn workers=1 that is `root` itself)."""
    inodes = listening_inodes(port)
    holders = [pid for pid in [root, *children_of(root)] if holds_socket(pid, inodes)]
    return holders[-1] if holders else root


def reset_peak_rss(pid: int) -> bool:
    """Start VmHWM afresh from the current RSS (Linux >= 4.0, same user)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class RssSampler:
    """Polls VmRSS of `pid` every ~20 ms in a thread, and reads VmHWM at the end."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.hwm_reset = reset_peak_rss(pid)
        self.before_kb = proc_status_kb(pid, "VmRSS")
        self.peak_kb = self.before_kb
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak_kb = max(self.peak_kb, proc_status_kb(self.pid, "VmRSS"))
                self.samples += 1
            except (OSError, KeyError):
                return
            self._stop.wait(SAMPLE_EVERY_S)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        if self.hwm_reset:  # without the reset VmHWM would include start-up and earlier runs
            self.peak_kb = max(self.peak_kb, proc_status_kb(self.pid, "VmHWM"))

    def summary(self) -> dict[str, float | int | bool]:
        return {
            "rss_before_mb": self.before_kb / 1024,
            "peak_rss_mb": self.peak_kb / 1024,
            "peak_delta_mb": (self.peak_kb - self.before_kb) / 1024,
            "rss_samples": self.samples,
            "vmhwm_used": self.hwm_reset,
        }


# --- one upload and download ------------------------------------------------------------------


@dataclass
class Transfer:
    upload_mbps: float
    download_mbps: float
    upload_memory: dict[str, Any]
    download_memory: dict[str, Any]


def api_client(server: Checkrun) -> httpx.Client:
    return httpx.Client(
        base_url=server.api,
        timeout=HTTP_TIMEOUT,
        trust_env=False,
        headers={
            "Authorization": f"Bearer {server.token}",
            "X-Tallyfy-Client": "APIClient",
            "Accept": "application/json",
        },
    )


def one_off_task(api: httpx.Client, server: Checkrun) -> str:
    response = api.post(
        f"/organizations/{server.org_id}/tasks",
        json={
            "title": "bench",
            "task_type": "task",
            "owners": {"users": [server.user_id]},
            "deadline": "2030-01-01T00:00:00Z",
        },
    )
    response.raise_for_status()
    return str(response.json()["data"]["id"])


def upload(api: httpx.Client, server: Checkrun, source: Path, task_id: str) -> dict[str, Any]:
    """Streams `source` as the multipart field `name`; httpx reads it in 64 KiB pieces. Sent
    as a .zip: checkrun, like Tallyfy, accepts only a list of file types."""
    with open(source, "rb") as fh:
        response = api.post(
            f"/organizations/{server.org_id}/file",
            files={"name": ("bench.zip", fh, "application/zip")},
            data={"subject_type": "Task", "subject_id": task_id, "uploaded_from": "ko_field"},
        )
    if response.status_code >= 300:
        raise RuntimeError(f"upload: {response.status_code} {response.text[:500]}")
    return dict(response.json()["data"])


def download_sha256(api: httpx.Client, server: Checkrun, asset_id: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with api.stream("GET", f"/organizations/{server.org_id}/file/{asset_id}/dl") as response:
        if response.status_code >= 300:
            raise RuntimeError(f"download: {response.status_code} {response.read()[:500]!r}")
        for chunk in response.iter_bytes():
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def check_asset(asset: dict[str, Any], sha256: str, size: int) -> None:
    """Whatever the server says about the stored bytes must match (fields it omits are not
    checked here; the download is checked in any case)."""
    if asset.get("checksum") not in (None, sha256):
        raise AssertionError(f"stored checksum {asset['checksum']} != {sha256}")
    if asset.get("size") not in (None, size):
        raise AssertionError(f"stored size {asset['size']} != {size}")


def one_transfer(server: Checkrun, pid: int, source: Path, sha256: str) -> Transfer:
    size = source.stat().st_size
    with api_client(server) as api:
        task_id = one_off_task(api, server)
        with RssSampler(pid) as up_memory:
            start = time.perf_counter()
            asset = upload(api, server, source, task_id)
            upload_s = time.perf_counter() - start
        check_asset(asset, sha256, size)
        with RssSampler(pid) as down_memory:
            start = time.perf_counter()
            got_sha, got_size = download_sha256(api, server, str(asset["id"]))
            download_s = time.perf_counter() - start
    if (got_sha, got_size) != (sha256, size):
        raise AssertionError(f"downloaded {got_size} bytes, sha256 {got_sha}")
    return Transfer(
        size / MB / upload_s, size / MB / download_s, up_memory.summary(), down_memory.summary()
    )


# --- the stores -------------------------------------------------------------------------------


@contextmanager
def moto_server(log: Path) -> Iterator[dict[str, str]]:
    """moto's S3 on a free loopback port with a fresh bucket; yields checkrun's S3 settings."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **AWS_ENV},
        )
        try:
            wait_until_up(endpoint, proc)
            boto3.client(
                "s3",
                endpoint_url=endpoint,
                aws_access_key_id="test",
                aws_secret_access_key="test",
                region_name="us-east-1",
            ).create_bucket(Bucket="bench")
            yield {
                **AWS_ENV,
                "CHECKRUN_STORAGE_URL": "s3://bench/files",
                "CHECKRUN_S3_ENDPOINT_URL": endpoint,
            }
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


@contextmanager
def store_env(store: str, work: Path) -> Iterator[dict[str, str]]:
    if store == "local":
        yield {}  # the default: files under the data directory
    elif store == "s3":
        with moto_server(work / "moto.log") as env:
            yield env
    else:
        raise ValueError(f"unknown store {store!r} (local, s3)")


def measure_store(
    store: str, work: Path, source: Path, sha256: str, repeat: int
) -> tuple[list[Transfer], bool]:
    """A fresh data directory and `checkrun serve` for the store, then `repeat` transfers;
    also whether the measured process is the `serve` process itself (not a worker child)."""
    env: dict[str, str] = {}
    if source.stat().st_size > DEFAULT_MAX_UPLOAD:
        env["CHECKRUN_MAX_UPLOAD_BYTES"] = str(source.stat().st_size + MB)
    log = work / f"serve-{store}.log"
    try:
        with (
            store_env(store, work) as extra,
            checkrun_server(work / f"data-{store}", {**env, **extra}, log) as server,
        ):
            pid = serving_pid(server.proc.pid, httpx.URL(server.api).port or 80)
            runs = [one_transfer(server, pid, source, sha256) for _ in range(repeat)]
            return runs, pid == server.proc.pid
    except BaseException:
        if log.exists():
            tail = log.read_text(errors="replace").splitlines()[-30:]
            print(
                f"--- last lines of the {store} server's log ---", *tail, sep="\n", file=sys.stderr
            )
        raise


def store_summary(runs: list[Transfer], baseline: float) -> dict[str, Any]:
    up = [r.upload_mbps for r in runs]
    down = [r.download_mbps for r in runs]
    memory = [r.upload_memory for r in runs]
    return {
        "upload_mbps": statistics.median(up),
        "upload_best_mbps": max(up),
        "download_mbps": statistics.median(down),
        "download_best_mbps": max(down),
        "upload_vs_raw_write": statistics.median(up) / baseline,
        "download_vs_raw_write": statistics.median(down) / baseline,
        "rss_before_upload_mb": memory[0]["rss_before_mb"],
        "peak_rss_during_upload_mb": max(m["peak_rss_mb"] for m in memory),
        "upload_peak_delta_mb": max(m["peak_delta_mb"] for m in memory),
        "download_peak_delta_mb": max(r.download_memory["peak_delta_mb"] for r in runs),
        "runs": [asdict(r) for r in runs],
    }


# --- report -----------------------------------------------------------------------------------

COLUMNS = [
    "store",
    "upload MB/s",
    "× raw",
    "download MB/s",
    "× raw",
    "RSS before upload MB",
    "peak during upload MB",
    "upload peak Δ MB",
    "download peak Δ MB",
]


def table_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    for store, s in results["stores"].items():
        if "error" in s:
            continue
        rows.append(
            [
                store,
                f"{s['upload_mbps']:.0f}",
                f"{s['upload_vs_raw_write']:.3f}",
                f"{s['download_mbps']:.0f}",
                f"{s['download_vs_raw_write']:.3f}",
                f"{s['rss_before_upload_mb']:.0f}",
                f"{s['peak_rss_during_upload_mb']:.0f}",
                f"{s['upload_peak_delta_mb']:.1f}",
                f"{s['download_peak_delta_mb']:.1f}",
            ]
        )
    return rows


def text_table(results: dict[str, Any]) -> str:
    rows = [COLUMNS, *table_rows(results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:], *errors(results)])


def errors(results: dict[str, Any]) -> list[str]:
    return [f"{store}: {s['error']}" for store, s in results["stores"].items() if "error" in s]


def markdown(results: dict[str, Any]) -> str:
    m, raw = results["machine"], results["raw_write_mbps"]
    return "\n".join(
        [
            f"# File throughput: {results['size_mb']} MB, median of {results['repeat']}",
            "",
            f"`{m['command']}`",
            "",
            f"{m['nproc']} cores ({m['cpu']}), {m['mem_total_mb']:.0f} MB RAM, "
            f"Python {m['python']}, "
            f"{m['platform']}; work directory on {m['work_fs']}. Code: {m['git_head']} with "
            f"{m['src_files_uncommitted']} uncommitted files under src/.",
            "",
            f"Baseline, raw write with fsync to the same filesystem (1 MiB writes): "
            f"**{raw['median']:.0f} MB/s** median, {raw['best']:.0f} best. "
            f"Client SHA-256 ceiling for the download: {results['client_sha256_mbps']:.0f} MB/s.",
            "",
            "| " + " | ".join(COLUMNS) + " |",
            "|" + "---|" * len(COLUMNS),
            *("| " + " | ".join(row) + " |" for row in table_rows(results)),
            "",
            *[f"- failed, {line}" for line in errors(results)],
            *([""] if errors(results) else []),
            "× raw is the median MB/s over the raw-write median of the same run. Memory is the "
            "serving process's: VmRSS just before the upload, and the peak during it (VmHWM after "
            "resetting it through /proc/PID/clear_refs, and VmRSS polled every 20 ms); Δ is the "
            "largest peak minus before over the runs. The client's own peak RSS was "
            f"{results['client_peak_rss_mb']:.0f} MB.",
            "",
        ]
    )


# --- main ---------------------------------------------------------------------------------------


def machine_facts(work: Path) -> dict[str, Any]:
    facts = machine()
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    facts["cpu"] = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
        platform.processor(),
    )
    facts["nproc_online"] = len(os.sched_getaffinity(0))
    facts["mem_total_mb"] = proc_meminfo_kb("MemTotal") / 1024
    df = subprocess.run(["df", "-PT", str(work)], capture_output=True, text=True, timeout=10)
    fields = df.stdout.splitlines()[-1].split() if df.returncode == 0 else ["?", "?"]
    facts["work_fs"] = fields[1]  # the filesystem type only
    facts["python"] = platform.python_version()  # not the interpreter's path: no host paths
    facts.update(code_under_test())
    return facts


def code_under_test() -> dict[str, Any]:
    """Commit and uncommitted source files (read-only git: others edit this tree meanwhile)."""

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "--no-optional-locks", *args],
            capture_output=True,
            text=True,
            timeout=10,
            cwd=Path(__file__).parent,
        )
        return done.stdout.strip() if done.returncode == 0 else "?"

    changed = git("status", "--porcelain", "--", "../src").splitlines()
    return {"git_head": git("rev-parse", "--short", "HEAD"), "src_files_uncommitted": len(changed)}


def proc_meminfo_kb(field: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class OverTime(Exception):
    """Raised from SIGALRM; not an OSError, so that nothing on the way mistakes it for a
    socket timeout and carries on."""


def on_alarm(signum: int, frame: FrameType | None) -> None:
    raise OverTime("the benchmark ran over --timeout")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mb", type=int, default=100, help="file size in MiB")
    parser.add_argument("--stores", default="local,s3", help="comma-separated: local, s3")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="where data directories and the baseline write go "
        "(default: a new temporary directory)",
    )
    parser.add_argument("--timeout", type=int, default=1200, help="whole-run limit, seconds")
    return parser.parse_args()


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    source = work / "source.bin"
    sha256 = write_source(source, args.size_mb)
    raw_write_mbps(source, work)  # warm-up, not counted: the first write here ran ~4x slower
    raw = [raw_write_mbps(source, work) for _ in range(args.repeat)]
    baseline = statistics.median(raw)
    print(f"raw write + fsync: {baseline:.0f} MB/s median, {max(raw):.0f} best", flush=True)
    results: dict[str, Any] = {
        "machine": machine_facts(work),
        "size_mb": args.size_mb,
        "repeat": args.repeat,
        "raw_write_mbps": {"median": baseline, "best": max(raw), "runs": raw},
        "client_sha256_mbps": sha256_mbps(),
        "stores": {},
    }
    for store in args.stores.split(","):
        try:
            runs, is_serve = measure_store(store, work, source, sha256, args.repeat)
            results["stores"][store] = {
                **store_summary(runs, baseline),
                "measured_serve_process_itself": is_serve,
            }
        except (
            RuntimeError,
            AssertionError,
            OSError,
            httpx.HTTPError,
            subprocess.SubprocessError,
        ) as exc:
            print(f"{store}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            results["stores"][store] = {"error": f"{type(exc).__name__}: {exc}"}
        print(f"{store}: done", flush=True)
    # ru_maxrss is in KiB on Linux: shows the client never held the file in memory
    results["client_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return results


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(args.timeout)
    work = Path(tempfile.mkdtemp(prefix="checkrun-files-bench-", dir=args.work_dir))
    try:
        results = run(args, work)
    finally:
        signal.alarm(0)
        shutil.rmtree(work, ignore_errors=True)
    path = write_results("files", results, markdown(results))
    print()
    print(text_table(results))
    print(f"\nwritten to {path} and {path.with_suffix('.json')}")
    return 1 if any("error" in s for s in results["stores"].values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
