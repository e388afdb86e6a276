"""The OpenAPI document is exact: schemathesis generates requests for every operation it
describes, sends them to a live server (SQLite) whose path ids name real resources, and checks
that no answer is a server error and that every status code, content type and body is the one
the document declares.

Bounded for CI: a few generated cases per operation (`MAX_EXAMPLES`), no shrinking, and a
timeout on every request. Read-only operations share one seeded organization; every other
operation gets a freshly seeded one, so a DELETE cannot take away what a later operation needs.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import LiveServer, Org, live_server, new_org
from tests.support.factories import checklist, folder, group, ok, one_off_task, run, tag, upload

MAX_EXAMPLES = 4
REQUEST_TIMEOUT = 30  # seconds; a hung request fails the run instead of stalling CI
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
PARAM = re.compile(r"{(\w+)}")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # Rate limiting off: the run sends hundreds of requests a minute as one user.
    with live_server("sqlite", tmp_path_factory.mktemp("schemathesis"),
                     rate_limit_per_minute=0) as server:
        yield server


@dataclass
class World:
    """An organization holding one of everything, by the path parameter names that reach it."""

    org: Org
    ids: dict[str, str] = field(default_factory=dict)
    run_task_id: str = ""
    run_comment_id: str = ""
    member_email: str = ""

    def path_parameters(self, path: str) -> dict[str, str]:
        names = PARAM.findall(path)
        chosen = {name: self.ids.get(name, "0" * 32) for name in names}
        if "run_id" in chosen and "task_id" in chosen:
            chosen["task_id"] = self.run_task_id
        if "run_id" in chosen and "comment_id" in chosen:
            chosen["comment_id"] = self.run_comment_id
        if path.startswith("/applications/") and "email" in chosen:
            chosen["email"] = self.member_email
        return chosen


def seed(org: Org) -> World:
    """A template with steps, form fields, a kick-off field and an automation rule, a launched
    run with tasks, a one-off task with a comment, a file, a tag and its link, a group, a guest,
    a folder holding the run, a member and a watcher."""
    world = World(org)
    ids = world.ids
    member_id, _ = org.member("standard")
    ids["user_id"] = str(member_id)
    world.member_email = ok(org.api.get(org.path(f"/users/{member_id}")))["email"]
    template = checklist(org, steps=2)
    base = f"/checklists/{template['id']}"
    kickoff = ok(org.api.put(org.path(base), json={
        "title": "Onboarding", "prerun": [{"label": "Plan", "field_type": "text"},
                                          {"label": "Budget", "field_type": "text"}]}))
    steps = ok(org.api.get(org.path(base + "/steps")))
    capture = ok(org.api.post(org.path(base + f"/steps/{steps[0]['id']}/captures"),
                              json={"label": "Reference", "field_type": "text"}), 201)
    rule = ok(org.api.post(org.path(base + "/automated-actions"), json={
        "conditions": [{"conditionable_type": "Prerun",
                        "conditionable_id": kickoff["prerun"][1]["id"],
                        "operation": "equals", "statement": "no"}],
        "then_actions": [{"action_type": "visibility", "action_verb": "hide",
                          "target_step_id": steps[1]["id"]}]}), 201)
    launched = run(org, template["id"], name="Run")
    run_tasks = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))
    task = one_off_task(org)
    comment = ok(org.api.post(org.path(f"/tasks/{task['id']}/comment"),
                              json={"content": "hello"}), 201)
    run_comment = ok(org.api.post(org.path(f"/runs/{launched['id']}/comment"),
                                  json={"content": "hello"}), 201)
    asset = upload(org, "Task", task["id"])
    tag_id = tag(org)
    association = ok(org.api.post(org.path("/checklists/tags"), json={
        "subject_id": template["id"], "subject_type": "Checklist", "tag_id": tag_id,
        "tag_type": "private"}), 201)
    guest = ok(org.api.post(org.path("/guests"),
                            json={"email": f"guest-{uuid.uuid4().hex[:8]}@example.com"}), 201)
    folder_id = folder(org, folder_type="run")
    relation = ok(org.api.post(org.path("/folders/add-object"), json={
        "folder_id": folder_id, "subject_id": launched["id"], "subject_type": "Run"}), 201)
    watcher = ok(org.api.post(org.path(f"/users/{org.admin_id}/add-watcher"), json={
        "object_type": "organization", "object_id": org.id, "notification_type": "webhook",
        "frequency": "electric", "webhook": "http://127.0.0.1:9/hook"}), 201)
    ids.update({
        "org_id": org.id, "checklist_id": template["id"], "step_id": steps[0]["id"],
        "capture_id": capture["id"], "prerun_id": kickoff["prerun"][0]["id"],
        "rule_id": rule["id"], "run_id": launched["id"], "task_id": task["id"],
        "comment_id": comment["id"], "asset_id": asset["id"], "tag_id": tag_id,
        "association_id": str(association["id"]), "group_id": group(org),
        "email": guest["email"], "guest_code": guest["email"], "folder_id": folder_id,
        "relation_id": str(relation["id"]), "watcher_id": str(watcher["id"]),
    })
    world.run_task_id = run_tasks[0]["id"]
    world.run_comment_id = run_comment["id"]
    return world


@dataclass
class Tally:
    operations: int = 0
    cases: int = 0
    failures: dict[tuple[str, str], str] = field(default_factory=dict)
    statuses: dict[str, set[int]] = field(default_factory=dict)

    def record(self, label: str, group_: FailureGroup) -> None:
        for failure in group_.exceptions:
            self.failures.setdefault((label, failure.title), failure.message[:600])


def exercise(operation: Any, world: World, tally: Tally) -> None:
    """Up to MAX_EXAMPLES generated cases for one operation, against `world`'s ids."""
    label = f"{operation.method.upper()} {operation.path}"
    strategy = operation.as_strategy(
        path_parameters=world.path_parameters(operation.path),
        headers={"X-Tallyfy-Client": "APIClient"})
    auth = {"Authorization": f"Bearer {world.org.token}"}

    @given(case=strategy)
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
              print_blob=False)
    def one(case: Any) -> None:
        tally.cases += 1
        response = case.call(headers=auth, timeout=REQUEST_TIMEOUT)
        tally.statuses.setdefault(label, set()).add(response.status_code)
        try:
            case.validate_response(response, checks=CHECKS, headers=auth)
        except FailureGroup as found:
            tally.record(label, found)

    one()
    tally.operations += 1


def _reads_only(operation: Any) -> bool:
    return bool(operation.method.lower() in ("get", "head"))


def test_every_operation_answers_as_documented(live: LiveServer) -> None:
    schema = schemathesis.openapi.from_url(live.api + "/openapi.json", timeout=REQUEST_TIMEOUT)
    schema.config.update(base_url=live.api)
    operations = [result.ok() for result in schema.get_all_operations()]
    started = time.monotonic()
    tally = Tally()
    with new_org(live) as shared_org:
        shared = seed(shared_org)
        for operation in operations:
            if _reads_only(operation):
                exercise(operation, shared, tally)
                continue
            with new_org(live) as own:
                exercise(operation, seed(own), tally)
    elapsed = time.monotonic() - started
    print(f"schemathesis: {tally.operations} operations, {tally.cases} cases, {elapsed:.0f}s")
    for label, seen in tally.statuses.items():
        print(label, sorted(seen))
    assert tally.operations == len(operations) > 100
    found = [f"{label}: {title}\n{message}" for (label, title), message in
             sorted(tally.failures.items())]
    assert found == [], f"{len(found)} failures:\n\n" + "\n\n".join(found)

