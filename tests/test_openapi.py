"""GET /api/openapi.json describes the routes the app really serves under /api: every route and
method, its path parameters, its request body (also for handlers that parse the body by hand),
the bearer scheme, the X-Tallyfy-Client header and the Tallyfy error bodies."""

from __future__ import annotations

import inspect
import re
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from checkrun.app import create_app
from checkrun.config import Settings
from checkrun.kit.answers import answer_of
from checkrun.openapi import install_openapi
from checkrun.openapi_responses import Undeclared
from tests.conftest import LiveServer, Org

METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}
# What a handler does when it reads the body itself instead of declaring a model.
HAND_PARSING = re.compile(r"request\.(stream|json|form|body)\(|form_or_json\(")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    made = create_app(Settings(data_dir=tmp_path_factory.mktemp("openapi")))
    install_openapi(made)
    return made


@pytest.fixture(scope="module")
def doc(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


def served(app: FastAPI) -> list[RouteContext]:
    return [
        r
        for r in iter_route_contexts(app.routes)
        if isinstance(r.original_route, APIRoute) and (r.path or "").startswith("/api/")
    ]


def relative(route: RouteContext) -> str:
    return (route.path or "").removeprefix("/api")


def operation(doc: dict[str, Any], route: RouteContext, method: str) -> dict[str, Any]:
    found: dict[str, Any] = doc["paths"][relative(route)][method.lower()]
    return found


def resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = doc
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def is_object(doc: dict[str, Any], schema: dict[str, Any]) -> bool:
    """An object schema, possibly optional (`anyOf: [object, null]`)."""
    schema = resolve(doc, schema)
    if "anyOf" in schema:
        return any(is_object(doc, branch) for branch in schema["anyOf"])
    return schema.get("type") == "object"


def hand_parsed(route: RouteContext) -> bool:
    assert route.endpoint is not None  # an APIRoute always has one
    return HAND_PARSING.search(inspect.getsource(route.endpoint)) is not None


def test_every_route_under_api_is_described_with_its_methods(
    app: FastAPI, doc: dict[str, Any]
) -> None:
    routes = served(app)
    assert len(routes) > 100
    missing = [
        (m, r.path)
        for r in routes
        for m in r.methods or ()
        if m.lower() not in doc["paths"].get(relative(r), {})
    ]
    assert missing == []
    real = {(m.lower(), relative(r)) for r in routes for m in r.methods or ()}
    described = {(m, p) for p, item in doc["paths"].items() for m in item if m in METHODS}
    assert described - real == set()


def test_the_document_describes_the_api_copy_once(doc: dict[str, Any]) -> None:
    assert doc["servers"][0]["url"] == "/api"
    assert not any(path.startswith("/api/") for path in doc["paths"])
    assert "/organizations/{org_id}/checklists" in doc["paths"]
    assert "/health" in doc["paths"]


def test_path_parameters_are_declared(app: FastAPI, doc: dict[str, Any]) -> None:
    for route in served(app):
        names = set(re.findall(r"{(\w+)(?::\w+)?}", route.path or ""))
        for method in route.methods or ():
            params = [resolve(doc, p) for p in operation(doc, route, method).get("parameters", [])]
            declared = {p["name"] for p in params if p["in"] == "path"}
            assert declared == names, (method, route.path)
            assert all(p["required"] for p in params if p["in"] == "path")


def test_routes_with_a_body_declare_it(app: FastAPI, doc: dict[str, Any]) -> None:
    by_hand = []
    for route in served(app):
        for method in route.methods or ():
            op = operation(doc, route, method)
            if route.body_field is not None:
                schema = op["requestBody"]["content"]["application/json"]["schema"]
                assert is_object(doc, schema), (method, route.path)
            elif hand_parsed(route):
                by_hand.append((method, relative(route)))
                content = op.get("requestBody", {}).get("content", {})
                assert content, f"{method} {route.path} parses a body the document omits"
                for media in content.values():
                    assert is_object(doc, media["schema"])
    assert ("POST", "/organizations/{org_id}/file") in by_hand
    assert ("POST", "/organizations/{org_id}/checklists/{checklist_id}/clone") in by_hand


def test_operation_ids_are_unique_and_refs_resolve(doc: dict[str, Any]) -> None:
    ids = Counter(
        op["operationId"]
        for item in doc["paths"].values()
        for m, op in item.items()
        if m in METHODS
    )
    assert [i for i, n in ids.items() if n > 1] == []
    refs = re.findall(r"'\$ref': '([^']+)'", repr(doc))
    assert refs
    for ref in set(refs):
        assert resolve(doc, {"$ref": ref}), ref


def test_the_document_is_valid_openapi(doc: dict[str, Any]) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(doc)


def test_security_header_and_error_bodies_on_every_operation(
    app: FastAPI, doc: dict[str, Any]
) -> None:
    assert doc["components"]["securitySchemes"]["Bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": doc["components"]["securitySchemes"]["Bearer"]["description"],
    }
    header = doc["components"]["parameters"]["XTallyfyClient"]
    assert (header["name"], header["in"], header["required"]) == (
        "X-Tallyfy-Client",
        "header",
        True,
    )
    error = doc["components"]["schemas"]["TallyfyError"]
    assert set(error["required"]) == {"error", "message"}
    assert "errors" in doc["components"]["schemas"]["TallyfyValidationError"]["properties"]
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    for route in served(app):
        for method in route.methods or ():
            op = operation(doc, route, method)
            headers = [resolve(doc, p) for p in op["parameters"] if "$ref" in p]
            retried = ["Idempotency-Key"] if op["security"] and method == "POST" else []
            assert [h["name"] for h in headers] == ["X-Tallyfy-Client", *retried], route.path
            if op["security"]:
                assert op["security"] == [{"Bearer": []}]
                assert headers[0]["required"] is True
                for status in ("401", "403", "404", "422"):
                    body = resolve(doc, op["responses"][status])
                    schema = body["content"]["application/json"]["schema"]
                    assert schema["$ref"].startswith("#/components/schemas/Tallyfy")
    protected = operation(doc, next(r for r in served(app) if r.path == "/api/me"), "GET")
    assert protected["security"] == [{"Bearer": []}]
    assert doc["paths"]["/health"]["get"]["security"] == []


def test_every_route_declares_what_it_answers(app: FastAPI, doc: dict[str, Any]) -> None:
    """The success bodies come from each route's `kit/answers` declaration, not its path."""
    undeclared = [r.path for r in served(app) if answer_of(r.endpoint) is None]
    assert undeclared == []
    one_run = doc["paths"]["/organizations/{org_id}/runs/{run_id}"]["get"]["responses"]["200"]
    assert one_run["content"]["application/json"]["schema"] == {
        "type": "object",
        "required": ["data"],
        "properties": {"data": {"$ref": "#/components/schemas/RunRead"}},
    }
    purge = doc["paths"]["/organizations/{org_id}/runs/{run_id}/delete"]["delete"]
    assert "content" not in purge["responses"]["200"]


def test_an_undeclared_route_is_refused(tmp_path: Path) -> None:
    made = create_app(Settings(data_dir=tmp_path))

    @made.get("/api/undeclared")
    async def undeclared() -> dict[str, str]:
        return {}

    install_openapi(made)
    with pytest.raises(Undeclared, match="/undeclared"):
        made.openapi()


def test_install_is_idempotent(app: FastAPI, doc: dict[str, Any]) -> None:
    install_openapi(app)
    assert app.openapi() is doc


def test_the_error_component_matches_a_real_error(org: Org, doc: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    missing = org.api.get(org.path("/checklists/" + "0" * 32))
    assert missing.status_code == 404
    jsonschema.validate(missing.json(), doc["components"]["schemas"]["TallyfyError"])
    refused = org.api.post(org.path("/checklists"), json={})
    assert refused.status_code == 422
    jsonschema.validate(refused.json(), doc["components"]["schemas"]["TallyfyValidationError"])


def test_the_server_serves_the_customised_document(server: LiveServer) -> None:
    """Fails until app.py calls install_openapi(app) (wired by the coordinator)."""
    body = httpx.get(server.api + "/openapi.json", timeout=30).json()
    assert body["servers"][0]["url"] == "/api"
    assert "Bearer" in body["components"]["securitySchemes"]
    assert "/organizations/{org_id}/checklists" in body["paths"]


def test_every_json_success_has_a_described_body(doc: dict[str, Any]) -> None:
    undescribed = [
        f"{method.upper()} {path} {status}"
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        for status, response in operation.get("responses", {}).items()
        if status.startswith("2")
        and response.get("content", {}).get("application/json", {}).get("schema") == {}
    ]
    assert undescribed == []


def _matches(doc: dict[str, Any], method: str, path: str, response: httpx.Response) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    operation = doc["paths"][path][method]
    described = operation["responses"][str(response.status_code)]
    schema = described["content"]["application/json"]["schema"]
    jsonschema.Draft202012Validator({**schema, "components": doc["components"]}).validate(
        response.json()
    )


def test_real_answers_match_the_described_bodies(org: Org, doc: dict[str, Any]) -> None:
    base = "/organizations/{org_id}"
    made = org.api.post(org.path("/checklists"), json={"title": "T", "type": "procedure"})
    _matches(doc, "post", base + "/checklists", made)
    template = made.json()["data"]["id"]
    step = org.api.post(org.path(f"/checklists/{template}/steps"), json={"title": "S"})
    _matches(doc, "post", base + "/checklists/{checklist_id}/steps", step)
    launched = org.api.post(org.path("/runs"), json={"checklist_id": template, "name": "R"})
    _matches(doc, "post", base + "/runs", launched)
    run_id = launched.json()["data"]["id"]
    _matches(doc, "get", base + "/runs", org.api.get(org.path("/runs")))
    tasks = org.api.get(org.path(f"/runs/{run_id}/tasks"))
    _matches(doc, "get", base + "/runs/{run_id}/tasks", tasks)
    _matches(doc, "get", base + "/me/tasks", org.api.get(org.path("/me/tasks")))
    _matches(doc, "get", base + "/users", org.api.get(org.path("/users")))
    tag = org.api.post(org.path("/tags"), json={"title": "t1"})
    _matches(doc, "post", base + "/tags", tag)
    link = {
        "subject_id": run_id,
        "subject_type": "Run",
        "tag_id": tag.json()["data"]["id"],
        "tag_type": "private",
    }
    _matches(
        doc,
        "post",
        base + "/checklists/tags",
        org.api.post(org.path("/checklists/tags"), json=link),
    )
    _matches(doc, "get", base + "/groups", org.api.get(org.path("/groups")))
    _matches(
        doc,
        "post",
        base + "/guests",
        org.api.post(org.path("/guests"), json={"email": "g@example.com"}),
    )
    _matches(doc, "get", base, org.api.get(org.path("")))


def test_shared_and_route_specific_refusals_are_documented(doc: dict[str, Any]) -> None:
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if op["security"] and method != "get":
                assert "409" in op["responses"], (method, path)
            if "requestBody" in op:
                assert "413" in op["responses"], (method, path)
    provision = doc["paths"]["/applications/{org_id}/users"]["post"]
    assert provision["security"] == [{"Bearer": []}] and "401" in provision["responses"]
    token = doc["paths"]["/oauth/token"]["post"]["responses"]
    assert "422" not in token
    for status in ("400", "401"):
        schema = token[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/OAuthError"}
    view = doc["paths"]["/organizations/{org_id}/file/{asset_id}"]["get"]["responses"]
    assert {"200", "206", "304", "416"} <= view.keys() and "*/*" in view["200"]["content"]
