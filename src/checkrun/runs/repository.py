from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    delete,
    func,
    or_,
    select,
)

from checkrun.folders.repository import filed
from checkrun.kit.clock import now
from checkrun.kit.filters import archived_filter, count_of, text_filter
from checkrun.kit.pagination import PageParams
from checkrun.kit.repository import ORG_ID, ROW_ID, Repository, scope
from checkrun.orgs.models import Organization
from checkrun.runs.models import Run
from checkrun.tags.repository import any_tagged, tagged
from checkrun.tasks import counts
from checkrun.tasks.models import ReadableTask, Task, TaskOwner
from checkrun.tasks.repository import OPEN, late
from checkrun.templates.models import Checklist
from checkrun.webhooks.repository import has_watchers, note_watchers

# Status filters that are not a stored status: `problem` also means `issue`; `delayed` is an
# active run with a task past its deadline.
STATUS_ALIASES = {"problem": ("problem", "issue"), "completed": ("complete",)}


@dataclass(frozen=True)
class RunStats:
    """What a run's visible (not auto-skipped) tasks add up to."""

    complete: int = 0
    total: int = 0
    late: int = 0
    last_deadline: datetime | None = None


@dataclass(frozen=True)
class RunPage:
    """A page of runs, with their stats when the page's statement read them too."""

    runs: list[Run]
    stats: dict[str, RunStats] | None


@dataclass(frozen=True)
class RunContext:
    """A run locked, with its organization (and whether it has webhook watchers) and its
    template (archived or not; None when it has none), read in the run's statement."""

    run: Run
    org: Organization
    template: Checklist | None


@cache
def _run_in_context(
    for_update: bool = False,
) -> Select[Run, Organization, Checklist | None, bool]:
    stmt = (
        select(Run, Organization, Checklist, has_watchers())
        .join(Organization, Organization.id == Run.org_id)
        .outerjoin(Checklist, Checklist.id == Run.checklist_id)
        .where(scope(Run, ORG_ID, "all"), Run.id == ROW_ID)
    )
    return stmt.with_for_update(of=Run) if for_update else stmt


@dataclass(frozen=True)
class RunFilters:
    status: str | None = None
    q: str | None = None
    archived: str | None = None
    checklist_id: str | None = None
    owners: tuple[int, ...] = ()
    starred: bool | None = None
    type: str | None = None
    sort: str | None = None
    # `tag` and `tag_ids` together: tag ids (or titles), any of them.
    tags: tuple[str, ...] = ()
    untagged: bool = False
    folder: str | None = None


def _filtered(stmt: Select[Any], org_id: str, f: RunFilters) -> Select[Any]:
    if f.tags:
        stmt = stmt.where(Run.id.in_(tagged(org_id, "Run", f.tags)))
    if f.untagged:
        stmt = stmt.where(Run.id.not_in(any_tagged(org_id, "Run")))
    if f.folder:
        stmt = stmt.where(Run.id.in_(filed(org_id, "Run", f.folder)))
    archived = f.archived
    if f.status == "archived":
        archived = "only"
    elif f.status == "starred":
        stmt = stmt.where(Run.starred.is_(True))
    elif f.status == "delayed":
        stmt = stmt.where(
            Run.status == "active",
            Run.id.in_(select(Task.run_id).where(scope(Task, org_id), late(now()))),
        )
    elif f.status:
        stmt = stmt.where(Run.status.in_(STATUS_ALIASES.get(f.status, (f.status,))))
    stmt = text_filter(archived_filter(stmt, Run.deleted_at, archived), Run.name, f.q)
    if f.checklist_id:
        stmt = stmt.where(Run.checklist_id == f.checklist_id)
    if f.starred is not None:
        stmt = stmt.where(Run.starred.is_(f.starred))
    if f.type:
        stmt = stmt.where(Run.type == f.type)
    if f.owners:
        # The run's owner, or an assignee of one of its tasks.
        assigned = (
            select(Task.run_id)
            .join(TaskOwner, TaskOwner.task_id == Task.id)
            .where(TaskOwner.kind == "user", TaskOwner.ref.in_([str(o) for o in f.owners]))
        )
        stmt = stmt.where(or_(Run.owner_id.in_(f.owners), Run.id.in_(assigned)))
    return stmt


def _live(archived: str | None) -> bool | None:
    """`archived_filter`'s switch as the counters' live flag: live, archived only, or both."""
    value = (archived or "").strip().lower()
    if value == "only":
        return False
    return True if value in ("", "false", "0", "no") else None


def _plain(f: RunFilters) -> bool:
    """Nothing narrows `f` but a stored status and the archive switch: the counters know its
    total and its page statement is built once (`_plain_page`)."""
    narrowed = f.tags or f.untagged or f.folder or (f.q and f.q.strip()) or f.checklist_id
    return not (
        narrowed
        or f.starred is not None
        or f.type
        or f.owners
        or f.status in ("starred", "delayed", "archived")
    )


def _statuses(f: RunFilters) -> tuple[str, ...] | None:
    return STATUS_ALIASES.get(f.status, (f.status,)) if f.status else None


def _matching(org_id: str, f: RunFilters) -> Select[Any]:
    return _filtered(select(Run).where(scope(Run, org_id, "all")), org_id, f)


def _sort(f: RunFilters) -> str:
    return f.sort if f.sort in SORTS else "-created_at"


def _paged(stmt: Select[Any], sort: str) -> Select[Any]:
    """The page's ids first, from the listing index alone (no wide rows read and sorted), then
    those rows."""
    order = SORTS[sort]
    ids = stmt.with_only_columns(Run.id).order_by(*order).offset(_OFFSET).limit(_LIMIT)
    return select(Run).where(Run.id.in_(ids)).order_by(*order)


@cache
def _plain_page(live: bool | None, by_status: bool, sort: str) -> Select[Any]:
    """What `_matching` and `_paged` build for a `_plain` filter, with each run's stats (at
    `_MOMENT`) as the next columns and, for live or archived runs, the list's total and its
    change rows (`counts.total_columns`) as the last."""
    stmt = select(Run).where(scope(Run, ORG_ID, "all"))
    if by_status:
        stmt = stmt.where(Run.status.in_(_STATUSES))
    if live is not None:
        stmt = stmt.where(Run.deleted_at.is_(None) if live else Run.deleted_at.is_not(None))
    page = _paged(stmt, sort).add_columns(*_stats_of_each())
    if live is None:  # the counters keep live and archived runs apart: counted separately
        return page
    statuses = _STATUSES if by_status else None
    return page.add_columns(*counts.total_columns(ORG_ID, counts.RUN, "", statuses, live))


def _stats_of_each() -> tuple[Any, ...]:
    """`_stats_where`'s figures as correlated columns of a statement of runs (computed for the
    rows it answers: a page's ten)."""
    visible = and_(Task.run_id == Run.id, Task.status != "auto-skipped")

    def of(figure: Any) -> Any:
        return select(figure).where(visible).scalar_subquery()

    return (
        of(func.sum(case((Task.status == "completed", 1), else_=0))),
        of(func.count()),
        of(func.sum(case((late(_MOMENT), 1), else_=0))),
        of(func.max(Task.deadline)),
    )


SORTS: dict[str, list[Any]] = {
    "name": [Run.name.asc(), Run.id],
    "-name": [Run.name.desc(), Run.id],
    "created_at": [Run.created_at.asc(), Run.id],
    "-created_at": [Run.created_at.desc(), Run.id.desc()],
    "updated_at": [Run.updated_at.asc(), Run.id],
    "-updated_at": [Run.updated_at.desc(), Run.id],
}


_IDS: BindParameter[str] = bindparam("run_ids", expanding=True)
_MOMENT: BindParameter[datetime] = bindparam("moment")
_STATUSES: BindParameter[str] = bindparam("statuses", expanding=True)
_OFFSET: BindParameter[int] = bindparam("page_offset", type_=Integer)
_LIMIT: BindParameter[int] = bindparam("page_limit", type_=Integer)


class RunsRepository(Repository):
    async def get(self, org_id: str, run_id: str) -> Run | None:
        """Archived runs are found too: they are shown, activated and purged by id."""
        return await self.one(Run, run_id, org_id, "all")

    async def lock(self, org_id: str, run_id: str) -> Run | None:
        """The run as committed now, locked against other writers until the transaction ends:
        what changes a run's status (its tasks' completion, kick-off, issues, archive) holds
        this lock first."""
        return await self.locked_one(Run, run_id, org_id, "all")

    async def lock_in_context(self, org_id: str, run_id: str) -> RunContext | None:
        """`lock`, reading the run's organization and template in the same statement (a
        completion reads all three)."""
        row = await self.locked_with(Run, _run_in_context, run_id, org_id)
        if row is None:
            return None
        note_watchers(self.db, org_id, row[3])
        return RunContext(row[0], row[1], row[2])

    async def search(
        self, org_id: str, page: PageParams, filters: RunFilters
    ) -> tuple[RunPage, int]:
        window = {_OFFSET.key: page.offset, _LIMIT.key: page.per_page}
        if not _plain(filters):
            total = await self._total(org_id, filters)
            stmt = _paged(_matching(org_id, filters), _sort(filters))
            return RunPage(list((await self.db.execute(stmt, window)).scalars()), None), total
        statuses, live = _statuses(filters), _live(filters.archived)
        params = {} if statuses is None else {_STATUSES.key: list(statuses)}
        stmt = _plain_page(live, statuses is not None, _sort(filters))
        rows = (
            await self.db.execute(
                stmt, {ORG_ID.key: org_id, _MOMENT.key: now(), **params, **window}
            )
        ).all()
        found = RunPage(
            [row[0] for row in rows], {row[0].id: _stats_row(*row[1:5]) for row in rows}
        )
        if rows and live is not None:  # the page read its total too (`_plain_page`)
            return found, counts.settled(rows[0][5], rows[0][6])
        return found, await self._total(org_id, filters)

    async def _total(self, org_id: str, f: RunFilters) -> int:
        live = _live(f.archived)
        if not _plain(f) or live is None:
            return await count_of(self.db, _matching(org_id, f))
        return await counts.total(self.db, org_id, counts.RUN, "", _statuses(f), live)

    async def by_ids(self, org_id: str, run_ids: list[str]) -> list[Run]:
        if not run_ids:
            return []
        rows = await self.db.execute(
            select(Run).where(self.scope(Run, org_id, "all"), Run.id.in_(run_ids))
        )
        return list(rows.scalars())

    async def get_by_id(self, run_id: str) -> Run | None:
        return await self.db.get(Run, run_id)

    async def stats_of(self, run_ids: list[str]) -> dict[str, RunStats]:
        """Progress and lateness per run, auto-skipped tasks left out."""
        if not run_ids:
            return {}
        rows = await self.db.execute(_stats(), {_IDS.key: run_ids, _MOMENT.key: now()})
        return {run_id: _stats_row(*counted) for run_id, *counted in rows.all()}

    async def with_stats(self, org_id: str, run_ids: list[str]) -> list[tuple[Run, RunStats]]:
        """The runs with their stats, in one statement."""
        if not run_ids:
            return []
        params = {ORG_ID.key: org_id, _IDS.key: run_ids, _MOMENT.key: now()}
        rows = await self.db.execute(_runs_with_stats(), params)
        return [(run, _stats_row(*counted)) for run, *counted in rows.all()]

    async def purge(self, run_id: str) -> None:
        """Tasks, their owners, form values and assets go with it (ON DELETE CASCADE)."""
        await self.db.execute(delete(Run).where(Run.id == run_id))

    def add(self, *objs: object) -> None:
        self.db.add_all(objs)


@cache
def _stats() -> Select[str | None, Any, int, Any, datetime | None]:
    """Per run of `_IDS`: completed, visible and late (at `_MOMENT`) tasks, and the last
    deadline."""
    return _stats_where(Task.run_id.in_(_IDS))


def _stats_where(runs: ColumnElement[bool]) -> Select[str | None, Any, int, Any, datetime | None]:
    done = func.sum(case((Task.status == "completed", 1), else_=0))
    overdue = func.sum(case((late(_MOMENT), 1), else_=0))
    return (
        select(Task.run_id, done, func.count(), overdue, func.max(Task.deadline))
        .where(runs, Task.status != "auto-skipped")
        .group_by(Task.run_id)
    )


def _stats_row(done: Any, total: Any, overdue: Any, last: datetime | None) -> RunStats:
    return RunStats(int(done or 0), int(total or 0), int(overdue or 0), last)


@cache
def _runs_with_stats() -> Select[Any]:
    stats = _stats().subquery()
    return (
        select(Run, *list(stats.c)[1:])
        .outerjoin(stats, stats.c.run_id == Run.id)
        .where(scope(Run, ORG_ID, "all"), Run.id.in_(_IDS))
    )


def stats_from(tasks: Sequence[ReadableTask], moment: datetime) -> RunStats:
    """What `_stats_of` counts, from a run's tasks already read (all of them)."""
    visible = [t for t in tasks if t.status != "auto-skipped"]
    deadlines = [t.deadline for t in visible if t.deadline is not None]
    return RunStats(
        complete=sum(t.status == "completed" for t in visible),
        total=len(visible),
        late=sum(t.status in OPEN and d < moment for t in visible if (d := t.deadline)),
        last_deadline=max(deadlines, default=None),
    )
