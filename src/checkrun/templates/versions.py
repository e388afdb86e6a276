"""Template versions. A template is numbered (`Checklist.version`); a run records the number it
was launched from. A version is frozen (a `ChecklistVersion` row holding its steps with their
fields, its kick-off fields and its rules) when it must outlive edits:

- Without dual versions, edits apply at once and the next launch uses them; the first edit
  after a launch freezes the version launched and numbers the template anew, so the runs of
  that version keep what they were launched from.
- With `dual_version_enabled`, the template's rows are the draft: an edit only marks it
  unpublished (`is_published_state` false); `PUT /checklists/{id}/publish` freezes the draft as
  the next version, which launches use from then on.

A run reads its version's frozen content when there is one, else the template's rows (its
version is the template's current one and nothing froze it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.kit.auth import Actor
from checkrun.runs.models import Run
from checkrun.tasks.models import Task
from checkrun.tasks.repository import TasksRepository
from checkrun.templates.models import Capture, Checklist, ChecklistVersion, Step
from checkrun.templates.repository import TemplatesRepository

NOT_FROZEN = ("created_at", "updated_at")


def is_dual(checklist: Checklist) -> bool:
    return bool((checklist.settings or {}).get("dual_version_enabled"))


def _columns(row: Step | Capture) -> dict[str, Any]:
    table = type(row).__table__
    return {c.key: getattr(row, c.key) for c in table.columns if c.key not in NOT_FROZEN}


async def content_of(db: AsyncSession, checklist: Checklist) -> dict[str, Any]:
    """The template's rows as a version keeps them."""
    repo = TemplatesRepository(db)
    steps = (await repo.steps_of([checklist.id])).get(checklist.id, [])
    captures = await repo.captures_of_steps([s.id for s in steps])
    prerun = (await repo.prerun_of([checklist.id])).get(checklist.id, [])
    return {
        "title": checklist.title,
        "summary": checklist.summary,
        "steps": [
            {**_columns(s), "captures": [_columns(c) for c in captures.get(s.id, [])]}
            for s in steps
        ],
        "prerun": [_columns(f) for f in prerun],
        "automated_actions": list(checklist.automated_actions or []),
    }


async def _freeze(
    db: AsyncSession, checklist: Checklist, version: int, actor: Actor | None
) -> None:
    TemplatesRepository(db).add(
        ChecklistVersion(
            org_id=checklist.org_id,
            checklist_id=checklist.id,
            version=version,
            content=await content_of(db, checklist),
            created_by=actor.user_id if actor else None,
        )
    )
    await db.flush()
    await TasksRepository(db).pin_version(checklist.id, version)


async def before_edit(db: AsyncSession, checklist: Checklist, actor: Actor) -> None:
    """Called before any change to a template's content (`templates.service.editable`)."""
    if is_dual(checklist):
        checklist.is_published = False
        return
    repo = TemplatesRepository(db)
    current = checklist.version
    frozen = await repo.version_content(checklist.id, current) is not None
    if frozen or await repo.launched_from(checklist.id, current):
        if frozen:
            # Frozen by a publish before dual versions were turned off: runs launched since
            # read the template's rows until now.
            await TasksRepository(db).pin_version(checklist.id, current)
        else:
            await _freeze(db, checklist, current, actor)
        checklist.version = max(current, await repo.latest_version(checklist.id)) + 1
        await db.flush()


async def publish(db: AsyncSession, checklist: Checklist, actor: Actor | None) -> bool:
    """Freezes the draft as the template's next version; False when nothing was left to
    publish (the draft is the published version already)."""
    repo = TemplatesRepository(db)
    frozen = await repo.version_content(checklist.id, checklist.version) is not None
    if frozen and checklist.is_published:
        return False
    version = checklist.version
    if frozen:
        version = max(version, await repo.latest_version(checklist.id)) + 1
    await _freeze(db, checklist, version, actor)
    checklist.version, checklist.is_published = version, True
    await db.flush()
    return True


async def after_update(
    db: AsyncSession, checklist: Checklist, was_dual: bool, actor: Actor
) -> None:
    """Dual versions turned on publish the template as it stands; turned off, the draft
    becomes the template's current version."""
    if is_dual(checklist) and not was_dual:
        await publish(db, checklist, actor)
    elif was_dual and not is_dual(checklist) and not checklist.is_published:
        repo = TemplatesRepository(db)
        checklist.version = max(checklist.version, await repo.latest_version(checklist.id)) + 1
        checklist.is_published = True
        await db.flush()


@dataclass(frozen=True)
class Parts:
    """What a launch copies: steps (with their fields), kick-off fields and rules."""

    steps: list[Step]
    fields: list[Capture]
    rules: list[dict[str, Any]]
    # The version when these come from its frozen content (the tasks launched keep it).
    frozen: int | None = None


def _parts(content: dict[str, Any], version: int | None = None) -> Parts:
    """Rows rebuilt from a frozen version: never added to the session."""
    return Parts(
        frozen=version,
        steps=[
            Step(**{k: v for k, v in s.items() if k != "captures"})
            for s in content.get("steps") or []
        ],
        fields=[Capture(**f) for f in content.get("prerun") or []],
        rules=list(content.get("automated_actions") or []),
    )


def step_fields(content: dict[str, Any]) -> dict[str, list[Capture]]:
    """Each step's form fields in a frozen version, by step id (rows never added to the
    session)."""
    return {
        s["id"]: [Capture(**c) for c in s.get("captures") or []] for s in content.get("steps") or []
    }


async def launch_parts(db: AsyncSession, checklist: Checklist) -> Parts:
    """With dual versions, the published version; else the template's rows."""
    repo = TemplatesRepository(db)
    if is_dual(checklist):
        content = await repo.version_content(checklist.id, checklist.version)
        if content is not None:
            return _parts(content, checklist.version)
    steps = (await repo.steps_of([checklist.id])).get(checklist.id, [])
    fields = (await repo.prerun_of([checklist.id])).get(checklist.id, [])
    return Parts(steps, fields, list(checklist.automated_actions or []))


async def _frozen_of_run(db: AsyncSession, run: Run) -> dict[str, Any] | None:
    return await TemplatesRepository(db).version_content(run.checklist_id, run.version)


async def kickoff_fields_of_run(db: AsyncSession, run: Run) -> list[Capture]:
    """The kick-off fields of the version the run was launched from."""
    content = await _frozen_of_run(db, run)
    if content is not None:
        return _parts(content).fields
    found = await TemplatesRepository(db).prerun_of([run.checklist_id])
    return found.get(run.checklist_id, [])


async def task_fields_of_run(
    db: AsyncSession, run: Run, tasks: list[Task]
) -> dict[str, list[Capture]]:
    """Each task's form fields: a step's as the run's version has them (`Task.version`); a
    task added to the run by hand has its own."""
    del run
    return await TasksRepository(db).fields_of(tasks)


async def rules_for_run(db: AsyncSession, run: Run) -> list[dict[str, Any]]:
    """The automation rules of the version the run was launched from (archived templates too;
    the session usually holds the template already, and then this costs no statement)."""
    checklist = await db.get(Checklist, run.checklist_id) if run.checklist_id else None
    if checklist is None or checklist.org_id != run.org_id:
        return []
    if run.version != checklist.version or is_dual(checklist):
        content = await _frozen_of_run(db, run)
        if content is not None:
            return list(content.get("automated_actions") or [])
    return list(checklist.automated_actions or [])
