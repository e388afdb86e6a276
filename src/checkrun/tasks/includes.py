"""Every `with=` include of a task, each filled for a whole page of tasks at once."""

from __future__ import annotations

from checkrun.comments import service as comments
from checkrun.kit.included import folders_of, tags_of
from checkrun.kit.includes import IncludeMap, Page, Wrapped
from checkrun.runs.repository import RunsRepository
from checkrun.runs.schemas import RunRead
from checkrun.tasks.models import ReadableTask
from checkrun.tasks.repository import TasksRepository
from checkrun.tasks.schemas import FormFieldRead, TaskRead
from checkrun.templates.repository import TemplatesRepository
from checkrun.templates.schemas import CaptureRead, StepRead

Tasks = Page[ReadableTask, TaskRead]


async def threads(page: Tasks) -> None:
    """`threads` and its alias `comments`: the visible threads (a guest's view for a guest)."""
    found = await comments.threads_for(page.db, page.org_id, page.ids, for_guest=page.for_guest)
    for read in page.reads:
        if page.includes.wants("threads"):
            read.threads = Wrapped(data=found.get(read.id, []))
        if page.includes.wants("comments"):
            read.comments = Wrapped(data=found.get(read.id, []))


async def issues(page: Tasks) -> None:
    found = await comments.open_issues_for(page.db, page.org_id, page.ids)
    for read in page.reads:
        read.issues = Wrapped(data=found.get(read.id, []))


async def threads_count(page: Tasks) -> None:
    counts = await comments.thread_counts(page.db, page.org_id, page.ids, page.for_guest)
    for read in page.reads:
        read.threads_count = counts.get(read.id, 0)


async def form_fields(page: Tasks) -> None:
    """A one-off task's own fields or its step's, each with the task's value and the id of
    that stored value (`unique_id`, what PUT /form-field/value takes; null until filled)."""
    fields, value_ids = await TasksRepository(page.db).fields_and_value_ids(page.rows)
    for read in page.reads:
        read.form_fields = Wrapped(
            data=[
                FormFieldRead(
                    **CaptureRead.of(c).model_dump(),
                    value=read.taskdata.get(c.id),
                    unique_id=value_ids.get((read.id, c.id)),
                )
                for c in fields.get(read.id, [])
            ]
        )


async def run(page: Tasks) -> None:
    """The task's process, wrapped; null for a standalone task."""
    run_ids = list({t.run_id for t in page.rows if t.run_id})
    runs = await RunsRepository(page.db).with_stats(page.org_id, run_ids)
    by_id = {r.id: RunRead.of(r, stats).model_dump() for r, stats in runs}
    for task, read in page.pairs():
        read.run = Wrapped(data=by_id.get(task.run_id or ""))


async def step(page: Tasks) -> None:
    """The template step a process task came from, wrapped; else null."""
    step_ids = list({t.step_id for t in page.rows if t.step_id})
    steps = await TemplatesRepository(page.db).steps_with_captures(step_ids)
    for task, read in page.pairs():
        found = steps.get(task.step_id or "")
        read.step = Wrapped(data=StepRead.of(*found) if found else None)


TASK_INCLUDES: IncludeMap[ReadableTask, TaskRead] = IncludeMap(
    {
        ("threads", "comments"): threads,
        "issues": issues,
        "threads_count": threads_count,
        "form_fields": form_fields,
        "run": run,
        "step": step,
        "tags": tags_of("Task"),
        "folders": folders_of("Task"),
    }
)
