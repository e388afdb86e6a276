from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.kit.filters import count_of, text_filter
from checkrun.kit.pagination import PageParams
from checkrun.runs.models import Run
from checkrun.tasks.models import Task
from checkrun.templates.models import Capture, Checklist, Step


class SearchRepository:
    """Text search by name over live (not archived) records of one organization."""

    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def _page(self, stmt: Any, page: PageParams, order: Any) -> tuple[list[Any], int]:
        total = await count_of(self.db, stmt)
        rows = await self.db.execute(stmt.order_by(order).offset(page.offset)
                                     .limit(page.per_page))
        return list(rows.scalars()), total

    async def templates(self, org_id: str, text: str, page: PageParams
                        ) -> tuple[list[Any], int]:
        stmt = select(Checklist).where(Checklist.org_id == org_id, Checklist.deleted_at.is_(None))
        return await self._page(text_filter(stmt, Checklist.title, text), page, Checklist.title)

    async def runs(self, org_id: str, text: str, page: PageParams) -> tuple[list[Any], int]:
        stmt = select(Run).where(Run.org_id == org_id, Run.deleted_at.is_(None))
        return await self._page(text_filter(stmt, Run.name, text), page, Run.name)

    async def tasks(self, org_id: str, text: str, page: PageParams) -> tuple[list[Any], int]:
        stmt = select(Task).where(Task.org_id == org_id, Task.deleted_at.is_(None))
        return await self._page(text_filter(stmt, Task.title, text), page, Task.title)

    async def steps(self, org_id: str, text: str, page: PageParams) -> tuple[list[Any], int]:
        stmt = select(Step).join(Checklist, Checklist.id == Step.checklist_id).where(
            Checklist.org_id == org_id, Checklist.deleted_at.is_(None))
        return await self._page(text_filter(stmt, Step.title, text), page, Step.title)

    async def captures(self, org_id: str, text: str, page: PageParams
                       ) -> tuple[list[Any], int]:
        stmt = select(Capture).where(Capture.org_id == org_id)
        return await self._page(text_filter(stmt, Capture.label, text), page, Capture.label)
