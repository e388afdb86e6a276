"""Every SQL statement about threads. Archived threads (their task or process archived) are
left out of reads; an issue stays open while archived, as archiving hides rather than resolves."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import BindParameter, Select, bindparam, case, func, or_, select, update

from checkrun.comments.models import ISSUE, Comment
from checkrun.kit.locking import locked
from checkrun.kit.repository import ORG_ID, Repository
from checkrun.templates.models import Checklist


@dataclass(frozen=True)
class Issues:
    """Open issues around a task: its own, its process's own, and what its process's status
    is by them (`CommentsRepository.issue_status`)."""

    task: bool
    process: bool
    status: str | None


def open_issue() -> Any:
    """The condition of an open issue (a `problem` thread not resolved yet)."""
    return (Comment.label == ISSUE) & Comment.resolved_at.is_(None)


def tasks_with_open_issue() -> Any:
    """Task ids with an open issue: a subquery for task filters and sorts. Not correlated with
    the outer query (evaluated once, not per task); that query scopes the organization."""
    return select(Comment.task_id).where(open_issue(), Comment.task_id.is_not(None))


_TASK_ID: BindParameter[str] = bindparam("issue_task_id")
_RUN_ID: BindParameter[str] = bindparam("issue_run_id")


@cache
def _issues_around(in_run: bool) -> Select[str | None, str | None]:
    around = Comment.task_id == _TASK_ID
    if in_run:
        around = or_(around, Comment.run_id == _RUN_ID)
    return (
        select(Comment.task_id, Comment.run_id)
        .distinct()
        .where(Comment.org_id == ORG_ID, around, open_issue())
    )


def _for_guest(for_guest: bool) -> list[Any]:
    return [Comment.state != "hide-for-guests"] if for_guest else []


class CommentsRepository(Repository):
    async def get(self, org_id: str, comment_id: str) -> Comment | None:
        return (
            await self.db.execute(
                select(Comment).where(self.scope(Comment, org_id, "all"), Comment.id == comment_id)
            )
        ).scalar_one_or_none()

    async def of_tasks(
        self, org_id: str, task_ids: list[str], for_guest: bool = False
    ) -> dict[str, list[Comment]]:
        """Each task's threads, oldest first."""
        out: dict[str, list[Comment]] = defaultdict(list)
        if not task_ids:
            return out
        rows = await self.db.execute(
            select(Comment)
            .where(
                self.scope(Comment, org_id), Comment.task_id.in_(task_ids), *_for_guest(for_guest)
            )
            .order_by(Comment.created_at, Comment.id)
        )
        for comment in rows.scalars():
            out[comment.task_id or ""].append(comment)
        return out

    async def counts_of_tasks(
        self, org_id: str, task_ids: list[str], for_guest: bool = False
    ) -> dict[str, int]:
        if not task_ids:
            return {}
        rows = await self.db.execute(
            select(Comment.task_id, func.count())
            .where(
                self.scope(Comment, org_id), Comment.task_id.in_(task_ids), *_for_guest(for_guest)
            )
            .group_by(Comment.task_id)
        )
        return {task_id or "": int(n) for task_id, n in rows.all()}

    async def of_runs(self, org_id: str, run_ids: list[str]) -> dict[str, list[Comment]]:
        """Each process's own threads (not its tasks'), oldest first."""
        out: dict[str, list[Comment]] = defaultdict(list)
        if not run_ids:
            return out
        rows = await self.db.execute(
            select(Comment)
            .where(
                self.scope(Comment, org_id),
                Comment.run_id.in_(run_ids),
                Comment.task_id.is_(None),
            )
            .order_by(Comment.created_at, Comment.id)
        )
        for comment in rows.scalars():
            out[comment.run_id or ""].append(comment)
        return out

    async def of_checklist(self, org_id: str, checklist_id: str) -> list[Comment]:
        """A template's own threads, oldest first."""
        rows = await self.db.execute(
            select(Comment)
            .where(
                self.scope(Comment, org_id),
                Comment.checklist_id == checklist_id,
                Comment.run_id.is_(None),
                Comment.task_id.is_(None),
            )
            .order_by(Comment.created_at, Comment.id)
        )
        return list(rows.scalars())

    async def lock_checklist(self, org_id: str, checklist_id: str | None) -> Checklist | None:
        """The template's row lock: its issues are reported and resolved one at a time."""
        stmt = select(Checklist).where(
            self.scope(Checklist, org_id), Checklist.id == (checklist_id or "")
        )
        return await locked(self.db, Checklist, stmt, checklist_id)

    async def open_issue_task_ids(self, org_id: str, task_ids: list[str]) -> set[str]:
        if not task_ids:
            return set()
        rows = await self.db.execute(
            select(Comment.task_id)
            .distinct()
            .where(self.scope(Comment, org_id, "all"), Comment.task_id.in_(task_ids), open_issue())
        )
        return {task_id for task_id in rows.scalars() if task_id}

    async def open_issues_around(self, org_id: str, task_id: str, run_id: str | None) -> Issues:
        """The open issues a completion of the task looks at, in one statement: the task's, its
        process's own, and its process's status by issue (`issue_status`)."""
        params: dict[str, str] = {ORG_ID.key: org_id, _TASK_ID.key: task_id}
        if run_id is not None:
            params[_RUN_ID.key] = run_id
        rows = (await self.db.execute(_issues_around(run_id is not None), params)).all()
        in_run = [t for t, r in rows if run_id is not None and r == run_id]
        return Issues(
            task=any(t == task_id for t, _ in rows),
            process=None in in_run,
            status=("issue" if None in in_run else "problem") if in_run else None,
        )

    async def runs_with_process_issue(self, org_id: str, run_ids: list[str]) -> set[str]:
        """Processes with an open issue of their own (tasks frozen)."""
        if not run_ids:
            return set()
        rows = await self.db.execute(
            select(Comment.run_id)
            .distinct()
            .where(
                self.scope(Comment, org_id, "all"),
                Comment.run_id.in_(run_ids),
                Comment.task_id.is_(None),
                open_issue(),
            )
        )
        return {run_id for run_id in rows.scalars() if run_id}

    async def issue_status(self, org_id: str, run_id: str) -> str | None:
        """`issue` when the process itself has an open issue, `problem` when one of its tasks
        has, else None."""
        own = func.max(case((Comment.task_id.is_(None), 1), else_=0))
        count, process_level = (
            await self.db.execute(
                select(func.count(), own).where(
                    self.scope(Comment, org_id, "all"), Comment.run_id == run_id, open_issue()
                )
            )
        ).one()
        if not count:
            return None
        return "issue" if process_level else "problem"

    async def set_archived(
        self, when: datetime, *, run_id: str | None = None, task_id: str | None = None
    ) -> None:
        """Hides the threads of a process (all of them, its tasks' too) or of a task. Hiding
        is not an edit: `updated_at` stays (it would follow `onupdate` otherwise)."""
        await self.db.execute(
            update(Comment)
            .where(_scope(run_id, task_id), Comment.deleted_at.is_(None))
            .values(deleted_at=when, updated_at=Comment.updated_at)
        )

    async def restore_archived(
        self, *, run_id: str | None = None, task_id: str | None = None
    ) -> None:
        await self.db.execute(
            update(Comment)
            .where(_scope(run_id, task_id))
            .values(deleted_at=None, updated_at=Comment.updated_at)
        )

    async def delete(self, comment: Comment) -> None:
        await self.db.delete(comment)

    def add(self, comment: Comment) -> None:
        self.db.add(comment)


def _scope(run_id: str | None, task_id: str | None) -> Any:
    if run_id is not None:
        return Comment.run_id == run_id
    return Comment.task_id == task_id
