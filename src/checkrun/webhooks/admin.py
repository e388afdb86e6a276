"""`checkrun webhooks secret | retry`: what operators need around deliveries."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.config import Settings
from checkrun.kit.clock import now
from checkrun.webhooks.repository import WebhooksRepository
from checkrun.webhooks.signing import new_secret


async def secrets_of(db: AsyncSession, settings: Settings, org_id: str | None) -> dict[str, str]:
    """The signing secret per organization (created now for one that has none yet)."""
    repo = WebhooksRepository(db)
    org_ids = [org_id] if org_id else await repo.organization_ids()
    known = set(await repo.organization_ids()) if org_id else set(org_ids)
    out: dict[str, str] = {}
    for org in org_ids:
        if org not in known:
            raise LookupError(f"no organization {org}")
        out[org] = (
            settings.webhook_secret
            or await repo.secret(org)
            or await repo.keep_secret(org, new_secret())
        )
    return out


def cmd_secret(args: argparse.Namespace) -> int:
    from checkrun import cli

    settings = cli._settings(args)
    cli._upgrade(settings)
    try:
        found = cli._with_session(settings, lambda db: secrets_of(db, settings, args.org))
    except LookupError as exc:
        print(f"error: {exc}")
        return 1
    if args.json:
        print(json.dumps({"secrets": found, "from_environment": bool(settings.webhook_secret)}))
        return 0
    if settings.webhook_secret:
        print("CHECKRUN_WEBHOOK_SECRET is set: it signs every organization's deliveries.")
    for org, secret in found.items():
        print(f"{org}  {secret}")
    return 0


def cmd_retry(args: argparse.Namespace) -> int:
    from checkrun import cli

    settings = cli._settings(args)
    cli._upgrade(settings)
    count = cli._with_session(
        settings, lambda db: WebhooksRepository(db).requeue_dead(args.org, now())
    )
    print(f"{count} dead deliveries queued again")
    return 0


def add_commands(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    """`common` adds the flags every command takes (--data-dir, --debug)."""
    hooks = sub.add_parser("webhooks", help="outbound webhooks").add_subparsers(
        dest="action", required=True
    )
    secret = hooks.add_parser("secret", help="show the key that signs deliveries")
    secret.add_argument("--org", default=None, help="one organization id (default: all)")
    secret.add_argument("--json", action="store_true", help="print the keys as JSON")
    common(secret)
    secret.set_defaults(func=cmd_secret)
    retry = hooks.add_parser("retry", help="send dead deliveries again")
    retry.add_argument("--org", default=None, help="one organization id (default: all)")
    common(retry)
    retry.set_defaults(func=cmd_retry)
