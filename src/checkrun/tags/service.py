"""Tag rules: unique titles, hard delete with every link, links to templates, runs and tasks,
and the helpers other domains use to tag what they create and to show tags."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.kit import events
from checkrun.kit.auth import Actor, require_not_light
from checkrun.kit.errors import invalid, invalid_field, not_found
from checkrun.kit.includes import Includes, Wrapped
from checkrun.kit.pagination import PageParams
from checkrun.kit.query import from_query
from checkrun.tags.models import Tag, TagAssociation
from checkrun.tags.repository import TagFilters, TagsRepository
from checkrun.tags.schemas import AssociationRead, TagAttach, TagCreate, TagRead, TagUpdate

TAKEN = "The title has already been taken."
SUBJECT_NOT_FOUND = "Subject not found"
# Where an event about a link is filed, by subject type.
CONTEXT = {"Checklist": "checklist_id", "Run": "run_id", "Task": "task_id"}


@from_query
def tag_filters(
    q: str | None = None,
    all: str | None = None,
    auto_generated: str | None = None,
    sort: str | None = None,
    sort_by: str | None = None,
    status: str | None = None,
) -> TagFilters:
    """The list's query parameters (a FastAPI dependency). `all` must be the literal `true`,
    as Tallyfy reads it; `status` is accepted and has nothing to select (tags are never
    archived)."""
    kind = {"true": True, "1": True, "false": False, "0": False}.get((auto_generated or "").lower())
    return TagFilters(q=q, include_auto=all == "true", auto_generated=kind, sort=sort or sort_by)


async def _event(
    db: AsyncSession, actor: Actor | None, tag: Tag, verb: str, description: str, **context: Any
) -> None:
    await events.emit(
        db,
        events.Event(
            org_id=tag.org_id,
            type="Tag",
            verb=verb,
            entity_type="tag",
            entity_id=tag.id,
            description=description,
            **context,
            **events.by(actor),
        ),
    )


async def get_tag(db: AsyncSession, actor: Actor, tag_id: str) -> Tag:
    tag = await TagsRepository(db).get(actor.org_id, tag_id)
    if tag is None:
        raise not_found()
    return tag


async def _check_title(db: AsyncSession, org_id: str, title: str, tag_id: str | None) -> None:
    same = await TagsRepository(db).titled(org_id, title)
    if same is not None and same.id != tag_id:
        raise invalid_field("title", TAKEN)


async def create_tag(db: AsyncSession, actor: Actor, body: TagCreate) -> Tag:
    require_not_light(actor)
    await _check_title(db, actor.org_id, body.title, None)
    tag = Tag(org_id=actor.org_id, title=body.title, color=body.color, created_by=actor.user_id)
    TagsRepository(db).add(tag)
    await db.flush()
    await _event(db, actor, tag, "created", f"Created the tag {tag.title}")
    return tag


async def update_tag(db: AsyncSession, actor: Actor, tag_id: str, body: TagUpdate) -> Tag:
    require_not_light(actor)
    tag = await get_tag(db, actor, tag_id)
    before = {"title": tag.title, "color": tag.color}
    if body.title is not None:
        await _check_title(db, actor.org_id, body.title, tag.id)
        tag.title = body.title
    if "color" in body.model_fields_set:
        tag.color = body.color
    await db.flush()
    await _event(
        db,
        actor,
        tag,
        "updated",
        f"Updated the tag {tag.title}",
        old_value=before,
        new_value={"title": tag.title, "color": tag.color},
    )
    return tag


async def delete_tag(db: AsyncSession, actor: Actor, tag_id: str) -> None:
    """A hard delete with every link; an unknown id is not an error (Tallyfy answers 204)."""
    require_not_light(actor)
    repo = TagsRepository(db)
    tag = await repo.get(actor.org_id, tag_id)
    if tag is None:
        return
    await _event(db, actor, tag, "deleted", f"Deleted the tag {tag.title}")
    await repo.delete(actor.org_id, tag.id)


async def list_tags(
    db: AsyncSession, actor: Actor, page: PageParams, filters: TagFilters
) -> tuple[list[Tag], int]:
    return await TagsRepository(db).search(actor.org_id, page, filters)


async def read_tags(db: AsyncSession, tags: list[Tag], includes: Includes) -> list[TagRead]:
    reads = [TagRead.of(t) for t in tags]
    if includes.wants("statistics"):
        stats = await TagsRepository(db).statistics([t.id for t in tags])
        for read in reads:
            read.statistics = Wrapped(data=stats[read.id])
    return reads


# Links: attach / detach through /checklists/tags, and tags given when something is created.


async def _check_subject(db: AsyncSession, org_id: str, subject_type: str, subject_id: str) -> None:
    """A live template or run of this organization; anything else is `Subject not found`."""
    repo = TagsRepository(db)
    found = (
        await repo.live_checklist(org_id, subject_id)
        if subject_type == "Checklist"
        else await repo.live_run(org_id, subject_id)
    )
    if found is None:
        raise invalid_field("subject_id", SUBJECT_NOT_FOUND)


async def attach(db: AsyncSession, actor: Actor, body: TagAttach) -> tuple[AssociationRead, bool]:
    """Answers the link and whether it is new (attaching twice keeps one link)."""
    require_not_light(actor)
    await _check_subject(db, actor.org_id, body.subject_type, body.subject_id)
    tag = await TagsRepository(db).get(actor.org_id, body.tag_id)
    if tag is None:
        raise invalid_field("tag_id", "The selected tag id is invalid.")
    link, made = await _link(db, actor, tag, body.subject_type, body.subject_id, body.tag_type)
    return AssociationRead.of(link, tag), made


async def _link(
    db: AsyncSession,
    actor: Actor,
    tag: Tag,
    subject_type: str,
    subject_id: str,
    tag_type: str = "private",
) -> tuple[TagAssociation, bool]:
    link, made = await TagsRepository(db).link(
        tag.org_id, tag.id, subject_type, subject_id, tag_type
    )
    if made:
        await _event(
            db,
            actor,
            tag,
            "linked",
            f"Tagged {subject_type} with {tag.title}",
            **{CONTEXT[subject_type]: subject_id},
            extra={"subject_type": subject_type, "subject_id": subject_id},
        )
    return link, made


async def detach(db: AsyncSession, actor: Actor, association_id: str) -> None:
    require_not_light(actor)
    repo = TagsRepository(db)
    number = int(association_id) if association_id.isdigit() and len(association_id) < 10 else None
    link = await repo.association(actor.org_id, number) if number is not None else None
    if link is None:
        raise not_found()
    tag = await repo.get(actor.org_id, link.tag_id)
    if tag is not None:
        await _event(
            db,
            actor,
            tag,
            "unlinked",
            f"Removed the tag {tag.title} from {link.subject_type}",
            **{CONTEXT[link.subject_type]: link.subject_id},
            extra={"subject_type": link.subject_type, "subject_id": link.subject_id},
        )
    await repo.unlink(link)


async def check_tag_ids(
    db: AsyncSession, org_id: str, tag_ids: Sequence[str], field: str = "tags"
) -> list[str]:
    """Every id must be a tag of this organization (422 `tags.N`); answers them deduplicated."""
    known = await TagsRepository(db).existing_ids(org_id, tag_ids)
    errors = {
        f"{field}.{i}": [f"The selected {field}.{i} is invalid."]
        for i, tag_id in enumerate(tag_ids)
        if tag_id not in known
    }
    if errors:
        raise invalid(errors)
    return list(dict.fromkeys(tag_ids))


async def known_tag_ids(db: AsyncSession, org_id: str, tag_ids: Sequence[str]) -> list[str]:
    """The ids that are (still) tags of this organization, in order, once each."""
    known = await TagsRepository(db).existing_ids(org_id, tag_ids)
    return [t for t in dict.fromkeys(tag_ids) if t in known]


async def tag_subject(
    db: AsyncSession, actor: Actor, subject_type: str, subject_id: str, tag_ids: Sequence[str]
) -> None:
    """Puts checked tags on something just created (a run at launch, a task)."""
    repo = TagsRepository(db)
    for tag_id in dict.fromkeys(tag_ids):
        tag = await repo.get(actor.org_id, tag_id)
        if tag is not None:
            await _link(db, actor, tag, subject_type, subject_id)


async def tags_included(
    db: AsyncSession, org_id: str, subject_type: str, subject_ids: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """`with=tags`: each subject's links, as association objects (integer `id`, `tag_id`)."""
    links = await TagsRepository(db).links_of(org_id, subject_type, subject_ids)
    return {
        subject_id: [AssociationRead.of(link, tag).model_dump() for link, tag in pairs]
        for subject_id, pairs in links.items()
    }
