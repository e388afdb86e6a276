"""One deterministic organization, built over HTTP on a server whose clock the scenario moves,
and the answers of every read about it, grouped by resource.

Each write happens one minute after the previous one, so no two rows share a timestamp and every
list has one order whatever the database (ties would fall back to random ids)."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from checkrun.db import make_engine, make_sessionmaker
from checkrun.members.service import Bootstrap, create_organization
from tests.conftest import LiveServer
from tests.support.clock import MovableClock

# A Tuesday morning, inside the default working hours.
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ADMIN_EMAIL = "ada.admin@example.com"
UNKNOWN = "0" * 32

Answers = dict[str, dict[str, dict[str, Any]]]


def compact(body: Any) -> bytes:
    """The bytes the app's JSON responses are made of (Starlette's JSONResponse)."""
    if body is None:
        return b""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def bootstrap(server: LiveServer) -> Bootstrap:
    async def work() -> Bootstrap:
        engine = make_engine(server.settings.resolved_database_url)
        try:
            async with make_sessionmaker(engine)() as db:
                made = await create_organization(db, "Snapshot Org", ADMIN_EMAIL)
                await db.commit()
                return made
        finally:
            await engine.dispose()

    return asyncio.run(work())


@dataclass
class World:
    server: LiveServer
    clock: MovableClock
    api: httpx.Client
    org_id: str
    answers: Answers = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)
    made: dict[str, Any] = field(default_factory=dict)  # what earlier steps made
    clients: list[httpx.Client] = field(default_factory=list)  # the members', closed at the end

    def path(self, suffix: str) -> str:
        return f"/organizations/{self.org_id}{suffix}"

    def tick(self) -> None:
        self.clock.advance(minutes=1)
        # File times are coarse: a distinct mtime makes the server re-read the instant.
        stamp = time.time_ns()
        os.utime(self.clock.path, ns=(stamp, stamp))

    def write(
        self,
        method: str,
        suffix: str,
        status: int,
        client: httpx.Client | None = None,
        pin: tuple[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        """A change one minute after the last; returns the `data` of the answer, which is
        pinned too under `pin` (resource, label)."""
        self.tick()
        response = (client or self.api).request(method, self.path(suffix), **kwargs)
        assert response.status_code == status, f"{method} {suffix}: {response.text}"
        if pin is not None:
            self.keep(*pin, response)
        return response.json()["data"] if response.content else None

    def read(
        self,
        resource: str,
        label: str,
        url: str,
        client: httpx.Client | None = None,
        method: str = "GET",
        **kwargs: Any,
    ) -> Any:
        """Records the answer under `resource`/`label`; `url` is under /api as given."""
        return self.keep(resource, label, (client or self.api).request(method, url, **kwargs))

    def keep(self, resource: str, label: str, response: httpx.Response) -> Any:
        body = response.json() if response.content else None
        # The snapshot keeps the parsed answer: parsing must lose nothing of the bytes sent.
        assert response.content == compact(body), f"{response.url}: not compact JSON"
        self.answers.setdefault(resource, {})[label] = {
            "status": response.status_code,
            "body": body,
        }
        return body


def member(world: World, email: str, first: str, role: str) -> tuple[int, httpx.Client]:
    world.tick()
    created = world.api.post(
        f"/applications/{world.org_id}/users",
        json={"email": email, "first_name": first, "last_name": "Example", "role": role},
    )
    assert created.status_code == 201, created.text
    token = world.api.post(f"/applications/{world.org_id}/users/{email}/token")
    assert token.status_code == 200, token.text
    world.secrets.append(token.json()["access_token"])
    client = world.server.client(token.json()["access_token"])
    world.clients.append(client)
    return int(created.json()["data"]["id"]), client


def build(server: LiveServer, clock: MovableClock) -> World:
    clock.set(START)
    boot = bootstrap(server)
    api = server.client(boot.token)
    world = World(server, clock, api, boot.org_id, secrets=[boot.token])
    for step in STEPS:
        step(world)
    return world


# --- the scenario, in order ---------------------------------------------------------------------


def people(world: World) -> None:
    world.write("PUT", "", 200, json={"name": "Snapshot Org"})
    standard_id, standard = member(world, "sam.standard@example.com", "Sam", "standard")
    light_id, light = member(world, "lee.light@example.com", "Lee", "light")
    guest = world.write(
        "POST",
        "/guests",
        201,
        pin=("guest", "create"),
        json={
            "email": "gus.guest@example.com",
            "first_name": "Gus",
            "last_name": "Guest",
            "company_name": "Guests Inc",
        },
    )
    # The guest's code is the last part of their link.
    code = guest["link"].rsplit("/", 1)[1]
    world.secrets.append(code)
    group = world.write(
        "POST",
        "/groups",
        201,
        json={"name": "Reviewers", "description": "They review", "members": [standard_id]},
    )
    world.made.update(
        standard_id=standard_id,
        standard=standard,
        light_id=light_id,
        light=light,
        guest=guest,
        guest_code=code,
        group_id=group["id"],
    )


def templates(world: World) -> None:
    tag = world.write("POST", "/tags", 201, json={"title": "urgent", "color": "#3366ff"})
    folder = world.write(
        "POST", "/folders", 201, json={"name": "Playbooks", "folder_type": "checklist"}
    )
    child = world.write(
        "POST",
        "/folders",
        201,
        json={"name": "Sales", "parent_id": folder["id"], "folder_type": "checklist"},
    )
    run_folder = world.write("POST", "/folders", 201, json={"name": "2026", "folder_type": "run"})
    template = world.write(
        "POST",
        "/checklists",
        201,
        json={
            "title": "Onboarding",
            "type": "procedure",
            "summary": "Welcome a customer",
            "folder_id": child["id"],
        },
    )
    base = f"/checklists/{template['id']}"
    first = world.write(
        "POST",
        base + "/steps",
        201,
        json={
            "title": "Collect details",
            "summary": "Ask for the basics",
            "deadline": {"value": 1, "unit": "days"},
            "assignees": [world.made["standard_id"]],
        },
    )
    second = world.write(
        "POST",
        base + "/steps",
        201,
        json={
            "title": "Review",
            "groups": [world.made["group_id"]],
            "deadline": {"value": 2, "unit": "days"},
        },
    )
    text = world.write(
        "POST",
        f"{base}/steps/{first['id']}/captures",
        201,
        json={"label": "Customer name", "field_type": "text", "required": True},
    )
    choice = world.write(
        "POST",
        f"{base}/steps/{first['id']}/captures",
        201,
        json={
            "label": "Plan",
            "field_type": "dropdown",
            "options": [{"id": 1, "text": "Basic"}, {"id": 2, "text": "Pro"}],
        },
    )
    world.write(
        "POST",
        "/checklists/tags",
        201,
        pin=("tag", "attach"),
        json={
            "subject_id": template["id"],
            "subject_type": "Checklist",
            "tag_id": tag["id"],
            "tag_type": "private",
        },
    )
    world.made.update(
        tag_id=tag["id"],
        folder_id=folder["id"],
        child_id=child["id"],
        run_folder_id=run_folder["id"],
        template_id=template["id"],
        steps=[first["id"], second["id"]],
        captures=[text["id"], choice["id"]],
    )


def runs(world: World) -> None:
    ids = world.made
    launched = world.write(
        "POST",
        "/runs",
        201,
        pin=("run", "launch"),
        json={
            "checklist_id": ids["template_id"],
            "name": "Onboarding ACME",
            "summary": "ACME Ltd",
            "tags": [ids["tag_id"]],
            "folders": [ids["run_folder_id"]],
        },
    )
    tasks = world.api.get(world.path(f"/runs/{launched['id']}/tasks")).json()["data"]
    first, second = tasks[0], tasks[1]
    world.write(
        "PUT",
        f"/runs/{launched['id']}/tasks/{first['id']}",
        200,
        json={"taskdata": {ids["captures"][0]: "ACME Ltd"}},
    )
    world.write(
        "POST",
        f"/runs/{launched['id']}/completed-tasks",
        200,
        pin=("task", "complete"),
        json={"task_id": first["id"]},
    )
    one_off = world.write(
        "POST",
        "/tasks",
        201,
        pin=("task", "create_one_off"),
        json={
            "title": "Call the customer",
            "task_type": "task",
            "summary": "About the contract",
            "owners": {"users": [world.made["standard_id"]], "guests": ["gus.guest@example.com"]},
            "deadline": "2026-12-10T12:00:00Z",
        },
    )
    world.write(
        "POST",
        "/folders/add-object",
        201,
        pin=("folder", "add_object"),
        json={
            "folder_id": ids["run_folder_id"],
            "subject_type": "Task",
            "subject_id": one_off["id"],
        },
    )
    comment = world.write(
        "POST",
        f"/tasks/{second['id']}/comment",
        201,
        pin=("comment", "create_on_task"),
        json={"content": "Please review soon", "state": "hide-for-guests"},
    )
    issue = world.write(
        "POST",
        f"/tasks/{second['id']}/problem",
        201,
        pin=("issue", "report_on_task"),
        json={"content": "The contract is missing"},
    )
    run_comment = world.write(
        "POST",
        f"/runs/{launched['id']}/comment",
        201,
        pin=("comment", "create_on_run"),
        json={"content": "Kick-off went well"},
    )
    world.write(
        "POST",
        f"/users/{ids['standard_id']}/add-watcher",
        201,
        pin=("watcher", "add"),
        json={
            "object_type": "organization",
            "object_id": world.org_id,
            "notification_type": "webhook",
            "frequency": "electric",
            "webhook": "https://hooks.example.com/checkrun",
        },
    )
    asset = upload(world, launched, first)
    # A second template and run, so that lists and their pages hold more than one row.
    other = world.write(
        "POST", "/checklists", 201, json={"title": "Offboarding", "type": "procedure"}
    )
    world.write("POST", f"/checklists/{other['id']}/steps", 201, json={"title": "Say goodbye"})
    world.write("POST", "/runs", 201, json={"checklist_id": other["id"], "name": "Offboarding"})
    ids.update(
        run_id=launched["id"],
        tasks=[first["id"], second["id"]],
        one_off=one_off["id"],
        comment=comment["id"],
        issue=issue["id"],
        run_comment=run_comment["id"],
        asset=asset["id"],
    )


def upload(world: World, launched: dict[str, Any], task: dict[str, Any]) -> Any:
    return world.write(
        "POST",
        "/file",
        200,
        pin=("asset", "upload"),
        data={
            "subject_type": "Run",
            "subject_id": launched["id"],
            "uploaded_from": "ko_field",
            "step_id": task["step_id"],
            "checklist_id": launched["checklist_id"],
        },
        files={"name": ("notes.txt", b"hello world", "text/plain")},
    )


def custom_fields(world: World) -> None:
    """Last, so that nothing before it moves: keys, and values on the run (a task's would
    write to the activity feed, whose snapshot would move)."""
    run_id = world.made["run_id"]
    key = world.write(
        "POST",
        "/custom-field-keys",
        201,
        pin=("custom_field", "create_key"),
        json={
            "key": "cost_center",
            "label": "Cost center",
            "applies_to": "process",
            "field_type": "text",
            "is_required": True,
        },
    )
    world.write(
        "POST",
        "/custom-field-keys",
        201,
        json={
            "key": "priority",
            "applies_to": "task",
            "field_type": "dropdown",
            "options": ["High", "Low"],
        },
    )
    world.write(
        "PUT",
        f"/runs/{run_id}/custom-fields",
        200,
        pin=("custom_field", "put_run"),
        json={"custom_fields": {"cost_center": "CC-1042"}},
    )
    world.made["custom_field_key"] = key["id"]


STEPS: list[Callable[[World], None]] = [people, templates, runs, custom_fields]
