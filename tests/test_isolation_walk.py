"""Organizations are isolated by construction. Two organizations built with the command line
(`checkrun org create`, `checkrun oauth-client create`) on one server; then every operation of
the OpenAPI document is walked, with A's real ids, as: no token; B's admin, B's application
token and a token B minted for a user B shares with A, on A's path and on B's path; and A's
light member on the admin-only actions. Any 2xx that reads or changes A fails the walk, and so
does any change to A's rows (compared in SQL, before and after)."""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import LiveServer, Org, live_server
from tests.support.factories import checklist, group, ok, one_off_task, tag, upload
from tests.support.fingerprint import changes, hex_ids, org_rows

MARK = "Zq7"  # in every name and text of A: B must never see it
METHODS = ("get", "post", "put", "patch", "delete")
ORDER = {"get": 0, "post": 1, "put": 2, "patch": 3, "delete": 4}


# --- the two organizations, from the command line --------------------------------------------


def cli(server: LiveServer, *args: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHECKRUN_")}
    if server.settings.database_url:
        env["CHECKRUN_DATABASE_URL"] = server.settings.database_url
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "checkrun",
            *args,
            "--data-dir",
            str(server.settings.data_dir),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    parsed: dict[str, Any] = json.loads(done.stdout)
    return parsed


@dataclass
class World:
    server: LiveServer
    a: Org
    b_id: str
    ids: dict[str, str]  # A's resources, by path parameter name
    tokens: dict[str, str]  # b-admin, b-app, b-shared, b-shared-by-app, a-light
    emails: dict[str, str]  # shared (A's admin, also in B), sam (A only), light (A only)
    users: dict[str, int]
    clients: dict[str, httpx.Client] = field(default_factory=dict)

    def client(self, who: str | None) -> httpx.Client:
        key = who or "anonymous"
        if key not in self.clients:
            self.clients[key] = self.server.client(self.tokens[who] if who else None)
        return self.clients[key]


def _build_a(a: Org) -> dict[str, str]:
    """Org A with a bit of everything, each name and text carrying MARK."""
    template = checklist(a, steps=2, title=f"{MARK} onboarding")
    base = a.path(f"/checklists/{template['id']}")
    prerun = ok(
        a.api.put(
            base,
            json={
                "title": f"{MARK} onboarding",
                "prerun": [{"label": f"{MARK} plan", "field_type": "text"}],
            },
        )
    )["prerun"][0]["id"]
    steps = ok(a.api.get(base + "/steps"))
    capture = ok(
        a.api.post(
            base + f"/steps/{steps[0]['id']}/captures",
            json={"label": f"{MARK} field", "field_type": "text"},
        ),
        201,
    )["id"]
    rule = ok(
        a.api.post(
            base + "/automated-actions",
            json={
                "conditions": [{"conditionable_id": capture, "statement": MARK}],
                "then_actions": [
                    {
                        "action_type": "visibility",
                        "action_verb": "hide",
                        "target_step_id": steps[1]["id"],
                    }
                ],
            },
        ),
        201,
    )["id"]
    launched = ok(
        a.api.post(
            a.path("/runs"),
            json={"checklist_id": template["id"], "name": f"{MARK} run", "prerun": {prerun: MARK}},
        ),
        201,
    )
    run_tasks = ok(a.api.get(a.path(f"/runs/{launched['id']}/tasks")))
    done_path = a.path(f"/runs/{launched['id']}/tasks/{run_tasks[0]['id']}")
    ok(a.api.put(done_path, json={"taskdata": {capture: "filled"}}))
    value_id = ok(a.api.get(done_path, params={"with": "form_fields"}))["form_fields"]["data"][0][
        "unique_id"
    ]
    ok(
        a.api.post(
            a.path(f"/runs/{launched['id']}/completed-tasks"), json={"task_id": run_tasks[0]["id"]}
        )
    )
    task = one_off_task(a, title=f"{MARK} call the customer")
    asset = upload(a, "Task", task["id"], content=MARK.encode(), filename=f"{MARK}.txt")
    tag_id = tag(a, f"{MARK}-tag")
    association = ok(
        a.api.post(
            a.path("/checklists/tags"),
            json={
                "subject_id": launched["id"],
                "subject_type": "Run",
                "tag_id": tag_id,
                "tag_type": "private",
            },
        ),
        201,
    )["id"]
    folder = ok(
        a.api.post(a.path("/folders"), json={"name": f"{MARK} folder", "folder_type": "run"}), 201
    )["id"]
    relation = ok(
        a.api.post(
            a.path("/folders/add-object"),
            json={"folder_id": folder, "subject_id": task["id"], "subject_type": "Task"},
        ),
        201,
    )["id"]
    comment = ok(
        a.api.post(a.path(f"/tasks/{task['id']}/comment"), json={"content": f"{MARK} comment"}), 201
    )["id"]
    problem = ok(
        a.api.post(a.path(f"/runs/{launched['id']}/problem"), json={"content": f"{MARK} problem"}),
        201,
    )["id"]
    guest = f"guest-{MARK.lower()}@example.com"
    ok(a.api.post(a.path("/guests"), json={"email": guest, "first_name": MARK}), 201)
    key = ok(
        a.api.post(
            a.path("/custom-field-keys"),
            json={"key": "zq7_cost", "label": MARK, "applies_to": "process", "field_type": "text"},
        ),
        201,
    )
    ok(
        a.api.put(
            a.path(f"/runs/{launched['id']}/custom-fields"),
            json={"custom_fields": {"zq7_cost": f"{MARK} value"}},
        )
    )
    template_comment = ok(
        a.api.post(base + "/comment", json={"content": f"{MARK} template comment"}), 201
    )["id"]
    watcher = ok(
        a.api.post(
            a.path(f"/users/{a.admin_id}/add-watcher"),
            json={
                "object_type": "organization",
                "object_id": a.id,
                "notification_type": "webhook",
                "frequency": "electric",
                "webhook": "http://127.0.0.1:9/hook",
            },
        ),
        201,
    )["id"]
    found = {
        "checklist_id": template["id"],
        "step_id": steps[0]["id"],
        "step2": steps[1]["id"],
        "capture_id": capture,
        "prerun_id": prerun,
        "rule_id": rule,
        "run_id": launched["id"],
        "run_task": run_tasks[1]["id"],
        "done_task": run_tasks[0]["id"],
        "task_id": task["id"],
        "asset_id": asset["id"],
        "tag_id": tag_id,
        "association_id": association,
        "folder_id": folder,
        "relation_id": relation,
        "comment_id": comment,
        "run_comment": problem,
        "template_comment": template_comment,
        "key_id": key["id"],
        "key": key["key"],
        "group_id": group(a, f"{MARK} team"),
        "guest": guest,
        "watcher_id": watcher,
        "value_id": value_id,
        "snippet_id": ok(
            a.api.post(a.path("/text-templates"), json={"title": f"{MARK} snippet"}), 201
        )["id"],
    }
    return {name: str(value) for name, value in found.items()}


def _member(a: Org, role: str, name: str) -> tuple[int, str, str]:
    email = f"{name}-{MARK.lower()}@example.com"
    made = ok(
        a.api.post(
            f"/applications/{a.id}/users",
            json={"email": email, "first_name": name.title(), "last_name": "Member", "role": role},
        ),
        201,
    )
    token = a.api.post(f"/applications/{a.id}/users/{email}/token")
    assert token.status_code == 200, token.text
    return int(made["id"]), email, str(token.json()["access_token"])


def _app_token(server: LiveServer, b_id: str) -> str:
    made = cli(server, "oauth-client", "create", "--org-id", b_id, "--name", "B robot")
    with httpx.Client(base_url=server.api, timeout=60) as bare:
        answer = bare.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": str(made["client_id"]),
                "client_secret": made["client_secret"],
                "scope": "*",
            },
        )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def _shared_token(api: httpx.Client, b_id: str, email: str) -> str:
    """B adds A's admin by email (as an admin of B) and mints a token for them."""
    made = api.post(
        f"/applications/{b_id}/users",
        json={"email": email, "first_name": "Shared", "last_name": "User", "role": "admin"},
    )
    assert made.status_code in (201, 422), made.text  # 422: already added by the other token
    minted = api.post(f"/applications/{b_id}/users/{email}/token")
    assert minted.status_code == 200, minted.text
    return str(minted.json()["access_token"])


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    data_dir = tmp_path_factory.mktemp(f"walk-{request.param}")
    # The walk sends a few hundred requests per token; the rate limit would hide answers.
    with live_server(request.param, data_dir, rate_limit_per_minute=0) as server:
        made_a = cli(
            server,
            "org",
            "create",
            "--name",
            f"Alpha {MARK}",
            "--email",
            f"alpha-{MARK.lower()}@example.com",
        )
        made_b = cli(server, "org", "create", "--name", "Bravo", "--email", "bravo@example.com")
        with server.client(made_a["token"]) as a_api:
            a = Org(
                server, made_a["org_id"], made_a["user_id"], made_a["email"], made_a["token"], a_api
            )
            ids = _build_a(a)
            light_id, light_email, light_token = _member(a, "light", "lucy")
            sam_id, sam_email, _ = _member(a, "standard", "sam")
            ok(
                a.api.put(
                    a.path(f"/users/{sam_id}"),
                    json={
                        "first_name": "Sam",
                        "last_name": "Stone",
                        "timezone": "UTC",
                        "job_title": "Accountant",
                    },
                )
            )
            b_app = _app_token(server, made_b["org_id"])
            with server.client(made_b["token"]) as b_api:
                shared = _shared_token(b_api, made_b["org_id"], a.admin_email)
            with server.client(b_app) as app_api:
                shared_by_app = _shared_token(app_api, made_b["org_id"], a.admin_email)
            built = World(
                server,
                a,
                made_b["org_id"],
                ids,
                tokens={
                    "b-admin": made_b["token"],
                    "b-app": b_app,
                    "b-shared": shared,
                    "b-shared-by-app": shared_by_app,
                    "a-light": light_token,
                },
                emails={"shared": a.admin_email, "sam": sam_email, "light": light_email},
                users={"shared": a.admin_id, "sam": sam_id, "light": light_id},
            )
            try:
                yield built
            finally:
                for client in built.clients.values():
                    client.close()


# --- the reproduction of the issue, directly ---------------------------------------------------


def test_a_token_b_minted_for_a_shared_user_is_refused_in_a(world: World) -> None:
    for who in ("b-shared", "b-shared-by-app"):
        api = world.client(who)
        assert api.get(f"/organizations/{world.b_id}/me").status_code == 200, who
        renamed = api.put(f"/organizations/{world.a.id}", json={"name": "Owned by B"})
        assert renamed.status_code == 403, (who, renamed.text)
        promoted = api.post(
            f"/applications/{world.a.id}/users",
            json={
                "email": "bravo@example.com",
                "first_name": "B",
                "last_name": "Admin",
                "role": "admin",
            },
        )
        assert promoted.status_code == 403, (who, promoted.text)
        assert api.get(f"/organizations/{world.a.id}/users").status_code == 403, who
    # A's admin's own token still works in A.
    assert ok(world.a.api.get(world.a.path("")))["name"] == f"Alpha {MARK}"


# --- the walk ----------------------------------------------------------------------------------


def _values(world: World, name: str, path: str) -> list[str]:
    """A's real ids for one path parameter; two where two kinds of resource fit."""
    ids, users, emails = world.ids, world.users, world.emails
    if name == "user_id":
        return [str(users["sam"]), str(users["shared"])]
    if name == "email":
        if path.startswith("/applications"):
            return [emails["sam"], emails["shared"]]
        return [ids["guest"], emails["light"]]
    if name == "guest_code":
        return [ids["guest"]]
    if name == "task_id":
        if "{run_id}" in path or "/completed-tasks/" in path:
            return [ids["done_task"] if "completed-tasks" in path else ids["run_task"]]
        return [ids["task_id"], ids["run_task"]]
    if name == "comment_id":
        if path.startswith("/organizations/{org_id}/checklists"):
            return [ids["template_comment"]]
        return [
            ids["run_comment"]
            if path.startswith("/organizations/{org_id}/runs")
            else ids["comment_id"]
        ]
    return [ids[name]]


def _bodies(world: World) -> dict[tuple[str, str], Any]:
    """A plausible, valid body per write operation, naming A's resources (paths as in the
    document with the organization prefix removed)."""
    i, u, e = world.ids, world.users, world.emails
    person = {"first_name": "Mallory", "last_name": "Evil", "timezone": "UTC", "job_title": "pwned"}
    content = {"content": "pwned"}
    return {
        ("put", "/me"): person,
        ("post", "/users/invite"): {
            "email": e["sam"],
            "first_name": "M",
            "last_name": "E",
            "role": "admin",
            "message": "join",
        },
        ("put", "/users/{user_id}"): person,
        ("put", "/users/{user_id}/role"): {"role": "admin"},
        ("post", "/applications/{org_id}/users"): {
            "email": e["sam"],
            "first_name": "M",
            "last_name": "E",
            "role": "admin",
        },
        ("put", ""): {"name": "Owned by B"},
        ("post", "/checklists"): {"title": "pwned", "type": "procedure"},
        ("put", "/checklists/{checklist_id}"): {"title": "pwned"},
        ("post", "/checklists/{checklist_id}/clone"): {"title": "pwned"},
        ("post", "/checklists/{checklist_id}/steps"): {"title": "pwned"},
        ("put", "/checklists/{checklist_id}/steps/{step_id}"): {"title": "pwned"},
        ("put", "/checklists/{checklist_id}/steps/{step_id}/reorder"): {"position": 2},
        ("post", "/checklists/{checklist_id}/steps/{step_id}/captures"): {
            "label": "pwned",
            "field_type": "text",
        },
        ("put", "/checklists/{checklist_id}/steps/{step_id}/captures"): {
            "capture_id": i["capture_id"],
            "position": 1,
        },
        ("put", "/checklists/{checklist_id}/steps/{step_id}/captures/{capture_id}"): {
            "label": "pwned",
            "field_type": "text",
        },
        ("put", "/checklists/{checklist_id}/steps/{step_id}/captures/{capture_id}/move-out"): {
            "target_step_id": i["step2"]
        },
        ("post", "/checklists/{checklist_id}/automated-actions"): {
            "conditions": [{"conditionable_id": i["capture_id"], "statement": "x"}],
            "then_actions": [
                {"action_type": "visibility", "action_verb": "show", "target_step_id": i["step2"]}
            ],
        },
        ("put", "/checklists/{checklist_id}/automated-actions/{rule_id}"): {
            "automated_alias": "pwned"
        },
        ("post", "/runs"): {"checklist_id": i["checklist_id"], "name": "pwned"},
        ("put", "/runs/{run_id}"): {"name": "pwned"},
        ("post", "/tasks"): {
            "title": "pwned",
            "task_type": "task",
            "owners": {"users": [u["shared"]]},
            "deadline": "2030-01-01T12:00:00Z",
        },
        ("put", "/tasks/{task_id}"): {"title": "pwned"},
        ("put", "/runs/{run_id}/tasks/{task_id}"): {"deadline": "2031-01-01T12:00:00Z"},
        ("post", "/runs/{run_id}/completed-tasks"): {"task_id": i["run_task"]},
        ("post", "/completed-tasks"): {"task_id": i["task_id"]},
        ("post", "/guests"): {"email": e["light"], "first_name": "Guest"},
        ("put", "/guests/{email}"): {"first_name": "pwned"},
        ("post", "/guests/{email}/to/member"): {"role": "admin"},
        ("post", "/groups"): {"name": "pwned", "members": [u["shared"]]},
        ("put", "/groups/{group_id}"): {"name": "pwned", "members": [u["sam"]]},
        ("post", "/tags"): {"title": "pwned"},
        ("put", "/tags/{tag_id}"): {"title": "pwned"},
        ("post", "/text-templates"): {"title": "pwned"},
        ("put", "/text-templates/{snippet_id}"): {"title": "pwned"},
        ("put", "/form-field/value"): {"id": int(i["value_id"]), "form_value": "pwned"},
        ("post", "/guests/{email}/form-field/value"): {
            "id": int(i["value_id"]),
            "form_value": "pwned",
        },
        ("put", "/runs/{run_id}/update-tasks"): {
            "tasks": [{"id": i["run_task"], "title": "pwned"}]
        },
        ("post", "/checklists/tags"): {
            "subject_id": i["checklist_id"],
            "subject_type": "Checklist",
            "tag_id": i["tag_id"],
            "tag_type": "private",
        },
        ("post", "/tasks/{task_id}/comment"): content,
        ("put", "/tasks/{task_id}/comment/{comment_id}"): content,
        ("post", "/tasks/{task_id}/problem"): content,
        ("post", "/tasks/{task_id}/resolved-threads"): {"thread_id": i["comment_id"]},
        ("post", "/tasks/{task_id}/bot-comment"): content,
        ("post", "/runs/{run_id}/comment"): content,
        ("put", "/runs/{run_id}/comment/{comment_id}"): content,
        ("post", "/runs/{run_id}/problem"): content,
        ("post", "/runs/{run_id}/resolved-threads"): {"thread_id": i["run_comment"]},
        ("post", "/checklists/{checklist_id}/comment"): content,
        ("put", "/checklists/{checklist_id}/comment/{comment_id}"): content,
        ("post", "/checklists/{checklist_id}/problem"): content,
        ("post", "/checklists/{checklist_id}/resolved-threads"): {
            "thread_id": i["template_comment"]
        },
        ("post", "/custom-field-keys"): {
            "key": "pwned",
            "applies_to": "process",
            "field_type": "text",
        },
        ("put", "/custom-field-keys/{key_id}"): {"is_required": True},
        **{
            ("put", record + "/custom-fields"): {"custom_fields": {i["key"]: "pwned"}}
            for record in VALUE_RECORDS
        },
        **{
            ("patch", record + "/custom-fields/{key}"): {"value": "pwned"}
            for record in VALUE_RECORDS
        },
        ("post", "/folders"): {"name": "pwned"},
        ("post", "/folders/add-object"): {
            "folder_id": i["folder_id"],
            "subject_id": i["run_id"],
            "subject_type": "Run",
        },
        ("put", "/folders/{folder_id}"): {"name": "pwned"},
        ("post", "/users/{user_id}/add-watcher"): {
            "object_type": "organization",
            "object_id": world.a.id,
            "notification_type": "webhook",
            "frequency": "electric",
            "webhook": "http://127.0.0.1:9/pwned",
        },
        ("post", "/oauth/token"): {
            "grant_type": "password",
            "username": world.a.admin_email,
            "password": "guess",
        },
    }


VALUE_RECORDS = (
    "/runs/{run_id}",
    "/runs/{run_id}/tasks/{task_id}",
    "/users/{user_id}",
    "/guests/{guest_code}",
    "/folders/{folder_id}",
    "/tags/{tag_id}",
    "/checklists/{checklist_id}",
    "/checklists/{checklist_id}/steps/{step_id}",
    "/checklists/{checklist_id}/steps/{step_id}/captures/{capture_id}",
    "/checklists/{checklist_id}/preruns/{prerun_id}",
)


@dataclass(frozen=True)
class Call:
    method: str
    template: str  # the document's path
    url: str
    org: str | None  # whose organization the path names


def _calls(
    world: World, doc: dict[str, Any], org_id: str, only: set[tuple[str, str]] | None = None
) -> list[Call]:
    """Every operation of the document (or those in `only`) with A's ids, reads first and
    deletes last, the organization in the path being `org_id`."""
    out: list[Call] = []
    for template, item in doc["paths"].items():
        for method in METHODS:
            if method not in item or (only is not None and (method, template) not in only):
                continue
            names = re.findall(r"\{(\w+)\}", template)
            choices = [[org_id] if n == "org_id" else _values(world, n, template) for n in names]
            for combo in itertools.product(*choices):
                url = template
                for n, value in zip(names, combo, strict=True):
                    url = url.replace("{" + n + "}", quote(value, safe="@"))
                out.append(Call(method, template, url, org_id if "{org_id}" in template else None))
    return sorted(out, key=lambda c: ORDER[c.method])


def _send(
    world: World, api: httpx.Client, call: Call, bodies: dict[tuple[str, str], Any]
) -> httpx.Response:
    short = re.sub(r"^/organizations/\{org_id\}", "", call.template)
    body = bodies.get((call.method, short), bodies.get((call.method, call.template), {}))
    if call.method == "get" or call.method == "delete":
        return api.request(call.method.upper(), call.url)
    if call.template.endswith(("/assets", "/file")):
        return api.post(
            call.url,
            data={
                "subject_type": "Task",
                "subject_id": world.ids["task_id"],
                "uploaded_from": "ko_field",
            },
            files={"name": ("x.txt", b"pwned")},
        )
    if call.template == "/oauth/token":
        return api.post(call.url, data=body)
    return api.request(call.method.upper(), call.url, json=body)


def _leaks(body: bytes, markers: set[str]) -> list[str]:
    text = body.decode("utf-8", "replace")
    return sorted(m for m in markers if m in text)


def _judge(
    who: str, call: Call, answer: httpx.Response, a_id: str, markers: set[str]
) -> str | None:
    """Why this answer is a failure, or None."""
    status = answer.status_code
    where = f"{who:>16} {call.method.upper():6} {call.url}"
    if status >= 500:
        return f"{where}: {status} {answer.text[:120]}"
    if not 200 <= status < 300:
        return None
    if call.org == a_id:
        return f"{where}: {status} on A's path"
    if who == "anonymous" and call.org is not None:
        return f"{where}: {status} without a token"
    leaked = _leaks(answer.content, markers)
    return f"{where}: {status} shows A's {leaked[:3]}" if leaked else None


def _walk(world: World, who: str | None, calls: list[Call], markers: set[str]) -> list[str]:
    api, bodies = world.client(who), _bodies(world)
    found = []
    for call in calls:
        why = _judge(who or "anonymous", call, _send(world, api, call, bodies), world.a.id, markers)
        if why:
            found.append(why)
    return found


# What a light member of A may not do, from the code's require_admin / require_not_light calls
# and the reference (admins only: members, guests' lifecycle, watchers, the organization,
# permanent deletes; not light members: templates and their parts, archive/restore, tags,
# folders).
LIGHT_REFUSED = {
    ("put", "/organizations/{org_id}"),
    ("post", "/organizations/{org_id}/users/invite"),
    ("get", "/organizations/{org_id}/users/{user_id}"),
    ("put", "/organizations/{org_id}/users/{user_id}"),
    ("delete", "/organizations/{org_id}/users/{user_id}"),
    ("put", "/organizations/{org_id}/users/{user_id}/role"),
    ("delete", "/organizations/{org_id}/users/{user_id}/disable"),
    ("put", "/organizations/{org_id}/users/{user_id}/enable"),
    ("put", "/organizations/{org_id}/users/{user_id}/approve"),
    ("delete", "/organizations/{org_id}/users/{user_id}/delete"),
    ("put", "/organizations/{org_id}/users/{user_id}/to/guest"),
    ("post", "/applications/{org_id}/users"),
    ("post", "/applications/{org_id}/users/{email}/token"),
    ("post", "/organizations/{org_id}/checklists"),
    ("put", "/organizations/{org_id}/checklists/{checklist_id}"),
    ("delete", "/organizations/{org_id}/checklists/{checklist_id}"),
    ("put", "/organizations/{org_id}/checklists/{checklist_id}/restore"),
    ("delete", "/organizations/{org_id}/checklists/{checklist_id}/delete"),
    ("post", "/organizations/{org_id}/checklists/{checklist_id}/clone"),
    ("post", "/organizations/{org_id}/checklists/{checklist_id}/steps"),
    ("put", "/organizations/{org_id}/checklists/{checklist_id}/steps/{step_id}"),
    ("delete", "/organizations/{org_id}/checklists/{checklist_id}/steps/{step_id}"),
    ("post", "/organizations/{org_id}/checklists/{checklist_id}/steps/{step_id}/clone"),
    ("put", "/organizations/{org_id}/checklists/{checklist_id}/steps/{step_id}/reorder"),
    ("post", "/organizations/{org_id}/checklists/{checklist_id}/steps/{step_id}/captures"),
    ("put", "/organizations/{org_id}/checklists/{checklist_id}/steps/{step_id}/captures"),
    (
        "put",
        "/organizations/{org_id}/checklists/{checklist_id}/steps/{step_id}/captures/{capture_id}",
    ),
    (
        "delete",
        "/organizations/{org_id}/checklists/{checklist_id}/steps/{step_id}/captures/{capture_id}",
    ),
    (
        "put",
        "/organizations/{org_id}/checklists/{checklist_id}/steps/{step_id}/captures/"
        "{capture_id}/move-out",
    ),
    ("delete", "/organizations/{org_id}/checklists/{checklist_id}/preruns/{prerun_id}"),
    ("post", "/organizations/{org_id}/checklists/{checklist_id}/automated-actions"),
    ("put", "/organizations/{org_id}/checklists/{checklist_id}/automated-actions/{rule_id}"),
    ("delete", "/organizations/{org_id}/checklists/{checklist_id}/automated-actions/{rule_id}"),
    ("delete", "/organizations/{org_id}/runs/{run_id}"),
    ("put", "/organizations/{org_id}/runs/{run_id}/activate"),
    ("delete", "/organizations/{org_id}/runs/{run_id}/delete"),
    ("delete", "/organizations/{org_id}/tasks/{task_id}"),
    ("put", "/organizations/{org_id}/tasks/{task_id}/restore"),
    ("delete", "/organizations/{org_id}/tasks/{task_id}/delete"),
    ("delete", "/organizations/{org_id}/guests/{email}"),
    ("delete", "/organizations/{org_id}/guests/{email}/disable"),
    ("put", "/organizations/{org_id}/guests/{email}/enable"),
    ("post", "/organizations/{org_id}/guests/{email}/to/member"),
    ("post", "/organizations/{org_id}/tags"),
    ("put", "/organizations/{org_id}/tags/{tag_id}"),
    ("delete", "/organizations/{org_id}/tags/{tag_id}"),
    ("post", "/organizations/{org_id}/text-templates"),
    ("put", "/organizations/{org_id}/text-templates/{snippet_id}"),
    ("delete", "/organizations/{org_id}/text-templates/{snippet_id}"),
    ("delete", "/organizations/{org_id}/guests/{email}/delete"),
    ("post", "/organizations/{org_id}/guests/{email}/form-field/value"),
    ("put", "/organizations/{org_id}/runs/{run_id}/update-tasks"),
    ("post", "/organizations/{org_id}/checklists/tags"),
    ("delete", "/organizations/{org_id}/checklists/tags/{association_id}"),
    ("post", "/organizations/{org_id}/folders"),
    ("put", "/organizations/{org_id}/folders/{folder_id}"),
    ("delete", "/organizations/{org_id}/folders/{folder_id}"),
    ("post", "/organizations/{org_id}/folders/add-object"),
    ("delete", "/organizations/{org_id}/folders-objects/{relation_id}"),
    ("post", "/organizations/{org_id}/users/{user_id}/add-watcher"),
    ("get", "/organizations/{org_id}/watchers"),
    ("delete", "/organizations/{org_id}/remove-watcher/{watcher_id}"),
    # Custom fields: keys are admins'; a guest's values are written by admins, another
    # member's by admins, a process's and the template side's not by light members.
    ("post", "/organizations/{org_id}/custom-field-keys"),
    ("put", "/organizations/{org_id}/custom-field-keys/{key_id}"),
    ("delete", "/organizations/{org_id}/custom-field-keys/{key_id}"),
    *(
        (method, "/organizations/{org_id}" + record + suffix)
        for record in ("/runs/{run_id}", "/guests/{guest_code}", "/users/{user_id}")
        for method, suffix in (
            ("put", "/custom-fields"),
            ("patch", "/custom-fields/{key}"),
            ("delete", "/custom-fields/{key}"),
        )
    ),
    *(
        ("put", "/organizations/{org_id}" + record + "/custom-fields")
        for record in VALUE_RECORDS[6:]
    ),
}


def _light_walk(world: World, doc: dict[str, Any]) -> list[str]:
    calls = _calls(world, doc, world.a.id, only=LIGHT_REFUSED)
    assert {(c.method, c.template) for c in calls} == LIGHT_REFUSED  # all still in the document
    api, bodies = world.client("a-light"), _bodies(world)
    found = []
    for call in calls:  # {user_id} is another member, never the light member themselves
        answer = _send(world, api, call, bodies)
        if answer.status_code >= 500 or 200 <= answer.status_code < 300:
            found.append(f"a-light {call.method.upper()} {call.url}: {answer.status_code}")
    return found


def test_walk_every_operation_as_b_and_as_a_light_member(world: World) -> None:
    url = world.server.settings.resolved_database_url
    before = org_rows(url, world.a.id)
    markers = hex_ids(before) | {MARK, world.ids["guest"]}
    assert {world.a.id, world.ids["run_id"], world.ids["asset_id"]} <= markers
    doc = world.a.api.get("/openapi.json").json()
    on_a, on_b = _calls(world, doc, world.a.id), _calls(world, doc, world.b_id)
    assert len({(c.method, c.template) for c in on_a}) >= 120  # the whole document

    failures = _light_walk(world, doc)
    failures += _walk(world, None, on_a + on_b, markers)
    # The shared user first, B's admin last: B removing the shared user from B comes at the
    # very end, and must leave their account and their place in A alone.
    for who in ("b-shared", "b-app", "b-admin"):
        failures += _walk(world, who, on_a, markers)
        failures += _walk(world, who, on_b, markers)

    changed = changes(before, org_rows(url, world.a.id))
    assert failures == [] and changed == {}, "\n".join(
        [*failures, *(f"{table}: {diff}" for table, diff in changed.items())]
    )
    # A still works for its own admin, with everything in place.
    assert (
        ok(world.a.api.get(world.a.path(f"/runs/{world.ids['run_id']}")))["name"] == f"{MARK} run"
    )
