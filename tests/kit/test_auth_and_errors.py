"""Authentication, required headers, tenancy and error bodies (§1.2, §1.3, §1.9)."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.conftest import LiveServer, Org
from tests.support.factories import checklist, ok, one_off_task

HEX32 = re.compile(r"[0-9a-f]{32}")
ISO_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def raw_get(server: LiveServer, path: str, headers: dict[str, str]) -> httpx.Response:
    """A request with exactly these headers, none of the test client's defaults."""
    with httpx.Client(base_url=server.api, timeout=60) as client:
        return client.get(path, headers=headers)


# --- authentication -----------------------------------------------------------------------


@pytest.mark.parametrize("authorization", [None, "Bearer nope", "Basic x", "Bearer", "Token x"])
def test_bad_or_missing_credentials_are_401_json(org: Org, authorization: str | None) -> None:
    headers = {"Accept": "application/json", "X-Tallyfy-Client": "APIClient"}
    if authorization is not None:
        headers["Authorization"] = authorization
    for path in ("/me", f"/organizations/{org.id}", f"/organizations/{org.id}/checklists"):
        response = raw_get(org.server, path, headers)
        assert response.status_code == 401, (path, response.text)
        body = response.json()
        assert body["error"] is True
        assert body["message"]


def test_basic_auth_with_a_valid_token_is_401(org: Org) -> None:
    response = raw_get(
        org.server, "/me", {"Authorization": f"Basic {org.token}", "X-Tallyfy-Client": "APIClient"}
    )
    assert response.status_code == 401


def test_valid_token_without_client_header_is_401(org: Org) -> None:
    response = raw_get(
        org.server, "/me", {"Authorization": f"Bearer {org.token}", "Accept": "application/json"}
    )
    assert response.status_code == 401
    body = response.json()
    assert body["error"] is True
    assert "X-Tallyfy-Client" in body["message"]
    blank = raw_get(
        org.server,
        f"/organizations/{org.id}",
        {"Authorization": f"Bearer {org.token}", "X-Tallyfy-Client": ""},
    )
    assert blank.status_code == 401


@pytest.mark.parametrize("client_name", ["APIClient", "TallyfySDK", "anything"])
def test_any_client_header_value_is_accepted(org: Org, client_name: str) -> None:
    response = raw_get(
        org.server, "/me", {"Authorization": f"Bearer {org.token}", "X-Tallyfy-Client": client_name}
    )
    assert response.status_code == 200
    assert response.json()["data"]["id"] == org.admin_id


def test_bearer_scheme_is_case_insensitive(org: Org) -> None:
    response = raw_get(
        org.server, "/me", {"Authorization": f"bearer {org.token}", "X-Tallyfy-Client": "APIClient"}
    )
    assert response.status_code == 200


# --- routing and tenancy ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/nope", "/organization/x/runs", "/organizations/x/templates"])
def test_unknown_route_body_is_exact(org: Org, path: str) -> None:
    response = org.api.get(path)
    assert response.status_code == 404
    assert response.json() == {
        "error": True,
        "message": "API endpoint not found",
        "code": "ENDPOINT_NOT_FOUND",
    }


def test_wrong_method_is_405_json(org: Org) -> None:
    response = org.api.patch("/me")
    assert response.status_code == 405
    assert response.json()["error"] is True


def test_another_orgs_id_in_the_path_is_403(org: Org) -> None:
    other = org.server.new_org("Other")
    for path in ("", "/me", "/checklists", "/runs", "/tasks", f"/assets/{'0' * 32}"):
        response = org.api.get(f"/organizations/{other.org_id}{path}")
        assert response.status_code == 403, path
        assert response.json()["error"] is True
    created = org.api.post(
        f"/organizations/{other.org_id}/checklists", json={"title": "Sneaky", "type": "procedure"}
    )
    assert created.status_code == 403
    with org.server.client(other.token) as other_api:
        listed = other_api.get(f"/organizations/{other.org_id}/checklists")
    assert listed.json()["meta"]["pagination"]["total"] == 0


# --- malformed input never becomes a 500 --------------------------------------------------


def test_malformed_json_is_400(org: Org) -> None:
    response = org.api.post(
        org.path("/checklists"),
        content=b'{"title": "x", ',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"] is True


@pytest.mark.parametrize(
    "body",
    [
        {"title": [1, 2], "type": "procedure"},
        {"title": {"a": 1}, "type": "procedure"},
        {"title": "ok", "type": 7},
        {"title": None, "type": "procedure"},
        [1, 2, 3],
        "just a string",
    ],
)
def test_wrong_types_are_422(org: Org, body: object) -> None:
    response = org.api.post(org.path("/checklists"), json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"] is True


@pytest.mark.parametrize(
    "query",
    [
        "per_page=abc",
        "page=-5",
        "page=abc&per_page=-1",
        "per_page=100000",
        "page=99999999999999999999",
    ],
)
def test_garbage_paging_falls_back_to_defaults(org: Org, query: str) -> None:
    checklist(org, steps=0)
    response = org.api.get(org.path(f"/checklists?{query}"))
    assert response.status_code == 200, response.text
    pagination = response.json()["meta"]["pagination"]
    assert 1 <= pagination["per_page"] <= 100
    assert pagination["current_page"] >= 1


@pytest.mark.parametrize("bad_id", ["x" * 5000, "ünïcødé-ид-🙂", "%20", "1' OR '1'='1"])
def test_odd_ids_are_404_not_500(org: Org, bad_id: str) -> None:
    for path in (
        f"/checklists/{bad_id}",
        f"/runs/{bad_id}",
        f"/tasks/{bad_id}",
        f"/assets/{bad_id}",
        f"/file/{bad_id}",
        f"/file/{bad_id}/dl",
    ):
        response = org.api.get(org.path(path))
        assert response.status_code == 404, (path[:40], response.text)
        assert response.json()["code"] == "RESOURCE_NOT_FOUND"
    assert org.api.delete(org.path(f"/file/{bad_id}")).status_code == 404


@pytest.mark.parametrize("bad_org", ["x" * 5000, "ünïcødé"])
def test_odd_org_ids_are_403_not_500(org: Org, bad_org: str) -> None:
    response = org.api.get(f"/organizations/{bad_org}/checklists")
    assert response.status_code == 403


def test_nul_characters_are_refused_not_500(org: Org) -> None:
    """SQLite stores NUL; PostgreSQL can't, and that must be the client's 4xx, not a 500."""
    probes = [
        (org.api.get(org.path("/checklists/ab%00cd")), {400, 404}),
        (org.api.get(org.path("/checklists?q=a%00b")), {200, 400}),
        (org.api.get(org.path("/tasks?q=a%00b")), {200, 400}),
        (org.api.get("/organizations/ab%00/checklists"), {400, 403}),
        (
            org.api.post(org.path("/checklists"), json={"title": "a\u0000b", "type": "procedure"}),
            {201, 400, 422},
        ),
    ]
    for response, allowed in probes:
        assert response.status_code in allowed, (response.request.url, response.text)
        if response.status_code >= 400:
            assert response.json()["error"] is True
    # The server is still healthy afterwards.
    assert org.api.get(org.path("/checklists")).status_code == 200


# --- identity shapes ----------------------------------------------------------------------


def test_me_shape(org: Org) -> None:
    me = ok(org.api.get("/me"))
    assert isinstance(me["id"], int) and me["id"] == org.admin_id
    assert me["email"] == org.admin_email
    assert me["username"] == org.admin_email.split("@")[0]
    assert me["full_name"] == f"{me['first_name']} {me['last_name']}"
    assert me["role"] == "admin"
    assert ISO_Z.fullmatch(me["created_at"]) and ISO_Z.fullmatch(me["updated_at"])


def test_organization_shape(org: Org) -> None:
    data = ok(org.api.get(org.path("")))
    assert HEX32.fullmatch(data["id"]) and data["id"] == org.id
    assert data["name"] == "Test Org"
    assert data["users_count"] == 1
    assert ISO_Z.fullmatch(data["created_on"]) and ISO_Z.fullmatch(data["last_updated"])
    org.member("light")
    assert ok(org.api.get(org.path("")))["users_count"] == 2


def test_me_in_org_shape(org: Org) -> None:
    data = ok(org.api.get(org.path("/me")))
    assert data["id"] == org.admin_id
    assert data["role"] == "admin"
    assert data["is_default_admin"] is True
    user_id, light = org.member("light")
    with light:
        mine = ok(light.get(org.path("/me")))
    assert mine["id"] == user_id and isinstance(user_id, int)
    assert mine["role"] == "light"
    assert mine["is_default_admin"] is False


def test_timestamps_are_utc_zulu(org: Org) -> None:
    made = checklist(org, steps=0)
    task = one_off_task(org)
    stamps = [made["created_at"], task["created_at"]]
    assert all(isinstance(s, str) and ISO_Z.fullmatch(s) for s in stamps), stamps
