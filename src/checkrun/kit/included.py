"""Include loaders shared by runs and tasks: the tags and folders of a page of subjects."""

from __future__ import annotations

from typing import Any, Protocol

from checkrun.folders.service import folders_included
from checkrun.kit.includes import Loader, Page, Wrapped
from checkrun.tags.service import tags_included

Links = Wrapped[list[dict[str, Any]]]


class Filed(Protocol):
    tags: Links | None
    folders: Links | None


def tags_of(subject_type: str) -> Loader[Any, Any]:
    """`with=tags`: each subject's association objects, wrapped."""

    async def load(page: Page[Any, Any]) -> None:
        tags = await tags_included(page.db, page.org_id, subject_type, page.ids)
        for row, read in page.pairs():
            _filed(read).tags = Wrapped(data=tags.get(row.id, []))

    return load


def folders_of(subject_type: str) -> Loader[Any, Any]:
    """`with=folders`: the folders each subject is filed in, wrapped."""

    async def load(page: Page[Any, Any]) -> None:
        folders = await folders_included(page.db, page.org_id, subject_type, page.ids)
        for row, read in page.pairs():
            _filed(read).folders = Wrapped(data=folders.get(row.id, []))

    return load


def _filed(read: Filed) -> Filed:
    return read
