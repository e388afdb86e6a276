"""Runs launched other than from the API's launch: shell runs (one-off tasks launched without
a template), and what a task keeps of the process its step launches when completed."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.kit.auth import Actor
from checkrun.kit.clock import now
from checkrun.kit.ids import new_id
from checkrun.members.repository import MembersRepository
from checkrun.orgs.repository import OrgsRepository
from checkrun.runs.history import record
from checkrun.runs.models import Run
from checkrun.runs.repository import RunsRepository
from checkrun.templates.models import Step

# Task.settings: the step's `bp_to_launch` as it was at launch, and the run it launched.
SUBPROCESS = "bp_to_launch"
LAUNCHED = "launched_run_id"
# ... or, with `tasks_within_process`, the tasks it put into its own run.
INJECTED = "injected_task_ids"

# The template a shell run (one-off tasks launched without a template) names: Tallyfy's
# hidden system "MISC" template; checkrun keeps no row for it.
SHELL_CHECKLIST_ID = "misc"
SHELL_CHECKLIST_TITLE = "MISC"


async def launch_shell(db: AsyncSession, actor: Actor, name: str) -> Run:
    """An empty run with no template (launch without a template): the caller owns and
    started it; its tasks are the one-off tasks put in it."""
    started = now()
    run = Run(
        id=new_id(),
        org_id=actor.org_id,
        increment_id=await OrgsRepository(db).next_number(actor.org_id, "run"),
        checklist_id=SHELL_CHECKLIST_ID,
        checklist_title=SHELL_CHECKLIST_TITLE,
        name=name[:550],
        status="active",
        type="procedure",
        owner_id=actor.user_id,
        started_by=actor.user_id,
        prerun={},
        can_add_oot=True,
        users=[],
        groups=[],
        created_at=started,
        started_at=started,
        prerun_completed_at=started,
        prerun_completed_by=actor.user_id,
        settings={"shell": True},
    )
    RunsRepository(db).add(run)
    await db.flush()
    await record(db, actor, run, "created", f"Launched {run.name}")
    return run


def subprocess_settings(step: Step) -> dict[str, Any]:
    """The step's `bp_to_launch`, kept in its task at launch as the rest of the step is: a
    template edit later does not change what a running process launches."""
    target = (step.settings or {}).get(SUBPROCESS)
    if isinstance(target, dict) and isinstance(target.get("id"), str):
        return {SUBPROCESS: target}
    return {}


async def acting_member(db: AsyncSession, org_id: str, user_ids: list[int | None]) -> Actor | None:
    """The first of these users who is an active, not light member (a light member can't
    launch), as the actor of a launch nobody signed in made."""
    members = MembersRepository(db)
    for user_id in user_ids:
        if user_id is None:
            continue
        found = await members.member(org_id, user_id)
        if found and found[1].status != "disabled" and found[1].role != "light":
            return Actor.of(found[0], org_id, found[1].role)
    return None
