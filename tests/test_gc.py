"""`checkrun storage gc`: orphaned bytes and records without bytes, found and removed."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta

from checkrun.files.gc import collect
from checkrun.storage import make_store
from tests.conftest import Org
from tests.support.factories import ok, one_off_task, upload


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


def make_orphans(org: Org) -> tuple[str, str, str]:
    """A kept file, bytes no record points to, and a record whose bytes are gone."""
    settings = org.server.settings
    store = make_store(settings.resolved_storage_url, settings.s3_endpoint_url)
    task = one_off_task(org)
    kept = upload(org, "Task", task["id"], b"kept")
    lost = upload(org, "Task", task["id"], b"lost")
    orphan_key = f"{org.id}/{'0' * 32}"
    asyncio.run(store.put(orphan_key, _one(b"stray"), 100))
    asyncio.run(store.delete(f"{org.id}/{lost['id']}"))
    return kept["id"], orphan_key, lost["id"]


def test_dry_run_reports_and_changes_nothing(org: Org) -> None:
    kept, orphan_key, lost = make_orphans(org)
    report = asyncio.run(collect(org.server.settings, dry_run=True, grace=timedelta(0)))
    assert orphan_key in report["orphan_bytes"]
    assert lost in report["records_without_bytes"]
    assert orphan_key in org.server.stored_keys()
    assert org.api.get(org.path(f"/assets/{lost}")).status_code == 200


def test_gc_removes_both_kinds_and_keeps_the_rest(org: Org) -> None:
    kept, orphan_key, lost = make_orphans(org)
    asyncio.run(collect(org.server.settings, dry_run=False, grace=timedelta(0)))
    assert orphan_key not in org.server.stored_keys()
    assert org.api.get(org.path(f"/assets/{lost}")).status_code == 404
    assert ok(org.api.get(org.path(f"/assets/{kept}")))[0]["id"] == kept
    assert org.api.get(org.path(f"/file/{kept}")).content == b"kept"


def test_young_orphans_are_left_for_uploads_in_flight(org: Org) -> None:
    _, orphan_key, _ = make_orphans(org)
    report = asyncio.run(collect(org.server.settings, dry_run=False))
    assert orphan_key not in report["orphan_bytes"]
    assert orphan_key in org.server.stored_keys()


def test_cli_reports_json(org: Org) -> None:
    settings = org.server.settings
    env = {"CHECKRUN_DATA_DIR": str(settings.data_dir)}
    if settings.database_url:
        env["CHECKRUN_DATABASE_URL"] = settings.database_url
    done = subprocess.run([sys.executable, "-m", "checkrun", "storage", "gc", "--dry-run"],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env})
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["dry_run"] is True
    assert set(report) == {"dry_run", "orphan_bytes", "records_without_bytes"}
