"""What other domains' changes mean for custom field values, from their domain events (so
that launching or deleting knows nothing of custom fields), in the same transaction.

Inheritance, once and forward: a process launched from a template is given the template's
values, and each of its tasks its step's. Later changes to the template reach no process
already launched.

Deletion: a record deleted for good takes its values with it (an archived one keeps them, to
have them back when it is restored)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.customfields import values as checks
from checkrun.customfields.models import CustomFieldValue
from checkrun.customfields.repository import CustomFieldsRepository
from checkrun.kit import events


def _row(org_id: str, kind: str, subject_id: str, key_id: str, value: Any) -> CustomFieldValue:
    return CustomFieldValue(
        org_id=org_id,
        key_id=key_id,
        subject_type=kind,
        subject_id=subject_id,
        value=value,
        value_text=checks.as_text(value),
    )


async def inherit_at_launch(db: AsyncSession, org_id: str, run_id: str, checklist_id: str) -> None:
    repo = CustomFieldsRepository(db)
    found = await repo.template_values(org_id, checklist_id)
    if not found:
        return  # the usual case: one statement
    by_step: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    for kind, subject_id, key_id, value in found:
        if kind == "template":
            repo.add(_row(org_id, "process", run_id, key_id, value))
        else:
            by_step[subject_id].append((key_id, value))
    if by_step:
        for task_id, step_id in await repo.run_tasks_by_step(org_id, run_id):
            for key_id, value in by_step.get(step_id, []):
                repo.add(_row(org_id, "task", task_id, key_id, value))
    await db.flush()


async def forget_deleted(db: AsyncSession, event: events.Event) -> None:
    repo, org, gone = CustomFieldsRepository(db), event.org_id, event.entity_id
    if event.type == "Process":
        await repo.forget_run(org, gone)  # emitted before the purge: its tasks are still there
    elif event.type == "Task":
        await repo.forget_subjects(org, "task", [gone])
    elif event.type in ("Blueprint", "Step"):
        # Emitted after the rows went: whatever no longer exists loses its values.
        await repo.forget_missing_template_side(org)
    elif event.type in ("Folder", "Tag"):
        await repo.forget_subjects(org, event.type.lower(), [gone])
    elif event.type == "User" and event.entity_type == "user":
        await repo.forget_subjects(org, "member", [gone])


async def on_event(db: AsyncSession, event: events.Event) -> None:
    if event.verb == "deleted":
        await forget_deleted(db, event)
        return
    launched = event.type == "Process" and event.verb == "created" and event.run_id
    if launched and event.checklist_id:
        await inherit_at_launch(db, event.org_id, event.run_id or "", event.checklist_id)
