"""An organization moves: `checkrun export` from SQLite + local files, `checkrun import` into
PostgreSQL + S3 and back again, run as a person runs them. Every record of the organization
comes back with its ids and timestamps, every file with its bytes, the same token still signs
in and the API answers the same; importing it a second time is refused."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from checkrun.backup import rows
from checkrun.config import Settings
from checkrun.db import make_engine
from tests.conftest import LiveServer, Org, live_server, new_bucket, new_org
from tests.support.factories import checklist, group, ok, one_off_task, run, run_upload, tag

READS = (
    "/runs",
    "/runs?with=tasks",
    "/tasks",
    "/me/tasks?status=all",
    "/checklists?with=steps",
    "/groups",
    "/tags",
)


def made(parent: Path, name: str) -> Path:
    path = parent / name
    path.mkdir()
    return path


def checkrun(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHECKRUN_")}
    env["CHECKRUN_DATA_DIR"] = str(settings.data_dir)
    for name in ("database_url", "storage_url", "s3_endpoint_url"):
        if value := getattr(settings, name):
            env[f"CHECKRUN_{name.upper()}"] = value
    return subprocess.run(
        [sys.executable, "-m", "checkrun", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def snapshot(settings: Settings, org_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every exported table's rows of the organization, as the archive writes them."""

    async def work() -> dict[str, list[dict[str, Any]]]:
        engine = make_engine(settings.resolved_database_url)
        try:
            async with engine.connect() as conn:
                return {
                    t.name: [
                        rows.encode(t, dict(r))
                        for r in (await conn.execute(rows.rows_of(t, org_id))).mappings()
                    ]
                    for t in rows.tables()
                }
        finally:
            await engine.dispose()

    return asyncio.run(work())


def task_count_rows(settings: Settings, org_id: str) -> int:
    async def work() -> int:
        engine = make_engine(settings.resolved_database_url)
        try:
            async with engine.connect() as conn:
                found = await conn.execute(
                    text("SELECT count(*) FROM task_counts WHERE org_id = :o"), {"o": org_id}
                )
                return int(found.scalar_one())
        finally:
            await engine.dispose()

    return asyncio.run(work())


def answers(server: LiveServer, org: Org) -> dict[str, Any]:
    with server.client(org.token) as api:
        return {path: ok(api.get(org.path(path))) for path in READS}


def file_bytes(server: LiveServer, org: Org, asset_id: str) -> bytes:
    with server.client(org.token) as api:
        got = api.get(org.path(f"/file/{asset_id}/dl"))
        assert got.status_code == 200, got.text
        return got.content


@pytest.fixture
def source(tmp_path: Path) -> Iterator[tuple[LiveServer, Org, str]]:
    with live_server("sqlite", made(tmp_path, "source")) as live, new_org(live) as org:
        template = checklist(org, steps=3)
        launched = run(org, template["id"], name="Moving house")
        # An edit after the launch freezes the version launched (a checklist_versions row).
        step = ok(org.api.get(org.path(f"/checklists/{template['id']}/steps")))[0]
        path = org.path(f"/checklists/{template['id']}/steps/{step['id']}")
        ok(org.api.put(path, json={"title": "Pack"}))
        first = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))[0]
        ok(
            org.api.post(
                org.path(f"/runs/{launched['id']}/completed-tasks"), json={"task_id": first["id"]}
            )
        )
        task = one_off_task(org, title="Call the movers")
        ok(org.api.post(org.path(f"/tasks/{task['id']}/comment"), json={"content": "Soon"}), 201)
        group(org, "Movers")
        tag(org, "urgent")
        asset = run_upload(org, launched, content=os.urandom(300_000), filename="plan.pdf")
        yield live, org, str(asset["id"])


def test_an_organization_moves_to_postgresql_and_s3_and_back(
    source: tuple[LiveServer, Org, str], tmp_path: Path, s3_endpoint: str
) -> None:
    src, org, asset_id = source
    archive = tmp_path / "org.tar"
    exported = checkrun(src.settings, "export", "--org", org.id, "--out", str(archive))
    assert exported.returncode == 0, exported.stderr
    assert "export: tasks: 4 rows" in exported.stderr and "export: files: 1/1" in exported.stderr
    before, before_answers = snapshot(src.settings, org.id), answers(src, org)
    assert len(before["checklist_versions"]) == 1
    original = file_bytes(src, org, asset_id)

    s3 = {"storage_url": f"s3://{new_bucket(s3_endpoint)}/files", "s3_endpoint_url": s3_endpoint}
    with live_server("postgresql", made(tmp_path, "pg"), **s3) as pg:
        imported = checkrun(pg.settings, "import", str(archive))
        assert imported.returncode == 0, imported.stderr
        assert f"imported Test Org ({org.id}:" in imported.stdout
        assert snapshot(pg.settings, org.id) == before
        assert task_count_rows(pg.settings, org.id) > 0  # written again by the triggers
        assert answers(pg, org) == before_answers  # the same token signs in
        assert file_bytes(pg, org, asset_id) == original

        again = checkrun(pg.settings, "import", str(archive))
        assert again.returncode == 1
        assert "is already in this database: nothing was imported" in again.stderr
        assert "Traceback" not in again.stderr

        # The download above is in the activity feed now: what goes back is what is there.
        moved, moved_answers = snapshot(pg.settings, org.id), answers(pg, org)
        back = tmp_path / "back.tar"
        assert checkrun(pg.settings, "export", "--org", org.id, "--out", str(back)).returncode == 0

    with live_server("sqlite", made(tmp_path, "home")) as home:
        returned = checkrun(home.settings, "import", str(back))
        assert returned.returncode == 0, returned.stderr
        assert snapshot(home.settings, org.id) == moved
        assert answers(home, org) == moved_answers
        assert file_bytes(home, org, asset_id) == original


def test_an_archive_with_ids_taken_in_the_target_is_refused_whole(
    source: tuple[LiveServer, Org, str], tmp_path: Path
) -> None:
    src, org, _ = source
    archive = tmp_path / "org.tar"
    assert checkrun(src.settings, "export", "--org", org.id, "--out", str(archive)).returncode == 0
    with live_server("sqlite", made(tmp_path, "busy")) as busy:
        with new_org(busy) as other:  # its rows take the same small integer ids
            one_off_task(other)
            refused = checkrun(busy.settings, "import", str(archive))
            assert refused.returncode == 1
            assert "nothing was imported" in refused.stderr
            assert "Traceback" not in refused.stderr
            assert all(not rows_ for rows_ in snapshot(busy.settings, org.id).values())


def test_what_cannot_be_exported_or_imported_is_said_in_one_line(
    source: tuple[LiveServer, Org, str], tmp_path: Path
) -> None:
    src, _, _ = source
    missing = checkrun(src.settings, "export", "--org", "nope", "--out", str(tmp_path / "x.tar"))
    assert missing.returncode == 1
    assert (
        missing.stderr.strip() == "checkrun export: there is no organization nope in this database"
    )
    assert not (tmp_path / "x.tar").exists()
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not an archive")
    refused = checkrun(src.settings, "import", str(junk))
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"checkrun import: {junk} can't be imported:")
    assert len(refused.stderr.strip().splitlines()) == 1


def test_the_export_reads_every_table_of_the_schema() -> None:
    """A table added later is exported unless it is named as not exported, with why."""
    names = {t.name for t in rows.tables()}
    assert {"tasks", "task_owners", "capture_values", "steps", "users", "assets"} <= names
    assert names.isdisjoint(rows.NOT_EXPORTED)
    unreachable = [t.name for t in rows.tables() if str(rows.owned(t, "x")) == "false"]
    assert unreachable == []  # every table reaches the organization through its keys
