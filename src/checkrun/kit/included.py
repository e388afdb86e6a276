"""Include loaders shared by runs and tasks: the tags and folders of a page of subjects (their
read models declare `tags` and `folders` include fields)."""

from __future__ import annotations

from typing import Any

from checkrun.folders.service import folders_included
from checkrun.kit.includes import Loader, Page, Wrapped
from checkrun.tags.service import tags_included


def tags_of(subject_type: str) -> Loader[Any, Any]:
    """`with=tags`: each subject's association objects, wrapped."""

    async def load(page: Page[Any, Any]) -> None:
        tags = await tags_included(page.db, page.org_id, subject_type, page.ids)
        for row, read in page.pairs():
            read.tags = Wrapped(data=tags.get(row.id, []))

    return load


def folders_of(subject_type: str) -> Loader[Any, Any]:
    """`with=folders`: the folders each subject is filed in, wrapped."""

    async def load(page: Page[Any, Any]) -> None:
        folders = await folders_included(page.db, page.org_id, subject_type, page.ids)
        for row, read in page.pairs():
            read.folders = Wrapped(data=folders.get(row.id, []))

    return load
