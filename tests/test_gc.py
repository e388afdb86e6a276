"""`checkrun storage gc`: orphaned bytes (abandoned uploads among them) and records without
bytes, found and removed, on each database and store."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from checkrun.config import Settings
from checkrun.files.gc import collect
from checkrun.storage.s3 import S3BlobStore
from tests.conftest import LiveServer, Org
from tests.support.factories import ok, one_off_task, upload


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


@dataclass
class Leftovers:
    kept: str  # a sound file
    orphan_key: str  # bytes no record points to
    lost: str  # a record whose bytes are gone
    unfinished: str  # an upload a crash left half done


def abandon_an_upload(server: LiveServer) -> str:
    store = server.store
    if isinstance(store, S3BlobStore):
        key = f"crashed/{uuid.uuid4().hex}"
        started = store.client.create_multipart_upload(
            Bucket=store.bucket, Key=f"{store.prefix}/{key}"
        )
        return f"{key}#{started['UploadId']}"
    name = uuid.uuid4().hex
    (server.files_dir / ".tmp" / name).write_bytes(b"half a file")
    return f".tmp/{name}"


def leave_leftovers(files_org: Org) -> Leftovers:
    store = files_org.server.store
    task = one_off_task(files_org)
    kept = upload(files_org, "Task", task["id"], b"kept")
    lost = upload(files_org, "Task", task["id"], b"lost")
    orphan_key = f"{files_org.id}/{uuid.uuid4().hex}"
    asyncio.run(store.put(orphan_key, _one(b"stray"), 100))
    asyncio.run(store.delete(f"{files_org.id}/{lost['id']}"))
    return Leftovers(kept["id"], orphan_key, lost["id"], abandon_an_upload(files_org.server))


def no_grace(settings: Settings) -> Settings:
    return settings.model_copy(update={"gc_grace_seconds": 0})


def assert_found(report: dict[str, Any], left: Leftovers) -> None:
    assert left.orphan_key in report["orphan_bytes"]
    assert left.lost in report["records_without_bytes"]
    assert left.unfinished in report["orphan_bytes"]
    assert f"{left.orphan_key.split('/')[0]}/{left.kept}" not in report["orphan_bytes"]
    assert left.kept not in report["records_without_bytes"]


def assert_untouched(org: Org, left: Leftovers) -> None:
    assert left.orphan_key in org.server.stored_keys()
    assert org.api.get(org.path(f"/assets/{left.lost}")).status_code == 200
    assert left.unfinished in org.server.incomplete_uploads()


def assert_cleaned(org: Org, left: Leftovers) -> None:
    assert left.orphan_key not in org.server.stored_keys()
    assert org.api.get(org.path(f"/assets/{left.lost}")).status_code == 404
    assert left.unfinished not in org.server.incomplete_uploads()
    assert ok(org.api.get(org.path(f"/assets/{left.kept}")))[0]["id"] == left.kept
    assert org.api.get(org.path(f"/file/{left.kept}")).content == b"kept"


def test_dry_run_reports_and_changes_nothing(files_org: Org) -> None:
    left = leave_leftovers(files_org)
    report = asyncio.run(collect(no_grace(files_org.server.settings), dry_run=True))
    assert report["dry_run"] is True
    assert_found(report, left)
    assert_untouched(files_org, left)


def test_gc_removes_every_kind_and_keeps_the_rest(files_org: Org) -> None:
    left = leave_leftovers(files_org)
    report = asyncio.run(collect(no_grace(files_org.server.settings), dry_run=False))
    assert_found(report, left)
    assert_cleaned(files_org, left)


def test_young_leftovers_are_spared_for_uploads_in_flight(files_org: Org) -> None:
    left = leave_leftovers(files_org)
    report = asyncio.run(collect(files_org.server.settings, dry_run=False))
    assert left.orphan_key not in report["orphan_bytes"]
    assert left.orphan_key in files_org.server.stored_keys()
    if not isinstance(files_org.server.store, S3BlobStore):
        # moto dates every multipart upload 2010-11-10, so its uploads never look young.
        assert left.unfinished not in report["orphan_bytes"]
        assert left.unfinished in files_org.server.incomplete_uploads()
    # A record without bytes is never "in flight": bytes are stored before the record commits.
    assert files_org.api.get(files_org.path(f"/assets/{left.lost}")).status_code == 404


def run_cli(server: LiveServer, *flags: str) -> dict[str, Any]:
    settings = server.settings
    env = {"CHECKRUN_DATA_DIR": str(settings.data_dir), "CHECKRUN_GC_GRACE_SECONDS": "0"}
    for name in ("database_url", "storage_url", "s3_endpoint_url"):
        if value := getattr(settings, name):
            env[f"CHECKRUN_{name.upper()}"] = value
    done = subprocess.run(
        [sys.executable, "-m", "checkrun", "storage", "gc", *flags],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    # How far it got, on stderr: what it read, and what it removed unless dry.
    assert "gc: " in done.stderr and "stored files listed" in done.stderr
    assert ("removed" in done.stderr) == (not report["dry_run"])
    return report


# The command on each store; the database plays no part the tests above don't already cover.
@pytest.mark.parametrize("files_server", ["sqlite-local", "sqlite-s3"], indirect=True)
def test_cli_dry_run_then_gc(files_org: Org) -> None:
    left = leave_leftovers(files_org)
    report = run_cli(files_org.server, "--dry-run")
    assert set(report) == {"dry_run", "orphan_bytes", "records_without_bytes"}
    assert report["dry_run"] is True
    assert_found(report, left)
    assert_untouched(files_org, left)
    assert_found(run_cli(files_org.server), left)
    assert_cleaned(files_org, left)
