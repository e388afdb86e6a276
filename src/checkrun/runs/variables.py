"""Variables in step titles and summaries: `{{alias}}` of a kick-off or form field of the run,
and `{{TEMPLATE_NAME}}`, `{{PROCESS_NAME}}`, `{{DATE}}`, resolved in each task's title and
summary; the raw text stays in the task (`original_title`)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.runs.models import Run
from checkrun.tasks.models import Task
from checkrun.tasks.repository import TasksRepository
from checkrun.templates.automations import text_of
from checkrun.templates.models import Capture
from checkrun.templates.repository import TemplatesRepository

VARIABLE = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
# Keys of Task.settings: the raw text of a title/summary with variables, and whether a person
# has since set the field by hand (then it no longer follows the variables).
RAW = {"title": "raw_title", "summary": "raw_summary"}
BY_HAND = {"title": "title_by_hand", "summary": "summary_by_hand"}
# Run.settings: the run has tasks with variables (so a value change looks at them).
HAS_VARIABLES = "variables"


def has_variables(text: str | None) -> bool:
    return bool(text) and VARIABLE.search(text or "") is not None


def key(name: str) -> str:
    """Names match whatever their case and separators: `Client Name`, `client-name`,
    `CLIENT_NAME` are one."""
    return re.sub(r"[\s_-]+", "_", name.strip().lower())


def raw_settings(title: str, summary: str | None) -> dict[str, str]:
    """The settings that keep a step's raw text in its task, for the fields with variables."""
    raw = {"title": title, "summary": summary}
    return {RAW[f]: text for f, text in raw.items() if text is not None and has_variables(text)}


def render(text: str, names: dict[str, str]) -> str:
    """Known variables replaced by their value (empty while unanswered); unknown ones stay as
    written."""
    return VARIABLE.sub(lambda m: names.get(key(m.group(1)), m.group(0)), text)


def _name_fields(names: dict[str, str], fields: list[Capture], values: dict[str, Any]) -> None:
    for field in fields:
        text = text_of(values.get(field.id))
        names.setdefault(key(field.label), text)
        names[key(field.alias)] = text


async def names_of(
    db: AsyncSession, run: Run, tasks: list[Task], kickoff: list[Capture] | None = None
) -> dict[str, str]:
    """Every variable the run's tasks can name, with its text now. Aliases win over labels."""
    names: dict[str, str] = {}
    if kickoff is None:
        kickoff = (await TemplatesRepository(db).prerun_of([run.checklist_id])).get(
            run.checklist_id, []
        )
    _name_fields(names, kickoff, run.prerun or {})
    repo = TasksRepository(db)
    fields = await repo.fields_of(tasks)
    values = await repo.values_of([t.id for t in tasks])
    for task in tasks:
        _name_fields(names, fields.get(task.id, []), values.get(task.id, {}))
    names |= {
        "template_name": run.checklist_title,
        "process_name": run.name,
        "date": f"{run.started_at:%Y-%m-%d}",
    }
    return names


def resolve(task: Task, names: dict[str, str]) -> None:
    """The task's title and summary from their raw text, unless set by hand since."""
    settings = task.settings or {}
    for field, raw_key in RAW.items():
        raw = settings.get(raw_key)
        if raw is None or settings.get(BY_HAND[field]):
            continue
        text = render(raw, names)
        if getattr(task, field) != text:
            setattr(task, field, text[:600] if field == "title" else text)


async def refresh(
    db: AsyncSession, run: Run | None, tasks: list[Task] | None = None, **kw: Any
) -> None:
    """Resolves the variables of the run's open tasks again (after launch, or a kick-off or
    form value changed). Costs nothing for a run without variables."""
    if run is None or not (run.settings or {}).get(HAS_VARIABLES):
        return
    if tasks is None:
        tasks = (await TasksRepository(db).tasks_of_runs([run.id])).get(run.id, [])
    names = await names_of(db, run, tasks, **kw)
    for task in tasks:
        if task.status != "completed" and task.deleted_at is None:
            resolve(task, names)
    await db.flush()


def mark_by_hand(task: Task, field: str) -> None:
    """A person set `field` of the task: it keeps that text from now on."""
    if (task.settings or {}).get(RAW.get(field, "")):
        task.settings = {**task.settings, BY_HAND[field]: True}


def original_title(task: Task) -> str:
    return str((task.settings or {}).get(RAW["title"], task.title))
