"""Template rules: who may create, step append order, the read model with its includes."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.files.blobs import commit_then_discard
from checkrun.files.repository import FilesRepository
from checkrun.kit.auth import Actor, require_admin, require_not_light
from checkrun.kit.clock import now
from checkrun.kit.errors import forbidden, invalid_field, not_found
from checkrun.kit.ids import new_id
from checkrun.kit.includes import Includes
from checkrun.kit.pagination import PageParams
from checkrun.kit.text import slugify
from checkrun.orgs.repository import OrgsRepository
from checkrun.storage import BlobStore
from checkrun.templates.models import Capture, Checklist, Step
from checkrun.templates.repository import TemplatesRepository
from checkrun.templates.schemas import (
    CaptureCreate,
    CaptureRead,
    ChecklistCreate,
    ChecklistRead,
    ChecklistUpdate,
    PrerunField,
    StepRead,
)
from checkrun.templates.values import ValueContext, clean_values


def new_capture(org_id: str, body: CaptureCreate, position: int, **owner: object) -> Capture:
    options = [
        {"id": opt.id or i, "text": opt.text, "value": opt.value}
        for i, opt in enumerate(body.options, start=1)
    ]
    return Capture(
        org_id=org_id, field_type=body.field_type, label=body.label,
        alias=slugify(body.label, 40).replace("-", "_"), guidance=body.guidance,
        position=body.position or position, required=body.required, options=options,
        columns=body.columns, settings=body.extra_settings(), **owner,
    )


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
    values = await repo.template_values([f.id for group in prerun.values() for f in group])
    return [
        ChecklistRead.of(c, steps.get(c.id, []), prerun.get(c.id, []), captures, includes, values)
        for c in checklists
    ]


async def create_checklist(db: AsyncSession, actor: Actor, body: ChecklistCreate) -> Checklist:
    require_not_light(actor)
    number = await OrgsRepository(db).next_number(actor.org_id, "checklist")
    checklist = Checklist(
        org_id=actor.org_id, increment_id=number, title=body.title, summary=body.summary,
        type=body.type, guidance=body.guidance, webhook=body.webhook, starred=body.starred,
        is_public=body.is_public, can_add_oot=body.can_add_oot, auto_naming=body.auto_naming,
        default_process_name_format=body.default_process_name_format,
        created_by=actor.user_id, owner_id=body.owner_id or actor.user_id,
        folder_id=body.folder_id, users=body.users or [], groups=body.groups or [],
        settings=body.extra_settings(),
    )
    repo = TemplatesRepository(db)
    repo.add(checklist)
    await db.flush()
    for i, field in enumerate(body.prerun, start=1):
        repo.add(new_capture(actor.org_id, field, i, checklist_id=checklist.id, is_prerun=True))
    await db.flush()
    return checklist


async def get_checklist(
    db: AsyncSession, actor: Actor, checklist_id: str, archived: bool = False
) -> Checklist:
    """Archived templates are 404 unless `archived` (restore and permanent delete find them)."""
    checklist = await TemplatesRepository(db).get(actor.org_id, checklist_id, archived=archived)
    if checklist is None:
        raise not_found()
    return checklist


UPDATABLE = ("title", "type", "summary", "guidance", "webhook", "starred", "is_public",
             "can_add_oot", "auto_naming", "default_process_name_format", "owner_id",
             "folder_id", "users", "groups")


async def update_checklist(
    db: AsyncSession, actor: Actor, checklist_id: str, body: ChecklistUpdate, api_base: str
) -> Checklist:
    require_not_light(actor)
    checklist = await get_checklist(db, actor, checklist_id)
    for name in UPDATABLE:
        value = getattr(body, name)
        if value is not None:
            setattr(checklist, name, value)
    checklist.settings = {**(checklist.settings or {}), **body.extra_settings()}
    checklist.updated_at = now()
    if body.prerun is not None:
        await _replace_prerun(db, actor, checklist, body.prerun, api_base)
    await db.flush()
    return checklist


async def _replace_prerun(
    db: AsyncSession, actor: Actor, checklist: Checklist, fields: list[PrerunField],
    api_base: str,
) -> None:
    """The sent array is the whole kick-off form: fields left out are removed."""
    repo = TemplatesRepository(db)
    existing = {f.id: f for f in (await repo.prerun_of([checklist.id])).get(checklist.id, [])}
    kept: list[Capture] = []
    for position, sent in enumerate(fields, start=1):
        field = existing.get(sent.id or "")
        if field is None:
            field = new_capture(actor.org_id, sent, position, checklist_id=checklist.id,
                                is_prerun=True)
            repo.add(field)
        else:
            _redefine(field, sent, position)
        kept.append(field)
    await repo.delete_captures([i for i in existing if i not in {f.id for f in kept}])
    await db.flush()
    given = {f.id: sent.value for f, sent in zip(kept, fields, strict=True)
             if "value" in sent.model_fields_set}
    ctx = ValueContext(db=db, org_id=actor.org_id, api_base=api_base)
    for capture_id, value in (await clean_values(ctx, kept, given, "prerun")).items():
        await repo.set_template_value(capture_id, value)


def _redefine(field: Capture, sent: CaptureCreate, position: int) -> None:
    fresh = new_capture(field.org_id, sent, position)
    for name in ("field_type", "label", "guidance", "position", "required", "options", "columns"):
        setattr(field, name, getattr(fresh, name))


async def archive_checklist(db: AsyncSession, actor: Actor, checklist_id: str) -> Checklist:
    require_not_light(actor)
    checklist = await get_checklist(db, actor, checklist_id, archived=True)
    if checklist.deleted_at is None:
        checklist.deleted_at = now()
        await FilesRepository(db).set_archived(checklist.deleted_at, checklist_id=checklist.id)
        await db.flush()
    return checklist


async def restore_checklist(db: AsyncSession, actor: Actor, checklist_id: str) -> Checklist:
    require_not_light(actor)
    checklist = await get_checklist(db, actor, checklist_id, archived=True)
    if checklist.deleted_at is not None:
        await FilesRepository(db).restore_archived(checklist_id=checklist.id)
        checklist.deleted_at = None
        await db.flush()
    return checklist


async def purge_checklist(
    db: AsyncSession, store: BlobStore, actor: Actor, checklist_id: str
) -> None:
    checklist = await get_checklist(db, actor, checklist_id, archived=True)
    require_admin(actor)
    if checklist.deleted_at is None:
        raise invalid_field("checklist_id",
                            "Archive the template before deleting it permanently.")
    files = FilesRepository(db)
    keys = await files.storage_keys(checklist_id=checklist.id)
    await TemplatesRepository(db).purge(checklist.id)
    await commit_then_discard(db, store, keys)


async def create_capture(
    db: AsyncSession, actor: Actor, checklist_id: str, step_id: str, body: CaptureCreate
) -> CaptureRead:
    require_not_light(actor)
    checklist = await get_checklist(db, actor, checklist_id)
    repo = TemplatesRepository(db)
    step = await repo.step(checklist.id, step_id)
    if step is None:
        raise not_found()
    position = len((await repo.captures_of_steps([step.id])).get(step.id, [])) + 1
    capture = new_capture(actor.org_id, body, position, step_id=step.id)
    repo.add(capture)
    await db.flush()
    return CaptureRead.of(capture)


async def list_steps(db: AsyncSession, actor: Actor, checklist_id: str) -> list[StepRead]:
    checklist = await get_checklist(db, actor, checklist_id)
    repo = TemplatesRepository(db)
    steps = (await repo.steps_of([checklist.id])).get(checklist.id, [])
    captures = await repo.captures_of_steps([s.id for s in steps])
    return [StepRead.of(s, captures.get(s.id)) for s in steps]


async def list_checklists(
    db: AsyncSession, actor: Actor, page: PageParams, q: str | None, archived: str | None,
    includes: Includes,
) -> tuple[list[ChecklistRead], int]:
    rows, total = await TemplatesRepository(db).search(actor.org_id, page, q, archived)
    return await read_many(db, rows, includes), total


async def form_fields(db: AsyncSession, actor: Actor, checklist_id: str) -> dict[str, Any]:
    """One object, not a list: the step fields and the kick-off fields of the template."""
    checklist = await get_checklist(db, actor, checklist_id)
    repo = TemplatesRepository(db)
    steps = (await repo.steps_of([checklist.id])).get(checklist.id, [])
    captures = await repo.captures_of_steps([s.id for s in steps])
    prerun = (await repo.prerun_of([checklist.id])).get(checklist.id, [])
    return {
        "id": checklist.id, "title": checklist.title,
        "form_fields": [CaptureRead.of(c).model_dump() for s in steps
                        for c in captures.get(s.id, [])],
        "ko_form_fields": [CaptureRead.of(f).model_dump() for f in prerun],
    }


async def clone_checklist(
    db: AsyncSession, actor: Actor, checklist_id: str, title: str | None, tenant: str | None
) -> Checklist:
    """A copy with new ids everywhere; rules and deadline anchors follow the new ids."""
    require_not_light(actor)
    if tenant and tenant != actor.org_id:
        raise forbidden("Templates can only be cloned within this organization.")
    source = await get_checklist(db, actor, checklist_id)
    repo = TemplatesRepository(db)
    copy = Checklist(**{c.key: getattr(source, c.key) for c in Checklist.__table__.columns
                        if c.key not in ("id", "increment_id", "created_at", "updated_at")})
    copy.id, copy.title = new_id(), title or f"{source.title} (copy)"
    copy.increment_id = await OrgsRepository(db).next_number(actor.org_id, "checklist")
    copy.created_by = actor.user_id
    repo.add(copy)
    await db.flush()
    ids: dict[str, str] = {}
    steps = (await repo.steps_of([source.id])).get(source.id, [])
    captures = await repo.captures_of_steps([s.id for s in steps])
    prerun = (await repo.prerun_of([source.id])).get(source.id, [])
    for step in steps:
        ids[step.id] = (new_step := copy_step(step, copy.id, step.position)).id
        repo.add(new_step)
    await db.flush()  # steps first: the copied fields point at them
    for step in steps:
        for capture in captures.get(step.id, []):
            ids[capture.id] = (added := copy_capture(capture, step_id=ids[step.id])).id
            repo.add(added)
    for field in prerun:
        ids[field.id] = (added := copy_capture(field, checklist_id=copy.id)).id
        repo.add(added)
    await db.flush()
    _remap(copy, ids, await _steps_of(repo, copy.id))
    await db.flush()
    return copy


def copy_step(step: Step, checklist_id: str, position: int) -> Step:
    fields = {c.key: getattr(step, c.key) for c in Step.__table__.columns
              if c.key not in ("id", "checklist_id", "position", "created_at", "updated_at")}
    return Step(id=new_id(), checklist_id=checklist_id, position=position, **fields)


def copy_capture(capture: Capture, **owner: Any) -> Capture:
    skip = {"id", "created_at", "updated_at", *owner}
    fields = {c.key: getattr(capture, c.key) for c in Capture.__table__.columns
              if c.key not in skip}
    return Capture(id=new_id(), **fields, **owner)


async def _steps_of(repo: TemplatesRepository, checklist_id: str) -> list[Step]:
    return (await repo.steps_of([checklist_id])).get(checklist_id, [])


def _remap(copy: Checklist, ids: dict[str, str], steps: list[Step]) -> None:
    text = json.dumps(copy.automated_actions or [])
    for old, new in ids.items():
        text = text.replace(old, new)
    copy.automated_actions = [{**rule, "id": new_id()} for rule in json.loads(text)]
    for step in steps:
        anchor = (step.deadline or {}).get("step")
        if anchor in ids:
            step.deadline = {**(step.deadline or {}), "step": ids[anchor]}
