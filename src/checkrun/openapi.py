"""The OpenAPI document served at /api/openapi.json: the `/api` copy of the routes, as a Tallyfy
client sees them (bearer token, the X-Tallyfy-Client header, Tallyfy error bodies).

Route files stay plain FastAPI, each route declaring what it answers (`kit/answers`); what their
signatures cannot say (bodies parsed by hand, the routes hidden from the schema, the shared
error bodies) is added here, after generation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from checkrun.health import READY_RESPONSES
from checkrun.kit.answers import Answer, answer_of
from checkrun.kit.auth import current_principal
from checkrun.kit.query import documented
from checkrun.oauth.deps import application_actor
from checkrun.openapi_responses import describe_success
from checkrun.templates.schemas import CloneChecklist

PREFIX = "/api"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

DESCRIPTION = """\
A self-hosted server that speaks the Tallyfy REST API.

Every route answers at `/api/...` (described here) and at the same path without `/api` (the
official SDK's default base). Send `Authorization: Bearer <token>` and an `X-Tallyfy-Client`
header on every call. Successful answers wrap their payload in `data` (lists add
`meta.pagination`); refusals answer a Tallyfy error body.
"""

ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "boolean", "const": True},
        "message": {"type": "string"},
        "code": {"type": "string", "examples": ["RESOURCE_NOT_FOUND"]},
    },
}
VALIDATION_ERROR = {
    "type": "object",
    "required": ["error", "message", "errors"],
    "properties": {
        **ERROR["properties"],  # type: ignore[dict-item]
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "examples": [{"title": ["The title field is required."]}],
        },
    },
}

OAUTH_ERROR = {
    "type": "object",
    "required": ["error", "error_description"],
    "description": "An OAuth 2 error (RFC 6749 §5.2), not a Tallyfy error body",
    "properties": {
        "error": {"type": "string", "examples": ["invalid_request", "invalid_client"]},
        "error_description": {"type": "string"},
        "message": {"type": "string"},
        "hint": {"type": "string"},
    },
}

# status -> (component name, description, schema); 422 has its own body.
ERROR_RESPONSES = {
    "400": ("BadRequest", "Malformed request (bad JSON, refused operation)", "TallyfyError"),
    "401": (
        "Unauthenticated",
        "Missing or invalid token, or no X-Tallyfy-Client header",
        "TallyfyError",
    ),
    "403": ("Forbidden", "Not allowed for this member or organization", "TallyfyError"),
    "404": ("NotFound", "Unknown route or resource (also another organization's)", "TallyfyError"),
    "409": ("Conflict", "A concurrent change to the same thing won; try again", "TallyfyError"),
    "413": (
        "PayloadTooLarge",
        "The request body (or the file) is larger than the server accepts",
        "TallyfyError",
    ),
    "415": (
        "UnsupportedMediaType",
        "The body is not of the media type this route takes",
        "TallyfyError",
    ),
    "416": ("RangeNotSatisfiable", "The Range asked for lies outside the file", "TallyfyError"),
    "422": ("ValidationFailed", "Validation failed, per field", "TallyfyValidationError"),
    "429": ("TooManyRequests", "Rate limit reached; see Retry-After", "TallyfyError"),
}
AUTHENTICATED_ERRORS = ("400", "401", "403", "404", "422", "429")
ANONYMOUS_ERRORS = ("429",)
INPUT_ERRORS = ("400", "422")
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    "description": "A retry with the same key and request within 24 hours answers the first "
    "answer again (`Idempotent-Replayed: true`) and changes nothing; the same key with another "
    "request is a 422, and while the first is still running a 409.",
}
WRITE_ERRORS = ("409",)  # a unique value or a link raced with another request
BODY_ERRORS = ("413",)  # on every route that takes a body

UPLOAD = {
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "required": ["name", "subject_type", "subject_id", "uploaded_from"],
            "properties": {
                "name": {"type": "string", "format": "binary", "description": "The file"},
                "uploaded_from": {"type": "string", "description": "Capture id or `ko_field`"},
                "subject_type": {"type": "string", "enum": ["Run", "Checklist", "Task"]},
                "subject_id": {"type": "string"},
                "step_id": {"type": "string", "description": "Required for `Run`"},
                "checklist_id": {"type": "string", "description": "Required for `Run`"},
                "source": {"type": "string", "enum": ["local", "url"]},
                "system": {"type": "string"},
            },
        }
    },
}
CLONE = {
    "application/json": {"schema": {"$ref": "#/components/schemas/CloneChecklist"}},
    "application/x-www-form-urlencoded": {
        "schema": {"$ref": "#/components/schemas/CloneChecklist"}
    },
}
TOKEN = {
    "application/x-www-form-urlencoded": {
        "schema": {
            "type": "object",
            "required": ["grant_type"],
            "properties": {
                "grant_type": {
                    "type": "string",
                    "enum": ["password", "refresh_token", "client_credentials"],
                },
                "client_id": {"type": "string"},
                "client_secret": {"type": "string"},
                "username": {"type": "string"},
                "password": {"type": "string"},
                "refresh_token": {"type": "string"},
                "scope": {"type": "string"},
            },
        }
    },
}

# Routes whose handlers read the body themselves (streamed multipart, form-or-JSON): their
# signatures carry no body, so the document gets it from here.
HAND_PARSED_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/organizations/{org_id}/file"): UPLOAD,
    ("post", "/organizations/{org_id}/assets"): UPLOAD,
    ("post", "/organizations/{org_id}/checklists/{checklist_id}/clone"): CLONE,
    ("post", "/oauth/token"): TOKEN,
}

BINARY = {"schema": {"type": "string", "format": "binary"}}
# What some routes answer besides the shared statuses: (method, path) -> status -> response.
EXTRA_RESPONSES: dict[tuple[str, str], dict[str, Any]] = {
    ("get", "/ready"): READY_RESPONSES,
    **{
        ("post", path): {"415": "UnsupportedMediaType"}
        for path in ("/organizations/{org_id}/file", "/organizations/{org_id}/assets")
    },
    **{
        ("get", path): {
            "206": {
                "description": "The one byte range asked for (`Range`)",
                "content": {"application/octet-stream" if path.endswith("/dl") else "*/*": BINARY},
            },
            "304": {"description": "Not modified (`If-None-Match` matched the ETag); no body"},
            "416": "RangeNotSatisfiable",
        }
        for path in (
            "/organizations/{org_id}/file/{asset_id}",
            "/organizations/{org_id}/file/{asset_id}/dl",
        )
    },
}
# Routes that answer OAuth 2 error bodies instead of the Tallyfy ones.
OAUTH_ROUTES = {("post", "/oauth/token")}
OAUTH_RESPONSES = {
    "400": {
        "description": "Malformed token request (invalid_request, unsupported_grant_type)",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OAuthError"}}},
    },
    "401": {
        "description": "Unknown client or wrong credentials (invalid_client, invalid_grant)",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OAuthError"}}},
    },
}


def install_openapi(app: FastAPI) -> None:
    """Serve the customised document at the app's openapi_url (idempotent)."""
    if getattr(app.state, "openapi_installed", False):
        return
    app.state.openapi_installed = True
    app.openapi_schema = None

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def api_routes(app: FastAPI) -> list[RouteContext]:
    """Every API route the app serves under /api, routers included (FastAPI keeps them nested)."""
    return [
        r
        for r in iter_route_contexts(app.routes)
        if isinstance(r.original_route, APIRoute) and (r.path or "").startswith(PREFIX + "/")
    ]


def build_document(app: FastAPI) -> dict[str, Any]:
    routes = api_routes(app)
    with documented(r.dependant for r in routes):
        doc = get_openapi(
            title="checkrun",
            version=app.version,
            description=DESCRIPTION,
            routes=[r for r in routes if r.include_in_schema],
            servers=[{"url": PREFIX, "description": "This server"}],
        )
    doc["paths"] = {path.removeprefix(PREFIX): item for path, item in doc["paths"].items()}
    _add_hidden_routes(doc, [r for r in routes if not r.include_in_schema])
    _add_components(doc)
    authenticated = {
        _key(m.lower(), r.path or "") for r in routes if _authenticates(r) for m in r.methods or ()
    }
    for method, path, operation in operations(doc):
        body = HAND_PARSED_BODIES.get((method, path))
        if body is not None and "requestBody" not in operation:
            operation["requestBody"] = {"required": True, "content": body}
        _decorate(operation, (method, path) in authenticated, method)
        _add_extra_responses(operation, (method, path))
    describe_success(doc, list(operations(doc)), declared_answers(routes))
    _drop_fastapi_validation_schemas(doc)
    return doc


def declared_answers(routes: list[RouteContext]) -> dict[tuple[str, str], Answer]:
    """What each route says it answers (`kit/answers`), by (method, path)."""
    found: dict[tuple[str, str], Answer] = {}
    for route in routes:
        answer = answer_of(route.endpoint)
        if answer is not None:
            found.update({_key(m.lower(), route.path or ""): answer for m in route.methods or ()})
    return found


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


def _key(method: str, path: str) -> tuple[str, str]:
    return method, path.removeprefix(PREFIX)


def _authenticates(route: RouteContext) -> bool:
    return any(
        _depends_on(route.dependant, call) for call in (current_principal, application_actor)
    )


def _depends_on(dependant: Dependant, call: Callable[..., Any]) -> bool:
    return any(d.call is call or _depends_on(d, call) for d in dependant.dependencies)


def _add_hidden_routes(doc: dict[str, Any], routes: list[RouteContext]) -> None:
    """Routes kept out of FastAPI's schema (health, readiness) still belong to the public
    surface."""
    for route in routes:
        item = doc["paths"].setdefault((route.path or "").removeprefix(PREFIX), {})
        for method in sorted(route.methods or ()):
            item[method.lower()] = {
                "operationId": f"{route.name}_{method.lower()}",
                "summary": str(route.name).replace("_", " ").capitalize(),
                "responses": {
                    "200": {
                        "description": "Successful Response",
                        "content": {"application/json": {"schema": {}}},
                    }
                },
            }


def _add_components(doc: dict[str, Any]) -> None:
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["TallyfyError"] = ERROR
    schemas["TallyfyValidationError"] = VALIDATION_ERROR
    schemas["OAuthError"] = OAUTH_ERROR
    schemas["CloneChecklist"] = CloneChecklist.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    components["securitySchemes"] = {
        "Bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal access token or an OAuth access token.",
        }
    }
    header = {
        "name": "X-Tallyfy-Client",
        "in": "header",
        "schema": {"type": "string"},
        "example": "APIClient",
        "description": "Any non-empty value; Tallyfy clients send APIClient or TallyfySDK.",
    }
    components["parameters"] = {
        "XTallyfyClient": {**header, "required": True},
        "XTallyfyClientOptional": {**header, "required": False},
        "IdempotencyKey": IDEMPOTENCY_KEY,
    }
    components["responses"] = {
        name: {
            "description": text,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
        }
        for name, text, ref in ERROR_RESPONSES.values()
    }


def _decorate(operation: dict[str, Any], authenticated: bool, method: str) -> None:
    operation["security"] = [{"Bearer": []}] if authenticated else []
    header = "XTallyfyClient" if authenticated else "XTallyfyClientOptional"
    parameters = operation.setdefault("parameters", [])
    parameters.insert(0, {"$ref": f"#/components/parameters/{header}"})
    if authenticated and method == "post":
        parameters.append({"$ref": "#/components/parameters/IdempotencyKey"})
    responses = operation.setdefault("responses", {})
    statuses: tuple[str, ...] = AUTHENTICATED_ERRORS if authenticated else ANONYMOUS_ERRORS
    if not authenticated and (len(parameters) > 1 or "requestBody" in operation):
        statuses += INPUT_ERRORS
    if authenticated and method != "get":
        statuses += WRITE_ERRORS
    if "requestBody" in operation:
        statuses += BODY_ERRORS
    for status in statuses:
        responses[status] = _shared(status)


def _shared(status: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{ERROR_RESPONSES[status][0]}"}


def _add_extra_responses(operation: dict[str, Any], key: tuple[str, str]) -> None:
    responses = operation["responses"]
    for status, response in EXTRA_RESPONSES.get(key, {}).items():
        responses[status] = _shared(status) if isinstance(response, str) else response
    if key in OAUTH_ROUTES:
        responses.pop("422", None)  # the form is read by hand: never a validation body
        responses.update(OAUTH_RESPONSES)


def _drop_fastapi_validation_schemas(doc: dict[str, Any]) -> None:
    """FastAPI's own 422 body is never sent (ours is Laravel-shaped): drop it if unused."""
    schemas = doc["components"]["schemas"]
    names = ("HTTPValidationError", "ValidationError")
    text = repr(doc["paths"]) + repr({k: v for k, v in schemas.items() if k not in names})
    for name in names:
        if name in schemas and f"/schemas/{name}'" not in text:
            schemas.pop(name)
