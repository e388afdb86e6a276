from __future__ import annotations

from sqlalchemy import case, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.kit.filters import archived_filter, count_of, text_filter
from checkrun.kit.pagination import PageParams
from checkrun.runs.models import Run
from checkrun.tasks.models import Task


class RunsRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def get(self, org_id: str, run_id: str) -> Run | None:
        """Archived runs are found too: they are shown, activated and purged by id."""
        return (
            await self.db.execute(select(Run).where(Run.org_id == org_id, Run.id == run_id))
        ).scalar_one_or_none()

    async def search(
        self,
        org_id: str,
        page: PageParams,
        *,
        status: str | None,
        q: str | None,
        archived: str | None,
        checklist_id: str | None,
    ) -> tuple[list[Run], int]:
        stmt = select(Run).where(Run.org_id == org_id)
        if status == "archived":
            archived = "only"
        elif status:
            stmt = stmt.where(Run.status.in_(("problem", "issue") if status == "problem"
                                             else (status,)))
        stmt = archived_filter(stmt, Run.deleted_at, archived)
        stmt = text_filter(stmt, Run.name, q)
        if checklist_id:
            stmt = stmt.where(Run.checklist_id == checklist_id)
        total = await count_of(self.db, stmt)
        rows = await self.db.execute(
            stmt.order_by(Run.created_at.desc(), Run.id).offset(page.offset).limit(page.per_page)
        )
        return list(rows.scalars()), total

    async def get_by_id(self, run_id: str) -> Run | None:
        return await self.db.get(Run, run_id)

    async def progress_of(self, run_ids: list[str]) -> dict[str, tuple[int, int]]:
        """(completed, total) per run, auto-skipped tasks left out of both."""
        if not run_ids:
            return {}
        done = func.sum(case((Task.status == "completed", 1), else_=0))
        rows = await self.db.execute(
            select(Task.run_id, done, func.count())
            .where(Task.run_id.in_(run_ids), Task.status != "auto-skipped")
            .group_by(Task.run_id)
        )
        return {run_id: (int(d or 0), int(n)) for run_id, d, n in rows.all()}

    async def purge(self, run_id: str) -> None:
        """Tasks, their owners, form values and assets go with it (ON DELETE CASCADE)."""
        await self.db.execute(delete(Run).where(Run.id == run_id))

    def add(self, *objs: object) -> None:
        self.db.add_all(objs)
