from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from checkrun.kit.clock import iso
from checkrun.kit.includes import Include, Wrapped
from checkrun.tags.models import Tag, TagAssociation


def _stripped(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


Title = Annotated[str, BeforeValidator(_stripped), Field(min_length=1, max_length=30)]
# Exactly `#rrggbb`, as the docs require.
Color = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]
SubjectId = Annotated[str, Field(min_length=1, max_length=64)]


class TagCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    title: Title
    color: Color | None = None


class TagUpdate(BaseModel):
    """The docs want `title` on every PUT; the SDK sends only what changes, so both are
    optional."""

    model_config = ConfigDict(extra="ignore")

    title: Title | None = None
    color: Color | None = None


class TagAttach(BaseModel):
    model_config = ConfigDict(extra="ignore")

    subject_id: SubjectId
    subject_type: Literal["Checklist", "Run"]
    tag_id: SubjectId
    tag_type: Literal["private", "public"]


class TagRead(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    title: str
    color: str | None
    type: str = "private"
    auto_generated: bool
    created_by: int | None
    created_at: str | None
    last_updated: str | None
    deleted_at: str | None = None
    # `with=statistics`, wrapped.
    statistics: Include[Wrapped[dict[str, Any]]] = None

    @classmethod
    def of(cls, tag: Tag) -> TagRead:
        return cls(
            id=tag.id,
            title=tag.title,
            color=tag.color,
            auto_generated=tag.auto_generated,
            created_by=tag.created_by,
            created_at=iso(tag.created_at),
            last_updated=iso(tag.updated_at),
        )


class AssociationRead(BaseModel):
    """A tag on a subject: `id` is the integer pivot id that detaching takes."""

    id: int
    tag_id: str
    tag_type: str
    subject_id: str
    subject_type: str
    title: str
    color: str | None
    auto_generated: bool
    created_at: str | None

    @classmethod
    def of(cls, link: TagAssociation, tag: Tag) -> AssociationRead:
        return cls(
            id=link.id,
            tag_id=tag.id,
            tag_type=link.tag_type,
            subject_id=link.subject_id,
            subject_type=link.subject_type,
            title=tag.title,
            color=tag.color,
            auto_generated=tag.auto_generated,
            created_at=iso(link.created_at),
        )
