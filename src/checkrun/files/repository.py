from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, or_, select, update

from checkrun.files.models import Asset
from checkrun.kit.repository import Repository, Rows
from checkrun.tasks.models import Task


def _of_parent(
    run_id: str | None = None, task_id: str | None = None, checklist_id: str | None = None
) -> ColumnElement[bool]:
    if run_id is not None:
        # A run's files: those uploaded against the run and those of its tasks.
        return or_(
            Asset.run_id == run_id,
            Asset.task_id.in_(select(Task.id).where(Task.run_id == run_id)),
        )
    if checklist_id is not None:
        return Asset.checklist_id == checklist_id
    return Asset.task_id == task_id


class FilesRepository(Repository):
    async def get(self, org_id: str, asset_id: str, archived: bool = False) -> Asset | None:
        rows: Rows = "all" if archived else "live"
        return await self.one(Asset, asset_id, org_id, rows)

    async def of_task(self, org_id: str, task: Task) -> list[Asset]:
        """A task's live files: uploaded to the task, or to its process for its step."""
        mine: ColumnElement[bool] = Asset.task_id == task.id
        if task.run_id is not None and task.step_id is not None:
            mine = or_(mine, and_(Asset.run_id == task.run_id, Asset.step_id == task.step_id))
        rows = await self.db.execute(
            select(Asset).where(self.scope(Asset, org_id), mine).order_by(Asset.uploaded_at)
        )
        return list(rows.scalars())

    async def of_runs(self, run_ids: list[str]) -> dict[str, list[Asset]]:
        """Live files per run: those uploaded to the run, then those of its tasks (each in
        upload order), in one statement."""
        if not run_ids:
            return {}
        rows = await self.db.execute(
            select(Asset, Task.run_id)
            .outerjoin(Task, Task.id == Asset.task_id)
            .where(
                or_(Asset.run_id.in_(run_ids), Task.run_id.in_(run_ids)),
                Asset.deleted_at.is_(None),
            )
            .order_by(Asset.uploaded_at)
        )
        direct: dict[str, list[Asset]] = defaultdict(list)
        via_tasks: dict[str, list[Asset]] = defaultdict(list)
        for asset, task_run_id in rows.all():
            if asset.run_id in run_ids:
                direct[asset.run_id].append(asset)
            if task_run_id in run_ids:
                via_tasks[task_run_id].append(asset)
        return {r: direct.get(r, []) + via_tasks.get(r, []) for r in run_ids}

    async def storage_keys(
        self,
        run_id: str | None = None,
        task_ids: list[str] | None = None,
        checklist_id: str | None = None,
    ) -> list[str]:
        conditions: list[Any] = []
        if run_id is not None:
            conditions.append(_of_parent(run_id=run_id))
        if checklist_id is not None:
            conditions.append(_of_parent(checklist_id=checklist_id))
        if task_ids:
            conditions.append(Asset.task_id.in_(task_ids))
        if not conditions:
            return []
        rows = await self.db.execute(select(Asset.storage_key).where(or_(*conditions)))
        return list(rows.scalars())

    async def set_archived(
        self,
        when: datetime,
        run_id: str | None = None,
        task_id: str | None = None,
        checklist_id: str | None = None,
    ) -> None:
        await self.db.execute(
            update(Asset)
            .where(_of_parent(run_id, task_id, checklist_id), Asset.deleted_at.is_(None))
            .values(deleted_at=when, archived_with_parent=True)
            .execution_options(synchronize_session=False)
        )

    async def restore_archived(
        self,
        run_id: str | None = None,
        task_id: str | None = None,
        checklist_id: str | None = None,
    ) -> None:
        await self.db.execute(
            update(Asset)
            .where(_of_parent(run_id, task_id, checklist_id), Asset.archived_with_parent.is_(True))
            .values(deleted_at=None, archived_with_parent=False)
            .execution_options(synchronize_session=False)
        )

    async def purge(self, asset_id: str) -> None:
        await self.purge_many([asset_id])

    async def purge_many(self, asset_ids: list[str]) -> None:
        if asset_ids:
            await self.db.execute(delete(Asset).where(Asset.id.in_(asset_ids)))

    async def all_storage_keys(self) -> dict[str, str]:
        """storage key -> asset id, over every organization (for gc)."""
        rows = await self.db.execute(select(Asset.storage_key, Asset.id))
        return {key: asset_id for key, asset_id in rows.all()}

    def add(self, *objs: object) -> None:
        self.db.add_all(objs)
