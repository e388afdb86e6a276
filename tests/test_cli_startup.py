"""`checkrun serve` failing to start, run as a user would (a subprocess): one line on stderr that
names what failed and where, a non-zero status, no traceback, no token; and the banner with the
first start's token only once the server answers."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import httpx
import pytest

from tests.conftest import REQUIRE_PG, free_port, new_bucket
from tests.test_cli import ENV, me, serving

S3_KEYS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}


Completed = subprocess.CompletedProcess[str]


def serve(
    data_dir: Path, *args: str, port: int | None = None, env: dict[str, str] | None = None
) -> Completed:
    return subprocess.run(
        [sys.executable, "-m", "checkrun", "serve", "--data-dir", str(data_dir), *args]
        + ["--port", str(port or free_port())],
        capture_output=True,
        text=True,
        timeout=90,
        env={**ENV, "AWS_DEFAULT_REGION": "us-east-1", **(env or {})},
    )


def failed_in_one_line(done: Completed, *names: str, status: int = 1) -> str:
    """The one error line, after checking that it names each of `names` and nothing leaked."""
    lines = done.stderr.strip().splitlines()
    assert done.returncode == status, (done.returncode, done.stdout, done.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    for name in names:
        assert name in lines[0], (name, lines[0])
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stdout == "", done.stdout  # no banner, no token, no sign-in link
    return lines[0]


def test_a_postgres_scheme_is_refused_without_showing_the_password(tmp_path: Path) -> None:
    url = "postgres://owner:hunter22@127.0.0.1:5432/checkrun"
    done = serve(tmp_path, env={"CHECKRUN_DATABASE_URL": url})
    line = failed_in_one_line(
        done, "CHECKRUN_DATABASE_URL", "postgres://", "postgresql+asyncpg://", status=2
    )
    assert "hunter22" not in line
    upgrade = subprocess.run(
        [sys.executable, "-m", "checkrun", "db", "upgrade", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**ENV, "CHECKRUN_DATABASE_URL": url},
    )
    assert failed_in_one_line(upgrade, status=2) == line  # every command checks it alike


def test_an_unreachable_database_is_named_with_its_address(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/checkrun"
    done = serve(tmp_path, env={"CHECKRUN_DATABASE_URL": url})
    failed_in_one_line(done, f"cannot reach the database at 127.0.0.1:{port}", "refused")


def _postgres_up() -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        up = probe.connect_ex(("127.0.0.1", 5432)) == 0
    if not up and REQUIRE_PG:
        pytest.fail("PostgreSQL is required (CHECKRUN_REQUIRE_POSTGRES=1) but not reachable")
    return up


def test_a_database_that_refuses_the_sign_in_says_why(tmp_path: Path) -> None:
    if not _postgres_up():
        pytest.skip("PostgreSQL not reachable")
    url = "postgresql+asyncpg://no_such_role:pw@127.0.0.1:5432/postgres"
    done = serve(tmp_path, env={"CHECKRUN_DATABASE_URL": url})
    line = failed_in_one_line(done, "127.0.0.1:5432", "refused", 'role "no_such_role"')
    assert ":pw@" not in line


@contextmanager
def read_only(folder: Path) -> Iterator[list[str]]:
    """A prefix that runs a command with `folder` read-only: a read-only bind mount in a mount
    namespace of its own (root can write anywhere else), or without write permission."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield []
        finally:
            folder.chmod(0o755)
        return
    unshare = shutil.which("unshare")
    mount = f"mount --bind {folder} {folder} && mount -o remount,ro,bind {folder} {folder}"
    if unshare is None or subprocess.run([unshare, "-m", "sh", "-c", mount]).returncode:
        pytest.skip("no mount namespace here to make a folder read-only as root")
    yield [unshare, "-m", "sh", "-c", mount + ' && exec "$@"', "sh"]


def test_a_read_only_data_directory_is_named(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with read_only(data) as prefix:
        done = subprocess.run(
            [*prefix, sys.executable, "-m", "checkrun", "serve", "--data-dir", str(data)]
            + ["--port", str(free_port())],
            capture_output=True,
            text=True,
            timeout=90,
            env=ENV,
        )
    line = failed_in_one_line(done, f"the data directory {data} is not writable")
    assert "Read-only file system" in line or "Permission denied" in line
    assert list(data.iterdir()) == []


def test_a_data_directory_that_cannot_be_made_is_named(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    done = serve(tmp_path / "a-file" / "data")
    failed_in_one_line(done, str(tmp_path / "a-file" / "data"), "Not a directory")


def test_a_bad_storage_url_is_refused_before_anything_is_made(tmp_path: Path) -> None:
    done = serve(tmp_path, env={"CHECKRUN_STORAGE_URL": "gs://bucket/files"})
    failed_in_one_line(done, "CHECKRUN_STORAGE_URL", "gs://bucket/files", "s3://", status=2)
    assert not (tmp_path / "checkrun.db").exists()
    done = serve(tmp_path, env={"CHECKRUN_STORAGE_URL": "s3://"})
    failed_in_one_line(done, "CHECKRUN_STORAGE_URL", "no bucket", status=2)


def test_a_file_store_that_cannot_be_written_is_named(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    store = tmp_path / "a-file" / "files"
    done = serve(tmp_path / "data", env={"CHECKRUN_STORAGE_URL": f"file://{store}"})
    failed_in_one_line(done, f"the file store {store} is not writable", "Not a directory")


def test_an_unreachable_s3_endpoint_is_named(tmp_path: Path) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    env = {"CHECKRUN_STORAGE_URL": "s3://uploads/files", "CHECKRUN_S3_ENDPOINT_URL": endpoint}
    done = serve(tmp_path, env={**env, **S3_KEYS})
    failed_in_one_line(done, "cannot reach the S3 bucket 'uploads'", endpoint)
    assert not (tmp_path / "checkrun.db").exists()


def test_a_missing_bucket_is_named_and_serve_starts_once_it_exists(
    tmp_path: Path, s3_endpoint: str
) -> None:
    bucket = new_bucket(s3_endpoint) + "-later"
    env = {
        "CHECKRUN_STORAGE_URL": f"s3://{bucket}/files",
        "CHECKRUN_S3_ENDPOINT_URL": s3_endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        **S3_KEYS,
    }
    done = serve(tmp_path, env=env)
    failed_in_one_line(done, f"the S3 bucket {bucket!r} at {s3_endpoint}", "no such bucket")
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=bucket)
    with serving(tmp_path, env=env) as (base, _):
        assert httpx.get(base + "/health", timeout=10).status_code == 200


def test_a_port_in_use_is_named_and_nothing_is_made(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = serve(tmp_path, port=port)
    failed_in_one_line(done, f"cannot listen on 127.0.0.1:{port}", "Address already in use")
    assert not (tmp_path / "checkrun.db").exists()


def test_a_setting_of_the_wrong_type_is_named(tmp_path: Path) -> None:
    done = serve(tmp_path, env={"CHECKRUN_WORKERS": "several"})
    failed_in_one_line(done, "CHECKRUN_WORKERS", "integer", status=2)


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    done = serve(tmp_path, "--debug", env={"CHECKRUN_STORAGE_URL": "gs://bucket"})
    assert done.returncode != 0
    assert "Traceback" in done.stderr and "gs://bucket" in done.stderr.splitlines()[-1]


def test_the_banner_and_the_token_come_once_the_server_answers(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "checkrun", "serve", "--data-dir", str(tmp_path)]
        + ["--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=ENV,
    )
    assert proc.stdout is not None
    try:
        printed = []
        for line in proc.stdout:
            printed.append(line)
            if line.startswith("(The token"):
                break
        # No retry: whoever reads the banner can use the server at once.
        base = f"http://127.0.0.1:{port}/api"
        assert httpx.get(base + "/health", timeout=10).status_code == 200
        fields = dict(
            (key.strip(), value.strip())
            for key, _, value in (line.partition(":") for line in printed)
        )
        assert me(base, fields["token"], fields["org id"]).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        proc.stdout.close()
