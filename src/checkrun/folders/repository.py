from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, func, select, update

from checkrun.folders.models import Folder, FolderObject
from checkrun.kit.filters import count_of, text_filter
from checkrun.kit.pagination import PageParams
from checkrun.kit.repository import Repository, scope
from checkrun.runs.models import Run
from checkrun.tasks.models import Task
from checkrun.templates.models import Checklist

SUBJECT_COLUMNS = {"Run": "run_id", "Task": "task_id"}


@dataclass(frozen=True)
class FolderFilters:
    folder_type: str | None = None
    q: str | None = None
    sort: str | None = None


SORTS: dict[str, list[Any]] = {
    "position": [Folder.position.asc(), func.lower(Folder.name).asc(), Folder.id],
    "-position": [Folder.position.desc(), func.lower(Folder.name).desc(), Folder.id],
    "name": [func.lower(Folder.name).asc(), Folder.id],
    "-name": [func.lower(Folder.name).desc(), Folder.id],
    "created_at": [Folder.created_at.asc(), Folder.id],
    "-created_at": [Folder.created_at.desc(), Folder.id],
}


def filed(org_id: str, subject_type: str, folder_id: str) -> Select[Any]:
    """Ids of `subject_type` subjects filed in the folder."""
    return select(FolderObject.subject_id).where(
        scope(FolderObject, org_id),
        FolderObject.subject_type == subject_type,
        FolderObject.folder_id == folder_id,
    )


class FoldersRepository(Repository):
    async def get(self, org_id: str, folder_id: str) -> Folder | None:
        return await self.one(Folder, folder_id, org_id)

    async def by_ids(self, org_id: str, folder_ids: Sequence[str]) -> list[Folder]:
        if not folder_ids:
            return []
        rows = await self.db.execute(
            select(Folder).where(self.scope(Folder, org_id), Folder.id.in_(list(folder_ids)))
        )
        return list(rows.scalars())

    async def search(
        self, org_id: str, page: PageParams | None, f: FolderFilters
    ) -> tuple[list[Folder], int]:
        stmt = text_filter(select(Folder).where(self.scope(Folder, org_id)), Folder.name, f.q)
        if f.folder_type:
            stmt = stmt.where(Folder.folder_type == f.folder_type)
        total = await count_of(self.db, stmt)
        stmt = stmt.order_by(*SORTS.get(f.sort or "", SORTS["position"]))
        if page is not None:
            stmt = stmt.offset(page.offset).limit(page.per_page)
        return list((await self.db.execute(stmt)).scalars()), total

    async def of_types(self, org_id: str, folder_types: Sequence[str]) -> list[Folder]:
        """Every folder of these types, in position order (to build trees)."""
        rows = await self.db.execute(
            select(Folder)
            .where(self.scope(Folder, org_id), Folder.folder_type.in_(list(folder_types)))
            .order_by(*SORTS["position"])
        )
        return list(rows.scalars())

    async def next_position(self, org_id: str, folder_type: str, parent_id: str | None) -> int:
        """Last among its siblings."""
        sibling = Folder.parent_id.is_(None) if parent_id is None else Folder.parent_id == parent_id
        result = await self.db.execute(
            select(func.coalesce(func.max(Folder.position), 0)).where(
                self.scope(Folder, org_id), Folder.folder_type == folder_type, sibling
            )
        )
        return int(result.scalar_one()) + 1

    async def totals(self, folder_ids: Sequence[str]) -> dict[str, int]:
        """What is filed in each folder: live templates, plus runs and tasks."""
        out: dict[str, int] = defaultdict(int)
        if not folder_ids:
            return out
        templates = await self.db.execute(
            select(Checklist.folder_id, func.count())
            .where(Checklist.folder_id.in_(list(folder_ids)), Checklist.deleted_at.is_(None))
            .group_by(Checklist.folder_id)
        )
        objects = await self.db.execute(
            select(FolderObject.folder_id, func.count())
            .where(FolderObject.folder_id.in_(list(folder_ids)))
            .group_by(FolderObject.folder_id)
        )
        for folder_id, n in [*templates.all(), *objects.all()]:
            out[str(folder_id)] += int(n)
        return out

    async def delete(self, folder: Folder) -> None:
        """Its templates are unfiled, its subfolders move up to its parent, and its run and
        task relations go with it (ON DELETE CASCADE)."""
        await self.db.execute(
            update(Checklist)
            .where(self.scope(Checklist, folder.org_id, "all"), Checklist.folder_id == folder.id)
            .values(folder_id=None)
        )
        await self.db.execute(
            update(Folder)
            .where(self.scope(Folder, folder.org_id), Folder.parent_id == folder.id)
            .values(parent_id=folder.parent_id)
        )
        await self.db.execute(delete(Folder).where(Folder.id == folder.id))

    async def live_subject(self, org_id: str, subject_type: str, subject_id: str) -> bool:
        model: type[Run] | type[Task] = Run if subject_type == "Run" else Task
        found = await self.db.execute(
            select(model.id).where(self.scope(model, org_id), model.id == subject_id)
        )
        return found.scalar_one_or_none() is not None

    async def relation(self, org_id: str, relation_id: int) -> FolderObject | None:
        stmt = select(FolderObject).where(
            self.scope(FolderObject, org_id), FolderObject.id == relation_id
        )
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def file(
        self, org_id: str, folder_id: str, subject_type: str, subject_id: str, by: int | None
    ) -> tuple[FolderObject, bool]:
        """The subject's relation to the folder, made if missing; answers whether it is new."""
        found = (
            await self.db.execute(
                select(FolderObject).where(
                    self.scope(FolderObject, org_id),
                    FolderObject.folder_id == folder_id,
                    FolderObject.subject_type == subject_type,
                    FolderObject.subject_id == subject_id,
                )
            )
        ).scalar_one_or_none()
        if found is not None:
            return found, False
        relation = FolderObject(
            org_id=org_id,
            folder_id=folder_id,
            subject_type=subject_type,
            subject_id=subject_id,
            created_by=by,
            **{SUBJECT_COLUMNS[subject_type]: subject_id},
        )
        self.db.add(relation)
        await self.db.flush()
        return relation, True

    async def unfile(self, relation: FolderObject) -> None:
        await self.db.delete(relation)
        await self.db.flush()

    async def relations_of(
        self, org_id: str, subject_type: str, subject_ids: Sequence[str]
    ) -> dict[str, list[tuple[FolderObject, Folder]]]:
        out: dict[str, list[tuple[FolderObject, Folder]]] = defaultdict(list)
        if not subject_ids:
            return out
        rows = await self.db.execute(
            select(FolderObject, Folder)
            .join(Folder, Folder.id == FolderObject.folder_id)
            .where(
                self.scope(FolderObject, org_id),
                FolderObject.subject_type == subject_type,
                FolderObject.subject_id.in_(list(subject_ids)),
            )
            .order_by(FolderObject.id)
        )
        for relation, folder in rows.all():
            out[relation.subject_id].append((relation, folder))
        return out

    def add(self, *objs: object) -> None:
        self.db.add_all(objs)
