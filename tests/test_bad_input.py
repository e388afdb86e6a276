"""No 500 on bad input, anywhere: every write route of the document gets bodies of the wrong
shape and fields of the wrong type, against unknown and real ids, and must refuse with a 4xx."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.conftest import Org
from tests.support.factories import checklist, ok, one_off_task, run

BAD_BODIES: list[Any] = [
    [],
    "text",
    12,
    None,
    {
        "title": ["x"],
        "name": {"a": 1},
        "content": 5,
        "email": 7,
        "owners": "x",
        "users": "x",
        "members": ["x"],
        "tag_id": [1],
        "subject_id": {},
        "folder_id": 3,
        "position": "top",
        "deadline": "soon",
        "role": 9,
        "task_id": [],
        "thread_id": 1.5,
    },
    {"title": "x" * 70_000, "name": "\u0000", "content": "\ud800"},
]


def _fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), "0" * 32), path)


@pytest.fixture
def real_ids(org: Org) -> dict[str, str]:
    template = checklist(org, steps=1)
    launched = run(org, template["id"])
    task = one_off_task(org)
    return {
        "org_id": org.id,
        "checklist_id": template["id"],
        "run_id": launched["id"],
        "task_id": task["id"],
        "user_id": str(org.admin_id),
        "email": "nobody@example.com",
        "guest_code": "nobody@example.com",
    }


def test_write_routes_refuse_bad_bodies_without_a_500(org: Org, real_ids: dict[str, str]) -> None:
    doc = org.api.get("/openapi.json").json()
    server_errors = []
    for path, item in doc["paths"].items():
        for method in ("post", "put"):
            if method not in item or path.startswith(("/oauth", "/applications")):
                continue
            url = _fill(path, real_ids)
            for body in BAD_BODIES:
                raw = json.dumps(body).encode()  # ASCII: a lone surrogate stays escaped
                answer = org.api.request(
                    method.upper(), url, content=raw, headers={"Content-Type": "application/json"}
                )
                if answer.status_code >= 500:
                    server_errors.append(
                        f"{method.upper()} {path} {str(body)[:40]}: {answer.status_code}"
                    )
    assert server_errors == []
    assert ok(org.api.get(org.path(f"/runs/{real_ids['run_id']}")))["id"] == real_ids["run_id"]


BAD_QUERIES = [
    {"page": "-1", "per_page": "abc", "sort": "??", "with": "nope,tasks.nope"},
    {
        "status": "x",
        "owners": "a,b",
        "groups": "\u00e9",
        "guests": "@",
        "tag": "",
        "folder": "x",
        "deadline_on": "yesterday",
        "created": "2020-13-45",
        "archived": "maybe",
        "q": "%_\\",
    },
    {
        "entity_type": "x",
        "actor_id": "-5",
        "created_after": "1/2/3",
        "search": "a",
        "filter[type]": "field",
        "filter[field]": "nope",
        "filter[value]": "1",
        "on": "x",
        "page": "99999999999999999999",
        "per_page": "0",
    },
]


def test_read_routes_refuse_bad_queries_without_a_500(org: Org, real_ids: dict[str, str]) -> None:
    doc = org.api.get("/openapi.json").json()
    server_errors = []
    for path, item in doc["paths"].items():
        if "get" not in item:
            continue
        for query in BAD_QUERIES:
            answer = org.api.get(_fill(path, real_ids), params=query)
            if answer.status_code >= 500:
                server_errors.append(f"GET {path} {query}: {answer.status_code}")
    assert server_errors == []
