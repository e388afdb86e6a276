"""How an activity-feed entry reads: the real service's shape, where `verb`, `source`,
`actor_type`, `actor_id`, `type`, `description`, `text`, `field` and `old_value` are arrays
(null when there is nothing) and the audited and parent models are named by PHP class."""

from __future__ import annotations

from typing import Any

from typing_extensions import TypedDict

from checkrun.activity.models import ActivityFeed
from checkrun.kit.clock import iso
from checkrun.members.models import User

CLASSES = {
    "checklist": "Checklist",
    "run": "Run",
    "step": "Step",
    "task": "Task",
    "thread": "Thread",
    "user": "User",
    "guest": "Guest",
    "group": "Group",
    "tag": "Tag",
    "folder": "Folder",
    "asset": "Asset",
    "organization": "Organization",
    "capture": "Capture",
    "prerun": "Prerun",
    "watcher": "Watcher",
}


class ActivityActor(TypedDict):
    id: int | None
    email: str | None
    username: str | None
    first_name: str | None
    last_name: str | None
    full_name: str | None
    profile_pic: str | None
    resize_profile_pic: str | None


class Reference(TypedDict):
    """An include wrapped the Fractal way; `data` is null when there is nothing."""

    data: dict[str, Any] | None


class ActivityEntry(TypedDict):
    """One entry of `/activity-feeds`, as `read_entry` builds it (typed, so that the OpenAPI
    document derives from the same declaration the code is checked against)."""

    id: int
    organization_id: str
    verb: list[str]
    source: list[str]
    actor_type: list[str | None]
    actor_id: list[int]
    actor: list[ActivityActor]
    auditable_type: str | None
    auditable_id: str
    parentable_type: str | None
    parentable_id: str | None
    type: list[str]
    description: list[str]
    field: list[Any] | None
    old_value: list[Any] | None
    new_value: list[Any] | None
    text: list[Any] | None
    references: list[Any] | None
    created_at: str | None
    undoable: bool
    entity_type: str
    entity_id: str
    run_id: str | None
    task_id: str | None
    checklist_id: str | None
    audit: Reference
    parent: Reference
    origin: None


def php_class(entity_type: str | None) -> str | None:
    if not entity_type:
        return None
    name = CLASSES.get(entity_type) or entity_type.replace("_", " ").title().replace(" ", "")
    return "App\\Models\\" + name


def _parent(entry: ActivityFeed) -> tuple[str, str] | None:
    """The nearest thing the entry is filed under that is not the entry's own subject."""
    for kind, value in (
        ("task", entry.task_id),
        ("run", entry.run_id),
        ("checklist", entry.checklist_id),
    ):
        if value and not (kind == entry.entity_type and value == entry.entity_id):
            return kind, value
    return None


def _array(value: Any, present: bool) -> list[Any] | None:
    return [value] if present else None


def _actor(entry: ActivityFeed, member: User | None) -> ActivityActor | None:
    if member is not None:
        return {
            "id": member.id,
            "email": member.email,
            "username": member.email,
            "first_name": member.first_name,
            "last_name": member.last_name,
            "full_name": member.full_name,
            "profile_pic": None,
            "resize_profile_pic": None,
        }
    if entry.actor_id is None and not entry.actor_email:
        return None
    # A guest, or a member no longer in the organization: what the entry recorded.
    return {
        "id": entry.actor_id,
        "email": entry.actor_email,
        "username": entry.actor_email,
        "first_name": None,
        "last_name": None,
        "full_name": entry.actor_email,
        "profile_pic": None,
        "resize_profile_pic": None,
    }


def read_entry(entry: ActivityFeed, member: User | None) -> ActivityEntry:
    actor = _actor(entry, member)
    known = entry.actor_type in ("user", "guest")
    parent = _parent(entry)
    changed = entry.field is not None
    extra = entry.extra or {}
    references = extra.get("references")
    return {
        "id": entry.id,
        "organization_id": entry.org_id,
        "verb": [entry.verb],
        "source": [entry.source],
        "actor_type": [php_class(entry.actor_type)] if known else [],
        "actor_id": [entry.actor_id] if known and entry.actor_id is not None else [],
        "actor": [actor] if actor else [],
        "auditable_type": php_class(entry.entity_type),
        "auditable_id": entry.entity_id,
        "parentable_type": php_class(parent[0]) if parent else None,
        "parentable_id": parent[1] if parent else None,
        "type": [entry.type],
        "description": [entry.description],
        "field": _array(entry.field, changed),
        "old_value": _array(entry.old_value, changed or entry.old_value is not None),
        "new_value": _array(entry.new_value, changed or entry.new_value is not None),
        "text": _array(entry.text, entry.text is not None),
        "references": references if isinstance(references, list) else None,
        "created_at": iso(entry.created_at),
        "undoable": False,
        "entity_type": entry.entity_type,
        "entity_id": entry.entity_id,
        "run_id": entry.run_id,
        "task_id": entry.task_id,
        "checklist_id": entry.checklist_id,
        "audit": {"data": {"id": entry.entity_id, "type": entry.entity_type}},
        "parent": {"data": {"id": parent[1], "type": parent[0]} if parent else None},
        "origin": None,
    }
