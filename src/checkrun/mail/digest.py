"""The daily digest: at each address's local morning, one email with the member's open tasks
(overdue first) and the notifications held for it since the last digest. Nothing to say,
nothing sent. Registered as the scheduler's `daily_digest` job."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.config import Settings
from checkrun.groups.repository import GroupsRepository
from checkrun.guests.repository import GuestsRepository
from checkrun.kit.pagination import PageParams
from checkrun.kit.wakeup import MAIL
from checkrun.mail import kinds
from checkrun.mail.links import preferences_url, public_base
from checkrun.mail.models import PENDING, DigestSchedule, MailMessage
from checkrun.mail.notify import TaskLine, dedupe
from checkrun.mail.outbox import mail_enabled
from checkrun.mail.people import Person, guest_person, member_person, process_url
from checkrun.mail.prefs import modes_of
from checkrun.mail.render import render
from checkrun.mail.repository import DigestRepository, MailRepository
from checkrun.mail.schedule import next_morning, wants_digest
from checkrun.members.repository import MembersRepository
from checkrun.orgs.models import Organization
from checkrun.scheduler.registry import Job, register
from checkrun.tasks.models import ReadableTask
from checkrun.tasks.repository import TaskFilters, TasksRepository

TASKS_READ = 200  # open tasks read to put the overdue ones first
TASKS_SHOWN = 50
HELD_SHOWN = 200  # the rest stay held for the next digest


@dataclass(frozen=True)
class HeldLine:
    subject: str
    url: str


async def run(db: AsyncSession, moment: datetime, settings: Settings) -> int:
    """Writes the digests due at `moment` (at most a batch); each schedule moves on to the
    next local morning in the same transaction, and only the caller that moved it writes."""
    repo = DigestRepository(db)
    due = await repo.due(moment, settings.scheduler_batch_size)
    for row in due:
        person = await _recipient(db, row)
        zone = person.timezone if person else "UTC"
        if not await repo.advance(row, next_morning(moment, zone), moment):
            continue
        if person is None:
            continue  # disabled or removed for now: the schedule waits for them
        if not wants_digest(await modes_of(db, row.org_id, row.email)):
            await repo.unschedule(row.org_id, row.email)
            continue
        await _digest(db, row, person, moment)
    return len(due)


async def _recipient(db: AsyncSession, row: DigestSchedule) -> Person | None:
    """The member (or guest) behind the address, if they can still get email here."""
    found = await MembersRepository(db).member_by_email(row.org_id, row.email)
    if found is not None:
        user, membership = found
        reachable = membership.status != "disabled" and not membership.is_bot
        return member_person(user) if reachable else None
    guest = (await GuestsRepository(db).by_emails(row.org_id, [row.email])).get(row.email)
    if guest is None or guest.deleted_at is not None or guest.disabled_at is not None:
        return None
    return guest_person(guest)


async def _open_tasks(
    db: AsyncSession, org_id: str, person: Person, moment: datetime
) -> tuple[list[ReadableTask], int]:
    """The member's open tasks (directly or through a group): overdue first, then by deadline,
    undated last."""
    if person.user_id is None:
        return [], 0
    groups = await GroupsRepository(db).ids_of_member(org_id, person.user_id)
    filters = TaskFilters(
        owners=(person.user_id,), owner_groups=tuple(groups), status="active", sort="deadline"
    )
    tasks, total = await TasksRepository(db).search(org_id, PageParams(1, TASKS_READ), filters)
    tasks.sort(key=lambda t: (t.deadline is None, t.deadline or moment, t.id))
    return tasks, total


def _held_line(base: str, person: Person, message: MailMessage) -> HeldLine:
    if message.task_id:
        url = person.task_url(base, message.task_id)
    elif message.run_id:
        url = process_url(base, message.run_id)
    else:
        url = person.home_url(base)
    return HeldLine(message.subject, url)


async def _digest(db: AsyncSession, row: DigestSchedule, person: Person, moment: datetime) -> None:
    if not mail_enabled(db):
        return  # held rows wait for email to be configured again
    modes = await modes_of(db, row.org_id, row.email)
    chose_digest = modes.get(kinds.DAILY_DIGEST) == "digest"
    tasks, total = await _open_tasks(db, row.org_id, person, moment) if chose_digest else ([], 0)
    repo = DigestRepository(db)
    held = await repo.held(row.org_id, row.email, HELD_SHOWN)
    if not tasks and not held:
        return
    base = public_base(db)
    shown = tasks[:TASKS_SHOWN]
    lines = [
        TaskLine(
            t.title,
            person.task_url(base, t.id),
            person.when(t.deadline),
            overdue=t.deadline is not None and t.deadline < moment,
        )
        for t in shown
    ]
    overdue = sum(1 for t in tasks if t.deadline is not None and t.deadline < moment)
    org = await db.get(Organization, row.org_id)
    subject = (
        f"Your daily digest: {total} open task{'s' if total != 1 else ''}"
        if chose_digest
        else "Your daily digest"
    )
    body = render(
        kinds.DAILY_DIGEST,
        subject,
        name=person.name,
        org_name=org.name if org else "",
        footer_url=await preferences_url(db, row.org_id, row.email),
        tasks=lines,
        total=total,
        overdue=overdue,
        home_url=person.home_url(base),
        held=[_held_line(base, person, m) for m in held],
    )
    await _queue(db, row, person, body.subject, body.text, body.html, moment)
    await repo.mark_digested([m.id for m in held])


async def _queue(
    db: AsyncSession,
    row: DigestSchedule,
    person: Person,
    subject: str,
    text: str,
    html: str,
    moment: datetime,
) -> None:
    """Straight to `pending`: for this kind `digest` means "send it" (outbox.enqueue would
    hold it for itself)."""
    written = await MailRepository(db).add_message(
        {
            "org_id": row.org_id,
            "kind": kinds.DAILY_DIGEST,
            "to_email": row.email,
            "to_name": person.name,
            "user_id": person.user_id,
            "guest_id": person.guest_id,
            "subject": subject,
            "text": text,
            "html": html,
            "status": PENDING,
            "dedupe_key": dedupe(kinds.DAILY_DIGEST, row.org_id, row.email, moment.isoformat()),
        }
    )
    if written:
        MAIL.after_commit(db)


register(Job("daily_digest", run))
