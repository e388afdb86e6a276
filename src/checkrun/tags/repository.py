from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, case, delete, func, or_, select

from checkrun.kit.filters import count_of, text_filter
from checkrun.kit.names import name_key
from checkrun.kit.pagination import PageParams
from checkrun.kit.repository import Repository, scope
from checkrun.runs.models import Run
from checkrun.tags.models import Tag, TagAssociation
from checkrun.templates.models import Checklist

# Where each subject type's id is kept too, as a cascading foreign key.
SUBJECT_COLUMNS = {"Checklist": "checklist_id", "Run": "run_id", "Task": "task_id"}


@dataclass(frozen=True)
class TagFilters:
    q: str | None = None
    # `all=true` shows auto-generated tags too; `auto_generated` then keeps one kind only.
    include_auto: bool = False
    auto_generated: bool | None = None
    sort: str | None = None


SORTS: dict[str, list[Any]] = {
    "title": [func.lower(Tag.title).asc(), Tag.id],
    "-title": [func.lower(Tag.title).desc(), Tag.id],
    "created_at": [Tag.created_at.asc(), Tag.id],
    "-created_at": [Tag.created_at.desc(), Tag.id],
    "updated_at": [Tag.updated_at.asc(), Tag.id],
    "-updated_at": [Tag.updated_at.desc(), Tag.id],
}


def tagged(org_id: str, subject_type: str, values: Sequence[str]) -> Select[Any]:
    """Ids of `subject_type` subjects carrying any tag named in `values`: by its id, or by
    its title whatever the case."""
    tag_ids = select(Tag.id).where(
        scope(Tag, org_id),
        or_(Tag.id.in_(list(values)), Tag.title_key.in_([name_key(v) for v in values])),
    )
    return select(TagAssociation.subject_id).where(
        scope(TagAssociation, org_id),
        TagAssociation.subject_type == subject_type,
        TagAssociation.tag_id.in_(tag_ids),
    )


def any_tagged(org_id: str, subject_type: str) -> Select[Any]:
    """Ids of `subject_type` subjects with at least one tag."""
    return select(TagAssociation.subject_id).where(
        scope(TagAssociation, org_id), TagAssociation.subject_type == subject_type
    )


class TagsRepository(Repository):
    async def get(self, org_id: str, tag_id: str) -> Tag | None:
        return await self.one(Tag, tag_id, org_id)

    async def titled(self, org_id: str, title: str) -> Tag | None:
        stmt = select(Tag).where(self.scope(Tag, org_id), Tag.title_key == name_key(title))
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def search(
        self, org_id: str, page: PageParams | None, f: TagFilters
    ) -> tuple[list[Tag], int]:
        stmt = text_filter(select(Tag).where(self.scope(Tag, org_id)), Tag.title, f.q)
        if not f.include_auto:
            stmt = stmt.where(Tag.auto_generated.is_(False))
        elif f.auto_generated is not None:
            stmt = stmt.where(Tag.auto_generated.is_(f.auto_generated))
        total = await count_of(self.db, stmt)
        stmt = stmt.order_by(*SORTS.get(f.sort or "", SORTS["title"]))
        if page is not None:
            stmt = stmt.offset(page.offset).limit(page.per_page)
        return list((await self.db.execute(stmt)).scalars()), total

    async def existing_ids(self, org_id: str, tag_ids: Sequence[str]) -> set[str]:
        if not tag_ids:
            return set()
        rows = await self.db.execute(
            select(Tag.id).where(self.scope(Tag, org_id), Tag.id.in_(list(tag_ids)))
        )
        return set(rows.scalars())

    async def statistics(self, tag_ids: list[str]) -> dict[str, dict[str, int]]:
        """Live and archived templates and runs carrying each tag."""
        out = {
            t: {
                "active_template": 0,
                "archived_template": 0,
                "active_process": 0,
                "archived_process": 0,
            }
            for t in tag_ids
        }
        if not tag_ids:
            return out
        for model, noun in ((Checklist, "template"), (Run, "process")):
            archived = func.sum(case((model.deleted_at.is_not(None), 1), else_=0))
            rows = await self.db.execute(
                select(TagAssociation.tag_id, func.count(), archived)
                .join(model, model.id == TagAssociation.subject_id)
                .where(
                    TagAssociation.tag_id.in_(tag_ids),
                    TagAssociation.subject_type == model.__name__,
                )
                .group_by(TagAssociation.tag_id)
            )
            for tag_id, total, gone in rows.all():
                out[tag_id][f"active_{noun}"] = int(total) - int(gone or 0)
                out[tag_id][f"archived_{noun}"] = int(gone or 0)
        return out

    async def delete(self, org_id: str, tag_id: str) -> None:
        """Its links go with it (ON DELETE CASCADE)."""
        await self.db.execute(delete(Tag).where(self.scope(Tag, org_id), Tag.id == tag_id))

    async def live_checklist(self, org_id: str, checklist_id: str) -> Checklist | None:
        return await self.one(Checklist, checklist_id, org_id)

    async def live_run(self, org_id: str, run_id: str) -> Run | None:
        return await self.one(Run, run_id, org_id)

    async def association(self, org_id: str, association_id: int) -> TagAssociation | None:
        stmt = select(TagAssociation).where(
            self.scope(TagAssociation, org_id), TagAssociation.id == association_id
        )
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def links_of(
        self, org_id: str, subject_type: str, subject_ids: Sequence[str]
    ) -> dict[str, list[tuple[TagAssociation, Tag]]]:
        """Each subject's tags, in the order they were put on."""
        out: dict[str, list[tuple[TagAssociation, Tag]]] = defaultdict(list)
        if not subject_ids:
            return out
        rows = await self.db.execute(
            select(TagAssociation, Tag)
            .join(Tag, Tag.id == TagAssociation.tag_id)
            .where(
                self.scope(TagAssociation, org_id),
                TagAssociation.subject_type == subject_type,
                TagAssociation.subject_id.in_(list(subject_ids)),
            )
            .order_by(TagAssociation.id)
        )
        for link, tag in rows.all():
            out[link.subject_id].append((link, tag))
        return out

    async def link(
        self,
        org_id: str,
        tag_id: str,
        subject_type: str,
        subject_id: str,
        tag_type: str = "private",
    ) -> tuple[TagAssociation, bool]:
        """The subject's link to the tag, made if missing; answers whether it is new."""
        found = (
            await self.db.execute(
                select(TagAssociation).where(
                    self.scope(TagAssociation, org_id),
                    TagAssociation.tag_id == tag_id,
                    TagAssociation.subject_type == subject_type,
                    TagAssociation.subject_id == subject_id,
                )
            )
        ).scalar_one_or_none()
        if found is not None:
            return found, False
        link = TagAssociation(
            org_id=org_id,
            tag_id=tag_id,
            tag_type=tag_type,
            subject_type=subject_type,
            subject_id=subject_id,
            **{SUBJECT_COLUMNS[subject_type]: subject_id},
        )
        self.db.add(link)
        await self.db.flush()
        return link, True

    async def unlink(self, link: TagAssociation) -> None:
        await self.db.delete(link)
        await self.db.flush()

    def add(self, *objs: object) -> None:
        self.db.add_all(objs)
