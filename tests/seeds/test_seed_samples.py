"""Each seed page's own Python sample, run unchanged but for URL, token and ids, against a live
server: it must report success, and the effect must be visible through the API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import Org
from tests.support.factories import ok, one_off_task, run, upload

SAMPLES = Path(__file__).parent / "samples"


def run_sample(org: Org, script: str, **ids: str) -> str:
    env = {
        **os.environ,
        "TALLYFY_API_BASE": org.server.api,
        "TALLYFY_ACCESS_TOKEN": org.token,
        "TALLYFY_ORG_ID": org.id,
        **{f"TALLYFY_{k.upper()}": v for k, v in ids.items()},
    }
    done = subprocess.run(
        [sys.executable, str(SAMPLES / script)], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_archive_task_sample(org: Org) -> None:
    task = one_off_task(org)
    out = run_sample(org, "archive_task.py", task_id=task["id"])
    assert f"Successfully archived one-off task {task['id']}. Status: 200 OK" in out
    assert ok(org.api.get(org.path(f"/tasks/{task['id']}")))["archived_at"] is not None


def test_delete_task_sample(org: Org) -> None:
    task = one_off_task(org)
    out = run_sample(org, "delete_task.py", task_id=task["id"])
    assert f"Successfully permanently deleted one-off task {task['id']}. Status: 204" in out
    assert org.api.get(org.path(f"/tasks/{task['id']}")).status_code == 404


def test_delete_process_sample(org: Org) -> None:
    process = run(org)
    out = run_sample(org, "delete_process.py", run_id=process["id"])
    assert f"Successfully deleted process {process['id']}. Status: 200 OK" in out
    assert "(Response body empty for 200 OK)" in out
    assert org.api.get(org.path(f"/runs/{process['id']}")).status_code == 404


def test_get_file_metadata_sample(org: Org) -> None:
    task = one_off_task(org)
    asset = upload(org, "Task", task["id"], b"quarterly numbers", filename="report_q1.pdf")
    out = run_sample(org, "get_file_metadata.py", asset_id=asset["id"])
    header = f"Successfully retrieved metadata for asset {asset['id']}:"
    assert header in out
    body = json.loads(out.split(header, 1)[1])
    assert [item["id"] for item in body["data"]] == [asset["id"]]
    assert body["data"][0]["filename"] == "report_q1.pdf"
    assert body["data"][0]["subject"] == {"id": task["id"], "type": "Task"}


def test_delete_file_sample(org: Org) -> None:
    task = one_off_task(org)
    asset = upload(org, "Task", task["id"])
    out = run_sample(org, "delete_file.py", asset_id=asset["id"])
    assert f"Successfully deleted file/asset {asset['id']}. Status: 200" in out
    assert org.api.get(org.path(f"/assets/{asset['id']}")).status_code == 404
    assert not (org.server.files_dir / org.id / asset["id"]).exists()
