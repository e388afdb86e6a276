"""Small builders over the HTTP API, so tests read as the steps a user takes."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from checkrun.db import make_engine
from tests.conftest import Org


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    return response.json()["data"] if response.content else None


def checklist(org: Org, steps: int = 2, **fields: Any) -> dict[str, Any]:
    body = {"title": "Onboarding", "type": "procedure", **fields}
    created = ok(org.api.post(org.path("/checklists"), json=body), 201)
    for i in range(steps):
        ok(
            org.api.post(
                org.path(f"/checklists/{created['id']}/steps"), json={"title": f"Step {i + 1}"}
            ),
            201,
        )
    return created


def run(org: Org, checklist_id: str | None = None, **fields: Any) -> dict[str, Any]:
    checklist_id = checklist_id or checklist(org)["id"]
    return ok(org.api.post(org.path("/runs"), json={"checklist_id": checklist_id, **fields}), 201)


def one_off_task(org: Org, **fields: Any) -> dict[str, Any]:
    body = {
        "title": "Call the customer",
        "task_type": "task",
        "owners": {"users": [org.admin_id]},
        "deadline": "2030-01-01T12:00:00Z",
        **fields,
    }
    return ok(org.api.post(org.path("/tasks"), json=body), 201)


def upload(
    org: Org,
    subject_type: str,
    subject_id: str,
    content: bytes = b"hello world",
    filename: str = "notes.txt",
    **fields: str,
) -> dict[str, Any]:
    data = {
        "subject_type": subject_type,
        "subject_id": subject_id,
        "uploaded_from": "ko_field",
        **fields,
    }
    response = org.api.post(org.path("/file"), data=data, files={"name": (filename, content)})
    return ok(response, 200)


def stored_bytes(org: Org, asset_id: str) -> Path:
    """Where the local blob store keeps an asset's bytes."""
    return org.server.files_dir / org.id / asset_id


def run_upload(org: Org, launched: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A file uploaded against a run (which needs its first step and its checklist)."""
    task = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))[0]
    return upload(
        org,
        "Run",
        launched["id"],
        step_id=task["step_id"],
        checklist_id=launched["checklist_id"],
        **fields,
    )


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def db_count(org: Org, table: str, where: str, **params: Any) -> int:
    """Rows of `table` matching `where` in the server's database: for what HTTP can't show."""

    async def work() -> int:
        engine = make_engine(org.server.settings.resolved_database_url)
        try:
            async with engine.connect() as conn:
                result = await conn.execute(
                    text(f"SELECT count(*) FROM {table} WHERE {where}"), params
                )
                return int(result.scalar_one())
        finally:
            await engine.dispose()

    return asyncio.run(work())


def group(org: Org, name: str | None = None) -> str:
    body = {"name": name or f"Group {uuid.uuid4().hex[:8]}", "description": "A team"}
    return str(ok(org.api.post(org.path("/groups"), json=body), 201)["id"])


def tag(org: Org, title: str | None = None) -> str:
    body = {"title": title or f"tag-{uuid.uuid4().hex[:8]}", "color": "#3366ff"}
    return str(ok(org.api.post(org.path("/tags"), json=body), 201)["id"])


def folder(org: Org, name: str = "Folder", folder_type: str = "checklist") -> str:
    body = {"name": name, "folder_type": folder_type}
    return str(ok(org.api.post(org.path("/folders"), json=body), 201)["id"])


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def round_the_clock(org: Org) -> None:
    """Every hour of every day is working time: deadlines are plain calendar arithmetic."""
    ok(
        org.api.put(
            org.path(""),
            json={
                "working_days": {
                    day: {"enabled": True, "start_time": None, "end_time": None} for day in WEEKDAYS
                }
            },
        )
    )


def with_owner_ids(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tasks of a list with their members as ids, as a single read shows them (lists show
    `{id, full_name, profile_pic}` objects): for tests about who is assigned, not the shape."""
    for task in tasks:
        users = task["owners"]["users"]
        task["owners"]["users"] = [u["id"] if isinstance(u, dict) else u for u in users]
    return tasks
