"""Custom field rules: admins define keys; values are set on ten kinds of record, checked by
the key's type; who may write depends on the record; template-side records take a full PUT
only; a process and its tasks inherit their template's and steps' values at launch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.customfields import values as checks
from checkrun.customfields.models import CustomFieldKey, CustomFieldValue
from checkrun.customfields.repository import CustomFieldsRepository, KeyFilters
from checkrun.customfields.schemas import KINDS, KeyCreate, KeyUpdate, ValuesRead, kind_of
from checkrun.groups.repository import GroupsRepository
from checkrun.kit import events
from checkrun.kit.auth import Actor, require_admin, require_not_light
from checkrun.kit.errors import AppError, forbidden, invalid, invalid_field, not_found
from checkrun.kit.pagination import PageParams
from checkrun.kit.query import from_query

CHOICES = ("radio", "dropdown", "multiselect")
TAKEN = "The key has already been taken."
FIXED = ("key", "applies_to", "field_type", "key_type")
# The kinds whose keys a record takes: its own, and the parent's it inherits at creation.
ACCEPTS = {"process": ("process", "template"), "task": ("task", "step")}
SYSTEM_WRITE = "System custom fields are managed by Tallyfy and can't be written."


@dataclass(frozen=True)
class Subject:
    """A record values are on: its kind and id as stored, and the ids in its path."""

    kind: str
    id: str
    path: dict[str, str]
    row: Any = None


@from_query
def key_filters(
    applies_to: str | None = None,
    key_type: str | None = None,
    field_type: str | None = None,
    is_required: str | None = None,
    is_active: str | None = None,
    q: str | None = None,
    sort_by: str | None = None,
    sort_direction: str | None = None,
) -> KeyFilters:
    """The key list's query parameters (a FastAPI dependency)."""

    def flag(value: str | None) -> bool | None:
        return {"true": True, "1": True, "false": False, "0": False}.get((value or "").lower())

    return KeyFilters(
        applies_to=kind_of(applies_to) if applies_to else None,
        key_type=key_type or None,
        field_type=field_type or None,
        is_required=flag(is_required),
        is_active=flag(is_active),
        q=q or None,
        sort_by=sort_by or "key",
        descending=(sort_direction or "").lower() == "desc",
    )


# Keys.


def _check_shape(field_type: str, options: list[str], columns: list[str]) -> None:
    if field_type in CHOICES and not options:
        raise invalid_field("options", f"A {field_type} key needs its options.")
    if field_type == "table" and not columns:
        raise invalid_field("columns", "A table key needs its columns.")
    for name, items in (("options", options), ("columns", columns)):
        if len(set(items)) != len(items):
            raise invalid_field(name, f"The {name} must be distinct.")


async def create_key(db: AsyncSession, actor: Actor, body: KeyCreate) -> CustomFieldKey:
    require_admin(actor)
    if body.key_type == "system":
        raise invalid_field("key_type", "System keys are managed by Tallyfy only.")
    _check_shape(body.field_type, body.options, body.columns)
    repo = CustomFieldsRepository(db)
    if await repo.key(actor.org_id, body.key) is not None:
        raise invalid_field("key", TAKEN)
    key = CustomFieldKey(
        org_id=actor.org_id,
        key=body.key,
        label=body.label,
        applies_to=body.applies_to,
        field_type=body.field_type,
        key_type="org",
        is_required=body.is_required,
        is_active=body.is_active,
        options=body.options,
        columns=body.columns,
        created_by=actor.user_id,
    )
    repo.add(key)
    await db.flush()
    return key


async def get_key(db: AsyncSession, actor: Actor, key_id: str) -> CustomFieldKey:
    key = await CustomFieldsRepository(db).key(actor.org_id, key_id)
    if key is None:
        raise not_found()
    return key


async def list_keys(
    db: AsyncSession, actor: Actor, page: PageParams, filters: KeyFilters
) -> tuple[list[CustomFieldKey], int]:
    return await CustomFieldsRepository(db).search_keys(actor.org_id, page, filters)


async def update_key(
    db: AsyncSession, actor: Actor, key_id: str, body: KeyUpdate
) -> CustomFieldKey:
    require_admin(actor)
    key = await get_key(db, actor, key_id)
    if key.key_type == "system":
        raise forbidden(SYSTEM_WRITE)
    for name in FIXED:
        sent = getattr(body, name)
        if sent is not None and sent != getattr(key, name):
            raise invalid_field(name, f"The {name} of a key can't be changed.")
    options = body.options if body.options is not None else list(key.options)
    columns = body.columns if body.columns is not None else list(key.columns)
    _check_shape(key.field_type, options, columns)
    key.options, key.columns = options, columns
    for name in ("label", "is_required", "is_active"):
        if name in body.model_fields_set and getattr(body, name) is not None:
            setattr(key, name, getattr(body, name))
    await db.flush()
    return key


async def delete_key(db: AsyncSession, actor: Actor, key_id: str) -> None:
    """The key and every value records hold for it."""
    require_admin(actor)
    key = await get_key(db, actor, key_id)
    if key.key_type == "system":
        raise forbidden(SYSTEM_WRITE)
    await CustomFieldsRepository(db).delete_key(actor.org_id, key.id)


# The records values are on.


async def _assigned(db: AsyncSession, actor: Actor, task_id: str) -> bool:
    owners = await CustomFieldsRepository(db).task_owners(task_id)
    if any(kind == "user" and ref == str(actor.user_id) for kind, ref in owners):
        return True
    groups = {ref for kind, ref in owners if kind == "group"}
    return bool(groups) and bool(
        groups & set(await GroupsRepository(db).ids_of_member(actor.org_id, actor.user_id))
    )


async def _find(db: AsyncSession, actor: Actor, kind: str, path: dict[str, str]) -> Any:
    """The row of the record `path` names, None when it isn't one of the org's."""
    repo, org = CustomFieldsRepository(db), actor.org_id
    found: Any
    if kind == "process":
        found = await repo.run(org, path["run_id"])
    elif kind == "task":
        found = await repo.task(org, path["run_id"], path["task_id"])
    elif kind == "member":
        user_id = path["user_id"]
        # Ids are 32-bit integers: a longer number names nobody (and would overflow).
        known = user_id.isdigit() and len(user_id) <= 9
        found = await repo.member(org, int(user_id)) if known else None
    elif kind == "guest":
        found = await repo.guest(org, path["guest_code"])
    elif kind == "folder":
        found = await repo.folder(org, path["folder_id"])
    elif kind == "tag":
        found = await repo.tag(org, path["tag_id"])
    elif kind == "template":
        found = await repo.checklist(org, path["checklist_id"])
    elif kind == "step":
        found = await repo.step(org, path["checklist_id"], path["step_id"])
    elif kind == "form_field":
        found = await repo.step_capture(
            org, path["checklist_id"], path["step_id"], path["capture_id"]
        )
    else:
        found = await repo.prerun(org, path["checklist_id"], path["prerun_id"])
    return found


async def _may_write(db: AsyncSession, actor: Actor, subject: Subject) -> None:
    kind = subject.kind
    if kind in ("folder", "tag") or actor.is_admin:
        return
    if kind == "member":
        if subject.id != str(actor.user_id):
            raise forbidden("Only the member themselves or an administrator can do this.")
    elif kind == "guest":
        require_admin(actor)
    elif kind == "task":
        if not await _assigned(db, actor, subject.id):
            raise forbidden("Only the task's assignees or an administrator can do this.")
    else:
        require_not_light(actor)


async def subject(db: AsyncSession, actor: Actor, kind: str, path: dict[str, str]) -> Subject:
    assert kind in KINDS
    found = await _find(db, actor, kind, path)
    if found is None:
        raise not_found()
    # A member is named by their user id (a membership is found by it).
    stored = str(found.user_id) if kind == "member" else str(found.id)
    return Subject(kind, stored, path, found)


async def _writable(db: AsyncSession, actor: Actor, kind: str, path: dict[str, str]) -> Subject:
    """The record, if the caller may write its values, locked until the request ends."""
    found = await subject(db, actor, kind, path)
    await _may_write(db, actor, found)
    await CustomFieldsRepository(db).lock(found.row)
    return found


# Values.


async def read_values(db: AsyncSession, org_id: str, kind: str, subject_id: str) -> ValuesRead:
    rows = await CustomFieldsRepository(db).values_of(org_id, kind, [subject_id])
    return ValuesRead(custom_fields={key.key: value.value for value, key in rows})


async def get_values(db: AsyncSession, actor: Actor, kind: str, path: dict[str, str]) -> ValuesRead:
    found = await subject(db, actor, kind, path)
    return await read_values(db, actor.org_id, kind, found.id)


def _refusal(key: CustomFieldKey | None, name: str, value: Any) -> str | None:
    if key is None:
        return f"The custom field {name} does not exist for this record."
    if key.key_type == "system":
        return SYSTEM_WRITE
    if not key.is_active:
        return f"The custom field {name} is not active."
    if value is None:
        return None
    wrong = checks.problem(key, value)
    return None if wrong is None else f"The custom field {name} {wrong}"


def _store(
    repo: CustomFieldsRepository,
    held: dict[str, CustomFieldValue],
    org_id: str,
    subject: Subject,
    key: CustomFieldKey,
    value: Any,
) -> None:
    row = held.get(key.id)
    if row is None:
        row = CustomFieldValue(
            org_id=org_id, key_id=key.id, subject_type=subject.kind, subject_id=subject.id
        )
        repo.add(row)
    row.value, row.value_text = value, checks.as_text(value)


async def _changed(
    db: AsyncSession, actor: Actor, found: Subject, before: dict[str, Any], after: ValuesRead
) -> ValuesRead:
    """A task's value changes are written to its history (the activity feed)."""
    if found.kind == "task" and before != after.custom_fields:
        task = found.row
        await events.emit(
            db,
            events.Event(
                org_id=actor.org_id,
                type="Task",
                verb="updated",
                entity_type="task",
                entity_id=task.id,
                task_id=task.id,
                run_id=task.run_id,
                field="custom_fields",
                old_value=before,
                new_value=after.custom_fields,
                description=f"Updated the custom fields of {task.title}",
                **events.by(actor),
            ),
        )
    return after


def _current(keys: dict[str, CustomFieldKey], held: dict[str, CustomFieldValue]) -> dict[str, Any]:
    names = {k.id: k.key for k in keys.values()}
    return {names[key_id]: v.value for key_id, v in held.items() if key_id in names}


async def _keys_and_values(
    repo: CustomFieldsRepository, org_id: str, subject: Subject
) -> tuple[dict[str, CustomFieldKey], dict[str, CustomFieldValue]]:
    kinds = ACCEPTS.get(subject.kind, (subject.kind,))
    keys = {k.key: k for k in await repo.keys_for(org_id, kinds)}
    held = {v.key_id: v for v, _ in await repo.values_of(org_id, subject.kind, [subject.id])}
    return keys, held


async def replace_values(
    db: AsyncSession, actor: Actor, kind: str, path: dict[str, str], sent: dict[str, Any]
) -> ValuesRead:
    """A full replace: every org key left out (or sent as null) is cleared, required keys of
    the record's own kind must be there, system values stay as they are."""
    found = await _writable(db, actor, kind, path)
    repo = CustomFieldsRepository(db)
    keys, held = await _keys_and_values(repo, actor.org_id, found)
    errors: dict[str, list[str]] = {}
    for name, value in sent.items():
        wrong = _refusal(keys.get(name), name, value)
        if wrong:
            errors[f"custom_fields.{name}"] = [wrong]
    for name, key in keys.items():
        missing = sent.get(name) is None
        if key.is_required and key.is_active and key.applies_to == kind and missing:
            errors.setdefault(f"custom_fields.{name}", [f"The custom field {name} is required."])
    if errors:
        raise invalid(errors)
    cleared = [
        k.id
        for k in keys.values()
        if k.key_type != "system" and k.is_active and sent.get(k.key) is None
    ]
    before = _current(keys, held)
    await repo.delete_values(actor.org_id, kind, found.id, cleared)
    for name, value in sent.items():
        if value is not None:
            _store(repo, held, actor.org_id, found, keys[name], value)
    await db.flush()
    return await _changed(
        db, actor, found, before, await read_values(db, actor.org_id, kind, found.id)
    )


async def set_value(
    db: AsyncSession, actor: Actor, kind: str, path: dict[str, str], name: str, value: Any
) -> ValuesRead:
    """One value, the others left alone (null clears it); no required-key check."""
    found = await _writable(db, actor, kind, path)
    repo = CustomFieldsRepository(db)
    keys, held = await _keys_and_values(repo, actor.org_id, found)
    key = keys.get(name)
    if key is None:
        raise not_found()
    wrong = _refusal(key, name, value)
    if wrong:
        raise invalid_field("value", wrong)
    before = _current(keys, held)
    if value is None:
        await repo.delete_values(actor.org_id, kind, found.id, [key.id])
    else:
        _store(repo, held, actor.org_id, found, key, value)
    await db.flush()
    return await _changed(
        db, actor, found, before, await read_values(db, actor.org_id, kind, found.id)
    )


async def remove_value(
    db: AsyncSession, actor: Actor, kind: str, path: dict[str, str], name: str
) -> ValuesRead:
    found = await _writable(db, actor, kind, path)
    repo = CustomFieldsRepository(db)
    keys, held = await _keys_and_values(repo, actor.org_id, found)
    key = keys.get(name)
    if key is None:
        raise not_found()
    if key.key_type == "system":
        raise AppError(403, SYSTEM_WRITE, "FORBIDDEN")
    before = _current(keys, held)
    await repo.delete_values(actor.org_id, kind, found.id, [key.id])
    await db.flush()
    return await _changed(
        db, actor, found, before, await read_values(db, actor.org_id, kind, found.id)
    )
