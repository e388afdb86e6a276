"""Folder rules: one tree per type (templates, runs), no cycles, deleting moves the contents
out; filing runs and tasks; the helpers other domains use to file and show folders."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.folders.models import FOLDER_TYPES, Folder
from checkrun.folders.repository import FolderFilters, FoldersRepository
from checkrun.folders.schemas import (
    FolderCreate,
    FolderObjectCreate,
    FolderObjectRead,
    FolderRead,
    FolderUpdate,
)
from checkrun.kit import events
from checkrun.kit.auth import Actor, require_not_light
from checkrun.kit.errors import invalid, invalid_field, not_found
from checkrun.kit.includes import Includes, Wrapped
from checkrun.kit.pagination import PageParams
from checkrun.kit.query import from_query

# What the SDK sends for "no type" (`folder_type=None` goes out as text).
NO_TYPE = ("", "none", "null")
CONTEXT = {"Run": "run_id", "Task": "task_id"}


@from_query
def folder_filters(
    folder_type: str | None = None,
    q: str | None = None,
    sort: str | None = None,
    sort_by: str | None = None,
) -> FolderFilters:
    """The list's query parameters (a FastAPI dependency); a type other than `checklist` or
    `run` is 422."""
    kind = (folder_type or "").strip().lower()
    if kind in NO_TYPE:
        kind = ""
    elif kind not in FOLDER_TYPES:
        raise invalid_field("folder_type", "The selected folder type is invalid.")
    return FolderFilters(folder_type=kind or None, q=q, sort=sort or sort_by)


@from_query
def unpaged(pagination: str | None = None) -> bool:
    """`pagination=false`: every folder in one answer."""
    return (pagination or "").strip().lower() in ("false", "0")


async def _event(
    db: AsyncSession, actor: Actor, folder: Folder, verb: str, description: str, **context: Any
) -> None:
    await events.emit(
        db,
        events.Event(
            org_id=folder.org_id,
            type="Folder",
            verb=verb,
            entity_type="folder",
            entity_id=folder.id,
            description=description,
            **context,
            **events.by(actor),
        ),
    )


async def get_folder(db: AsyncSession, actor: Actor, folder_id: str) -> Folder:
    folder = await FoldersRepository(db).get(actor.org_id, folder_id)
    if folder is None:
        raise not_found()
    return folder


async def list_folders(
    db: AsyncSession, actor: Actor, page: PageParams | None, filters: FolderFilters
) -> tuple[list[Folder], int]:
    return await FoldersRepository(db).search(actor.org_id, page, filters)


async def read_folders(
    db: AsyncSession, folders: list[Folder], includes: Includes
) -> list[FolderRead]:
    repo = FoldersRepository(db)
    if not includes.wants("children"):
        totals = await repo.totals([f.id for f in folders])
        return [FolderRead.of(f, totals.get(f.id, 0)) for f in folders]
    org_id = folders[0].org_id if folders else ""
    everything = await repo.of_types(org_id, sorted({f.folder_type for f in folders}))
    totals = await repo.totals([f.id for f in everything])
    children: dict[str | None, list[Folder]] = defaultdict(list)
    for folder in everything:
        children[folder.parent_id].append(folder)
    return [_tree(f, children, totals, set()) for f in folders]


def _tree(
    folder: Folder, children: dict[str | None, list[Folder]], totals: dict[str, int], seen: set[str]
) -> FolderRead:
    """The folder with its subfolders, wrapped at every level (`children: {"data": [...]}`)."""
    read = FolderRead.of(folder, totals.get(folder.id, 0))
    below = [c for c in children.get(folder.id, []) if c.id not in seen | {folder.id}]
    read.children = Wrapped(data=[_tree(c, children, totals, seen | {folder.id}) for c in below])
    return read


async def _parent(
    db: AsyncSession,
    actor: Actor,
    parent_id: str,
    folder_type: str | None,
    moving: Folder | None = None,
) -> Folder:
    """A folder of this organization and type, and not the moving folder or one inside it."""
    repo = FoldersRepository(db)
    parent = await repo.get(actor.org_id, parent_id)
    if parent is None or (folder_type is not None and parent.folder_type != folder_type):
        raise invalid_field("parent_id", "The selected parent id is invalid.")
    ancestor: Folder | None = parent
    seen: set[str] = set()
    while moving is not None and ancestor is not None and ancestor.id not in seen:
        if ancestor.id == moving.id:
            raise invalid_field(
                "parent_id", "A folder can't be moved into itself or into one of its subfolders."
            )
        seen.add(ancestor.id)
        ancestor = await repo.get(actor.org_id, ancestor.parent_id) if ancestor.parent_id else None
    return parent


async def create_folder(db: AsyncSession, actor: Actor, body: FolderCreate) -> Folder:
    require_not_light(actor)
    parent = await _parent(db, actor, body.parent_id, body.folder_type) if body.parent_id else None
    folder_type = body.folder_type or (parent.folder_type if parent else "checklist")
    repo = FoldersRepository(db)
    folder = Folder(
        org_id=actor.org_id,
        name=body.name,
        folder_type=folder_type,
        parent_id=parent.id if parent else None,
        created_by=actor.user_id,
        position=body.position
        or await repo.next_position(actor.org_id, folder_type, parent.id if parent else None),
    )
    repo.add(folder)
    await db.flush()
    await _event(db, actor, folder, "created", f"Created the folder {folder.name}")
    return folder


async def update_folder(
    db: AsyncSession, actor: Actor, folder_id: str, body: FolderUpdate
) -> Folder:
    require_not_light(actor)
    folder = await get_folder(db, actor, folder_id)
    if body.folder_type is not None and body.folder_type != folder.folder_type:
        raise invalid_field("folder_type", "The folder type can't be changed.")
    if "parent_id" in body.model_fields_set:
        parent = (
            await _parent(db, actor, body.parent_id, folder.folder_type, folder)
            if body.parent_id
            else None
        )
        folder.parent_id = parent.id if parent else None
    if body.name is not None:
        folder.name = body.name
    if body.position is not None:
        folder.position = body.position
    await db.flush()
    await _event(db, actor, folder, "updated", f"Updated the folder {folder.name}")
    return folder


async def delete_folder(db: AsyncSession, actor: Actor, folder_id: str) -> None:
    require_not_light(actor)
    folder = await get_folder(db, actor, folder_id)
    await _event(db, actor, folder, "deleted", f"Deleted the folder {folder.name}")
    await FoldersRepository(db).delete(folder)


async def add_object(
    db: AsyncSession, actor: Actor, body: FolderObjectCreate
) -> tuple[FolderObjectRead, bool]:
    """Files a live run or task in a run folder; filing twice keeps one relation."""
    require_not_light(actor)
    repo = FoldersRepository(db)
    folder = await repo.get(actor.org_id, body.folder_id)
    if folder is None or folder.folder_type != "run":
        raise invalid_field("folder_id", "The selected folder id is invalid.")
    if not await repo.live_subject(actor.org_id, body.subject_type, body.subject_id):
        raise invalid_field("subject_id", "Subject not found")
    relation, made = await _file(db, actor, folder, body.subject_type, body.subject_id)
    return FolderObjectRead.of(relation), made


async def _file(
    db: AsyncSession, actor: Actor, folder: Folder, subject_type: str, subject_id: str
) -> tuple[Any, bool]:
    relation, made = await FoldersRepository(db).file(
        folder.org_id, folder.id, subject_type, subject_id, actor.user_id
    )
    if made:
        await _event(
            db,
            actor,
            folder,
            "linked",
            f"Filed {subject_type} in {folder.name}",
            **{CONTEXT[subject_type]: subject_id},
            extra={"subject_type": subject_type, "subject_id": subject_id},
        )
    return relation, made


async def remove_object(db: AsyncSession, actor: Actor, relation_id: str) -> None:
    require_not_light(actor)
    repo = FoldersRepository(db)
    number = int(relation_id) if relation_id.isdigit() and len(relation_id) < 10 else None
    relation = await repo.relation(actor.org_id, number) if number is not None else None
    if relation is None:
        raise not_found()
    folder = await repo.get(actor.org_id, relation.folder_id)
    if folder is not None:
        await _event(
            db,
            actor,
            folder,
            "unlinked",
            f"Removed {relation.subject_type} from {folder.name}",
            **{CONTEXT[relation.subject_type]: relation.subject_id},
            extra={"subject_type": relation.subject_type, "subject_id": relation.subject_id},
        )
    await repo.unfile(relation)


# For other domains: templates' folder_id, launch `folders`, includes.


async def check_checklist_folder(db: AsyncSession, org_id: str, folder_id: str) -> None:
    """A template can only go in a template folder of its organization (422)."""
    folder = await FoldersRepository(db).get(org_id, folder_id)
    if folder is None or folder.folder_type != "checklist":
        raise invalid_field("folder_id", "The selected folder id is invalid.")


async def check_run_folders(
    db: AsyncSession, org_id: str, folder_ids: Sequence[str], field: str = "folders"
) -> list[str]:
    """Every id must be a run folder of this organization (422 `folders.N`)."""
    found = {
        f.id
        for f in await FoldersRepository(db).by_ids(org_id, folder_ids)
        if f.folder_type == "run"
    }
    errors = {
        f"{field}.{i}": [f"The selected {field}.{i} is invalid."]
        for i, folder_id in enumerate(folder_ids)
        if folder_id not in found
    }
    if errors:
        raise invalid(errors)
    return list(dict.fromkeys(folder_ids))


async def file_subject(
    db: AsyncSession, actor: Actor, subject_type: str, subject_id: str, folder_ids: Sequence[str]
) -> None:
    """Files something just created (a run at launch) in checked folders."""
    found = {f.id: f for f in await FoldersRepository(db).by_ids(actor.org_id, folder_ids)}
    for folder_id in dict.fromkeys(folder_ids):
        if folder_id in found:
            await _file(db, actor, found[folder_id], subject_type, subject_id)


async def folders_included(
    db: AsyncSession, org_id: str, subject_type: str, subject_ids: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """`with=folders` on runs and tasks: the folders, each with `folder_object_id`, the
    relation id that unfiling takes."""
    relations = await FoldersRepository(db).relations_of(org_id, subject_type, subject_ids)
    return {
        subject_id: [
            {**FolderRead.of(folder).model_dump(), "folder_object_id": relation.id}
            for relation, folder in pairs
        ]
        for subject_id, pairs in relations.items()
    }


async def folder_of_checklists(
    db: AsyncSession, org_id: str, folder_ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """`with=folder` on templates: each folder by id."""
    found = await FoldersRepository(db).by_ids(org_id, list({f for f in folder_ids if f}))
    return {f.id: FolderRead.of(f).model_dump() for f in found}
