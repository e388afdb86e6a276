from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    ScalarSelect,
    Select,
    Subquery,
    Table,
    Update,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, joinedload, selectinload, with_expression
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from checkrun.comments.models import Comment
from checkrun.comments.repository import Issues, open_issue, tasks_with_open_issue
from checkrun.customfields.repository import matching
from checkrun.folders.repository import filed
from checkrun.kit.bulk import insert_rows
from checkrun.kit.clock import now
from checkrun.kit.filters import archived_filter, count_of
from checkrun.kit.locking import locked
from checkrun.kit.pagination import PageParams
from checkrun.kit.repository import ORG_ID, ROW_ID, Repository, scope
from checkrun.kit.sql import json_object_agg, no_index, plain_rows, sort_key
from checkrun.members.models import Membership, User
from checkrun.runs.models import Run
from checkrun.tags.repository import tagged
from checkrun.tasks import counts
from checkrun.tasks.models import (
    TASK_COLUMNS,
    CaptureValue,
    ReadableTask,
    Task,
    TaskCompletion,
    TaskOwner,
    TaskRow,
)
from checkrun.templates.models import Capture, ChecklistVersion, Step

OPEN = ("not-started", "active", "in-progress")
DUE_SOON = timedelta(hours=48)
# Filter aliases clients send for the stored status vocabulary.
STATUS_FILTERS: dict[str, tuple[str, ...]] = {
    "complete": ("completed",),
    "completed": ("completed",),
    "active": OPEN,
    "incomplete": OPEN,
    "active_visible": OPEN,
    "inprogress": ("in-progress",),
    "in-progress": ("in-progress",),
    "not-started": ("not-started",),
    "auto-skipped": ("auto-skipped",),
}
# Filters computed from the deadline or from issues rather than the stored status.
STATUS_CONDITIONS = ("overdue", "due_soon", "hasproblem", "all")
STATUS_VALUES = (*STATUS_FILTERS, *STATUS_CONDITIONS)
# The web inbox's last open section (open, due later than soon or without a deadline): not a
# value the API's `status` filter accepts.
UPCOMING = "upcoming"


@dataclass(frozen=True)
class Placement:
    run_id: str | None
    step_id: str | None


@dataclass(frozen=True)
class TaskFilters:
    run_id: str | None = None
    status: str | None = None
    q: str | None = None
    archived: str | None = None
    is_oneoff: bool | None = None
    owners: tuple[int, ...] = ()
    # A member's groups: with `owners`, tasks assigned to these groups match too.
    owner_groups: tuple[str, ...] = ()
    # The `groups` filter: tasks assigned to any of these groups.
    groups: tuple[str, ...] = ()
    # Guest emails (lowercased), any of them: a guest's task list.
    guests: tuple[str, ...] = ()
    unassigned: bool = False
    # Half-open ranges [from, until): the service turns the API's date filters into these.
    deadline_from: datetime | None = None
    deadline_until: datetime | None = None
    created_from: datetime | None = None
    created_until: datetime | None = None
    sort: str | None = None
    # A tag title (or id), on the task or on its run; a run folder, the task's or its run's.
    tag: str | None = None
    folder: str | None = None
    # `custom_field_key` (+ `custom_field_value`): tasks holding that value for that key.
    custom_field: tuple[str, str | None] | None = None


def _owned_by(kind: str, refs: list[str]) -> Any:
    # IN, not a correlated EXISTS: the planner starts from the assignee's rows in the
    # (kind, ref, task_id) index instead of testing every task of the organization.
    return Task.id.in_(
        select(TaskOwner.task_id).where(TaskOwner.kind == kind, TaskOwner.ref.in_(refs))
    )


def _assigned_to(users: tuple[int, ...], groups: tuple[str, ...]) -> Any:
    """Assigned to one of `users` directly or through one of `groups` (one IN, as above)."""
    if not groups:
        return _owned_by("user", [str(u) for u in users])
    return Task.id.in_(
        select(TaskOwner.task_id).where(
            or_(
                (TaskOwner.kind == "user") & TaskOwner.ref.in_([str(u) for u in users]),
                (TaskOwner.kind == "group") & TaskOwner.ref.in_(list(groups)),
            )
        )
    )


def late(moment: datetime | BindParameter[datetime]) -> Any:
    """Open and past its deadline."""
    return Task.status.in_(OPEN) & (Task.deadline < moment)


def _status_clause(status: str, moment: datetime | None = None) -> Any:
    if status in STATUS_FILTERS:
        return Task.status.in_(STATUS_FILTERS[status])
    moment = moment or now()
    if status == "overdue":
        return late(moment)
    if status == "due_soon":
        return (
            Task.status.in_(OPEN) & (Task.deadline >= moment) & (Task.deadline < moment + DUE_SOON)
        )
    if status == "hasproblem":
        return Task.id.in_(tasks_with_open_issue())
    if status == UPCOMING:
        return Task.status.in_(OPEN) & (
            Task.deadline.is_(None) | (Task.deadline >= moment + DUE_SOON)
        )
    return None


def _in_range(
    stmt: Select[Any], column: Any, start: datetime | None, end: datetime | None
) -> Select[Any]:
    if start is not None:
        stmt = stmt.where(column >= start)
    if end is not None:
        stmt = stmt.where(column < end)
    return stmt


def _contains(column: Any, q: str) -> Any:
    """Case-insensitive substring match, with LIKE's wildcards in `q` taken literally."""
    escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


def _matching_text(org_id: str, q: str | None) -> Any:
    """`q` finds a task by its title or by the name of its process."""
    if not q or not q.strip():
        return None
    q = q.strip()
    runs = select(Run.id).where(scope(Run, org_id, "all"), _contains(Run.name, q))
    return or_(_contains(Task.title, q), Task.run_id.in_(runs))


def _narrow(f: TaskFilters) -> bool:
    """A run's or an assignee's list: start from those few tasks, not the organization's."""
    return f.run_id is not None or bool(f.owners) or bool(f.guests) or bool(f.groups)


def _filtered(stmt: Select[Any], org_id: str, f: TaskFilters) -> Select[Any]:
    if f.run_id is not None:
        stmt = stmt.where(Task.run_id == f.run_id)
    if f.is_oneoff is not None:
        stmt = stmt.where(Task.step_id.is_(None) if f.is_oneoff else Task.step_id.is_not(None))
    clause = _status_clause(f.status) if f.status else None
    if clause is not None:
        stmt = stmt.where(clause)
    if f.owners:
        stmt = stmt.where(_assigned_to(f.owners, f.owner_groups))
    if f.groups:
        stmt = stmt.where(_owned_by("group", list(f.groups)))
    if f.guests:
        stmt = stmt.where(_owned_by("guest", list(f.guests)))
    if f.unassigned:
        stmt = stmt.where(~select(TaskOwner.id).where(TaskOwner.task_id == Task.id).exists())
    stmt = _in_range(stmt, Task.deadline, f.deadline_from, f.deadline_until)
    stmt = _in_range(stmt, Task.created_at, f.created_from, f.created_until)
    deleted = no_index(Task.deleted_at) if _narrow(f) else Task.deleted_at
    stmt = archived_filter(stmt, deleted, f.archived)
    stmt = _tagged_and_filed(stmt, org_id, f)
    text = _matching_text(org_id, f.q)
    return stmt if text is None else stmt.where(text)


def _tagged_and_filed(stmt: Select[Any], org_id: str, f: TaskFilters) -> Select[Any]:
    if f.tag:
        stmt = stmt.where(
            or_(
                Task.id.in_(tagged(org_id, "Task", [f.tag])),
                Task.run_id.in_(tagged(org_id, "Run", [f.tag])),
            )
        )
    if f.folder:
        stmt = stmt.where(
            or_(
                Task.id.in_(filed(org_id, "Task", f.folder)),
                Task.run_id.in_(filed(org_id, "Run", f.folder)),
            )
        )
    if f.custom_field:
        stmt = stmt.where(Task.id.in_(matching(org_id, "task", *f.custom_field)))
    return stmt


SORTS: dict[str, list[Any]] = {
    "deadline": [Task.deadline.asc(), Task.id],
    "-deadline": [Task.deadline.desc(), Task.id],
    # Tie-breakers run in the same direction as the key, so one index scan serves the page.
    "newest": [Task.created_at.desc(), Task.id.desc()],
    "-newest": [Task.created_at.asc(), Task.id],
    "position": [Task.position.asc(), Task.id],
    "-position": [Task.position.desc(), Task.id],
    "completed_newest": [Task.completed_at.desc(), Task.id],
    # Tasks with an open issue first (`-problems`: last), newest first within each.
    "problems": [
        case((Task.id.in_(tasks_with_open_issue()), 0), else_=1),
        Task.created_at.desc(),
        Task.id.desc(),
    ],
    "-problems": [
        case((Task.id.in_(tasks_with_open_issue()), 1), else_=0),
        Task.created_at.desc(),
        Task.id.desc(),
    ],
}


def _order(f: TaskFilters) -> list[Any]:
    keys = SORTS.get(f.sort or "") or (SORTS["position"] if f.run_id else SORTS["newest"])
    return [_unindexed(key) for key in keys] if _narrow(f) else keys


def _unindexed(key: Any) -> Any:
    """`key` (a column, or a column with asc/desc) sorted through `sort_key`."""
    if isinstance(key, UnaryExpression) and key.modifier is operators.desc_op:
        return sort_key(key.element).desc()
    if isinstance(key, UnaryExpression):
        return sort_key(key.element).asc()
    return sort_key(key)


def _only_status_and_archive(f: TaskFilters) -> bool:
    """Nothing narrows `f` but its status, its archive switch and one member."""
    return not (
        f.run_id
        or (f.q and f.q.strip())
        or f.is_oneoff is not None
        or f.guests
        or f.groups
        or f.unassigned
        or f.deadline_from
        or f.deadline_until
        or f.created_from
        or f.created_until
        or f.tag
        or f.folder
        or f.custom_field
        or f.owner_groups
        or len(f.owners) > 1
        or (f.status and f.status not in STATUS_FILTERS and f.status != "all")
    )


def _live(archived: str | None) -> bool | None:
    """`archived_filter`'s switch as a value of the copies: live only, archived only, both."""
    value = (archived or "").strip().lower()
    if value == "only":
        return False
    return True if value in ("", "false", "0", "no") else None


def _statuses(f: TaskFilters) -> tuple[str, ...] | None:
    return STATUS_FILTERS.get(f.status) if f.status else None


def _counted_key(f: TaskFilters) -> tuple[str, str] | None:
    """The `task_counts` key holding `f`'s total, when a counter can answer it exactly (a
    member's tasks through groups are a union of keys: counted the old way)."""
    if not _only_status_and_archive(f):
        return None
    return ("user", str(f.owners[0])) if f.owners else (counts.ORG, "")


def _prebuilt_page(f: TaskFilters) -> tuple[Select[Any], dict[str, Any]] | None:
    """The page statement, built once, for the lists read most (an organization's tasks, or
    one member's, by status and archive state, newest first), with the values to run it with;
    None when `f` needs more (`_matching` builds that statement each time)."""
    live = _live(f.archived)
    if f.sort not in (None, "", "newest") or not _only_status_and_archive(f):
        return None
    statuses = _statuses(f)
    params: dict[str, Any] = {} if statuses is None else {_STATUSES.key: list(statuses)}
    if f.owners:
        if live is None:
            return None
        params.update({_REF.key: str(f.owners[0]), _LIVE.key: live})
        return _by_assignment(statuses is not None), params
    return _org_newest(live, statuses is not None), params


@cache
def _by_assignment(by_status: bool) -> Select[Any]:
    """One member's tasks newest first straight from their assignment rows, in the order of
    `ix_task_owners_listing` (the rows carry the task's status, archive state and creation time):
    a page reads a page, however many tasks the member has."""
    newest = (TaskOwner.task_created_at.label("page_at"), TaskOwner.task_id.label("page_id"))
    stmt = (
        select(*TASK_COLUMNS, *_basics_columns(ORG_ID), *newest)
        .join(TaskOwner, TaskOwner.task_id == Task.id)
        .where(
            TaskOwner.kind == "user",
            TaskOwner.ref == _REF,
            scope(TaskOwner, ORG_ID),
            TaskOwner.task_live == _LIVE,
        )
    )
    if by_status:
        stmt = stmt.where(TaskOwner.task_status.in_(_STATUSES))
    page = stmt.order_by(*(c.desc() for c in newest)).offset(_OFFSET).limit(_LIMIT).subquery()
    total = counts.total_columns(ORG_ID, "user", _REF, _STATUSES if by_status else None, _LIVE)
    return _with_owners(page, total, page.c.page_at.desc(), page.c.page_id.desc())


@cache
def _org_newest(live: bool | None, by_status: bool) -> Select[Any]:
    """What `_matching` and `_order` build for an organization's list by status and archive."""
    stmt = select(*TASK_COLUMNS, *_basics_columns(ORG_ID)).where(Task.org_id == ORG_ID)
    if by_status:
        stmt = stmt.where(Task.status.in_(_STATUSES))
    if live is not None:
        stmt = stmt.where(Task.deleted_at.is_(None) if live else Task.deleted_at.is_not(None))
    page = stmt.order_by(*SORTS["newest"]).offset(_OFFSET).limit(_LIMIT).subquery()
    total = counts.total_columns(ORG_ID, counts.ORG, "", _STATUSES if by_status else None, live)
    return _with_owners(page, total, page.c.created_at.desc(), page.c.id.desc())


def _with_owners(page: Subquery, total: tuple[Any, Any], *order: Any) -> Select[Any]:
    """The rows of a page of tasks (its columns, then its basics), one per task and owner,
    then the list's total and its change rows (`counts.total_columns`), then the owner's kind
    and ref and, for a member, their names: the whole list answer in one statement. The page
    is limited first, in its index's order, so the correlated columns are computed for the
    page's rows only."""
    owner = aliased(TaskOwner)
    member = aliased(Membership)
    person = aliased(User)
    # CASE first: PostgreSQL would otherwise be free to cast a guest's or a group's ref.
    member_id = case((owner.kind == "user", owner.ref.cast(Integer)))
    return (
        select(page, *total, owner.kind, owner.ref, person.first_name, person.last_name)
        .outerjoin(owner, owner.task_id == page.c.id)
        .outerjoin(member, and_(member.org_id == page.c.org_id, member.user_id == member_id))
        .outerjoin(person, person.id == member.user_id)
        .order_by(*order, owner.id)
    )


def _paged(stmt: Select[Any]) -> Select[Any]:
    # The owners come joined onto the page (SQLAlchemy limits the tasks in a subquery
    # first): one statement, and the page's own plan is unchanged.
    return stmt.options(joinedload(Task.owners)).offset(_OFFSET).limit(_LIMIT)


def _matching(org_id: str, f: TaskFilters) -> Select[Any]:
    org = no_index(Task.org_id) if _narrow(f) else Task.org_id
    return _filtered(select(Task).where(org == org_id), org_id, f)


@cache
def _task_with_owners(joined: bool = False, for_update: bool = False) -> Select[Task]:
    """A task by id (`ROW_ID`, archived ones too) with its assignees: in a second statement,
    or joined into the same one (a lock's: `FOR UPDATE OF` the task's row alone)."""
    load = joinedload(Task.owners) if joined else selectinload(Task.owners)
    stmt = select(Task).where(scope(Task, ORG_ID, "all"), Task.id == ROW_ID).options(load)
    if joined:
        stmt = stmt.options(
            with_expression(Task.has_required_field, _has_required_field()),
            with_expression(Task.locked_values, _values_of_task()),
            with_expression(Task.locked_issues, _issues_around_task()),
        )
    return stmt.with_for_update(of=Task) if for_update else stmt


def _has_required_field() -> ColumnElement[bool]:
    """What `fields_of` reads for a task whose fields are the template's (no frozen version),
    narrowed to required fields: false means that a completion has no field to check."""
    own = Capture.task_id == Task.id
    of_step = and_(Task.step_id.is_not(None), Capture.step_id == Task.step_id)
    return exists().where(Capture.required.is_(True), or_(own, of_step))


# The bits of `Task.locked_issues`.
_OWN_ISSUE, _PROCESS_ISSUE, _ANY_RUN_ISSUE = 1, 2, 4


def _issues_around_task() -> ColumnElement[int]:
    """What `CommentsRepository.open_issues_around` reads, correlated with the task, as one
    number of `_OWN_ISSUE`, `_PROCESS_ISSUE` and `_ANY_RUN_ISSUE` bits."""

    def bit(around: ColumnElement[bool], value: int) -> ColumnElement[int]:
        issue = exists().where(Comment.org_id == Task.org_id, around, open_issue())
        return case((issue, value), else_=0)

    in_run = Comment.run_id == Task.run_id
    return (
        bit(Comment.task_id == Task.id, _OWN_ISSUE)
        + bit(and_(in_run, Comment.task_id.is_(None)), _PROCESS_ISSUE)
        + bit(in_run, _ANY_RUN_ISSUE)
    )


def issues_at_lock(task: Task) -> Issues | None:
    """The open issues around the task that its lock read (None when the task was loaded
    otherwise since): what `CommentsRepository.open_issues_around` answers. Current only when
    the run's lock was taken before (see `completion.complete`)."""
    mask = task.locked_issues
    if mask is None:
        return None
    process = bool(mask & _PROCESS_ISSUE)
    by_status = ("issue" if process else "problem") if mask & _ANY_RUN_ISSUE else None
    return Issues(task=bool(mask & _OWN_ISSUE), process=process, status=by_status)


class TasksRepository(Repository):
    async def get(self, org_id: str, task_id: str) -> Task | None:
        """Archived tasks are found too: archive/restore/delete all address them."""
        params = {ORG_ID.key: org_id, ROW_ID.key: task_id}
        return (await self.db.execute(_task_with_owners(), params)).scalar_one_or_none()

    async def placement(self, org_id: str, task_id: str) -> Placement | None:
        """Where a task of the organization belongs (run and step ids), before locking it."""
        row = (
            await self.db.execute(
                select(Task.run_id, Task.step_id).where(
                    self.scope(Task, org_id, "all"), Task.id == task_id
                )
            )
        ).one_or_none()
        return Placement(row[0], row[1]) if row is not None else None

    async def lock(self, org_id: str, task_id: str) -> Task | None:
        """The task as committed now, locked against other writers until the transaction
        ends (lock its run first: runs before tasks, so that no two requests wait on each
        other)."""
        params = {ORG_ID.key: org_id, ROW_ID.key: task_id}
        stmt, for_update = _task_with_owners(joined=True), _task_with_owners(True, True)
        return await locked(self.db, Task, stmt, task_id, params, for_update)

    async def search(
        self, org_id: str, page: PageParams, filters: TaskFilters
    ) -> tuple[list[ReadableTask], int]:
        total = await self._total(org_id, filters)
        return await self.page_of(org_id, page, filters), total

    async def _total(self, org_id: str, filters: TaskFilters) -> int:
        key = _counted_key(filters)
        if key is None:
            return await count_of(self.db, _matching(org_id, filters))
        kind, ref = key
        return await counts.total(
            self.db, org_id, kind, ref, _statuses(filters), _live(filters.archived)
        )

    async def listing(
        self, org_id: str, page: PageParams, filters: TaskFilters
    ) -> tuple[TaskPage, int]:
        """`search`, with the page's basics when its statement read them."""
        found = await self.page_read(org_id, page, filters)
        if found.total is not None:
            return found, found.total
        return found, await self._total(org_id, filters)

    async def page_of(
        self, org_id: str, page: PageParams, filters: TaskFilters
    ) -> list[ReadableTask]:
        """`search` without its count, for a caller that knows the total already."""
        return (await self.page_read(org_id, page, filters)).tasks

    async def page_read(self, org_id: str, page: PageParams, filters: TaskFilters) -> TaskPage:
        window = {_OFFSET.key: page.offset, _LIMIT.key: page.per_page}
        prebuilt = _prebuilt_page(filters)
        if prebuilt is None:
            ordered = _matching(org_id, filters).order_by(*_order(filters))
            rows = await self.db.execute(_paged(ordered), window)
            return TaskPage(list(rows.unique().scalars()), None)
        stmt, params = prebuilt
        return _listed_page(
            await plain_rows(self.db, stmt, {ORG_ID.key: org_id, **params, **window})
        )

    async def count_by_status(
        self, org_id: str, filters: TaskFilters, statuses: tuple[str, ...]
    ) -> dict[str, int]:
        """How many of the tasks `filters` selects (its `status` aside) match each of
        `statuses`, in one grouped statement read at one moment (the web inbox's sections)."""
        moment = now()
        org = no_index(Task.org_id) if _narrow(filters) else Task.org_id
        columns = []
        for status in statuses:
            clause = _status_clause(status, moment)
            columns.append(
                func.count()
                if clause is None
                else func.coalesce(func.sum(case((clause, 1), else_=0)), 0)
            )
        stmt = _filtered(
            select(*columns).where(org == org_id), org_id, replace(filters, status=None)
        )
        row = (await self.db.execute(stmt)).one()
        return {status: int(value) for status, value in zip(statuses, row, strict=True)}

    async def last_position(self, run_id: str) -> int:
        result = await self.db.execute(
            select(func.coalesce(func.max(Task.position), 0)).where(Task.run_id == run_id)
        )
        return int(result.scalar_one())

    async def make_room(self, run_id: str, position: int) -> None:
        """Moves the run's tasks at `position` and after one place down."""
        await self.db.execute(
            update(Task)
            .where(Task.run_id == run_id, Task.position >= position)
            .values(position=Task.position + 1)
        )

    async def tasks_of_runs(self, run_ids: list[str]) -> dict[str, list[Task]]:
        out: dict[str, list[Task]] = defaultdict(list)
        if not run_ids:
            return out
        rows = await self.db.execute(
            select(Task)
            .where(Task.run_id.in_(run_ids))
            .options(selectinload(Task.owners))
            .order_by(Task.position, Task.id)
        )
        for task in rows.scalars():
            out[task.run_id or ""].append(task)
        return out

    async def tasks_of_run_unowned(self, run_id: str) -> list[Task]:
        """The run's tasks without their assignees, for what reads none (deadlines): a later
        read that wants them (`tasks_of_runs`) loads them for these objects too."""
        rows = await self.db.execute(_tasks_of_run(), {_RUN_ID.key: run_id})
        return list(rows.scalars())

    async def fields_of(self, tasks: Sequence[ReadableTask]) -> dict[str, list[Capture]]:
        """Form fields per task: a one-off task's own; a process task's step's as its frozen
        version has them (`Task.version`), else as the template has them."""
        if not tasks:
            return {}
        frozen = await self._frozen_fields(tasks)
        rows = await self.db.execute(
            select(Capture).where(self._fields_filter(tasks, frozen)).order_by(*FIELD_ORDER)
        )
        return _fields_by_task(tasks, frozen, list(rows.scalars()))

    async def _frozen_fields(self, tasks: Sequence[ReadableTask]) -> dict[str, list[Capture]]:
        """The step fields of each task whose version is frozen, as that version keeps them
        (rows rebuilt from the version, never added to the session). No statement when no
        task has a frozen version."""
        wanted = {(t.checklist_id, t.version) for t in tasks if t.version is not None and t.step_id}
        if not wanted:
            return {}
        v = ChecklistVersion
        rows = await self.db.execute(
            select(v.checklist_id, v.version, v.content)
            .where(ChecklistVersion.checklist_id.in_({c for c, _ in wanted if c}))
            .where(ChecklistVersion.version.in_({v for _, v in wanted}))
        )
        by_step: dict[tuple[str, int, str], list[Capture]] = {}
        for checklist_id, version, content in rows.all():
            for step in content.get("steps") or []:
                fields = [Capture(**c) for c in step.get("captures") or []]
                by_step[(checklist_id, version, step["id"])] = fields
        return {
            t.id: by_step.get((t.checklist_id or "", t.version, t.step_id or ""), [])
            for t in tasks
            if t.version is not None and t.step_id
        }

    @staticmethod
    def _fields_filter(tasks: Sequence[ReadableTask], frozen: dict[str, list[Capture]]) -> Any:
        live_steps = [t.step_id for t in tasks if t.step_id and t.id not in frozen]
        # A frozen field's row is read too: only a field the template still has takes values
        # (a value's `capture_id` must name a row; removing a field removes its values).
        kept = [c.id for fields in frozen.values() for c in fields]
        return or_(
            Capture.task_id.in_([t.id for t in tasks]),
            Capture.step_id.in_(live_steps),
            Capture.id.in_(kept),
        )

    async def pin_version(self, checklist_id: str, version: int) -> None:
        """The process tasks of that template version read their fields from its frozen
        content from now on."""
        runs = select(Run.id).where(Run.checklist_id == checklist_id, Run.version == version)
        await self.db.execute(
            update(Task)
            .where(Task.run_id.in_(runs), Task.step_id.is_not(None), Task.version.is_(None))
            .values(version=version)
            .execution_options(synchronize_session=False)
        )

    async def steps_by_ids(self, step_ids: list[str]) -> dict[str, Step]:
        """The template steps tasks came from (steps deleted since are simply missing)."""
        if not step_ids:
            return {}
        rows = await self.db.execute(select(Step).where(Step.id.in_(step_ids)))
        return {step.id: step for step in rows.scalars()}

    async def values_of(self, task_ids: list[str]) -> dict[str, dict[str, Any]]:
        """taskdata per task: field id -> value."""
        out: dict[str, dict[str, Any]] = defaultdict(dict)
        if not task_ids:
            return out
        rows = await self.db.execute(
            select(CaptureValue.task_id, CaptureValue.capture_id, CaptureValue.value).where(
                CaptureValue.task_id.in_(task_ids)
            )
        )
        for task_id, capture_id, value in rows.all():
            out[task_id or ""][capture_id] = value
        return out

    async def save_values(self, task: Task, values: dict[str, Any]) -> None:
        """Upserts by (field, task); a None value removes the stored one."""
        if not values:
            return
        rows = await self.db.execute(
            select(CaptureValue).where(
                CaptureValue.task_id == task.id, CaptureValue.capture_id.in_(list(values))
            )
        )
        existing = {row.capture_id: row for row in rows.scalars()}
        for capture_id, value in values.items():
            row = existing.get(capture_id)
            if value is None:
                if row is not None:
                    await self.db.delete(row)
            elif row is None:
                self.db.add(
                    CaptureValue(
                        capture_id=capture_id, task_id=task.id, run_id=task.run_id, value=value
                    )
                )
            else:
                row.value = value

    async def value_by_id(self, org_id: str, value_id: int) -> CaptureValue | None:
        """A stored value of a task of this organization (kick-off values live on the run)."""
        stmt = (
            select(CaptureValue)
            .join(Task, Task.id == CaptureValue.task_id)
            .where(CaptureValue.id == value_id, Task.org_id == org_id)
        )
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def guest_tasks(self, org_id: str, email: str) -> list[Task]:
        """A guest's live tasks still to do (what they may fill in)."""
        stmt = (
            select(Task)
            .join(TaskOwner, TaskOwner.task_id == Task.id)
            .where(
                self.scope(Task, org_id),
                TaskOwner.kind == "guest",
                TaskOwner.ref == email,
                Task.status.not_in(("completed", "auto-skipped")),
            )
            .options(selectinload(Task.owners))
            .order_by(Task.created_at, Task.id)
        )
        return list((await self.db.execute(stmt)).scalars().unique())

    async def value_of(self, task_id: str, capture_id: str) -> CaptureValue | None:
        stmt = select(CaptureValue).where(
            CaptureValue.task_id == task_id, CaptureValue.capture_id == capture_id
        )
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def fields_and_value_ids(
        self, tasks: Sequence[ReadableTask]
    ) -> tuple[dict[str, list[Capture]], dict[tuple[str, str], int]]:
        """`fields_of`, and the id of each stored value by (task, field), in one statement."""
        if not tasks:
            return {}, {}
        task_ids = [t.id for t in tasks]
        frozen = await self._frozen_fields(tasks)
        rows = await self.db.execute(
            select(Capture, CaptureValue.task_id, CaptureValue.id)
            .outerjoin(
                CaptureValue,
                and_(CaptureValue.capture_id == Capture.id, CaptureValue.task_id.in_(task_ids)),
            )
            .where(self._fields_filter(tasks, frozen))
            .order_by(*FIELD_ORDER)
        )
        captures: dict[str, Capture] = {}
        value_ids: dict[tuple[str, str], int] = {}
        for capture, task_id, value_id in rows.all():
            captures.setdefault(capture.id, capture)
            if value_id is not None and task_id is not None:
                value_ids[(task_id, capture.id)] = value_id
        return _fields_by_task(tasks, frozen, list(captures.values())), value_ids

    async def set_archived_with_run(self, run_id: str, when: Any) -> None:
        await self.db.execute(
            update(Task)
            .where(Task.run_id == run_id, Task.deleted_at.is_(None))
            .values(deleted_at=when, archived_with_run=True)
        )

    async def restore_with_run(self, run_id: str) -> None:
        await self.db.execute(
            update(Task)
            .where(Task.run_id == run_id, Task.archived_with_run.is_(True))
            .values(deleted_at=None, archived_with_run=False)
        )

    async def completions_of(self, task_id: str) -> set[int]:
        """Who has completed an `everyone_must_complete` task so far."""
        rows = await self.db.execute(
            select(TaskCompletion.user_id).where(TaskCompletion.task_id == task_id)
        )
        return set(rows.scalars())

    async def record_completion(self, task_id: str, user_id: int) -> set[int]:
        """Records one assignee's completion; answers everyone who has completed so far."""
        done = await self.completions_of(task_id)
        if user_id not in done:
            self.db.add(TaskCompletion(task_id=task_id, user_id=user_id))
            await self.db.flush()
        return done | {user_id}

    async def write(self, task: Task, values: dict[str, Any]) -> None:
        """`values` (columns of the task) written in one UPDATE, and the session's copy set to
        them as committed: no flush, whose change tracking costs more than the statement. The
        flush hooks do not see this change: `values` keeps `remind_at` right itself."""
        values = {**values, "updated_at": now()}
        await self.db.execute(_task_update().values(values), {ROW_ID.key: task.id})
        for key, value in values.items():
            set_committed_value(task, key, value)

    async def clear_completions(self, task_id: str) -> None:
        await self.db.execute(delete(TaskCompletion).where(TaskCompletion.task_id == task_id))

    async def purge(self, task_id: str) -> None:
        """Its owners, form fields, values and assets go with it (ON DELETE CASCADE)."""
        await self.db.execute(delete(Task).where(Task.id == task_id))

    def add(self, *objs: object) -> None:
        self.db.add_all(objs)

    @staticmethod
    def owner_rows(users: list[int], guests: list[str], groups: list[str]) -> list[TaskOwner]:
        return [TaskOwner(**row) for row in TasksRepository.owner_values(users, guests, groups)]

    @staticmethod
    def owner_values(
        users: list[int], guests: list[str], groups: list[str]
    ) -> list[dict[str, str]]:
        """The assignee rows of one task (kind and ref; task_id added by the caller), each
        once, in the order the API lists them."""
        return (
            [{"kind": "user", "ref": str(u)} for u in dict.fromkeys(users)]
            + [{"kind": "guest", "ref": email} for email in dict.fromkeys(guests)]
            + [{"kind": "group", "ref": group} for group in dict.fromkeys(groups)]
        )

    async def insert_tasks(self, rows: list[dict[str, Any]]) -> None:
        """New tasks as rows, in one statement (`kit.bulk`), skipping the unit of work (a
        launch's twenty objects cost more to build and flush than the rest of it). Every row
        gives the same columns, `remind_at` included: the reminders' flush hook does not see
        these rows."""
        await insert_rows(self.db, cast(Table, Task.__table__), rows)

    async def insert_owners(self, rows: list[dict[str, str]]) -> None:
        """Assignee rows of tasks already inserted, in one statement (the ORM would insert
        them one by one on SQLite, to read back each id)."""
        await insert_rows(self.db, cast(Table, TaskOwner.__table__), rows)


# The values statements built once are run with.
_IDS: BindParameter[str] = bindparam("ids", expanding=True)
_RUN_ID: BindParameter[str] = bindparam("run_id")
_STATUSES: BindParameter[str] = bindparam("statuses", expanding=True)
_REF: BindParameter[str] = bindparam("owner_ref")
_LIVE: BindParameter[bool] = bindparam("task_live")
_OFFSET: BindParameter[int] = bindparam("page_offset", type_=Integer)
_LIMIT: BindParameter[int] = bindparam("page_limit", type_=Integer)


@dataclass(frozen=True)
class TaskPage:
    """A page of tasks, with what the page's statement read with them when it did: their
    basics, their members' full names, the list's total."""

    tasks: list[ReadableTask]
    basics: TaskBasics | None
    names: dict[int, str] | None = None
    total: int | None = None


@dataclass(frozen=True)
class TaskBasics:
    """What every task read needs besides the row: its values and whether an open issue (its
    own, or its process's) stops it."""

    values: dict[str, dict[str, Any]]
    with_issue: set[str]
    frozen: set[str]


def _values_of_task() -> ScalarSelect[Any]:
    """The task's values as one JSON object (correlated; NULL when it has none)."""
    return (
        select(json_object_agg(CaptureValue.capture_id, CaptureValue.value))
        .where(CaptureValue.task_id == Task.id)
        .scalar_subquery()
    )


def _basics_columns(org_id: str | BindParameter[str]) -> tuple[Any, Any, Any]:
    """Per task (correlated): its values as one JSON object, whether it has an open issue,
    whether its process has one of its own."""
    values = _values_of_task()
    own_issue = (
        select(Comment.id)
        .where(scope(Comment, org_id, "all"), Comment.task_id == Task.id, open_issue())
        .exists()
    )
    run_issue = (
        select(Comment.id)
        .where(
            scope(Comment, org_id, "all"),
            Comment.run_id == Task.run_id,
            Comment.task_id.is_(None),
            open_issue(),
        )
        .exists()
    )
    return values, own_issue, run_issue


def _add_basics(out: TaskBasics, task_id: str, values: Any, issue: Any, frozen: Any) -> None:
    out.values[task_id] = values or {}
    if issue:
        out.with_issue.add(task_id)
    if frozen:
        out.frozen.add(task_id)


@cache
def _basics_by_id() -> Select[Any]:
    return select(Task.id, *_basics_columns(ORG_ID)).where(Task.id.in_(_IDS))


async def basics_of(db: AsyncSession, org_id: str, tasks: Sequence[ReadableTask]) -> TaskBasics:
    """Values and issue marks of a page of tasks, in one statement."""
    out = TaskBasics({}, set(), set())
    if not tasks:
        return out
    params = {ORG_ID.key: org_id, _IDS.key: [t.id for t in tasks]}
    for row in await plain_rows(db, _basics_by_id(), params):
        _add_basics(out, *row)
    return out


@cache
def _task_update() -> Update:
    table = cast(Table, Task.__table__)
    return update(table).where(table.c.id == ROW_ID)


@cache
def _tasks_of_run() -> Select[Task]:
    """All tasks of the run `_RUN_ID`, in order (built once: each completion reads them)."""
    return select(Task).where(Task.run_id == _RUN_ID).order_by(Task.position, Task.id)


@cache
def _tasks_of_runs() -> Select[Any]:
    """Plain rows (no ORM entities: a run's page of tasks is the busiest read), one per task
    and owner, with the basics."""
    return (
        select(*TASK_COLUMNS, *_basics_columns(ORG_ID), TaskOwner.kind, TaskOwner.ref)
        .outerjoin(TaskOwner, TaskOwner.task_id == Task.id)
        .where(Task.run_id.in_(_IDS))
        .order_by(Task.position, Task.id, TaskOwner.id)
    )


async def read_tasks_of_runs(
    db: AsyncSession, org_id: str, run_ids: list[str]
) -> tuple[dict[str, list[ReadableTask]], TaskBasics]:
    """The runs' tasks in order, with their owners and basics: one statement for them all."""
    by_run: dict[str, list[ReadableTask]] = defaultdict(list)
    out = TaskBasics({}, set(), set())
    if not run_ids:
        return by_run, out
    rows = await plain_rows(db, _tasks_of_runs(), {ORG_ID.key: org_id, _IDS.key: run_ids})
    tasks, basics = _task_rows(rows, owner_at=-2)
    for task in tasks:
        by_run[task.run_id or ""].append(task)
    return by_run, basics


def _listed_page(rows: Sequence[Sequence[Any]]) -> TaskPage:
    """A page from the rows of a `_with_owners` statement: its total is unknown when it has no
    row (a page past the end)."""
    tasks, basics = _task_rows(rows, owner_at=-4)
    names = {int(r[-3]): User.name_of(r[-2], r[-1]) for r in rows if r[-2] is not None}
    total = counts.settled(rows[0][-6], rows[0][-5]) if rows else None
    return TaskPage(tasks, basics, names, total)


def _task_rows(
    rows: Sequence[Sequence[Any]], owner_at: int
) -> tuple[list[ReadableTask], TaskBasics]:
    """Tasks and their basics from rows holding a task's columns, then its basics, and the
    owner's kind and ref at `owner_at` (a task's rows next to each other, one per owner)."""
    width = len(TASK_COLUMNS)
    tasks: list[ReadableTask] = []
    basics = TaskBasics({}, set(), set())
    last: TaskRow | None = None
    for row in rows:
        if last is None or last.id != row[0]:
            last = TaskRow(*row[:width])
            tasks.append(last)
            _add_basics(basics, last.id, row[width], row[width + 1], row[width + 2])
        kind, ref = row[owner_at], row[owner_at + 1]
        if kind is not None:
            last.owners.append((kind, ref))
    return tasks, basics


FIELD_ORDER = (Capture.position, Capture.id)


def _fields_by_task(
    tasks: Sequence[ReadableTask], frozen: dict[str, list[Capture]], rows: list[Capture]
) -> dict[str, list[Capture]]:
    """A task's own fields, then its step's: frozen ones (those the template still has, in the
    version's order) or the template's rows."""
    by_owner: dict[str, list[Capture]] = defaultdict(list)
    for capture in rows:
        by_owner[capture.task_id or capture.step_id or ""].append(capture)
    present = {c.id for c in rows}
    out: dict[str, list[Capture]] = {}
    for t in tasks:
        if t.id in frozen:
            step = sorted((c for c in frozen[t.id] if c.id in present), key=_field_key)
        else:
            step = by_owner.get(t.step_id or "", [])
        out[t.id] = by_owner.get(t.id, []) + step
    return out


def _field_key(capture: Capture) -> tuple[int, str]:
    return capture.position or 0, capture.id
