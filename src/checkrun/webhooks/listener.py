"""Turns domain events into webhook deliveries in the outbox (same transaction)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key

from checkrun.kit.events import Event
from checkrun.runs.models import Run
from checkrun.tasks.models import Task
from checkrun.tasks.repository import TasksRepository
from checkrun.templates.models import Checklist
from checkrun.webhooks.payloads import process_payload, task_payload
from checkrun.webhooks.repository import WebhooksRepository
from checkrun.webhooks.service import enqueue
from checkrun.webhooks.signing import is_webhook_url

# (event type, verb) -> the event name org-level watchers subscribe to.
EVENT_NAMES = {
    ("Process", "created"): "process.launched",
    ("Process", "completed"): "process.completed",
    ("Task", "completed"): "task.completed",
    ("Task", "owners-updated"): "task.assigned",
    ("Comment", "commented"): "task.comment_added",
    ("Comment", "issue-reported"): "task.issue_raised",
    ("Comment", "issue-resolved"): "task.issue_resolved",
}
# Events that template, step and task URLs receive; the others go to watchers only.
CONFIGURED_URL_EVENTS = ("process.launched", "process.completed", "task.completed")


async def on_event(db: AsyncSession, event: Event) -> None:
    name = EVENT_NAMES.get((event.type, event.verb))
    if name is None:
        return
    if event.task_id is not None:
        await _task_event(db, event, name)
    elif event.run_id is not None:
        await _run_event(db, event, name)


async def _template(db: AsyncSession, run: Run | None) -> Checklist | None:
    if run is None:
        return None
    # Archiving a template does not stop its running processes, nor their webhooks. The
    # session usually holds it already (a launch read it): no statement then.
    found = await db.get(Checklist, run.checklist_id)
    return found if found is not None and found.org_id == run.org_id else None


async def _task(db: AsyncSession, org_id: str, task_id: str) -> Task | None:
    """The session's copy with its assignees when the change holds it, else a read."""
    kept = db.identity_map.get(identity_key(Task, task_id))
    if isinstance(kept, Task) and kept.org_id == org_id and "owners" not in inspect(kept).unloaded:
        return kept
    return await TasksRepository(db).get(org_id, task_id)


async def _run(db: AsyncSession, org_id: str, run_id: str) -> Run | None:
    """The session's copy when the change loaded it (it did, mostly), else a read."""
    found = await db.get(Run, run_id)
    return found if found is not None and found.org_id == org_id else None


def _template_url(checklist: Checklist | None, name: str) -> list[tuple[str, str]]:
    if checklist is None or not checklist.webhook or name not in CONFIGURED_URL_EVENTS:
        return []
    return [(checklist.webhook, "template")]


async def _run_event(db: AsyncSession, event: Event, name: str) -> None:
    run = await _run(db, event.org_id, event.run_id or "")
    if run is None:
        return
    targets = _template_url(await _template(db, run), name)
    targets += await _watchers(db, event.org_id)
    if not targets:
        return
    payload = _with_context(await process_payload(db, name, run), event)
    await enqueue(db, event.org_id, name, targets, payload, run.id, None)


async def _task_event(db: AsyncSession, event: Event, name: str) -> None:
    task = await _task(db, event.org_id, event.task_id or "")
    if task is None:
        return
    run = await _run(db, event.org_id, task.run_id) if task.run_id else None
    checklist = await _template(db, run)
    targets: list[tuple[str, str]] = []
    if name == "task.completed" and is_webhook_url(task.webhook):
        # A step's URL (copied onto its task) replaces the template's for this event.
        targets.append((str(task.webhook), "step" if task.step_id else "task"))
    else:
        targets += _template_url(checklist, name)
    targets += await _watchers(db, event.org_id)
    if not targets:
        return
    payload = _with_context(await task_payload(db, name, task, run, checklist), event)
    await enqueue(db, event.org_id, name, targets, payload, task.run_id, task.id)


async def _watchers(db: AsyncSession, org_id: str) -> list[tuple[str, str]]:
    return [(url, "watcher") for url in await WebhooksRepository(db).watcher_urls(org_id)]


def _with_context(payload: dict[str, Any], event: Event) -> dict[str, Any]:
    """Comment events carry the comment; assignment events the new assignees."""
    if event.type == "Comment":
        text = event.new_value if isinstance(event.new_value, str) else None
        payload["comment"] = {
            "id": event.entity_id if event.entity_type == "thread" else None,
            "text": text,
            "author": {"id": event.actor_id, "email": event.actor_email},
        }
    return payload
