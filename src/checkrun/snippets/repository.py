from __future__ import annotations

from sqlalchemy import select

from checkrun.kit.filters import count_of, text_filter
from checkrun.kit.pagination import PageParams
from checkrun.kit.repository import Repository
from checkrun.snippets.models import Snippet


class SnippetsRepository(Repository):
    async def get(self, org_id: str, snippet_id: str) -> Snippet | None:
        return await self.one(Snippet, snippet_id, org_id)

    async def search(
        self, org_id: str, page: PageParams, q: str | None
    ) -> tuple[list[Snippet], int]:
        stmt = text_filter(select(Snippet).where(self.scope(Snippet, org_id)), Snippet.title, q)
        total = await count_of(self.db, stmt)
        rows = await self.db.execute(
            stmt.order_by(Snippet.created_at.desc(), Snippet.id)
            .offset(page.offset)
            .limit(page.per_page)
        )
        return list(rows.scalars()), total

    def add(self, snippet: Snippet) -> None:
        self.db.add(snippet)

    async def delete(self, snippet: Snippet) -> None:
        await self.db.delete(snippet)
