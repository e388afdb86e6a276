"""Public kick-off forms: a template with `is_public_kickoff` can be launched by anyone with
its link, without signing in (the web app's public page). The launch is made as the
template's owner; the person who submitted gives an email address, kept in the run's
summary."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.kit.auth import Actor
from checkrun.kit.errors import not_found
from checkrun.runs import service
from checkrun.runs.models import Run
from checkrun.runs.schemas import RunLaunch
from checkrun.runs.shell import acting_member
from checkrun.templates.models import Capture, Checklist
from checkrun.templates.repository import TemplatesRepository

# Launches per client address per organization per hour (kit/ratelimit's limiter counts).
LAUNCHES_PER_HOUR = 10


def is_public(checklist: Checklist) -> bool:
    return bool((checklist.settings or {}).get("is_public_kickoff"))


def link(org_id: str, checklist_id: str) -> str:
    """The page's path, as Tallyfy's public kick-off link reads."""
    return f"/app/public/library/{org_id}/blueprint/{checklist_id}/kick-off"


async def public_form(
    db: AsyncSession, org_id: str, checklist_id: str
) -> tuple[Checklist, list[Capture], Actor]:
    """A live template of that organization with a public kick-off form, its fields, and who
    launches it; 404 for anything else (not public, archived, another organization's, or
    nobody who may launch it)."""
    templates = TemplatesRepository(db)
    checklist = await templates.get(org_id, checklist_id)
    if checklist is None or not is_public(checklist) or checklist.type == "document":
        raise not_found()
    launcher = await acting_member(db, org_id, [checklist.owner_id, checklist.created_by])
    if launcher is None:
        raise not_found()
    return checklist, (await templates.prerun_of([checklist.id])).get(checklist.id, []), launcher


async def launch_public(
    db: AsyncSession,
    org_id: str,
    checklist_id: str,
    email: str,
    prerun: dict[str, Any],
    api_base: str,
) -> Run:
    """The kick-off values through the API's validator (`prerun.<field id>` errors)."""
    checklist, _, launcher = await public_form(db, org_id, checklist_id)
    body = RunLaunch.model_validate(
        {
            "checklist_id": checklist.id,
            "prerun": prerun,
            "summary": f"Submitted through the public kick-off form by {email}.",
        }
    )
    return await service.launch(db, launcher, body, api_base)
