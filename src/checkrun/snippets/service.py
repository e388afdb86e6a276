"""Snippets ("text templates"): any member reads them; admins and standard members write."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.kit.auth import Actor, require_not_light
from checkrun.kit.clock import now
from checkrun.kit.errors import not_found
from checkrun.kit.pagination import PageParams
from checkrun.snippets.models import Snippet
from checkrun.snippets.repository import SnippetsRepository
from checkrun.snippets.schemas import SnippetWrite


async def list_snippets(
    db: AsyncSession, actor: Actor, page: PageParams, q: str | None
) -> tuple[list[Snippet], int]:
    return await SnippetsRepository(db).search(actor.org_id, page, q)


async def get_snippet(db: AsyncSession, actor: Actor, snippet_id: str) -> Snippet:
    found = await SnippetsRepository(db).get(actor.org_id, snippet_id)
    if found is None:
        raise not_found()
    return found


async def create_snippet(db: AsyncSession, actor: Actor, body: SnippetWrite) -> Snippet:
    require_not_light(actor)
    snippet = Snippet(
        org_id=actor.org_id, title=body.title, content=body.content, created_by=actor.user_id
    )
    SnippetsRepository(db).add(snippet)
    await db.flush()
    return snippet


async def update_snippet(
    db: AsyncSession, actor: Actor, snippet_id: str, body: SnippetWrite
) -> Snippet:
    require_not_light(actor)
    snippet = await get_snippet(db, actor, snippet_id)
    snippet.title, snippet.content, snippet.updated_at = body.title, body.content, now()
    await db.flush()
    return snippet


async def delete_snippet(db: AsyncSession, actor: Actor, snippet_id: str) -> None:
    require_not_light(actor)
    await SnippetsRepository(db).delete(await get_snippet(db, actor, snippet_id))
    await db.flush()
