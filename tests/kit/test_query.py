"""Query parameters read in one step (`kit.query.from_query`) answer as FastAPI's parsing did:
an absent or empty parameter is its default, a repeated one counts by its last value, an alias
(`with`) is read by its alias, and the OpenAPI document declares every one of them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Org
from tests.support.factories import ok, one_off_task


def _page(org: Org, query: str) -> dict[str, Any]:
    response = org.api.get(org.path("/tasks") + query)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _ids(org: Org, query: str) -> list[str]:
    return [t["id"] for t in _page(org, query)["data"]]


def test_a_repeated_parameter_counts_by_its_last_value(org: Org) -> None:
    done = one_off_task(org, title="done")
    ok(org.api.post(org.path("/completed-tasks"), json={"task_id": done["id"]}))
    todo = one_off_task(org, title="to do")
    assert _ids(org, "?status=completed") == [done["id"]]
    assert _ids(org, "?status=active&status=completed") == [done["id"]]
    assert _ids(org, "?status=completed&status=active") == [todo["id"]]


def test_paging_and_includes_read_their_parameters(org: Org) -> None:
    for i in range(3):
        one_off_task(org, title=f"t{i}")
    page = _page(org, "?per_page=2&page=2")
    assert page["meta"]["pagination"]["current_page"] == 2
    assert page["meta"]["pagination"]["per_page"] == 2
    assert len(page["data"]) == 1
    # Garbage and empty values mean the defaults, as before.
    lenient = _page(org, "?per_page=&page=x")["meta"]["pagination"]
    assert (lenient["current_page"], lenient["per_page"]) == (1, 10)
    included = _page(org, "?with=threads_count")["data"]
    assert included and all(t["threads_count"] == 0 for t in included)
    assert "threads_count" not in _page(org, "")["data"][0]


def test_a_bad_value_is_still_the_documented_422(org: Org) -> None:
    response = org.api.get(org.path("/tasks"), params={"status": "nonsense"})
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    ("path", "names"),
    [
        ("/organizations/{org_id}/tasks", {"with", "page", "per_page", "status", "owners", "q"}),
        ("/organizations/{org_id}/runs", {"with", "page", "per_page", "status", "checklist_id"}),
        ("/organizations/{org_id}/checklists", {"with", "page", "per_page", "q"}),
    ],
)
def test_the_document_declares_the_parameters_read(org: Org, path: str, names: set[str]) -> None:
    document = org.api.get("/openapi.json").json()
    declared = {
        p["name"] for p in document["paths"][path]["get"]["parameters"] if p.get("in") == "query"
    }
    assert names <= declared, names - declared
