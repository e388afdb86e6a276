"""The OpenAPI document is exact: schemathesis generates requests for every operation it
describes, sends them to a live server (SQLite) whose path ids name real resources, and checks
that no answer is a server error and that every status code, content type and body is the one
the document declares.

Each operation first gets one realistic request where a random body could never succeed (a
launch needs a real template id, a link a real tag...), then `MAX_EXAMPLES` generated ones.
Read-only operations share one organization; every other operation gets its own, seeded with
only what its path and realistic body name, so a DELETE cannot take away what a later
operation needs. Bounded for CI: few cases, no shrinking, a timeout on every request.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, example, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import LiveServer, Org, live_server, new_org
from tests.support.factories import checklist, folder, group, ok, one_off_task, run, tag, upload
from tests.support.smtp import SmtpServer

MAX_EXAMPLES = 4
REQUEST_TIMEOUT = 30  # seconds; a hung request fails the run instead of stalling CI
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
PARAM = re.compile(r"{(\w+)}")
ORG = "/organizations/{org_id}"
UPLOAD_LIMIT = 1024 * 1024


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # Rate limiting off: the run sends hundreds of requests a minute as one user.
    # A small upload limit, so that one probe can see the 413.
    # Email on (to a real SMTP server), so that every change also runs the notifications.
    box = SmtpServer().start()
    try:
        with live_server(
            "sqlite",
            tmp_path_factory.mktemp("schemathesis"),
            rate_limit_per_minute=0,
            max_upload_bytes=UPLOAD_LIMIT,
            smtp_url=box.url,
        ) as server:
            yield server
    finally:
        box.stop()


def _email(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:8]}@example.com"


class World:
    """An organization whose resources are made on first use, by the names that reach them
    (path parameters, plus a few that realistic bodies name)."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self.made: dict[str, Any] = {"org_id": org.id}

    def __getitem__(self, name: str) -> Any:
        if name not in self.made:
            self.made[name] = BUILDERS[name](self)
        return self.made[name]

    def path_parameters(self, path: str) -> dict[str, str]:
        names = PARAM.findall(path)
        chosen = {name: str(self[name]) for name in names}
        if "run_id" in chosen and "task_id" in chosen:
            chosen["task_id"] = self["run_task_id"]
        if "run_id" in chosen and "comment_id" in chosen:
            chosen["comment_id"] = self["run_comment_id"]
        if "checklist_id" in chosen and "comment_id" in chosen:
            chosen["comment_id"] = self["template_comment_id"]
        if path.startswith("/applications/") and "email" in chosen:
            chosen["email"] = self["member_email"]
        if "key" in chosen:
            # A value route's key: one that applies to the record its path names.
            kind = VALUE_KINDS[path.split("/")[-3]]
            if f"key_{kind}" not in self.made:
                self.made[f"key_{kind}"] = _custom_key(self, kind)["key"]
            chosen["key"] = self.made[f"key_{kind}"]
        return chosen


def _checklist(w: World) -> dict[str, Any]:
    """A template with two steps, a form field and two kick-off fields (the rule reads the
    second, so the first can be deleted)."""
    org = w.org
    template = checklist(org, steps=2)
    base = f"/checklists/{template['id']}"
    kickoff = ok(
        org.api.put(
            org.path(base),
            json={
                "title": "Onboarding",
                "prerun": [
                    {"label": "Plan", "field_type": "text"},
                    {"label": "Budget", "field_type": "text"},
                ],
            },
        )
    )
    steps = ok(org.api.get(org.path(base + "/steps")))
    capture = ok(
        org.api.post(
            org.path(base + f"/steps/{steps[0]['id']}/captures"),
            json={"label": "Reference", "field_type": "text"},
        ),
        201,
    )
    return {
        "id": template["id"],
        "steps": [s["id"] for s in steps],
        "capture": capture["id"],
        "prerun": [p["id"] for p in kickoff["prerun"]],
    }


def _rule_body(w: World) -> dict[str, Any]:
    template = w["template"]
    return {
        "conditions": [
            {
                "conditionable_type": "Prerun",
                "conditionable_id": template["prerun"][1],
                "operation": "equals",
                "statement": "no",
            }
        ],
        "then_actions": [
            {
                "action_type": "visibility",
                "action_verb": "hide",
                "target_step_id": template["steps"][1],
            }
        ],
    }


def _rule(w: World) -> str:
    made = w.org.api.post(
        w.org.path(f"/checklists/{w['checklist_id']}/automated-actions"), json=_rule_body(w)
    )
    return str(ok(made, 201)["id"])


def _member(w: World) -> tuple[int, str]:
    email = _email("member")
    made = w.org.api.post(
        f"/applications/{w.org.id}/users",
        json={"email": email, "first_name": "Sam", "last_name": "Member", "role": "standard"},
    )
    return int(ok(made, 201)["id"]), email


def _run(w: World) -> str:
    return str(run(w.org, w["checklist_id"], name="Run")["id"])


def _run_task(w: World) -> str:
    return str(ok(w.org.api.get(w.org.path(f"/runs/{w['run_id']}/tasks")))[0]["id"])


def _comment(w: World, subject: str) -> str:
    made = w.org.api.post(w.org.path(f"{subject}/comment"), json={"content": "hello"})
    return str(ok(made, 201)["id"])


VALUE_KINDS = {
    "{run_id}": "process",
    "{task_id}": "task",
    "{user_id}": "member",
    "{guest_code}": "guest",
    "{folder_id}": "folder",
    "{tag_id}": "tag",
}


def _custom_key(w: World, applies_to: str) -> dict[str, Any]:
    body = {"key": f"k_{uuid.uuid4().hex[:8]}", "applies_to": applies_to, "field_type": "text"}
    return ok(w.org.api.post(w.org.path("/custom-field-keys"), json=body), 201)


def _association(w: World) -> str:
    made = w.org.api.post(
        w.org.path("/checklists/tags"),
        json={
            "subject_id": w["checklist_id"],
            "subject_type": "Checklist",
            "tag_id": w["tag_id"],
            "tag_type": "private",
        },
    )
    return str(ok(made, 201)["id"])


def _guest(w: World) -> str:
    made = w.org.api.post(w.org.path("/guests"), json={"email": _email("guest")})
    return str(ok(made, 201)["email"])


def _relation(w: World) -> str:
    made = w.org.api.post(
        w.org.path("/folders/add-object"),
        json={"folder_id": w["folder_id"], "subject_id": w["run_id"], "subject_type": "Run"},
    )
    return str(ok(made, 201)["id"])


def _watcher_body(w: World) -> dict[str, Any]:
    return {
        "object_type": "organization",
        "object_id": w.org.id,
        "notification_type": "webhook",
        "frequency": "electric",
        "webhook": "http://127.0.0.1:9/hook",
    }


def _watcher(w: World) -> str:
    made = w.org.api.post(w.org.path(f"/users/{w.org.admin_id}/add-watcher"), json=_watcher_body(w))
    return str(ok(made, 201)["id"])


BUILDERS: dict[str, Callable[[World], Any]] = {
    "template": _checklist,
    "checklist_id": lambda w: w["template"]["id"],
    "step_id": lambda w: w["template"]["steps"][0],
    "capture_id": lambda w: w["template"]["capture"],
    "prerun_id": lambda w: w["template"]["prerun"][0],
    "rule_id": _rule,
    "member": _member,
    "user_id": lambda w: w["member"][0],
    "member_email": lambda w: w["member"][1],
    "run_id": _run,
    "run_task_id": _run_task,
    "task_id": lambda w: one_off_task(w.org)["id"],
    "comment_id": lambda w: _comment(w, f"/tasks/{w['task_id']}"),
    "run_comment_id": lambda w: _comment(w, f"/runs/{w['run_id']}"),
    "template_comment_id": lambda w: _comment(w, f"/checklists/{w['checklist_id']}"),
    "key_id": lambda w: _custom_key(w, "process")["id"],
    "key": lambda w: "",  # chosen by the record kind of the path (`path_parameters`)
    "asset_id": lambda w: upload(w.org, "Task", w["task_id"])["id"],
    "tag_id": lambda w: tag(w.org),
    "association_id": _association,
    "group_id": lambda w: group(w.org),
    "email": _guest,
    "guest_code": lambda w: w["email"],
    "folder_id": lambda w: folder(w.org, folder_type="run"),
    "relation_id": _relation,
    "watcher_id": _watcher,
    "snippet_id": lambda w: ok(
        w.org.api.post(w.org.path("/text-templates"), json={"title": "Greeting"}), 201
    )["id"],
}


def _guest_field(w: World) -> dict[str, Any]:
    """A field of one of the guest's tasks, for the guest's form value."""
    task = one_off_task(
        w.org,
        owners={"users": [w.org.admin_id], "guests": [w["email"]]},
        form_fields=[{"label": "Answer", "field_type": "text"}],
    )
    path = w.org.path(f"/tasks/{task['id']}")
    fields = ok(w.org.api.get(path, params={"with": "form_fields"}))["form_fields"]["data"]
    return {"id": fields[0]["id"], "form_value": "Yes"}


def _stored_value(w: World) -> dict[str, Any]:
    """A filled field's stored value, for PUT /form-field/value."""
    task = one_off_task(w.org, form_fields=[{"label": "Answer", "field_type": "text"}])
    path = w.org.path(f"/tasks/{task['id']}")
    (field,) = ok(w.org.api.get(path, params={"with": "form_fields"}))["form_fields"]["data"]
    body = {k: task[k] for k in ("title", "deadline", "owners")}
    ok(w.org.api.put(path, json={**body, "taskdata": {field["id"]: "No"}}))
    (filled,) = ok(w.org.api.get(path, params={"with": "form_fields"}))["form_fields"]["data"]
    return {"id": filled["unique_id"], "form_value": "Yes"}


# Bodies a generator could not make succeed: they name real ids or follow rules the schema
# does not spell out. (method, path) -> body for the realistic first request.
REALISTIC: dict[tuple[str, str], Callable[[World], dict[str, Any]]] = {
    ("post", ORG + "/runs"): lambda w: {"checklist_id": w["checklist_id"], "name": "Launch"},
    ("post", ORG + "/tasks"): lambda w: {
        "title": "Call",
        "task_type": "task",
        "owners": {"users": [w.org.admin_id]},
        "deadline": "2030-01-01T12:00:00Z",
    },
    ("post", ORG + "/guests"): lambda w: {"email": _email("guest")},
    ("post", ORG + "/users/invite"): lambda w: {
        "email": _email("invited"),
        "first_name": "In",
        "last_name": "Vited",
        "role": "standard",
    },
    ("post", "/applications/{org_id}/users"): lambda w: {
        "email": _email("made"),
        "first_name": "Pro",
        "last_name": "Vided",
        "role": "light",
    },
    ("post", ORG + "/checklists/tags"): lambda w: {
        "subject_id": w["run_id"],
        "subject_type": "Run",
        "tag_id": w["tag_id"],
        "tag_type": "private",
    },
    ("post", ORG + "/folders/add-object"): lambda w: {
        "folder_id": w["folder_id"],
        "subject_id": w["run_id"],
        "subject_type": "Run",
    },
    ("post", ORG + "/users/{user_id}/add-watcher"): _watcher_body,
    ("post", ORG + "/runs/{run_id}/completed-tasks"): lambda w: {"task_id": w["run_task_id"]},
    ("post", ORG + "/completed-tasks"): lambda w: {"task_id": w["task_id"]},
    ("post", ORG + "/checklists/{checklist_id}/automated-actions"): _rule_body,
    ("put", ORG + "/checklists/{checklist_id}/automated-actions/{rule_id}"): lambda w: {
        "automated_alias": "Skip"
    },
    ("put", ORG + "/tasks/{task_id}"): lambda w: {
        "title": "Renamed",
        "owners": {"users": [w.org.admin_id]},
        "deadline": "2031-01-01T12:00:00Z",
    },
    ("put", ORG + "/checklists/{checklist_id}/steps/{step_id}/captures"): lambda w: {
        "capture_id": w["capture_id"],
        "position": 1,
    },
    (
        "put",
        ORG + "/checklists/{checklist_id}/steps/{step_id}/captures/{capture_id}/move-out",
    ): lambda w: {"target_step_id": w["template"]["steps"][1]},
    ("post", ORG + "/tasks/{task_id}/comment"): lambda w: {"content": "Looks good"},
    ("post", ORG + "/runs/{run_id}/comment"): lambda w: {"content": "Looks good"},
    ("post", ORG + "/groups"): lambda w: {"name": f"Team {uuid.uuid4().hex[:6]}"},
    ("post", ORG + "/tags"): lambda w: {"title": f"tag-{uuid.uuid4().hex[:6]}"},
    ("post", ORG + "/checklists"): lambda w: {"title": "Made", "type": "procedure"},
    ("post", ORG + "/text-templates"): lambda w: {"title": "Greeting", "content": "Hello"},
    ("post", ORG + "/guests/{email}/form-field/value"): _guest_field,
    ("put", ORG + "/form-field/value"): _stored_value,
    ("put", ORG + "/runs/{run_id}/update-tasks"): lambda w: {
        "tasks": [{"id": w["run_task_id"], "title": "Renamed"}]
    },
}
REALISTIC_QUERIES: dict[tuple[str, str], dict[str, str]] = {
    ("get", ORG + "/search"): {"search": "Onboarding", "on": "blueprint"},
    ("get", ORG + "/activity-feeds"): {"per_page": "20"},
}
UPLOADS = {("post", ORG + "/file"), ("post", ORG + "/assets")}


@dataclass
class Tally:
    operations: int = 0
    cases: int = 0
    failures: dict[tuple[str, str], str] = field(default_factory=dict)
    statuses: dict[str, set[int]] = field(default_factory=dict)

    def check(self, label: str, case: Any, response: Any, auth: dict[str, str]) -> None:
        self.cases += 1
        self.statuses.setdefault(label, set()).add(response.status_code)
        try:
            case.validate_response(response, checks=CHECKS, headers=auth)
        except FailureGroup as found:
            for failure in found.exceptions:
                self.failures.setdefault((label, failure.title), failure.message[:600])


def _realistic_case(operation: Any, world: World, fixed: dict[str, Any]) -> Any | None:
    key = (operation.method.lower(), operation.path)
    if key in REALISTIC:
        return operation.Case(**fixed, body=REALISTIC[key](world), media_type="application/json")
    if key in REALISTIC_QUERIES:
        return operation.Case(**fixed, query=REALISTIC_QUERIES[key])
    return None


def _upload(operation: Any, world: World, content: bytes) -> httpx.Response:
    """A real multipart upload (the generator cannot name a file with an allowed extension)."""
    org = world.org
    data = {"subject_type": "Task", "subject_id": world["task_id"], "uploaded_from": "ko_field"}
    sent = org.api.post(
        operation.path.replace("{org_id}", org.id),
        data=data,
        files={"name": ("notes.txt", content)},
    )
    sent.request.read()  # schemathesis reads the request it reports on
    return sent


FILE = ORG + "/file/{asset_id}"
# Answers a generator never provokes, asked for by hand: (method, path) -> header sets.
PROBES: dict[tuple[str, str], list[dict[str, str]]] = {
    **{
        ("get", path): [{"Range": "bytes=0-1"}, {"If-None-Match": "*"}, {"Range": "bytes=999-"}]
        for path in (FILE, FILE + "/dl")
    },
    **{upload: [{"Content-Type": "application/json"}] for upload in UPLOADS},
}


def _probes(
    operation: Any, world: World, fixed: dict[str, Any], tally: Tally, auth: dict[str, str]
) -> None:
    label = f"{operation.method.upper()} {operation.path}"
    url = operation.path.format(**fixed["path_parameters"])
    for headers in PROBES.get((operation.method.lower(), operation.path), []):
        sent = world.org.api.request(
            operation.method.upper(),
            url,
            headers=headers,
            content=b"{}" if operation.method.lower() == "post" else None,
        )
        tally.check(label, operation.Case(**fixed), sent, auth)


def exercise(operation: Any, world: World, tally: Tally) -> None:
    """One realistic request where one is needed, then MAX_EXAMPLES generated ones."""
    label = f"{operation.method.upper()} {operation.path}"
    auth = {"Authorization": f"Bearer {world.org.token}"}
    fixed = {
        "path_parameters": world.path_parameters(operation.path),
        "headers": {"X-Tallyfy-Client": "APIClient"},
    }
    if (operation.method.lower(), operation.path) in UPLOADS:
        for content in (b"hello", b"x" * (UPLOAD_LIMIT + 1)):
            tally.check(label, operation.Case(**fixed), _upload(operation, world, content), auth)
    _probes(operation, world, fixed, tally, auth)

    def one(case: Any) -> None:
        tally.check(label, case, case.call(headers=auth, timeout=REQUEST_TIMEOUT), auth)

    test = given(case=operation.as_strategy(**fixed))(one)
    realistic = _realistic_case(operation, world, fixed)
    if realistic is not None:
        test = example(case=realistic)(test)
    settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )(test)()
    tally.operations += 1


def test_every_operation_answers_as_documented(live: LiveServer) -> None:
    schema = schemathesis.openapi.from_url(live.api + "/openapi.json", timeout=REQUEST_TIMEOUT)
    schema.config.update(base_url=live.api)
    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()  # a part of the document schemathesis cannot read
        operations.append(result.ok())
    started = time.monotonic()
    tally = Tally()
    with new_org(live) as shared_org:
        shared = World(shared_org)
        for operation in operations:
            if operation.method.lower() == "get":
                exercise(operation, shared, tally)
                continue
            with new_org(live) as own:
                exercise(operation, World(own), tally)
    elapsed = time.monotonic() - started
    print(f"\nschemathesis: {tally.operations} operations, {tally.cases} cases, {elapsed:.0f}s")
    for label, seen in tally.statuses.items():
        print(label, sorted(seen))
    assert tally.operations == len(operations) > 100
    found = [
        f"{label}: {title}\n{message}" for (label, title), message in sorted(tally.failures.items())
    ]
    assert found == [], f"{len(found)} failures:\n\n" + "\n\n".join(found)
    # The ids are real: every operation got past the lookup of what its path names, and every
    # realistic request succeeded, so success bodies were checked, not only refusals.
    only_missing = sorted(label for label, seen in tally.statuses.items() if seen == {404})
    assert only_missing == []
    realistic = {f"{m.upper()} {p}" for m, p in [*REALISTIC, *REALISTIC_QUERIES, *UPLOADS]}
    unsuccessful = sorted(
        label for label in realistic if not any(200 <= s < 300 for s in tally.statuses[label])
    )
    assert unsuccessful == []
    assert {206, 304, 416} <= tally.statuses["GET " + FILE + "/dl"]
    assert {413, 415} <= tally.statuses["POST " + ORG + "/file"]
