from __future__ import annotations

from tests.conftest import LiveServer, Org


def test_unknown_route_is_endpoint_not_found(org: Org) -> None:
    response = org.api.get("/organizations/" + org.id + "/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {
        "error": True,
        "message": "API endpoint not found",
        "code": "ENDPOINT_NOT_FOUND",
    }


def test_missing_token_is_401_json(server: LiveServer) -> None:
    with server.client(None) as anonymous:
        response = anonymous.get("/me")
    assert response.status_code == 401
    assert response.json()["error"] is True


def test_routes_answer_with_and_without_api_prefix(server: LiveServer, org: Org) -> None:
    with server.client(org.token, prefix="") as bare:
        assert bare.get("/me").json()["data"]["id"] == org.admin_id
    assert org.api.get("/me").json()["data"]["id"] == org.admin_id
