"""Webhook rules: who may subscribe what, and how a change becomes outbox rows."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.kit import events
from checkrun.kit.auth import Actor, require_admin
from checkrun.kit.errors import invalid, not_found
from checkrun.kit.pagination import PageParams
from checkrun.kit.wakeup import WEBHOOKS
from checkrun.members.repository import MembersRepository
from checkrun.webhooks.models import Delivery, Watcher
from checkrun.webhooks.repository import WebhooksRepository
from checkrun.webhooks.schemas import WatcherCreate
from checkrun.webhooks.signing import is_webhook_url

MAX_URL = 2000


def _member_id(user_id: str) -> int:
    if not user_id.isdigit() or len(user_id) > 10:
        raise not_found()
    return int(user_id)


def _choice(
    errors: dict[str, list[str]], name: str, value: Any, allowed: str, required: bool = True
) -> None:
    human = name.replace("_", " ")
    if value is None or value == "":
        if required:
            errors[name] = [f"The {human} field is required."]
    elif value != allowed:
        errors[name] = [f"The selected {human} is invalid."]


def _check_watcher(actor: Actor, body: WatcherCreate) -> None:
    errors: dict[str, list[str]] = {}
    _choice(errors, "object_type", body.object_type, "organization")
    _choice(errors, "object_id", body.object_id, actor.org_id)
    _choice(errors, "notification_type", body.notification_type, "webhook")
    _choice(errors, "frequency", body.frequency, "electric", required=False)
    url = body.webhook
    if url is None or url == "":
        errors["webhook"] = ["The webhook field is required."]
    elif not isinstance(url, str):
        errors["webhook"] = ["The webhook must be a string."]
    elif len(url) > MAX_URL:
        errors["webhook"] = [f"The webhook may not be greater than {MAX_URL} characters."]
    elif not is_webhook_url(url):
        errors["webhook"] = ["The webhook must be a valid http or https URL."]
    if errors:
        raise invalid(errors)


async def add_watcher(db: AsyncSession, actor: Actor, user_id: str, body: WatcherCreate) -> Watcher:
    require_admin(actor)
    member = _member_id(user_id)
    if not await MembersRepository(db).existing_user_ids(actor.org_id, [member]):
        raise not_found()
    _check_watcher(actor, body)
    watcher = Watcher(
        org_id=actor.org_id,
        user_id=member,
        object_type="organization",
        object_id=actor.org_id,
        notification_type="webhook",
        frequency="electric",
        webhook=str(body.webhook),
        created_by=actor.user_id,
    )
    WebhooksRepository(db).add(watcher)
    await db.flush()
    await _emit(actor, db, watcher, "linked", "Added an organization webhook")
    return watcher


async def list_watchers(
    db: AsyncSession, actor: Actor, page: PageParams, notification: str | None
) -> tuple[list[Watcher], int]:
    require_admin(actor)
    return await WebhooksRepository(db).watchers(actor.org_id, page, notification or None)


async def remove_watcher(db: AsyncSession, actor: Actor, watcher_id: str) -> None:
    require_admin(actor)
    repo = WebhooksRepository(db)
    watcher = await repo.watcher(actor.org_id, watcher_id)
    if watcher is None:
        raise not_found()
    await repo.delete_watcher(actor.org_id, watcher.id)
    await _emit(actor, db, watcher, "unlinked", "Removed an organization webhook")


async def _emit(
    actor: Actor, db: AsyncSession, watcher: Watcher, verb: str, description: str
) -> None:
    await events.emit(
        db,
        events.Event(
            org_id=actor.org_id,
            type="Organization",
            verb=verb,
            entity_type="watcher",
            entity_id=watcher.id,
            description=description,
            field="webhook",
            extra={"user_id": watcher.user_id},
            **events.by(actor),
        ),
    )


def body_bytes(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=str)


async def enqueue(
    db: AsyncSession,
    org_id: str,
    event: str,
    targets: Iterable[tuple[str, str]],
    payload: dict[str, Any],
    run_id: str | None,
    task_id: str | None,
) -> int:
    """One outbox row per URL (the first source that named it wins); URLs that are not http(s)
    are skipped. The worker is woken once the transaction commits."""
    chosen: dict[str, str] = {}
    for url, source in targets:
        if is_webhook_url(url) and url not in chosen:
            chosen[url] = source
    if not chosen:
        return 0
    body = body_bytes(payload)
    WebhooksRepository(db).add(
        *[
            Delivery(
                org_id=org_id,
                event=event,
                url=url,
                body=body,
                source=source,
                run_id=run_id,
                task_id=task_id,
            )
            for url, source in chosen.items()
        ]
    )
    WEBHOOKS.after_commit(db)
    return len(chosen)
