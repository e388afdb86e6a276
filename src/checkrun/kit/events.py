"""Domain events: what changed, by whom. Services `emit` inside their transaction; listeners
(the activity feed, the webhook outbox) write their rows in that same transaction, so an event
is recorded exactly when the change it describes commits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from checkrun.kit.auth import Actor


@dataclass(frozen=True)
class Event:
    """One change. `type` and `verb` use the activity feed's vocabulary (§2.13):
    type: Blueprint, Step, Process, Task, Comment, User, Guest, Organization, Tag, Group, Folder,
          Asset;
    verb: created, updated, owners-updated, uploaded, completed, uncompleted, deleted, re-ordered,
          commented, issue-reported, issue-resolved, archived, unarchived, re-opened, emitted,
          enabled, disabled, comment-deleted, invited, invite-accepted, linked, unlinked.
    Process launch is (Process, created); process completion (Process, completed)."""

    org_id: str
    type: str
    verb: str
    entity_type: str  # where it is filed: checklist, run, step, task, thread, user, ...
    entity_id: str
    actor_id: int | None = None  # member id; None for the system
    actor_type: str = "user"  # user | guest
    actor_email: str | None = None
    source: str = "Member"  # Member | Guest | Webhook
    description: str = ""
    # Context used by filters and by webhooks: the run / task / template the change belongs to.
    run_id: str | None = None
    task_id: str | None = None
    checklist_id: str | None = None
    field: str | None = None
    old_value: Any = None
    new_value: Any = None
    extra: dict[str, Any] = dc_field(default_factory=dict)


Listener = Callable[[AsyncSession, Event], Awaitable[None]]
_listeners: list[Listener] = []


def subscribe(listener: Listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def unsubscribe(listener: Listener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


async def emit(db: AsyncSession, event: Event) -> None:
    for listener in list(_listeners):
        await listener(db, event)


def by(actor: Actor | None) -> dict[str, Any]:
    """The actor fields of an Event for a member acting through the API (None: the system)."""
    if actor is None:
        return {"actor_id": None, "source": "System"}
    email = actor.email if actor.email is not None else actor.user.email
    return {"actor_id": actor.user_id, "actor_email": email}
