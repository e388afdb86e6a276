from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from sqlalchemy import BindParameter, Select, bindparam, delete, false, func, select

from checkrun.kit.filters import archived_filter, count_of, text_filter
from checkrun.kit.locking import note_locked
from checkrun.kit.pagination import PageParams
from checkrun.kit.repository import ORG_ID, ROW_ID, Repository, scope
from checkrun.orgs.models import Organization
from checkrun.orgs.repository import SETTINGS_LOCK, launch_settings_lock
from checkrun.runs.models import Run
from checkrun.tags.repository import tagged
from checkrun.tasks.models import CaptureValue
from checkrun.templates.models import Capture, Checklist, ChecklistVersion, Step
from checkrun.webhooks.repository import has_watchers, note_watchers


@dataclass(frozen=True)
class ChecklistFilters:
    q: str | None = None
    archived: str | None = None
    sort: str | None = None
    type: str | None = None
    starred: bool | None = None
    owner_id: int | None = None
    folder: str | None = None
    # A tag id or title.
    tag: str | None = None
    # `active` (live), `archived`, `all`, `published`, `draft` (see `templates/versions.py`).
    status: str | None = None


# Titles sort without regard to case, the same on SQLite and PostgreSQL.
SORTS: dict[str, list[Any]] = {
    "title": [func.lower(Checklist.title).asc()],
    "-title": [func.lower(Checklist.title).desc()],
    "created_at": [Checklist.created_at.asc()],
    "-created_at": [Checklist.created_at.desc()],
    "updated_at": [Checklist.updated_at.asc()],
    "-updated_at": [Checklist.updated_at.desc()],
}
SORTS |= {
    "updated": SORTS["-updated_at"],
    "last_updated": SORTS["-updated_at"],
    "newest": SORTS["-created_at"],
    "oldest": SORTS["created_at"],
}
# Pinned templates come first whatever the order asked for.
PINNED = func.coalesce(Checklist.settings["is_pinned"].as_boolean(), false()).desc()


def _by_status(stmt: Select[Any], f: ChecklistFilters) -> Select[Any]:
    """`status` wins over `archived`: `archived` is the archived ones, `all` both, the others
    live templates only."""
    if f.status == "archived":
        return stmt.where(Checklist.deleted_at.is_not(None))
    if f.status == "all":
        return stmt
    if f.status in ("published", "draft"):
        return stmt.where(
            Checklist.deleted_at.is_(None), Checklist.is_published.is_(f.status == "published")
        )
    if f.status == "active":
        return stmt.where(Checklist.deleted_at.is_(None))
    return archived_filter(stmt, Checklist.deleted_at, f.archived)


def _filtered(stmt: Select[Any], org_id: str, f: ChecklistFilters) -> Select[Any]:
    stmt = text_filter(_by_status(stmt, f), Checklist.title, f.q)
    if f.tag:
        stmt = stmt.where(Checklist.id.in_(tagged(org_id, "Checklist", [f.tag])))
    if f.type:
        stmt = stmt.where(Checklist.type == f.type)
    if f.starred is not None:
        stmt = stmt.where(Checklist.starred.is_(f.starred))
    if f.owner_id is not None:
        stmt = stmt.where(Checklist.owner_id == f.owner_id)
    if f.folder:
        stmt = stmt.where(Checklist.folder_id == f.folder)
    return stmt


_IDS: BindParameter[str] = bindparam("checklist_ids", expanding=True)


@cache
def _for_launch(for_update: bool = False) -> Select[Checklist, Organization, bool]:
    stmt = (
        select(Checklist, Organization, has_watchers())
        .join(Organization, Organization.id == Checklist.org_id)
        .where(scope(Checklist, ORG_ID), Checklist.id == ROW_ID)
    )
    if not for_update:
        return stmt
    # PostgreSQL (SQLite's lock is its first write): `FOR SHARE`, which an edit's `FOR UPDATE`
    # waits for (and it for an edit) while launches of the template go side by side; with the
    # organization's settings lock, a fourth column read only to see that it was taken.
    locking = stmt.add_columns(launch_settings_lock(Organization.id))
    shared = locking.with_for_update(of=Checklist, read=True)
    return cast(Select[Checklist, Organization, bool], shared)


@cache
def _steps_of() -> Select[Step]:
    return select(Step).where(Step.checklist_id.in_(_IDS)).order_by(Step.position)


@cache
def _prerun_of() -> Select[Capture]:
    kickoff = Capture.is_prerun.is_(True)
    return select(Capture).where(Capture.checklist_id.in_(_IDS), kickoff).order_by(Capture.position)


class TemplatesRepository(Repository):
    async def get(self, org_id: str, checklist_id: str, archived: bool = False) -> Checklist | None:
        stmt = select(Checklist).where(
            self.scope(Checklist, org_id, "all" if archived else "live"),
            Checklist.id == checklist_id,
        )
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def lock(self, org_id: str, checklist_id: str) -> Checklist | None:
        """A live template locked until the transaction ends: its edits and publishes (which
        number versions) happen one after the other."""
        return await self.locked_one(Checklist, checklist_id, org_id)

    async def lock_for_launch(
        self, org_id: str, checklist_id: str
    ) -> tuple[Checklist, Organization] | None:
        """`lock`, reading the organization in the same statement, with whether it has webhook
        watchers (a launch notifies them)."""
        row = await self.locked_with(Checklist, _for_launch, checklist_id, org_id)
        if row is None:
            return None
        if len(row) > 3:  # this statement took the organization's settings lock
            note_locked(self.db, SETTINGS_LOCK, org_id)
        note_watchers(self.db, org_id, row[2])
        return row[0], row[1]

    async def by_ids(self, checklist_ids: list[str]) -> list[Checklist]:
        """Templates by id, archived ones too (a run shows the template it came from)."""
        if not checklist_ids:
            return []
        rows = await self.db.execute(select(Checklist).where(Checklist.id.in_(checklist_ids)))
        return list(rows.scalars())

    async def search(
        self, org_id: str, page: PageParams, filters: ChecklistFilters
    ) -> tuple[list[Checklist], int]:
        stmt = _filtered(
            select(Checklist).where(self.scope(Checklist, org_id, "all")), org_id, filters
        )
        total = await count_of(self.db, stmt)
        order = SORTS.get(filters.sort or "", SORTS["updated"])
        rows = await self.db.execute(
            stmt.order_by(PINNED, *order, Checklist.id).offset(page.offset).limit(page.per_page)
        )
        return list(rows.scalars()), total

    async def titles(
        self, org_id: str, page: PageParams, filters: ChecklistFilters
    ) -> list[tuple[str, str]]:
        """(id, title) in the order `search` answers, without loading whole rows."""
        columns: list[Any] = [Checklist.id, Checklist.title]
        stmt = _filtered(
            select(*columns).where(self.scope(Checklist, org_id, "all")), org_id, filters
        )
        order = SORTS.get(filters.sort or "", SORTS["updated"])
        rows = await self.db.execute(
            stmt.order_by(PINNED, *order, Checklist.id).offset(page.offset).limit(page.per_page)
        )
        return [(checklist_id, title) for checklist_id, title in rows.all()]

    async def runs_started(self, checklist_ids: list[str]) -> dict[str, int]:
        if not checklist_ids:
            return {}
        rows = await self.db.execute(
            select(Run.checklist_id, func.count())
            .where(Run.checklist_id.in_(checklist_ids))
            .group_by(Run.checklist_id)
        )
        return {checklist_id: int(n) for checklist_id, n in rows.all()}

    async def steps_of(self, checklist_ids: list[str]) -> dict[str, list[Step]]:
        out: dict[str, list[Step]] = defaultdict(list)
        if not checklist_ids:
            return out
        rows = await self.db.execute(_steps_of(), {_IDS.key: checklist_ids})
        for step in rows.scalars():
            out[step.checklist_id].append(step)
        return out

    async def step_counts(self, checklist_ids: list[str]) -> dict[str, int]:
        if not checklist_ids:
            return {}
        rows = await self.db.execute(
            select(Step.checklist_id, func.count())
            .where(Step.checklist_id.in_(checklist_ids))
            .group_by(Step.checklist_id)
        )
        return {checklist_id: int(n) for checklist_id, n in rows.all()}

    async def steps_page(self, checklist_id: str, page: PageParams) -> tuple[list[Step], int]:
        stmt = select(Step).where(Step.checklist_id == checklist_id)
        total = await count_of(self.db, stmt)
        rows = await self.db.execute(
            stmt.order_by(Step.position, Step.id).offset(page.offset).limit(page.per_page)
        )
        return list(rows.scalars()), total

    async def step(self, checklist_id: str, step_id: str) -> Step | None:
        return (
            await self.db.execute(
                select(Step).where(Step.checklist_id == checklist_id, Step.id == step_id)
            )
        ).scalar_one_or_none()

    async def prerun_of(self, checklist_ids: list[str]) -> dict[str, list[Capture]]:
        out: dict[str, list[Capture]] = defaultdict(list)
        if not checklist_ids:
            return out
        rows = await self.db.execute(_prerun_of(), {_IDS.key: checklist_ids})
        for capture in rows.scalars():
            out[capture.checklist_id or ""].append(capture)
        return out

    async def captures_of_steps(self, step_ids: list[str]) -> dict[str, list[Capture]]:
        out: dict[str, list[Capture]] = defaultdict(list)
        if not step_ids:
            return out
        rows = await self.db.execute(
            select(Capture).where(Capture.step_id.in_(step_ids)).order_by(Capture.position)
        )
        for capture in rows.scalars():
            out[capture.step_id or ""].append(capture)
        return out

    async def steps_with_captures(
        self, step_ids: list[str]
    ) -> dict[str, tuple[Step, list[Capture]]]:
        """Steps by id (deleted ones missing), each with its fields in order: one statement."""
        out: dict[str, tuple[Step, list[Capture]]] = {}
        if not step_ids:
            return out
        rows = await self.db.execute(
            select(Step, Capture)
            .outerjoin(Capture, Capture.step_id == Step.id)
            .where(Step.id.in_(step_ids))
            .order_by(Capture.position)
        )
        for step, capture in rows.all():
            _, captures = out.setdefault(step.id, (step, []))
            if capture is not None:
                captures.append(capture)
        return out

    async def template_values(self, capture_ids: list[str]) -> dict[str, Any]:
        """Values set on the template itself (kick-off defaults): no task, no run."""
        if not capture_ids:
            return {}
        rows = await self.db.execute(
            select(CaptureValue.capture_id, CaptureValue.value).where(
                CaptureValue.capture_id.in_(capture_ids),
                CaptureValue.task_id.is_(None),
                CaptureValue.run_id.is_(None),
            )
        )
        return {capture_id: value for capture_id, value in rows.all()}

    async def set_template_value(self, capture_id: str, value: Any) -> None:
        await self.db.execute(
            delete(CaptureValue).where(
                CaptureValue.capture_id == capture_id,
                CaptureValue.task_id.is_(None),
                CaptureValue.run_id.is_(None),
            )
        )
        if value is not None:
            self.db.add(CaptureValue(capture_id=capture_id, value=value))

    async def delete_step(self, step_id: str) -> None:
        await self.db.execute(delete(Step).where(Step.id == step_id))

    async def delete_captures(self, capture_ids: list[str]) -> None:
        if capture_ids:
            await self.db.execute(delete(Capture).where(Capture.id.in_(capture_ids)))

    async def purge(self, checklist_id: str) -> None:
        """Steps, form fields, their values and the template's files go with it (CASCADE)."""
        await self.db.execute(delete(Checklist).where(Checklist.id == checklist_id))

    async def next_step_position(self, checklist_id: str) -> int:
        result = await self.db.execute(
            select(func.coalesce(func.max(Step.position), 0)).where(
                Step.checklist_id == checklist_id
            )
        )
        return int(result.scalar_one()) + 1

    async def version_content(self, checklist_id: str, version: int) -> dict[str, Any] | None:
        """The frozen content of that version, None when it is not frozen."""
        return (
            await self.db.execute(
                select(ChecklistVersion.content).where(
                    ChecklistVersion.checklist_id == checklist_id,
                    ChecklistVersion.version == version,
                )
            )
        ).scalar_one_or_none()

    async def launched_from(self, checklist_id: str, version: int) -> bool:
        """Whether a run (archived ones too) was launched from that version."""
        found = await self.db.execute(
            select(Run.id).where(Run.checklist_id == checklist_id, Run.version == version).limit(1)
        )
        return found.first() is not None

    async def latest_version(self, checklist_id: str) -> int:
        result = await self.db.execute(
            select(func.coalesce(func.max(ChecklistVersion.version), 0)).where(
                ChecklistVersion.checklist_id == checklist_id
            )
        )
        return int(result.scalar_one())

    def add(self, *objs: object) -> None:
        self.db.add_all(objs)
