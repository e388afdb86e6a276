"""Form values one at a time, as the n8n node writes them: `PUT /form-field/value` (a stored
value's id), its guest variant (create-or-update, as the guest), and the run's fields with
the ids of their stored values (`GET /runs/{id}/form-fields`). Values still go through the
one validator (templates/values.py) and the same rules as `taskdata` on a task PUT."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.guests import work
from checkrun.guests.models import Guest
from checkrun.guests.service import get_guest
from checkrun.kit.auth import Actor, require_not_light
from checkrun.kit.clock import iso
from checkrun.kit.errors import forbidden, invalid_field, not_found
from checkrun.kit.includes import parse_with
from checkrun.runs import service as runs_service
from checkrun.tasks import service as tasks_service
from checkrun.tasks.models import Task
from checkrun.tasks.repository import TasksRepository
from checkrun.tasks.schemas import FormValueRead, FormValueWrite
from checkrun.templates.schemas import CaptureRead

NOT_A_VALUE_ID = (
    "The id must be a stored form value's id (the unique_id of a filled field in "
    "GET /runs/{id}/form-fields or a task's form_fields), not a capture's id."
)
MAX_VALUE_ID = 2**31 - 1


def _value_id(raw: int | str) -> int | None:
    """A stored value's id: a positive integer, also as digits in a string."""
    if isinstance(raw, bool):
        return None
    text = str(raw).strip()
    if text.isascii() and text.isdigit() and 0 < len(text) <= 10 and int(text) <= MAX_VALUE_ID:
        return int(text)
    return None


async def _answer(db: AsyncSession, task: Task, capture_id: str) -> FormValueRead:
    stored = await TasksRepository(db).value_of(task.id, capture_id)
    return FormValueRead(
        id=stored.id if stored else None,
        capture_id=capture_id,
        task_id=task.id,
        run_id=task.run_id,
        form_value=stored.value if stored else None,
        last_updated=iso(stored.updated_at) if stored else None,
    )


async def set_value(
    db: AsyncSession, actor: Actor, body: FormValueWrite, api_base: str
) -> FormValueRead:
    """Updates one stored value (a task's; kick-off values are the run's `prerun`). Tallyfy
    answers 500 for an id with no stored value; here it is 404, and a field's id is 422."""
    value_id = _value_id(body.id)
    if value_id is None:
        raise invalid_field("id", NOT_A_VALUE_ID)
    stored = await TasksRepository(db).value_by_id(actor.org_id, value_id)
    if stored is None or stored.task_id is None:
        raise not_found()
    capture_id = stored.capture_id
    task = await tasks_service.fill_in(
        db, actor, stored.task_id, {capture_id: body.form_value}, api_base
    )
    return await _answer(db, task, capture_id)


async def set_value_as_guest(
    db: AsyncSession, actor: Actor, email: str, body: FormValueWrite, api_base: str
) -> FormValueRead:
    """Create-or-update, as the guest: `id` is a stored value's id, or a field's id on one of
    the guest's tasks (`task_id` picks the task when several hold that field). The guest
    must be assigned to the task; the task must still be open."""
    require_not_light(actor)
    guest = await get_guest(db, actor, email)
    if guest.is_disabled:
        raise forbidden("This guest access has been disabled by the organization.")
    repo = TasksRepository(db)
    value_id = _value_id(body.id)
    stored = await repo.value_by_id(actor.org_id, value_id) if value_id is not None else None
    if stored is not None and stored.task_id is not None:
        task, capture_id = await work.task_of(db, guest, stored.task_id), stored.capture_id
    else:
        task, capture_id = await _guest_field(db, guest, str(body.id), body.task_id)
    await work.save_values(db, guest, task, {capture_id: body.form_value}, api_base)
    return await _answer(db, task, capture_id)


async def _guest_field(
    db: AsyncSession, guest: Guest, capture_id: str, task_id: str | None
) -> tuple[Task, str]:
    """The guest's task that holds this field."""
    if task_id is not None:
        tasks = [await work.task_of(db, guest, task_id)]
    else:
        tasks = await TasksRepository(db).guest_tasks(guest.org_id, guest.email)
    fields = await TasksRepository(db).fields_of(tasks)
    holding = [t for t in tasks if any(f.id == capture_id for f in fields.get(t.id, []))]
    if not holding:
        raise not_found()
    if len(holding) > 1:
        raise invalid_field(
            "task_id", "Several of the guest's tasks have this field: send the task_id."
        )
    return holding[0], capture_id


async def run_form_fields(
    db: AsyncSession, actor: Actor, run_id: str, api_base: str
) -> dict[str, Any]:
    """One object, as the template's form-fields: every task's fields (with `task_id`, the
    value and its `unique_id`) and the kick-off fields with the run's values."""
    run = await runs_service.get_run(db, actor, run_id)
    (read,) = await runs_service.read_runs(db, [run], parse_with("form_fields"), api_base)
    kickoff = await runs_service.kickoff_fields(db, run)
    values = run.prerun or {}
    return {
        "id": run.id,
        "name": run.name,
        "checklist_id": run.checklist_id,
        "form_fields": read.form_fields.data if read.form_fields else [],
        "ko_form_fields": [
            {**CaptureRead.of(f).model_dump(), "value": values.get(f.id), "unique_id": None}
            for f in kickoff
        ],
    }
