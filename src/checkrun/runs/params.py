"""Query parameters of the run list (a FastAPI dependency: the parameter names are the API's)."""

from __future__ import annotations

from checkrun.kit.query import from_query
from checkrun.runs.repository import RunFilters
from checkrun.tasks.params import flag, user_ids


@from_query
def run_filters(
    status: str | None = None,
    q: str | None = None,
    archived: str | None = None,
    checklist_id: str | None = None,
    blueprint_id: str | None = None,
    owners: str | None = None,
    starred: str | None = None,
    type: str | None = None,
    sort: str | None = None,
    sort_by: str | None = None,
    tag: str | None = None,
    folder: str | None = None,
    tag_ids: str | None = None,
    untagged: str | None = None,
) -> RunFilters:
    return RunFilters(
        status=(status or "").strip().lower() or None,
        q=q,
        archived=archived,
        checklist_id=checklist_id or blueprint_id,
        owners=user_ids("owners", owners),
        starred=flag(starred),
        type=type,
        sort=sort or sort_by,
        tags=tuple(t.strip() for t in [tag or "", *(tag_ids or "").split(",")] if t.strip()),
        untagged=bool(flag(untagged)),
        folder=(folder or "").strip() or None,
    )
