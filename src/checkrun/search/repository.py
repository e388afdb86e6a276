from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, not_, or_, select, true
from sqlalchemy.orm import selectinload

from checkrun.folders.models import Folder, FolderObject
from checkrun.kit.filters import count_of
from checkrun.kit.pagination import PageParams
from checkrun.kit.repository import Repository, scope
from checkrun.runs.models import Run
from checkrun.search.filters import Condition, Group, Moment, Node
from checkrun.tags.models import Tag, TagAssociation
from checkrun.tasks.models import Task
from checkrun.templates.models import Capture, Checklist, Step

# The column behind each filter field, per result type (see filters.TYPE_FIELDS).
COLUMNS: dict[str, dict[str, Any]] = {
    "blueprint": {
        "title": Checklist.title,
        "description": Checklist.summary,
        "starter": Checklist.created_by,
        "owner": Checklist.owner_id,
        "date": Checklist.created_at,
        "created_at": Checklist.created_at,
        "updated_at": Checklist.updated_at,
        "type": Checklist.type,
        "is_public": Checklist.is_public,
        "starred": Checklist.starred,
        "increment_id": Checklist.increment_id,
    },
    "process": {
        "title": Run.name,
        "name": Run.name,
        "description": Run.summary,
        "starter": Run.started_by,
        "owner": Run.owner_id,
        "date": Run.created_at,
        "created_at": Run.created_at,
        "updated_at": Run.updated_at,
        "completed_at": Run.completed_at,
        "status": Run.status,
        "type": Run.type,
        "is_public": Run.is_public,
        "starred": Run.starred,
        "increment_id": Run.increment_id,
        "checklist_id": Run.checklist_id,
    },
    "task": {
        "title": Task.title,
        "description": Task.summary,
        "starter": Task.starter_id,
        "date": Task.created_at,
        "created_at": Task.created_at,
        "updated_at": Task.updated_at,
        "completed_at": Task.completed_at,
        "deadline": Task.deadline,
        "status": Task.status,
        "type": Task.task_type,
        "task_type": Task.task_type,
        "run_id": Task.run_id,
        "checklist_id": Task.checklist_id,
        "step_id": Task.step_id,
        "increment_id": Task.increment_id,
        "position": Task.position,
        "is_oneoff_task": Task.step_id.is_(None),
    },
    "step": {
        "title": Step.title,
        "description": Step.summary,
        "type": Step.step_type,
        "step_type": Step.step_type,
        "position": Step.position,
        "checklist_id": Step.checklist_id,
        "date": Step.created_at,
        "created_at": Step.created_at,
        "updated_at": Step.updated_at,
    },
    "capture": {
        "title": Capture.label,
        "label": Capture.label,
        "description": Capture.guidance,
        "type": Capture.field_type,
        "field_type": Capture.field_type,
        "required": Capture.required,
        "position": Capture.position,
        "checklist_id": Capture.checklist_id,
        "step_id": Capture.step_id,
        "date": Capture.created_at,
        "created_at": Capture.created_at,
        "updated_at": Capture.updated_at,
    },
}

TITLES = {
    "blueprint": Checklist.title,
    "process": Run.name,
    "task": Task.title,
    "step": Step.title,
    "capture": Capture.label,
}
IDS = {
    "blueprint": Checklist.id,
    "process": Run.id,
    "task": Task.id,
    "step": Step.id,
    "capture": Capture.id,
}
# Tag subjects of the result types that can carry tags.
TAG_SUBJECTS = {"blueprint": "Checklist", "process": "Run", "task": "Task"}


def _like(column: Any, text: str) -> ColumnElement[bool]:
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


def _compare(column: Any, operation: str, value: Any) -> ColumnElement[bool]:
    if operation == "=":
        equal: ColumnElement[bool] = column == value
        return equal
    if operation in ("<>", "!="):
        return or_(column.is_(None), column != value)
    ordered: dict[str, ColumnElement[bool]] = {
        "<": column < value,
        ">": column > value,
        "<=": column <= value,
        ">=": column >= value,
    }
    return ordered[operation]


def _date(column: Any, operation: str, value: Moment) -> ColumnElement[bool]:
    if value.end is None:
        return _compare(column, operation, value.start)
    # A bare day is the whole day: `=` within it, `<` before it, `>` after it, ...
    inside = and_(column >= value.start, column < value.end)
    by_operation: dict[str, ColumnElement[bool]] = {
        "=": inside,
        "<>": or_(column.is_(None), not_(inside)),
        "!=": or_(column.is_(None), not_(inside)),
        "<": column < value.start,
        "<=": column < value.end,
        ">": column >= value.end,
        ">=": column >= value.start,
    }
    return by_operation[operation]


def _clause(kind: str, node: Node) -> ColumnElement[bool]:
    if isinstance(node, Group):
        parts = [_clause(kind, child) for child in node.children]
        return and_(*parts) if node.operator == "AND" else or_(*parts)
    return _condition(COLUMNS[kind][node.field], node)


def _condition(column: Any, cond: Condition) -> ColumnElement[bool]:
    value = cond.value
    if isinstance(value, Moment):
        return _date(column, cond.operation, value)
    if isinstance(value, str):
        # Text compares without regard to case.
        return _compare(func.lower(column), cond.operation, value.lower())
    return _compare(column, cond.operation, value)


def _base(kind: str, org_id: str) -> Select[Any]:
    """Live (not archived) records of one organization."""
    if kind == "blueprint":
        return select(Checklist).where(scope(Checklist, org_id))
    if kind == "process":
        return select(Run).where(scope(Run, org_id))
    if kind == "task":
        return select(Task).options(selectinload(Task.owners)).where(scope(Task, org_id))
    if kind == "step":
        return (
            select(Step)
            .join(Checklist, Checklist.id == Step.checklist_id)
            .where(scope(Checklist, org_id))
        )
    archived_checklists = select(Checklist.id).where(scope(Checklist, org_id, "archived"))
    archived_steps = select(Step.id).where(Step.checklist_id.in_(archived_checklists))
    archived_tasks = select(Task.id).where(scope(Task, org_id, "archived"))
    return select(Capture).where(
        scope(Capture, org_id),
        or_(Capture.checklist_id.is_(None), Capture.checklist_id.not_in(archived_checklists)),
        or_(Capture.step_id.is_(None), Capture.step_id.not_in(archived_steps)),
        or_(Capture.task_id.is_(None), Capture.task_id.not_in(archived_tasks)),
    )


def _tagged_like(org_id: str, subject_type: str, text: str) -> Select[Any]:
    tag_ids = select(Tag.id).where(scope(Tag, org_id), _like(Tag.title, text))
    return select(TagAssociation.subject_id).where(
        scope(TagAssociation, org_id),
        TagAssociation.subject_type == subject_type,
        TagAssociation.tag_id.in_(tag_ids),
    )


class SearchRepository(Repository):
    """Text search by title over live (not archived) records of one organization."""

    async def find(
        self,
        kind: str,
        org_id: str,
        text: str,
        with_tags: bool,
        where: Node | None,
        page: PageParams,
    ) -> tuple[list[Any], int]:
        matches = _like(TITLES[kind], text)
        if with_tags and kind in TAG_SUBJECTS:
            matches = or_(matches, IDS[kind].in_(_tagged_like(org_id, TAG_SUBJECTS[kind], text)))
        stmt = _base(kind, org_id).where(matches, _clause(kind, where) if where else true())
        total = await count_of(self.db, stmt)
        rows = await self.db.execute(
            stmt.order_by(func.lower(TITLES[kind]), IDS[kind])
            .offset(page.offset)
            .limit(page.per_page)
        )
        return list(rows.scalars().unique()), total

    async def steps_count(self, checklist_ids: Sequence[str]) -> dict[str, int]:
        if not checklist_ids:
            return {}
        rows = await self.db.execute(
            select(Step.checklist_id, func.count())
            .where(Step.checklist_id.in_(checklist_ids))
            .group_by(Step.checklist_id)
        )
        return {cid: int(n) for cid, n in rows.all()}

    async def folders_by_id(self, org_id: str, folder_ids: Sequence[str]) -> dict[str, Folder]:
        if not folder_ids:
            return {}
        rows = await self.db.execute(
            select(Folder).where(self.scope(Folder, org_id), Folder.id.in_(folder_ids))
        )
        return {f.id: f for f in rows.scalars()}

    async def folders_of(
        self, org_id: str, subject_type: str, subject_ids: Sequence[str]
    ) -> dict[str, list[Folder]]:
        out: dict[str, list[Folder]] = defaultdict(list)
        if not subject_ids:
            return out
        rows = await self.db.execute(
            select(FolderObject.subject_id, Folder)
            .join(Folder, Folder.id == FolderObject.folder_id)
            .where(
                self.scope(FolderObject, org_id),
                FolderObject.subject_type == subject_type,
                FolderObject.subject_id.in_(list(subject_ids)),
            )
            .order_by(FolderObject.id)
        )
        for subject_id, folder in rows.all():
            out[subject_id].append(folder)
        return out
