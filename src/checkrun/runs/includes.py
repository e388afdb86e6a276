"""Every `with=` include of a run, each filled for a whole page of runs at once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.comments.service import run_threads
from checkrun.files.repository import FilesRepository
from checkrun.files.schemas import AssetRead
from checkrun.kit.clock import now
from checkrun.kit.included import folders_of, tags_of
from checkrun.kit.includes import IncludeMap, Includes, Page, Wrapped
from checkrun.runs.models import Run
from checkrun.runs.repository import RunStats, stats_from
from checkrun.runs.schemas import RunRead
from checkrun.tasks.models import ReadableTask
from checkrun.tasks.repository import OPEN, TaskBasics, read_tasks_of_runs
from checkrun.tasks.service import read_tasks
from checkrun.templates.repository import TemplatesRepository
from checkrun.templates.service import read_many as read_templates

Runs = Page[Run, RunRead]


async def checklist(page: Runs) -> None:
    """The template each run was launched from (null once deleted), wrapped."""
    found = await TemplatesRepository(page.db).by_ids([r.checklist_id for r in page.rows])
    by_id = {c.id: c for c in await read_templates(page.db, found, Includes())}
    for read in page.reads:
        template = by_id.get(read.checklist_id)
        read.checklist = Wrapped(data=template.model_dump() if template else None)


TASKS = ("form_fields", "tasks", "next_task")


@dataclass(frozen=True)
class RunTasks:
    """Every task of a page of runs, with their basics, read once: the runs' stats come from
    them too."""

    by_run: dict[str, list[ReadableTask]]
    basics: TaskBasics

    def stats(self) -> dict[str, RunStats]:
        moment = now()
        return {run_id: stats_from(found, moment) for run_id, found in self.by_run.items()}


async def tasks_if_included(
    db: AsyncSession, org_id: str, runs: list[Run], includes: Includes
) -> RunTasks | None:
    if not any(includes.wants(name) for name in TASKS):
        return None
    return RunTasks(*await read_tasks_of_runs(db, org_id, [r.id for r in runs]))


async def tasks(page: Runs) -> None:
    """`tasks`, `next_task` and `form_fields` (every task's, with its `task_id`), read for every
    run of the page at once (by `tasks_if_included`); `tasks.x` includes `x` on each task."""
    loaded = page.loaded.get("tasks") or await tasks_if_included(
        page.db, page.org_id, page.rows, page.includes
    )
    assert loaded is not None
    by_run, basics = loaded.by_run, loaded.basics
    wanted = page.includes.nested("tasks")
    if page.includes.wants("form_fields"):
        wanted = wanted.with_("form_fields")
    everything = [t for run_id in page.ids for t in by_run.get(run_id, [])]
    reads = {t.id: t for t in await read_tasks(page.db, everything, wanted, basics=basics)}
    for read in page.reads:
        mine = [reads[t.id] for t in by_run.get(read.id, [])]
        if page.includes.wants("form_fields"):
            read.form_fields = Wrapped(
                data=[
                    {**field.model_dump(), "task_id": t.id}
                    for t in mine
                    for field in (t.form_fields.data if t.form_fields else [])
                ]
            )
        if page.includes.wants("tasks"):
            read.tasks = Wrapped(data=mine)
        if page.includes.wants("next_task"):
            upcoming = [t for t in mine if t.status in OPEN and t.archived_at is None]
            read.next_task = Wrapped(data=upcoming[0] if upcoming else None)


async def assets(page: Runs) -> None:
    """Live files of each run and of its tasks."""
    files = await FilesRepository(page.db).of_runs(page.ids)
    for read in page.reads:
        read.assets = Wrapped(data=[AssetRead.of(a, page.api_base) for a in files.get(read.id, [])])


async def threads(page: Runs) -> None:
    """Each process's own threads."""
    found = await run_threads(page.db, page.org_id, page.ids)
    for read in page.reads:
        read.threads = Wrapped(data=found.get(read.id, []))


RUN_INCLUDES: IncludeMap[Run, RunRead] = IncludeMap(
    {
        "checklist": checklist,
        TASKS: tasks,
        "assets": assets,
        "tags": tags_of("Run"),
        "folders": folders_of("Run"),
        "threads": threads,
    }
)
