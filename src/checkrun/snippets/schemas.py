from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from checkrun.kit.clock import iso
from checkrun.snippets.models import Snippet

MAX_CONTENT = 65_535


class SnippetWrite(BaseModel):
    """POST and PUT alike: the whole snippet (`title` required, as on a template PUT)."""

    model_config = ConfigDict(extra="ignore")

    title: str = Field(min_length=1, max_length=250)
    content: str = Field("", max_length=MAX_CONTENT)


class SnippetRead(BaseModel):
    id: str
    title: str
    content: str
    created_by: int | None
    created_at: str | None
    last_updated: str | None

    @classmethod
    def of(cls, s: Snippet) -> SnippetRead:
        return cls(
            id=s.id,
            title=s.title,
            content=s.content,
            created_by=s.created_by,
            created_at=iso(s.created_at),
            last_updated=iso(s.updated_at),
        )
