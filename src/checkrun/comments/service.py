"""Thread rules: comments and issues on tasks, processes and templates, who may change them,
and what an open issue does (the task can't be completed, the process shows `problem` or
`issue`; a template's issue blocks nothing, it is a note for its editors until resolved)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.comments.models import ISSUE, Comment
from checkrun.comments.repository import CommentsRepository
from checkrun.comments.schemas import (
    BotComment,
    CommentCreate,
    CommentRead,
    CommentUpdate,
    IssueReport,
    ResolveThread,
)
from checkrun.kit import events
from checkrun.kit.auth import Actor, require_not_light
from checkrun.kit.clock import now
from checkrun.kit.errors import forbidden, invalid, invalid_field, not_found
from checkrun.members.repository import MembersRepository
from checkrun.runs.repository import RunsRepository
from checkrun.runs.rules import sync_run_status
from checkrun.tasks.completion import lock_task, reopen_completed
from checkrun.tasks.models import Task
from checkrun.tasks.repository import TasksRepository
from checkrun.templates.repository import TemplatesRepository

# The SDK's `resolve_task_issues` default, used when a resolution comes without text.
DEFAULT_RESOLUTION = "Resolved"
# Labels that carry the issue workflow: set only through /problem and /resolved-threads.
WORKFLOW_LABELS = (ISSUE, "resolve")


@dataclass(frozen=True)
class Subject:
    """What a thread is about: a task (of a process or standalone), a process itself, or a
    template (`on_template`; `checklist_id` is then the template's id)."""

    org_id: str
    task_id: str | None
    run_id: str | None
    checklist_id: str | None
    title: str
    task: Task | None = None
    on_template: bool = False


async def task_subject(db: AsyncSession, actor: Actor, task_id: str) -> Subject:
    task = await TasksRepository(db).get(actor.org_id, task_id)
    if task is None:
        raise not_found()
    if task.deleted_at is not None:
        raise invalid_field(
            "archived_at", "Archived tasks can't be commented on. Restore the task first."
        )
    return Subject(actor.org_id, task.id, task.run_id, task.checklist_id, task.title, task)


async def run_subject(db: AsyncSession, actor: Actor, run_id: str) -> Subject:
    run = await RunsRepository(db).get(actor.org_id, run_id)
    if run is None:
        raise not_found()
    if run.deleted_at is not None:
        raise invalid_field(
            "archived_at", "Archived processes can't be commented on. Activate it first."
        )
    return Subject(actor.org_id, None, run.id, run.checklist_id, run.name)


async def template_subject(db: AsyncSession, actor: Actor, checklist_id: str) -> Subject:
    """A live template of the organization (an archived one is a 404, as its reads are)."""
    checklist = await TemplatesRepository(db).get(actor.org_id, checklist_id)
    if checklist is None:
        raise not_found()
    return Subject(actor.org_id, None, None, checklist.id, checklist.title, on_template=True)


async def _check_sent_to(db: AsyncSession, org_id: str, sent_to: list[int]) -> list[int]:
    known = await MembersRepository(db).existing_user_ids(org_id, sent_to)
    errors = {
        f"sent_to.{i}": [f"The selected sent_to.{i} is invalid."]
        for i, user_id in enumerate(sent_to)
        if user_id not in known
    }
    if errors:
        raise invalid(errors)
    return list(dict.fromkeys(sent_to))


async def _new(
    db: AsyncSession,
    actor: Actor | None,
    subject: Subject,
    content: str,
    label: str,
    state: str,
    sent_to: list[int],
) -> Comment:
    comment = Comment(
        org_id=subject.org_id,
        task_id=subject.task_id,
        run_id=subject.run_id,
        checklist_id=subject.checklist_id if subject.on_template else None,
        author_id=actor.user_id if actor else None,
        author_type="user" if actor else "bot",
        content=content,
        label=label,
        state=state,
        sent_to=await _check_sent_to(db, subject.org_id, sent_to),
    )
    CommentsRepository(db).add(comment)
    await db.flush()
    return comment


async def add_comment(
    db: AsyncSession, actor: Actor, subject: Subject, body: CommentCreate
) -> Comment:
    """A comment; one labelled `problem` reports an issue, as `/problem` does."""
    if body.label == ISSUE:
        return await report_issue(
            db,
            actor,
            subject,
            IssueReport(content=body.content, state=body.state, sent_to=body.sent_to),
        )
    comment = await _new(db, actor, subject, body.content, body.label, body.state, body.sent_to)
    await _emit(db, actor, subject, comment, "commented", "Commented on")
    return comment


async def add_bot_comment(
    db: AsyncSession, actor: Actor, subject: Subject, body: BotComment
) -> Comment:
    """Shown as the bot's (no author id), emitted as the caller's action. Integrations post
    these as full members; a light member writes in their own name."""
    require_not_light(actor)
    comment = await _new(db, None, subject, body.content, "comment", body.state, [])
    await _emit(db, actor, subject, comment, "commented", "Bot commented on")
    return comment


async def report_issue(
    db: AsyncSession, actor: Actor, subject: Subject, body: IssueReport
) -> Comment:
    """The task can't be completed until the issue is resolved (a completed task reopens);
    its process shows `problem` (`issue` for a process-level one)."""
    await lock_subject(db, subject)
    comment = await _new(db, actor, subject, body.content, ISSUE, body.state, body.sent_to)
    await _emit(db, actor, subject, comment, "issue-reported", "Reported an issue on")
    if subject.task is not None and subject.task.status == "completed":
        await reopen_completed(db, actor, subject.task)
    await sync_run_status(db, subject.run_id, actor)
    return comment


async def lock_subject(db: AsyncSession, subject: Subject) -> None:
    """Issues change what the task and the process may do: reporting and resolving hold the
    subject's locks (the run's, then the task's), so concurrent ones happen one at a time and
    each sees the one before; `subject.task` is refreshed in place."""
    if subject.task is not None:
        await lock_task(db, subject.task)
    elif subject.on_template:
        repo = CommentsRepository(db)
        if await repo.lock_checklist(subject.org_id, subject.checklist_id) is None:
            raise not_found()
    elif (
        subject.run_id is not None
        and await RunsRepository(db).lock(subject.org_id, subject.run_id) is None
    ):
        raise not_found()


def _belongs(comment: Comment, subject: Subject) -> bool:
    if subject.on_template or comment.checklist_id is not None:
        return (
            subject.on_template
            and comment.checklist_id == subject.checklist_id
            and comment.run_id is None
            and comment.task_id is None
        )
    return comment.task_id == subject.task_id and (
        subject.task_id is not None or comment.run_id == subject.run_id
    )


async def resolve(db: AsyncSession, actor: Actor, subject: Subject, body: ResolveThread) -> Comment:
    """Resolves an open issue of this task (or process) with a resolution comment."""
    await lock_subject(db, subject)
    issue = await CommentsRepository(db).get(subject.org_id, body.thread_id)
    if issue is None or issue.label != ISSUE or not _belongs(issue, subject):
        raise invalid_field("thread_id", "The selected thread id is invalid.")
    if issue.resolved_at is not None:
        raise invalid_field("thread_id", "This issue is already resolved.")
    content = body.content if body.content and body.content.strip() else DEFAULT_RESOLUTION
    resolution = await _new(db, actor, subject, content, "resolve", body.state, [])
    resolution.resolve_id = issue.id
    issue.resolve_id, issue.resolved_at = resolution.id, now()
    await db.flush()
    await _emit(db, actor, subject, resolution, "issue-resolved", "Resolved an issue on")
    await sync_run_status(db, subject.run_id, actor)
    return resolution


async def _editable(db: AsyncSession, actor: Actor, subject: Subject, comment_id: str) -> Comment:
    """A thread of this subject (404 otherwise) that the caller wrote, or the caller is an
    admin (403 otherwise)."""
    comment = await CommentsRepository(db).get(subject.org_id, comment_id)
    if comment is None or not _belongs(comment, subject):
        raise not_found()
    if not actor.is_admin and (comment.author_type != "user" or comment.author_id != actor.user_id):
        raise forbidden("Only the author of this comment or an administrator can change it.")
    return comment


def _check_label(comment: Comment, label: str | None) -> None:
    if label is None or label == comment.label:
        return
    if comment.label in WORKFLOW_LABELS or label in WORKFLOW_LABELS:
        raise invalid_field(
            "label",
            "Issues are reported through /problem and resolved "
            "through /resolved-threads; this label can't be changed.",
        )


async def update_comment(
    db: AsyncSession, actor: Actor, subject: Subject, comment_id: str, body: CommentUpdate
) -> Comment:
    comment = await _editable(db, actor, subject, comment_id)
    _check_label(comment, body.label)
    comment.content = body.content
    if body.label is not None:
        comment.label = body.label
    if body.state is not None:
        comment.state = body.state
    if body.sent_to is not None:
        comment.sent_to = await _check_sent_to(db, subject.org_id, body.sent_to)
    comment.updated_at = now()
    await db.flush()
    await _emit(db, actor, subject, comment, "updated", "Edited a comment on")
    return comment


async def delete_comment(db: AsyncSession, actor: Actor, subject: Subject, comment_id: str) -> None:
    """Permanent. Deleting an open issue lifts what it blocked."""
    comment = await _editable(db, actor, subject, comment_id)
    was_open_issue = comment.label == ISSUE and comment.resolved_at is None
    await _emit(db, actor, subject, comment, "comment-deleted", "Deleted a comment on")
    await CommentsRepository(db).delete(comment)
    await db.flush()
    if was_open_issue:
        await sync_run_status(db, subject.run_id, actor)


async def _emit(
    db: AsyncSession, actor: Actor, subject: Subject, comment: Comment, verb: str, what: str
) -> None:
    await events.emit(
        db,
        events.Event(
            org_id=subject.org_id,
            type="Comment",
            verb=verb,
            entity_type="thread",
            entity_id=comment.id,
            task_id=subject.task_id,
            run_id=subject.run_id,
            checklist_id=subject.checklist_id,
            description=f"{what} {subject.title}",
            new_value=comment.content,
            extra={"label": comment.label},
            **events.by(actor),
        ),
    )


# --- reads (task and process includes) ----------------------------------------------------------


def _dumped(by_key: dict[str, list[Comment]]) -> dict[str, list[dict[str, Any]]]:
    return {key: [CommentRead.of(c).model_dump() for c in found] for key, found in by_key.items()}


async def threads_for(
    db: AsyncSession, org_id: str, task_ids: list[str], for_guest: bool
) -> dict[str, list[dict[str, Any]]]:
    """Each task's visible threads, oldest first; a guest does not see `hide-for-guests` ones.
    Tasks without threads are missing from the answer."""
    return _dumped(await CommentsRepository(db).of_tasks(org_id, task_ids, for_guest))


async def thread_counts(
    db: AsyncSession, org_id: str, task_ids: list[str], for_guest: bool = False
) -> dict[str, int]:
    return await CommentsRepository(db).counts_of_tasks(org_id, task_ids, for_guest)


async def open_issues_for(
    db: AsyncSession, org_id: str, task_ids: list[str]
) -> dict[str, list[dict[str, Any]]]:
    threads = await CommentsRepository(db).of_tasks(org_id, task_ids)
    return _dumped(
        {
            task_id: [c for c in found if c.label == ISSUE and c.resolved_at is None]
            for task_id, found in threads.items()
        }
    )


async def run_threads(
    db: AsyncSession, org_id: str, run_ids: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """Each process's own threads (`with=threads` on a run)."""
    return _dumped(await CommentsRepository(db).of_runs(org_id, run_ids))


async def template_threads(db: AsyncSession, org_id: str, checklist_id: str) -> list[Comment]:
    """A template's own threads, oldest first."""
    return await CommentsRepository(db).of_checklist(org_id, checklist_id)


async def blocked_tasks(
    db: AsyncSession, org_id: str, tasks: list[Task]
) -> tuple[set[str], set[str]]:
    """(tasks with an open issue, tasks frozen by an open issue of their process)."""
    repo = CommentsRepository(db)
    with_issue = await repo.open_issue_task_ids(org_id, [t.id for t in tasks])
    frozen_runs = await repo.runs_with_process_issue(
        org_id, list({t.run_id for t in tasks if t.run_id})
    )
    return with_issue, {t.id for t in tasks if t.run_id in frozen_runs}
