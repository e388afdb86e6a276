"""Request and response shapes of threads (comments and issues)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from checkrun.comments.models import Comment
from checkrun.kit.clock import iso
from checkrun.templates.schemas import EntityId, UserId

Label = Literal["comment", "problem", "resolve", "improvement", "advice"]
State = Literal["hide-for-guests", "open", "collapsed"]
MAX_CONTENT = 65_535


def _filled(value: str) -> str:
    # Laravel's `required` trims first: blank text is missing text.
    if not value.strip():
        raise ValueError("The content field is required.")
    return value


Content = Annotated[str, Field(min_length=1, max_length=MAX_CONTENT), AfterValidator(_filled)]


class CommentCreate(BaseModel):
    """`POST .../comment`; also the body of `PUT .../comment/{id}` (same fields)."""

    model_config = ConfigDict(extra="ignore")

    content: Content
    label: Label = "comment"
    state: State = "hide-for-guests"
    sent_to: list[UserId] = Field(default_factory=list, max_length=1000)


class CommentUpdate(BaseModel):
    """Fields not sent keep their value; `content` is required as on create."""

    model_config = ConfigDict(extra="ignore")

    content: Content
    label: Label | None = None
    state: State | None = None
    sent_to: list[UserId] | None = Field(None, max_length=1000)


class IssueReport(BaseModel):
    """`POST .../problem`: the label is always `problem`."""

    model_config = ConfigDict(extra="ignore")

    content: Content
    state: State = "hide-for-guests"
    sent_to: list[UserId] = Field(default_factory=list, max_length=1000)


class BotComment(BaseModel):
    model_config = ConfigDict(extra="ignore")

    content: Content
    state: State = "hide-for-guests"


class ResolveThread(BaseModel):
    """`POST .../resolved-threads`: the issue and the resolution comment (the SDK's default
    text when none is sent)."""

    model_config = ConfigDict(extra="ignore")

    thread_id: EntityId
    content: Annotated[str, Field(max_length=MAX_CONTENT)] | None = None
    state: State = "hide-for-guests"


class CommentRead(BaseModel):
    id: str
    content: str
    author_id: int | None
    author_type: str
    task_id: str | None
    run_id: str | None
    label: str
    state: str
    created_at: str | None
    updated_at: str | None
    archived_at: str | None
    resolve_id: str | None
    sent_to: list[int]

    @classmethod
    def of(cls, c: Comment) -> CommentRead:
        return cls(
            id=c.id,
            content=c.content,
            author_id=c.author_id,
            author_type=c.author_type,
            task_id=c.task_id,
            run_id=c.run_id,
            label=c.label,
            state=c.state,
            created_at=iso(c.created_at),
            updated_at=iso(c.updated_at),
            archived_at=iso(c.deleted_at),
            resolve_id=c.resolve_id,
            sent_to=list(c.sent_to or []),
        )
