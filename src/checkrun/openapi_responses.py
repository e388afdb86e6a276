"""The success bodies of the OpenAPI document. Handlers return `JSONResponse`, so FastAPI sees no
response model; the shapes come from the path instead: the resource a route answers with is the
last of its path segments that names one, wrapped the Fractal way (`{"data": item}`, or for a
collection `{"data": [...], "meta": {"pagination": ...}}`). The few routes that answer otherwise
are listed by hand."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, TypeAdapter

from checkrun.activity.schemas import ActivityEntry
from checkrun.comments.schemas import CommentRead
from checkrun.files.schemas import AssetRead
from checkrun.folders.schemas import FolderObjectRead, FolderRead
from checkrun.groups.schemas import GroupRead
from checkrun.guests.schemas import GuestBrief, GuestRead
from checkrun.members.schemas import TokenRead, UserBrief, UserRead
from checkrun.orgs.schemas import OrganizationRead
from checkrun.runs.schemas import RunRead
from checkrun.tags.schemas import AssociationRead, TagRead
from checkrun.tasks.schemas import AutomaticDeadlineRead, TaskRead
from checkrun.templates.schemas import CaptureRead, ChecklistRead, StepRead
from checkrun.webhooks.schemas import WatcherRead

RESOURCES: dict[str, type[BaseModel]] = {
    "me": UserRead,
    "users": UserRead,
    "users-list": UserBrief,
    "member": UserRead,
    "organizations": OrganizationRead,
    "checklists": ChecklistRead,
    "steps": StepRead,
    "captures": CaptureRead,
    "runs": RunRead,
    "tasks": TaskRead,
    "completed-tasks": TaskRead,
    "assets": AssetRead,
    "file": AssetRead,
    "guests": GuestRead,
    "guests-list": GuestBrief,
    "guest": GuestRead,
    "groups": GroupRead,
    "tags": TagRead,
    "folders": FolderRead,
    "add-object": FolderObjectRead,
    "comment": CommentRead,
    "problem": CommentRead,
    "resolved-threads": CommentRead,
    "bot-comment": CommentRead,
    "watchers": WatcherRead,
    "add-watcher": WatcherRead,
    "automatic-deadline": AutomaticDeadlineRead,
}
# Read shapes that are typed dicts, not models.
TYPED: dict[str, Any] = {"activity-feeds": ActivityEntry}
# Collections: a GET on a path ending in one of these answers a page.
COLLECTIONS = {
    "users",
    "users-list",
    "organizations",
    "checklists",
    "steps",
    "runs",
    "tasks",
    "guests",
    "guests-list",
    "groups",
    "tags",
    "folders",
    "activity-feeds",
    "watchers",
}
UNPAGED = {"users-list", "guests-list"}

OBJECT: dict[str, Any] = {"type": "object"}
NULLABLE_STRING = {"type": ["string", "null"]}
# A rule is stored as the template's JSON, so it has no read model of its own.
AUTOMATION_RULE = {
    "type": "object",
    "required": ["id", "conditions", "then_actions"],
    "properties": {
        "id": {"type": "string"},
        "automated_alias": NULLABLE_STRING,
        "condition_logic": NULLABLE_STRING,
        "conditions": {"type": "array", "items": OBJECT},
        "then_actions": {"type": "array", "items": OBJECT},
        "created_at": NULLABLE_STRING,
        "last_updated": NULLABLE_STRING,
    },
}
DELETED_REFERENCES = {
    "type": "object",
    "required": ["message"],
    "properties": {
        "message": {"type": "string"},
        "deleted_references": {"type": "array", "items": OBJECT},
    },
}
PAGINATION = {
    "type": "object",
    "properties": {
        "pagination": {
            "type": "object",
            "properties": {
                "total": {"type": "integer"},
                "count": {"type": "integer"},
                "per_page": {"type": "integer"},
                "current_page": {"type": "integer"},
                "total_pages": {"type": "integer"},
                "links": {
                    "type": "object",
                    "properties": {
                        "previous": {"type": ["string", "null"]},
                        "next": {"type": ["string", "null"]},
                    },
                },
            },
        }
    },
}
ORG = "/organizations/{org_id}"

# (method, path) -> the JSON body, for the routes the rule above would get wrong.
BY_HAND: dict[tuple[str, str], dict[str, Any]] = {
    ("delete", ORG + "/checklists/{checklist_id}"): DELETED_REFERENCES,
    ("delete", ORG + "/checklists/{checklist_id}/delete"): DELETED_REFERENCES,
    ("get", ORG + "/checklists/{checklist_id}/form-fields"): {
        "type": "object",
        "properties": {
            "data": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "title": {"type": "string"},
                    "form_fields": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/CaptureRead"},
                    },
                    "ko_form_fields": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/CaptureRead"},
                    },
                },
            }
        },
    },
    # Placing a field answers the step's fields in their new order.
    ("put", ORG + "/checklists/{checklist_id}/steps/{step_id}/captures"): {
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": {"type": "array", "items": {"$ref": "#/components/schemas/CaptureRead"}}
        },
    },
    ("post", ORG + "/checklists/tags"): {
        "type": "object",
        "properties": {"data": {"$ref": "#/components/schemas/AssociationRead"}},
    },
    ("get", ORG + "/assets/{asset_id}"): {
        "type": "object",
        "properties": {
            "data": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/AssetRead"},
                "minItems": 1,
                "maxItems": 1,
            }
        },
    },
    ("get", ORG + "/search"): {
        "type": "object",
        "description": "Results keyed by type "
        "(blueprint, process, task, step, capture, snippet), each a page",
        "additionalProperties": {
            "type": "object",
            "properties": {"data": {"type": "array", "items": OBJECT}, "meta": PAGINATION},
        },
    },
    ("post", "/applications/{org_id}/users/{email}/token"): {
        "$ref": "#/components/schemas/TokenRead"
    },
    ("post", "/oauth/token"): {
        "type": "object",
        "properties": {
            "token_type": {"type": "string"},
            "expires_in": {"type": "integer"},
            "access_token": {"type": "string"},
            "refresh_token": {"type": "string"},
        },
    },
    ("get", "/health"): {"type": "object", "properties": {"status": {"type": "string"}}},
    ("post", ORG + "/checklists/{checklist_id}/automated-actions"): {
        "type": "object",
        "required": ["data"],
        "properties": {"data": {"$ref": "#/components/schemas/AutomationRule"}},
    },
    ("put", ORG + "/checklists/{checklist_id}/automated-actions/{rule_id}"): {
        "type": "object",
        "required": ["data"],
        "properties": {"data": {"$ref": "#/components/schemas/AutomationRule"}},
    },
}
# Links answer 201 when new and 200 (same id) when repeated; the decorator can say only one.
CREATED_OR_FOUND = {("post", ORG + "/checklists/tags"), ("post", ORG + "/folders/add-object")}
EMPTY = {("delete", ORG + "/runs/{run_id}/delete"), ("delete", ORG + "/file/{asset_id}")}
BINARY = {("get", ORG + "/file/{asset_id}"), ("get", ORG + "/file/{asset_id}/dl")}
MODELS: list[type[BaseModel]] = list({*RESOURCES.values(), AssociationRead, TokenRead})


def describe_success(
    doc: dict[str, Any], operations: list[tuple[str, str, dict[str, Any]]]
) -> None:
    """Fills in each operation's 2xx body and adds the read models to the components."""
    schemas = doc["components"]["schemas"]
    for shape in sorted({*MODELS, *TYPED.values()}, key=lambda m: m.__name__):
        schema = TypeAdapter(shape).json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[shape.__name__] = schema
    schemas["Pagination"] = PAGINATION
    schemas["AutomationRule"] = AUTOMATION_RULE
    for method, path, operation in operations:
        responses = operation.get("responses", {})
        if (method, path) in CREATED_OR_FOUND:
            responses["201"] = {**responses["200"], "description": "Linked"}
            responses["200"] = {**responses["200"], "description": "Already linked"}
        for status, response in responses.items():
            if status.startswith("2") and "content" in response:
                _describe(method, path, response)


def _describe(method: str, path: str, response: dict[str, Any]) -> None:
    key = (method, path)
    if key in EMPTY:
        response.pop("content")
        response["description"] = "Done; the body is empty"
    elif key in BINARY:
        # Viewing keeps the file's own type (octet-stream for types a browser would run);
        # downloading is always octet-stream.
        media = "application/octet-stream" if path.endswith("/dl") else "*/*"
        response["content"] = {media: {"schema": {"type": "string", "format": "binary"}}}
    else:
        response["content"] = {
            "application/json": {"schema": BY_HAND.get(key) or _enveloped(method, path)}
        }


def _enveloped(method: str, path: str) -> dict[str, Any]:
    segments = [s for s in path.split("/") if s]
    named = [s for s in segments if not s.startswith("{")]
    model = next(
        (RESOURCES.get(s) or TYPED[s] for s in reversed(named) if s in RESOURCES or s in TYPED),
        None,
    )
    item = {"$ref": f"#/components/schemas/{model.__name__}"} if model else OBJECT
    last = segments[-1]
    if method == "get" and last in COLLECTIONS:
        body: dict[str, Any] = {"data": {"type": "array", "items": item}}
        if last not in UNPAGED:
            body["meta"] = {"$ref": "#/components/schemas/Pagination"}
        return {"type": "object", "required": ["data"], "properties": body}
    return {"type": "object", "required": ["data"], "properties": {"data": item}}
