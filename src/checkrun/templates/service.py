"""Template rules: who may edit, what a template reads like, cloning, and automation rules."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.files.blobs import commit_then_discard
from checkrun.files.repository import FilesRepository
from checkrun.folders.service import check_checklist_folder, folder_of_checklists
from checkrun.groups.service import check_group_ids
from checkrun.kit import events
from checkrun.kit.auth import Actor, require_admin, require_not_light
from checkrun.kit.clock import iso, now
from checkrun.kit.errors import AppError, forbidden, invalid, invalid_field, not_found
from checkrun.kit.ids import new_id
from checkrun.kit.includes import Includes
from checkrun.kit.pagination import PageParams
from checkrun.kit.text import slugify
from checkrun.kit.validation import laravel_errors
from checkrun.members.repository import MembersRepository
from checkrun.orgs.repository import OrgsRepository
from checkrun.storage import BlobStore
from checkrun.tags.service import tags_included
from checkrun.templates import automations
from checkrun.templates.automations import referenced_ids
from checkrun.templates.models import Capture, Checklist, Step
from checkrun.templates.repository import ChecklistFilters, TemplatesRepository
from checkrun.templates.schemas import (
    CaptureCreate,
    CaptureRead,
    ChecklistCreate,
    ChecklistRead,
    ChecklistUpdate,
    CloneChecklist,
    PrerunField,
    RuleAction,
    RuleCondition,
    RuleUpdate,
    RuleWrite,
    TemplateParts,
)
from checkrun.templates.values import ValueContext, clean_values
from checkrun.templates.versions import after_update, before_edit, is_dual, publish

CHECKLIST_STATUSES = ("active", "archived", "all", "published", "draft")
FIELD_IN_USE = "Cannot delete a form field that is being used in a rule in other steps."


async def record(
    db: AsyncSession,
    actor: Actor | None,
    checklist: Checklist,
    verb: str,
    description: str,
    **more: Any,
) -> None:
    """An activity entry about this template (`more` may file it on one of its steps)."""
    await events.emit(
        db,
        events.Event(
            **{
                "org_id": checklist.org_id,
                "type": "Blueprint",
                "verb": verb,
                "entity_type": "checklist",
                "entity_id": checklist.id,
                "checklist_id": checklist.id,
                "description": description,
                **events.by(actor),
                **more,
            }
        ),
    )


async def _record_changes(
    db: AsyncSession, actor: Actor, checklist: Checklist, before: dict[str, Any], prerun: bool
) -> None:
    """One entry per changed field, with its old and new value."""
    changed: list[str | None] = [n for n in before if getattr(checklist, n) != before[n]]
    changed += ["prerun"] if prerun else []
    for name in changed or [None]:
        await record(
            db,
            actor,
            checklist,
            "updated",
            f"Updated template {checklist.title}",
            field=name,
            old_value=before.get(name or ""),
            new_value=getattr(checklist, name) if name in before else None,
        )


def new_capture(org_id: str, body: CaptureCreate, position: int, **owner: object) -> Capture:
    return Capture(
        org_id=org_id,
        field_type=body.field_type,
        label=body.label,
        alias=slugify(body.label, 40).replace("-", "_"),
        guidance=body.guidance,
        position=body.position or position,
        required=body.required,
        options=body.stored_options(),
        columns=body.stored_columns(),
        settings=body.extra_settings(),
        **owner,
    )


def redefine(field: Capture, body: CaptureCreate, position: int) -> None:
    """A field takes a whole new definition; its id, alias and values stay."""
    fresh = new_capture(field.org_id, body, position)
    for name in (
        "field_type",
        "label",
        "guidance",
        "position",
        "required",
        "options",
        "columns",
        "settings",
    ):
        setattr(field, name, getattr(fresh, name))


def refuse_if_in_rule(checklist: Checklist, field_id: str) -> None:
    if field_id in referenced_ids(checklist.automated_actions or []):
        raise AppError(403, FIELD_IN_USE, "FIELD_IN_USE")


async def check_members(db: AsyncSession, org_id: str, user_ids: list[int], field: str) -> None:
    """Every id must be a member of this organization (422 names the first that is not)."""
    known = await MembersRepository(db).existing_user_ids(org_id, user_ids)
    for i, user_id in enumerate(user_ids):
        if user_id not in known:
            raise invalid_field(f"{field}.{i}", f"The selected {field} is invalid.")


async def read_many(
    db: AsyncSession, checklists: list[Checklist], includes: Includes
) -> list[ChecklistRead]:
    repo = TemplatesRepository(db)
    ids = [c.id for c in checklists]
    steps = await repo.steps_of(ids)
    prerun = await repo.prerun_of(ids)
    captures: dict[str, list[Capture]] = {}
    if includes.wants("steps"):
        captures = await repo.captures_of_steps([s.id for group in steps.values() for s in group])
    parts = TemplateParts(
        steps=steps,
        prerun=prerun,
        captures=captures,
        prerun_values=await repo.template_values([f.id for g in prerun.values() for f in g]),
        runs_started=await repo.runs_started(ids),
        **await _tags_and_folders(db, checklists, includes),
    )
    return [ChecklistRead.of(c, parts, includes) for c in checklists]


async def _tags_and_folders(
    db: AsyncSession, checklists: list[Checklist], includes: Includes
) -> dict[str, Any]:
    """`with=tags` (association objects) and `with=folder`, for every template at once."""
    org_id = checklists[0].org_id if checklists else ""
    ids = [c.id for c in checklists]
    return {
        "tags": await tags_included(db, org_id, "Checklist", ids) if includes.wants("tags") else {},
        "folders": await folder_of_checklists(db, org_id, [c.folder_id or "" for c in checklists])
        if includes.wants("folder")
        else {},
    }


async def editable(db: AsyncSession, actor: Actor, checklist_id: str) -> Checklist:
    """A live template the caller may change: light members may not. Every change to a
    template comes through here, before it is made (`templates/versions.py`)."""
    require_not_light(actor)
    return await _locked_for_edit(db, actor, checklist_id)


async def _locked_for_edit(db: AsyncSession, actor: Actor, checklist_id: str) -> Checklist:
    """Locked, so that edits and publishes of one template number its versions in turn."""
    checklist = await TemplatesRepository(db).lock(actor.org_id, checklist_id)
    if checklist is None:
        raise not_found()
    await before_edit(db, checklist, actor)
    return checklist


async def get_checklist(
    db: AsyncSession, actor: Actor, checklist_id: str, archived: bool = False
) -> Checklist:
    """Archived templates are 404 unless `archived` (restore and permanent delete find them)."""
    checklist = await TemplatesRepository(db).get(actor.org_id, checklist_id, archived=archived)
    if checklist is None:
        raise not_found()
    return checklist


async def _check_people(
    db: AsyncSession, org_id: str, owner: tuple[str, int | None], users: list[int] | None
) -> None:
    name, user_id = owner
    await check_members(db, org_id, [user_id] if user_id is not None else [], name)
    await check_members(db, org_id, users or [], "users")


async def create_checklist(db: AsyncSession, actor: Actor, body: ChecklistCreate) -> Checklist:
    require_not_light(actor)
    owner = ("owner_id", body.owner_id) if body.owner_id else ("user_id", body.user_id)
    await _check_people(db, actor.org_id, owner, body.users)
    await check_group_ids(db, actor.org_id, body.groups or [])
    if body.folder_id:
        await check_checklist_folder(db, actor.org_id, body.folder_id)
    number = await OrgsRepository(db).next_number(actor.org_id, "checklist")
    checklist = Checklist(
        org_id=actor.org_id,
        increment_id=number,
        title=body.title,
        summary=body.summary,
        type=body.type,
        guidance=body.guidance,
        webhook=body.webhook,
        starred=body.starred,
        is_public=body.is_public,
        can_add_oot=body.can_add_oot,
        auto_naming=body.auto_naming,
        default_process_name_format=body.default_process_name_format,
        created_by=actor.user_id,
        owner_id=owner[1] or actor.user_id,
        folder_id=body.folder_id or None,
        users=body.users or [],
        groups=body.groups or [],
        settings=body.extra_settings(),
        automated_actions=[],
    )
    repo = TemplatesRepository(db)
    repo.add(checklist)
    await db.flush()
    for i, field in enumerate(body.prerun, start=1):
        repo.add(new_capture(actor.org_id, field, i, checklist_id=checklist.id, is_prerun=True))
    await db.flush()
    await record(db, actor, checklist, "created", f"Created template {checklist.title}")
    return checklist


UPDATABLE = (
    "title",
    "type",
    "summary",
    "guidance",
    "webhook",
    "starred",
    "is_public",
    "can_add_oot",
    "auto_naming",
    "default_process_name_format",
    "owner_id",
    "folder_id",
    "users",
    "groups",
)


async def update_checklist(
    db: AsyncSession, actor: Actor, checklist_id: str, body: ChecklistUpdate, api_base: str
) -> Checklist:
    """Sent fields replace (`users` and `groups` whole); fields not sent are kept."""
    checklist = await editable(db, actor, checklist_id)
    was_dual = is_dual(checklist)
    before = {name: getattr(checklist, name) for name in UPDATABLE}
    await _check_people(db, actor.org_id, ("owner_id", body.owner_id), body.users)
    await check_group_ids(db, actor.org_id, body.groups or [])
    if body.folder_id:
        await check_checklist_folder(db, actor.org_id, body.folder_id)
    for name in UPDATABLE:
        value = getattr(body, name)
        if value is not None:
            setattr(checklist, name, value)
    if "folder_id" in body.model_fields_set and not body.folder_id:
        checklist.folder_id = None  # `folder_id: null` takes the template out of its folder
    checklist.settings = {
        **(checklist.settings or {}),
        **body.extra_settings(),
        "last_updated_by": actor.user_id,
    }
    checklist.updated_at = now()
    if body.prerun is not None:
        await _replace_prerun(db, actor, checklist, body.prerun, api_base)
    await db.flush()
    await after_update(db, checklist, was_dual, actor)
    await _record_changes(db, actor, checklist, before, body.prerun is not None)
    return checklist


async def publish_checklist(db: AsyncSession, actor: Actor, checklist_id: str) -> Checklist:
    """`PUT /checklists/{id}/publish`: the draft becomes the version launches use. A template
    without dual versions has nothing to publish (its edits apply at once): answered as is."""
    require_not_light(actor)
    checklist = await TemplatesRepository(db).lock(actor.org_id, checklist_id)
    if checklist is None:
        raise not_found()
    if is_dual(checklist) and await publish(db, checklist, actor):
        await record(
            db,
            actor,
            checklist,
            "updated",
            f"Published version {checklist.version} of template {checklist.title}",
            field="version",
            new_value=checklist.version,
        )
    return checklist


async def _replace_prerun(
    db: AsyncSession,
    actor: Actor,
    checklist: Checklist,
    fields: list[PrerunField],
    api_base: str,
) -> None:
    """The sent array is the whole kick-off form: fields left out are removed, unless a rule
    uses them (403, as deleting that field alone would be)."""
    repo = TemplatesRepository(db)
    existing = {f.id: f for f in (await repo.prerun_of([checklist.id])).get(checklist.id, [])}
    kept: list[Capture] = []
    for position, sent in enumerate(fields, start=1):
        field = existing.get(sent.id or "")
        if field is None:
            field = new_capture(
                actor.org_id, sent, position, checklist_id=checklist.id, is_prerun=True
            )
            repo.add(field)
        else:
            redefine(field, sent, position)
        kept.append(field)
    dropped = [i for i in existing if i not in {f.id for f in kept}]
    for field_id in dropped:
        refuse_if_in_rule(checklist, field_id)
    await repo.delete_captures(dropped)
    await db.flush()
    given = {
        f.id: sent.value
        for f, sent in zip(kept, fields, strict=True)
        if "value" in sent.model_fields_set
    }
    ctx = ValueContext(db=db, org_id=actor.org_id, api_base=api_base)
    for capture_id, value in (await clean_values(ctx, kept, given, "prerun")).items():
        await repo.set_template_value(capture_id, value)


async def archive_checklist(db: AsyncSession, actor: Actor, checklist_id: str) -> Checklist:
    require_not_light(actor)
    checklist = await get_checklist(db, actor, checklist_id, archived=True)
    if checklist.deleted_at is None:
        checklist.deleted_at = now()
        await FilesRepository(db).set_archived(checklist.deleted_at, checklist_id=checklist.id)
        await db.flush()
        await record(db, actor, checklist, "archived", f"Archived template {checklist.title}")
    return checklist


async def restore_checklist(db: AsyncSession, actor: Actor, checklist_id: str) -> Checklist:
    require_not_light(actor)
    checklist = await get_checklist(db, actor, checklist_id, archived=True)
    if checklist.deleted_at is not None:
        await FilesRepository(db).restore_archived(checklist_id=checklist.id)
        checklist.deleted_at = None
        await db.flush()
        await record(db, actor, checklist, "unarchived", f"Restored template {checklist.title}")
    return checklist


async def purge_checklist(
    db: AsyncSession, store: BlobStore, actor: Actor, checklist_id: str
) -> None:
    checklist = await get_checklist(db, actor, checklist_id, archived=True)
    require_admin(actor)
    if checklist.deleted_at is None:
        raise invalid_field("checklist_id", "Archive the template before deleting it permanently.")
    files = FilesRepository(db)
    keys = await files.storage_keys(checklist_id=checklist.id)
    await TemplatesRepository(db).purge(checklist.id)
    await record(db, actor, checklist, "deleted", f"Deleted template {checklist.title}")
    await commit_then_discard(db, store, keys)


def wants_archived(archived: str | None) -> bool:
    """`archived=true`, `1` or `only` on a read by id: an archived template is shown too."""
    return (archived or "").strip().lower() not in ("", "false", "0", "no")


def checklist_filters(
    q: str | None = None,
    archived: str | None = None,
    sort_by: str | None = None,
    sort: str | None = None,
    type: str | None = None,
    starred: str | None = None,
    owner_id: str | None = None,
    folder: str | None = None,
    folder_id: str | None = None,
    tag: str | None = None,
    status: str | None = None,
) -> ChecklistFilters:
    """The documented list query parameters (a FastAPI dependency: names are the API's;
    `folder_id` is the Go CLI's name for `folder`)."""
    chosen = (status or "").strip().lower() or None
    if chosen is not None and chosen not in CHECKLIST_STATUSES:
        raise invalid_field(
            "status", f"The status must be one of: {', '.join(CHECKLIST_STATUSES)}."
        )
    flag = {"true": True, "1": True, "false": False, "0": False}.get((starred or "").lower())
    owner = int(owner_id) if owner_id and owner_id.isdigit() and len(owner_id) < 10 else None
    return ChecklistFilters(
        q=q,
        archived=archived,
        sort=sort_by or sort,
        type=type,
        starred=flag,
        owner_id=owner,
        folder=folder or folder_id,
        tag=(tag or "").strip() or None,
        status=chosen,
    )


async def list_checklists(
    db: AsyncSession,
    actor: Actor,
    page: PageParams,
    filters: ChecklistFilters,
    includes: Includes,
) -> tuple[list[ChecklistRead], int]:
    rows, total = await TemplatesRepository(db).search(actor.org_id, page, filters)
    return await read_many(db, rows, includes), total


async def form_fields(db: AsyncSession, actor: Actor, checklist_id: str) -> dict[str, Any]:
    """One object, not a list: the step fields and the kick-off fields of the template."""
    checklist = await get_checklist(db, actor, checklist_id)
    repo = TemplatesRepository(db)
    steps = (await repo.steps_of([checklist.id])).get(checklist.id, [])
    captures = await repo.captures_of_steps([s.id for s in steps])
    prerun = (await repo.prerun_of([checklist.id])).get(checklist.id, [])
    return {
        "id": checklist.id,
        "title": checklist.title,
        "form_fields": [
            CaptureRead.of(c).model_dump() for s in steps for c in captures.get(s.id, [])
        ],
        "ko_form_fields": [CaptureRead.of(f).model_dump() for f in prerun],
    }


async def clone_checklist(
    db: AsyncSession, actor: Actor, checklist_id: str, body: CloneChecklist
) -> Checklist:
    """A copy with new ids everywhere; rules and deadline anchors follow the new ids."""
    require_not_light(actor)
    if body.tenant and body.tenant != actor.org_id:
        raise forbidden("Templates can only be cloned within this organization.")
    source = await get_checklist(db, actor, checklist_id)
    repo = TemplatesRepository(db)
    copy = Checklist(
        **{
            c.key: getattr(source, c.key)
            for c in Checklist.__table__.columns
            if c.key not in ("id", "increment_id", "created_at", "updated_at")
        }
    )
    copy.id = new_id()
    copy.title = (body.title or "").strip() or f"{source.title} (copy)"[:250]
    copy.increment_id = await OrgsRepository(db).next_number(actor.org_id, "checklist")
    copy.created_by = actor.user_id
    copy.settings = {k: v for k, v in (source.settings or {}).items() if k != "last_updated_by"}
    copy.version, copy.is_published = 1, True
    repo.add(copy)
    await db.flush()
    ids = await _copy_parts(repo, source, copy)
    _remap(copy, ids, (await repo.steps_of([copy.id])).get(copy.id, []))
    await db.flush()
    if is_dual(copy):
        await publish(db, copy, actor)
    await record(
        db,
        actor,
        copy,
        "created",
        f"Cloned template {source.title}",
        extra={"cloned_from": source.id},
    )
    return copy


async def _copy_parts(
    repo: TemplatesRepository, source: Checklist, copy: Checklist
) -> dict[str, str]:
    """Steps, their fields and the kick-off fields; answers old id -> new id."""
    ids: dict[str, str] = {}
    steps = (await repo.steps_of([source.id])).get(source.id, [])
    captures = await repo.captures_of_steps([s.id for s in steps])
    prerun = (await repo.prerun_of([source.id])).get(source.id, [])
    for step in steps:
        ids[step.id] = (new_step := copy_step(step, copy.id, step.position)).id
        repo.add(new_step)
    await repo.db.flush()  # steps first: the copied fields point at them
    for step in steps:
        for capture in captures.get(step.id, []):
            ids[capture.id] = (added := copy_capture(capture, step_id=ids[step.id])).id
            repo.add(added)
    for field in prerun:
        ids[field.id] = (added := copy_capture(field, checklist_id=copy.id)).id
        repo.add(added)
    await repo.db.flush()
    return ids


def copy_step(step: Step, checklist_id: str, position: int) -> Step:
    fields = {
        c.key: getattr(step, c.key)
        for c in Step.__table__.columns
        if c.key not in ("id", "checklist_id", "position", "created_at", "updated_at")
    }
    return Step(id=new_id(), checklist_id=checklist_id, position=position, **fields)


def copy_capture(capture: Capture, **owner: Any) -> Capture:
    skip = {"id", "created_at", "updated_at", *owner}
    fields = {
        c.key: getattr(capture, c.key) for c in Capture.__table__.columns if c.key not in skip
    }
    return Capture(id=new_id(), **fields, **owner)


def _remap(copy: Checklist, ids: dict[str, str], steps: list[Step]) -> None:
    # Ids are 32-hex and unique, so a textual swap over the rule JSON is exact.
    text = json.dumps(copy.automated_actions or [])
    for old, new in ids.items():
        text = text.replace(old, new)
    copy.automated_actions = [_fresh_ids(rule) for rule in json.loads(text)]
    for step in steps:
        anchor = (step.deadline or {}).get("step")
        if anchor in ids:
            step.deadline = {**(step.deadline or {}), "step": ids[anchor]}


def _fresh_ids(rule: dict[str, Any]) -> dict[str, Any]:
    return {
        **rule,
        "id": new_id(),
        "conditions": [{**c, "id": new_id()} for c in rule.get("conditions") or []],
        "then_actions": [{**a, "id": new_id()} for a in rule.get("then_actions") or []],
    }


# Automation rules: kept inline on the template (there is no GET route for one rule).


async def _check_rule(
    db: AsyncSession, actor: Actor, checklist: Checklist, body: RuleWrite
) -> dict[str, str]:
    """Referenced fields and steps must belong to this template, and each operation must fit
    what it reads (422); answers each condition's kind, `Prerun`, `Capture` or `Step`, by id."""
    repo = TemplatesRepository(db)
    steps = {s.id: s for s in (await repo.steps_of([checklist.id])).get(checklist.id, [])}
    kinds = {f.id: "Prerun" for f in (await repo.prerun_of([checklist.id])).get(checklist.id, [])}
    fields = {f.id: f for f in (await repo.prerun_of([checklist.id])).get(checklist.id, [])}
    for group in (await repo.captures_of_steps(list(steps))).values():
        kinds |= {c.id: "Capture" for c in group}
        fields |= {c.id: c for c in group}
    errors: dict[str, list[str]] = {}
    for i, condition in enumerate(body.conditions):
        errors |= _condition_errors(f"conditions.{i}", condition, kinds, steps)
        errors |= _column_errors(f"conditions.{i}", condition, fields)
    for i, action in enumerate(body.then_actions):
        if action.target_step_id is not None and action.target_step_id not in steps:
            errors[f"then_actions.{i}.target_step_id"] = ["No such step in this template."]
        picker = fields.get(action.actionable_id or "") if action.reads_field() else None
        if action.reads_field() and (picker is None or picker.field_type != "assignees_form"):
            errors[f"then_actions.{i}.actionable_id"] = [
                "No such Assignee Picker (assignees_form) field in this template."
            ]
        await check_members(
            db, actor.org_id, action.owners()["users"], f"then_actions.{i}.assignees.users"
        )
    if errors:
        raise invalid(errors)
    return kinds | {step_id: "Step" for step_id in steps}


def _column_errors(
    at: str, condition: RuleCondition, fields: dict[str, Capture]
) -> dict[str, list[str]]:
    """`column_contains_name` names a column of the table field the condition reads."""
    name = condition.column_contains_name
    if name is None:
        return {}
    found = fields.get(condition.conditionable_id)
    if found is None or found.field_type != "table":
        return {f"{at}.column_contains_name": ["Only a condition on a table field names a column."]}
    if automations.column_index(found.columns or [], name) is None:
        return {f"{at}.column_contains_name": ["No such column in this table field."]}
    return {}


def _condition_errors(
    at: str, condition: RuleCondition, kinds: dict[str, str], steps: dict[str, Step]
) -> dict[str, list[str]]:
    """A condition on a step takes a step operation (approved/rejected only on an approval
    step, acknowledged/expired only on an expiring one); on a field, a field operation."""
    target = condition.conditionable_id
    if condition.conditionable_type == "Step" and target in kinds:
        return {f"{at}.conditionable_type": ["This is a form field, not a step."]}
    if target in steps:
        step_type = steps[target].step_type
        fits = automations.STEP_TYPES_OF.get(condition.operation)
        if condition.operation not in automations.STEP_OPERATIONS:
            return {f"{at}.operation": ["A step condition takes a step operation."]}
        if fits is not None and step_type not in fits:
            return {f"{at}.operation": [f"A {step_type} step can't be {condition.operation}."]}
        return {}
    if target not in kinds:
        return {f"{at}.conditionable_id": ["No such form field or step in this template."]}
    if condition.operation not in automations.FIELD_OPERATIONS:
        return {f"{at}.operation": ["A form field condition takes a field operation."]}
    return {}


def _stored_condition(
    condition: RuleCondition, position: int, kind: str, logic: str
) -> dict[str, Any]:
    stored = condition.model_dump(mode="json", exclude={"column_contains_name"})
    if condition.column_contains_name is not None:
        stored["column_contains_name"] = condition.column_contains_name
    return {
        "id": new_id(),
        **stored,
        "conditionable_type": kind,
        # As sent; a condition that sent none takes the rule's.
        "logic": automations.logic_of(stored, logic.lower()),
        "position": position,
    }


def _stored_action(action: RuleAction, position: int, kinds: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": new_id(),
        "action_type": action.action_type,
        "action_verb": action.action_verb,
        "target_step_id": action.target_step_id,
        "position": position,
    }
    if action.action_type == "assignment":
        out["assignees"] = action.owners()
        if action.reads_field():
            out |= {"actionable_type": kinds[action.actionable_id or ""]}
            out["actionable_id"] = action.actionable_id
    if action.action_type == "deadline" and action.deadline is not None:
        out["deadline"] = action.deadline.model_dump(exclude_none=True)
    if action.action_type == "webhook":
        out["webhook_url"] = action.webhook_url
    return out


def _stored_rule(
    rule_id: str, body: RuleWrite, kinds: dict[str, str], created_at: str | None
) -> dict[str, Any]:
    stamp = iso(now())
    return {
        "id": rule_id,
        "automated_alias": body.automated_alias,
        "condition_logic": body.logic(),
        "conditions": [
            _stored_condition(c, i, kinds[c.conditionable_id], body.logic())
            for i, c in enumerate(body.conditions, start=1)
        ],
        "then_actions": [
            _stored_action(a, i, kinds) for i, a in enumerate(body.then_actions, start=1)
        ],
        "created_at": created_at or stamp,
        "last_updated": stamp,
    }


async def create_rule(
    db: AsyncSession, actor: Actor, checklist_id: str, body: RuleWrite
) -> dict[str, Any]:
    checklist = await editable(db, actor, checklist_id)
    rule = _stored_rule(new_id(), body, await _check_rule(db, actor, checklist, body), None)
    checklist.automated_actions = [*(checklist.automated_actions or []), rule]
    await db.flush()
    await record(
        db,
        actor,
        checklist,
        "updated",
        "Added an automation rule",
        field="automated_actions",
        new_value=rule,
    )
    return rule


def _merged(current: dict[str, Any], body: RuleUpdate) -> RuleWrite:
    sent = body.model_dump(exclude_unset=True)
    base = {k: current.get(k) for k in ("automated_alias", "conditions", "then_actions")}
    if not {"condition_logic", "condition_type", "match"} & sent.keys():
        base["condition_logic"] = current.get("condition_logic")
    elif "conditions" not in sent:
        # A new rule-wide logic without conditions: it becomes every condition's.
        base["conditions"] = [
            {k: v for k, v in c.items() if k != "logic"} for c in current.get("conditions") or []
        ]
    try:
        return RuleWrite.model_validate({**base, **sent})
    except ValidationError as exc:
        raise invalid(laravel_errors(exc.errors())) from None


async def update_rule(
    db: AsyncSession, actor: Actor, checklist_id: str, rule_id: str, body: RuleUpdate
) -> dict[str, Any]:
    checklist = await editable(db, actor, checklist_id)
    rules = list(checklist.automated_actions or [])
    index = next((i for i, r in enumerate(rules) if r.get("id") == rule_id), None)
    if index is None:
        raise not_found()
    merged = _merged(rules[index], body)
    kinds = await _check_rule(db, actor, checklist, merged)
    old, rules[index] = (
        rules[index],
        _stored_rule(rule_id, merged, kinds, rules[index].get("created_at")),
    )
    checklist.automated_actions = rules
    await db.flush()
    await record(
        db,
        actor,
        checklist,
        "updated",
        "Updated an automation rule",
        field="automated_actions",
        old_value=old,
        new_value=rules[index],
    )
    return rules[index]


async def delete_rule(db: AsyncSession, actor: Actor, checklist_id: str, rule_id: str) -> None:
    checklist = await editable(db, actor, checklist_id)
    rules = [r for r in checklist.automated_actions or [] if r.get("id") != rule_id]
    if len(rules) == len(checklist.automated_actions or []):
        raise not_found()
    checklist.automated_actions = rules
    await db.flush()
    await record(
        db,
        actor,
        checklist,
        "updated",
        "Removed an automation rule",
        field="automated_actions",
        old_value=rule_id,
    )


async def checklist_titles(
    db: AsyncSession, actor: Actor, page: PageParams, filters: ChecklistFilters
) -> list[tuple[str, str]]:
    """Templates' (id, title), nothing else: what a picker needs."""
    return await TemplatesRepository(db).titles(actor.org_id, page, filters)


async def checklist_rows(
    db: AsyncSession, actor: Actor, page: PageParams, filters: ChecklistFilters
) -> list[Checklist]:
    """Templates without their read model (no counts, no includes): what a picker needs."""
    rows, _ = await TemplatesRepository(db).search(actor.org_id, page, filters)
    return rows


@dataclass(frozen=True)
class ChecklistSummary:
    """A template as a list shows it: no read model, its steps counted in one statement."""

    id: str
    title: str
    summary: str | None
    steps_count: int


async def checklist_summaries(
    db: AsyncSession, actor: Actor, page: PageParams, filters: ChecklistFilters
) -> tuple[list[ChecklistSummary], int]:
    repo = TemplatesRepository(db)
    rows, total = await repo.search(actor.org_id, page, filters)
    counts = await repo.step_counts([c.id for c in rows])
    return [ChecklistSummary(c.id, c.title, c.summary, counts.get(c.id, 0)) for c in rows], total
