"""What email a change causes, and to whom: a listener of the domain events that renders each
email and writes it to the outbox in the change's own transaction (a rolled-back change sends
nothing). The person who did the thing is never emailed about it."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import nh3
from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.comments.models import Comment
from checkrun.comments.repository import CommentsRepository
from checkrun.kit.clock import parse_datetime
from checkrun.kit.events import Event
from checkrun.mail import kinds
from checkrun.mail.links import preferences_url, public_base
from checkrun.mail.outbox import Message, enqueue, mail_enabled
from checkrun.mail.people import (
    Person,
    directory,
    member_person,
    members_by_id,
    process_url,
)
from checkrun.mail.render import render
from checkrun.members.models import User
from checkrun.members.repository import MembersRepository
from checkrun.orgs.models import Organization
from checkrun.runs.models import Run
from checkrun.runs.repository import RunsRepository
from checkrun.tasks.models import Task
from checkrun.tasks.repository import OPEN, TasksRepository

MENTION = re.compile(r"@\[(\d{1,10})\]")
QUOTE_LENGTH = 4000
HIDDEN_FROM_GUESTS = "hide-for-guests"


@dataclass(frozen=True)
class Context:
    """What every email of one event shares."""

    db: AsyncSession
    event: Event
    base: str
    org_name: str
    actor: str

    @property
    def org_id(self) -> str:
        return self.event.org_id

    def did_it(self, person: Person) -> bool:
        e = self.event
        if e.actor_type == "guest":
            return bool(e.actor_email) and person.email == str(e.actor_email).lower()
        return e.actor_id is not None and person.user_id == e.actor_id


@dataclass(frozen=True)
class TaskLine:
    title: str
    url: str
    deadline: str
    overdue: bool = False


def dedupe(*parts: object) -> str:
    """A fixed-length key for one logical email (the parts can be long: addresses)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()
    return f"{parts[0]}:{digest}"


async def send(
    ctx: Context,
    kind: str,
    person: Person,
    subject: str,
    *,
    task_id: str | None = None,
    run_id: str | None = None,
    dedupe_key: str | None = None,
    **values: Any,
) -> bool:
    """Renders `kind` for `person` and queues it as they chose."""
    footer = await preferences_url(ctx.db, ctx.org_id, person.email)
    body = render(
        kind, subject, name=person.name, org_name=ctx.org_name, footer_url=footer, **values
    )
    return await enqueue(
        ctx.db,
        Message(
            org_id=ctx.org_id,
            kind=kind,
            to_email=person.email,
            to_name=person.name,
            subject=body.subject,
            text=body.text,
            html=body.html,
            user_id=person.user_id,
            guest_id=person.guest_id,
            task_id=task_id,
            run_id=run_id,
            dedupe_key=dedupe_key,
        ),
    )


# --- the listener ------------------------------------------------------------------------------


async def on_event(db: AsyncSession, event: Event) -> None:
    handler = HANDLERS.get((event.type, event.verb))
    if handler is None or not mail_enabled(db):
        return
    await handler(await _context(db, event))


async def _context(db: AsyncSession, event: Event) -> Context:
    org = await db.get(Organization, event.org_id)
    return Context(
        db, event, public_base(db), org.name if org else "", await _actor_name(db, event)
    )


async def _actor_name(db: AsyncSession, event: Event) -> str:
    if event.actor_type == "guest":
        return str(event.actor_email or "A guest")
    if event.actor_id is None:
        return "checkrun"
    found = await MembersRepository(db).member(event.org_id, event.actor_id)
    if found is None:
        return str(event.actor_email or "Someone")
    return found[0].full_name or found[0].email


async def _task(ctx: Context) -> Task | None:
    if ctx.event.task_id is None:
        return None
    return await TasksRepository(ctx.db).get(ctx.org_id, ctx.event.task_id)


async def _run(ctx: Context, run_id: str | None) -> Run | None:
    return await RunsRepository(ctx.db).get(ctx.org_id, run_id) if run_id else None


def _live(task: Task | None) -> bool:
    return task is not None and task.deleted_at is None and task.status in OPEN


def _line(ctx: Context, person: Person, task: Task) -> TaskLine:
    return TaskLine(task.title, person.task_url(ctx.base, task.id), person.when(task.deadline))


# --- task_assigned -----------------------------------------------------------------------------


async def _assigned(ctx: Context, task: Task, people: list[Person]) -> None:
    run = await _run(ctx, task.run_id)
    for person in people:
        if ctx.did_it(person):
            continue
        await send(
            ctx,
            kinds.TASK_ASSIGNED,
            person,
            f"New task: {task.title}",
            task_id=task.id,
            run_id=task.run_id,
            actor=ctx.actor,
            process=None,
            tasks=[_line(ctx, person, task)],
            home_url=person.home_url(ctx.base),
            home_label="All your tasks",
            run_name=run.name if run else None,
        )


async def on_owners_updated(ctx: Context) -> None:
    """Only the people the change added (directly or through a group) hear about it."""
    task = await _task(ctx)
    if task is None or not _live(task):
        return
    old, new = ctx.event.old_value, ctx.event.new_value
    people = await directory(ctx.db, ctx.org_id, [old, new])
    before = {p.email for p in people.people_of(old)}
    await _assigned(ctx, task, [p for p in people.people_of(new) if p.email not in before])


async def on_task_created(ctx: Context) -> None:
    task = await _task(ctx)
    if task is None or not _live(task):
        return
    lists = task.owner_lists()
    await _assigned(ctx, task, (await directory(ctx.db, ctx.org_id, [lists])).people_of(lists))


async def on_launch(ctx: Context) -> None:
    """One email per person per launch, listing their tasks in the new process."""
    run = await _run(ctx, ctx.event.run_id)
    if run is None:
        return
    tasks = [
        t
        for t in (await TasksRepository(ctx.db).tasks_of_runs([run.id])).get(run.id, [])
        if _live(t) and not t.hidden_by_rule
    ]
    people = await directory(ctx.db, ctx.org_id, [t.owner_lists() for t in tasks])
    theirs: dict[str, tuple[Person, list[Task]]] = {}
    for task in tasks:
        for person in people.people_of(task.owner_lists()):
            theirs.setdefault(person.email, (person, []))[1].append(task)
    for person, owned in theirs.values():
        if ctx.did_it(person):
            continue
        count = len(owned)
        subject = (
            f"New task: {owned[0].title}" if count == 1 else f"{count} new tasks in {run.name}"
        )
        await send(
            ctx,
            kinds.TASK_ASSIGNED,
            person,
            subject,
            run_id=run.id,
            task_id=owned[0].id if count == 1 else None,
            dedupe_key=dedupe(kinds.TASK_ASSIGNED, "launch", run.id, person.email),
            actor=ctx.actor,
            process=run.name,
            run_name=None,
            tasks=[_line(ctx, person, t) for t in owned],
            **_launch_home(ctx, person, run),
        )


def _launch_home(ctx: Context, person: Person, run: Run) -> dict[str, str]:
    """Members can open the whole process; a guest sees only their own tasks."""
    if person.is_guest:
        return {"home_url": person.home_url(ctx.base), "home_label": "All your tasks"}
    return {"home_url": process_url(ctx.base, run.id), "home_label": "The process"}


# --- comments and issues -----------------------------------------------------------------------


def mentioned_ids(content: str) -> list[int]:
    """Members named with `@[user_id]` markup (what notifies them, as in Tallyfy)."""
    return list(dict.fromkeys(int(m) for m in MENTION.findall(content or "")))


def readable(content: str, names: dict[int, str]) -> str:
    """A comment as plain text: mentions by name, tags stripped, entities decoded. The HTML
    part escapes it again."""
    named = MENTION.sub(lambda m: "@" + names.get(int(m.group(1)), "someone"), content or "")
    if "<" in named:
        named = re.sub(r"(?i)<br\s*/?>|</p>", "\n", named)
        named = html.unescape(nh3.clean(named, tags=set()))
    text = named.strip()
    return text if len(text) <= QUOTE_LENGTH else text[: QUOTE_LENGTH - 1] + "…"


async def _thread(ctx: Context) -> tuple[Comment, Task | None, Run | None] | None:
    comment = await CommentsRepository(ctx.db).get(ctx.org_id, ctx.event.entity_id)
    if comment is None or comment.checklist_id is not None:
        return None  # a template's threads are not emailed: no task or process to link to
    return comment, await _task(ctx), await _run(ctx, ctx.event.run_id)


def _subject_of(
    ctx: Context, person: Person, task: Task | None, run: Run | None
) -> tuple[str, str]:
    """(title, link) of what a thread is on: the task, else the process."""
    if task is not None:
        return task.title, person.task_url(ctx.base, task.id)
    return (run.name if run else ""), process_url(ctx.base, run.id if run else "")


def _assignees_for(task: Task | None, comment: Comment, people: list[Person]) -> list[Person]:
    """A thread hidden from guests is not emailed to them either."""
    if task is None:
        return []
    return [p for p in people if not (p.is_guest and comment.state == HIDDEN_FROM_GUESTS)]


async def _thread_and_assignees(
    ctx: Context,
) -> tuple[Comment, Task | None, Run | None, list[Person]] | None:
    """The event's comment, its task and run, and the task's assignees who may read it."""
    found = await _thread(ctx)
    if found is None:
        return None
    comment, task, run = found
    lists = task.owner_lists() if task else {}
    people = (await directory(ctx.db, ctx.org_id, [lists])).people_of(lists)
    return comment, task, run, _assignees_for(task, comment, people)


async def on_comment(ctx: Context) -> None:
    found = await _thread_and_assignees(ctx)
    if found is None:
        return
    comment, task, run, assignees = found
    mentions = await members_by_id(ctx.db, ctx.org_id, mentioned_ids(comment.content))
    content = readable(comment.content, {i: p.name for i, p in mentions.items()})
    mentioned = {p.email for p in mentions.values()}
    recipients = {p.email: p for p in assignees}
    recipients.update({p.email: p for p in mentions.values()})
    for person in recipients.values():
        if ctx.did_it(person):
            continue
        title, url = _subject_of(ctx, person, task, run)
        mention = person.email in mentioned
        verb = "mentioned you on" if mention else "commented on"
        await send(
            ctx,
            kinds.COMMENT,
            person,
            f"{ctx.actor} {verb} {title}",
            task_id=task.id if task else None,
            run_id=run.id if run else None,
            dedupe_key=dedupe(kinds.COMMENT, comment.id, person.email),
            author=ctx.actor,
            mentioned=mention,
            title=title,
            content=content,
            url=url,
        )


async def on_issue(ctx: Context) -> None:
    """To the task's assignees and the process's starter (they launched it and answer for
    it, as Tallyfy tells those involved in the process)."""
    found = await _thread_and_assignees(ctx)
    if found is None:
        return
    comment, task, run, assignees = found
    recipients = {p.email: p for p in assignees}
    if run is not None:
        for starter in (await members_by_id(ctx.db, ctx.org_id, [run.started_by])).values():
            recipients.setdefault(starter.email, starter)
    resolved = ctx.event.verb == "issue-resolved"
    for person in recipients.values():
        if ctx.did_it(person):
            continue
        title, url = _subject_of(ctx, person, task, run)
        what = "Issue resolved on" if resolved else "Issue reported on"
        await send(
            ctx,
            kinds.ISSUE,
            person,
            f"{what} {title}",
            task_id=task.id if task else None,
            run_id=run.id if run else None,
            dedupe_key=dedupe(kinds.ISSUE, comment.id, person.email),
            author=ctx.actor,
            resolved=resolved,
            title=title,
            task=task is not None,
            content=readable(comment.content, {}),
            url=url,
        )


# --- time: due soon, overdue -------------------------------------------------------------------


async def on_deadline(ctx: Context) -> None:
    """The scheduler's reminder: each assignee once per task, deadline and kind."""
    task = await _task(ctx)
    if task is None or not _live(task) or task.deadline is None:
        return
    kind = kinds.DUE_SOON if ctx.event.verb == "due-soon" else kinds.OVERDUE
    stated = ctx.event.extra.get("deadline")
    deadline: datetime = parse_datetime(stated) if stated else task.deadline
    run = await _run(ctx, task.run_id)
    lists = task.owner_lists()
    for person in (await directory(ctx.db, ctx.org_id, [lists])).people_of(lists):
        label = "Due soon" if kind == kinds.DUE_SOON else "Overdue"
        await send(
            ctx,
            kind,
            person,
            f"{label}: {task.title}",
            task_id=task.id,
            run_id=task.run_id,
            dedupe_key=dedupe(kind, task.id, deadline.isoformat(), person.email),
            title=task.title,
            process=run.name if run else None,
            deadline=person.when(deadline),
            url=person.task_url(ctx.base, task.id),
        )


# --- process completed -------------------------------------------------------------------------


async def on_process_completed(ctx: Context) -> None:
    """To the starter, unless they finished it themselves."""
    run = await _run(ctx, ctx.event.run_id)
    if run is None:
        return
    for person in (await members_by_id(ctx.db, ctx.org_id, [run.started_by])).values():
        if ctx.did_it(person):
            continue
        stamp = run.completed_at.isoformat() if run.completed_at else ""
        await send(
            ctx,
            kinds.PROCESS_COMPLETED,
            person,
            f"Process completed: {run.name}",
            run_id=run.id,
            dedupe_key=dedupe(kinds.PROCESS_COMPLETED, run.id, stamp, person.email),
            process=run.name,
            url=process_url(ctx.base, run.id),
            actor=None if ctx.event.actor_id is None else ctx.actor,
        )


# --- invitations and password resets -----------------------------------------------------------


async def on_invited(ctx: Context) -> None:
    """The invitee gets a link to choose their password (and so to join)."""
    from checkrun.web import auth  # the web app's link issuer; it imports this module

    found = await MembersRepository(ctx.db).member(ctx.org_id, int(ctx.event.entity_id))
    if found is None or found[1].status != "invited":
        return
    user = found[0]
    raw = await auth.issue_password_link(ctx.db, user, ctx.org_id, auth.INVITE_LINK_SECONDS)
    await send(
        ctx,
        kinds.INVITE,
        member_person(user),
        f"{ctx.actor} invited you to {ctx.org_name} on checkrun",
        url=password_url(ctx.db, raw),
        inviter=ctx.actor,
        days=auth.INVITE_LINK_SECONDS // 86400,
    )


def password_url(db: AsyncSession, raw: str) -> str:
    return f"{public_base(db)}/app/password/{raw}"


async def password_reset(db: AsyncSession, user: User, org_id: str, raw: str, minutes: int) -> bool:
    """The reset link the web app's forgot-password page made, to its owner."""
    event = Event(
        org_id=org_id,
        type="User",
        verb="password-reset",
        entity_type="user",
        entity_id=str(user.id),
    )
    ctx = await _context(db, event)
    return await send(
        ctx,
        kinds.PASSWORD_RESET,
        member_person(user),
        "Reset your checkrun password",
        url=password_url(db, raw),
        minutes=minutes,
    )


Handler = Callable[[Context], Awaitable[None]]
HANDLERS: dict[tuple[str, str], Handler] = {
    ("Task", "owners-updated"): on_owners_updated,
    ("Task", "created"): on_task_created,
    ("Process", "created"): on_launch,
    ("Comment", "commented"): on_comment,
    ("Comment", "issue-reported"): on_issue,
    ("Comment", "issue-resolved"): on_issue,
    ("Task", "due-soon"): on_deadline,
    ("Task", "overdue"): on_deadline,
    ("Process", "completed"): on_process_completed,
    ("User", "invited"): on_invited,
}
