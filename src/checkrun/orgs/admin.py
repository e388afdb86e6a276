"""`checkrun org create | list`, and what `checkrun init` does on a data directory that already
has organizations: several organizations on one server are a supported feature."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.config import env_value
from checkrun.members import service as members
from checkrun.orgs.repository import OrgsRepository

DEFAULT_ORG_NAME = "My Organization"
DEFAULT_EMAIL = "admin@example.com"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_NAME = 250


class Refused(Exception):
    """A command line request that is refused with a message for the operator."""


@dataclass(frozen=True)
class OrgSummary:
    id: str
    name: str
    admin_user_id: int | None
    admin_email: str | None
    members: int
    created_at: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "admin_user_id": self.admin_user_id,
            "admin_email": self.admin_email,
            "members": self.members,
            "created_at": self.created_at,
        }


def _checked(name: str, email: str) -> tuple[str, str]:
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise Refused(f"the organization name must be 1 to {MAX_NAME} characters")
    email = email.strip().lower()
    if len(email) > 254 or not EMAIL.match(email):
        raise Refused(f"{email!r} is not an email address")
    return name, email


async def create(db: AsyncSession, name: str, email: str) -> members.Bootstrap:
    """A new organization with `email` as its default admin (an existing user keeps their
    account and other memberships), and a token valid in the new organization."""
    name, email = _checked(name, email)
    if await OrgsRepository(db).named(name):
        # The command line finds organizations by name (`oauth-client create --org-name`).
        raise Refused(f"an organization named {name!r} already exists; choose another name")
    return await members.create_organization(db, name, email)


async def listing(db: AsyncSession) -> list[OrgSummary]:
    repo = OrgsRepository(db)
    rows = await repo.with_default_admins()
    counts = await repo.active_members_of([org.id for org, _ in rows])
    return [
        OrgSummary(
            org.id,
            org.name,
            user.id if user else None,
            user.email if user else None,
            counts.get(org.id, 0),
            org.created_at.isoformat(),
        )
        for org, user in rows
    ]


async def init(db: AsyncSession, name: str | None, email: str | None) -> members.Bootstrap:
    """`checkrun init`: the first organization, or a fresh token for an existing one that
    matches what was asked; never a silent answer about a different organization."""
    rows = await OrgsRepository(db).with_default_admins()
    if not rows:
        return await create(db, name or DEFAULT_ORG_NAME, email or DEFAULT_EMAIL)
    if name is None and email is None:
        return await members.bootstrap(db, DEFAULT_ORG_NAME, DEFAULT_EMAIL)
    wanted_email = email.strip().lower() if email is not None else None
    for org, user in rows:
        if user is None or (name is not None and org.name != name.strip()):
            continue
        if wanted_email is None or user.email == wanted_email:
            token = await members.issue_token(db, user, org.id)
            return members.Bootstrap(org.id, user.id, user.email, token, created=False)
    org, user = rows[0]
    admin = user.email if user else "none"
    raise Refused(
        f"this data directory already has organization {org.id} ({org.name!r}, admin {admin})"
        f"{' and others' if len(rows) > 1 else ''}, and none matches the given "
        "--org-name/--email; `checkrun init` creates only the first organization: use "
        "`checkrun org create --name NAME --email EMAIL` to add another"
    )


# --- commands ---------------------------------------------------------------------------------


def cmd_create(args: argparse.Namespace) -> int:
    from checkrun import cli

    settings = cli._settings(args)
    cli._upgrade(settings)
    try:
        made = cli._with_session(settings, lambda db: create(db, args.name, args.email))
    except Refused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        cli._print_json(settings, made)
    else:
        print(
            f"Organization {made.org_id} created ({args.name.strip()!r}).\n"
            f"Admin: {made.email} (user {made.user_id})\nToken: {made.token}\n"
            "(The token is shown once and is valid in this organization; "
            "`checkrun token create --email EMAIL` issues another.)"
        )
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from checkrun import cli

    settings = cli._settings(args)
    cli._upgrade(settings)
    found = cli._with_session(settings, listing)
    if args.json:
        print(json.dumps({"organizations": [org.as_json() for org in found]}))
        return 0
    if not found:
        print("no organizations yet (`checkrun init` or `checkrun org create`)")
    for org in found:
        print(
            f"{org.id}  {org.name!r}  admin {org.admin_email or '-'}  "
            f"{org.members} member{'' if org.members == 1 else 's'}"
        )
    return 0


def env_default(name: str) -> str | None:
    """The CHECKRUN_* variable behind a flag, or its line in `.env` (flags win; unset means
    not given)."""
    return env_value(f"CHECKRUN_{name}")


def add_commands(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    """`common` adds the flags every command takes (--data-dir, --debug)."""
    org = sub.add_parser("org", help="organizations on this server").add_subparsers(
        dest="action", required=True
    )
    create_cmd = org.add_parser("create", help="create an organization, its admin and a token")
    create_cmd.add_argument(
        "--name",
        default=env_default("ORG_NAME"),
        required=env_default("ORG_NAME") is None,
        help="organization name (env CHECKRUN_ORG_NAME)",
    )
    create_cmd.add_argument(
        "--email",
        default=env_default("EMAIL"),
        required=env_default("EMAIL") is None,
        help="its administrator's email (env CHECKRUN_EMAIL)",
    )
    common(create_cmd)
    create_cmd.add_argument(
        "--json",
        action="store_true",
        help="print the new organization as JSON (the same object as `init --json`)",
    )
    create_cmd.set_defaults(func=cmd_create)
    list_cmd = org.add_parser("list", help="list the organizations")
    common(list_cmd)
    list_cmd.add_argument("--json", action="store_true", help="print the organizations as JSON")
    list_cmd.set_defaults(func=cmd_list)
