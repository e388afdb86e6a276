"""Exact task totals read from `task_counts` (rows of +n/-n the database's triggers insert with
every change) instead of counting an organization's or an assignee's whole history."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    ScalarSelect,
    Select,
    bindparam,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from checkrun.config import Settings
from checkrun.kit.sql import plain_rows
from checkrun.kit.wakeup import FOLDS
from checkrun.tasks.models import TaskCount

ORG = "org"  # an organization's tasks
RUN = "run"  # an organization's runs
# More change rows than this under one key: the scheduler folds them into one row per
# (status, live), so that reading stays a few rows however long the history.
FOLD_AFTER = 64
# A read that sums more change rows than this wakes the scheduler to fold them now rather
# than at its next poll (many writes between two polls: launches in bulk, an import).
FOLD_SOON = 8 * FOLD_AFTER


_ORG: BindParameter[str] = bindparam("org_id")
_KIND: BindParameter[str] = bindparam("kind")
_REF: BindParameter[str] = bindparam("ref")


@cache
def _sums() -> Select[str, bool, int, int]:
    """Built once (run with the key's values): building it cost more than running it."""
    return (
        select(TaskCount.status, TaskCount.live, func.sum(TaskCount.n), func.count())
        .where(TaskCount.org_id == _ORG, TaskCount.kind == _KIND, TaskCount.ref == _REF)
        .group_by(TaskCount.status, TaskCount.live)
    )


async def total(
    db: AsyncSession,
    org_id: str,
    kind: str,
    ref: str,
    statuses: Iterable[str] | None,
    live: bool | None,
) -> int:
    """Tasks counted under (org, kind, ref) whose status is one of `statuses` (None: any) and
    whose live flag is `live` (None: either)."""
    params = {_ORG.key: org_id, _KIND.key: kind, _REF.key: ref}
    rows = await plain_rows(db, _sums(), params)
    if sum(int(summed) for *_, summed in rows) > FOLD_SOON:
        FOLDS.wake_all()
    wanted = None if statuses is None else set(statuses)
    answer = 0
    for status, is_live, n, _ in rows:
        if (wanted is None or status in wanted) and (live is None or bool(is_live) == live):
            answer += int(n or 0)
    return answer


def total_columns(
    org_id: BindParameter[str],
    kind: str,
    ref: str | BindParameter[str],
    statuses: BindParameter[str] | None,
    live: bool | BindParameter[bool] | None,
) -> tuple[ScalarSelect[Any], ScalarSelect[Any]]:
    """`total`'s answer and the key's number of change rows, as two scalar subqueries: a page
    statement reads its list's total with its rows (each is computed once per statement)."""
    key: list[ColumnElement[bool]] = [
        TaskCount.org_id == org_id,
        TaskCount.kind == kind,
        TaskCount.ref == ref,
    ]
    wanted = list(key)
    if statuses is not None:
        wanted.append(TaskCount.status.in_(statuses))
    if live is not None:
        wanted.append(TaskCount.live == live)
    summed = select(func.coalesce(func.sum(TaskCount.n), 0)).where(*wanted)
    return summed.scalar_subquery(), select(func.count()).where(*key).scalar_subquery()


def settled(total: Any, change_rows: Any) -> int:
    """What `total_columns` read, waking the folds as `total` does when the key piled up."""
    if int(change_rows or 0) > FOLD_SOON:
        FOLDS.wake_all()
    return int(total or 0)


async def fold_due(db: AsyncSession, moment: datetime, settings: Settings) -> int:
    """The scheduler's job: folds the keys that gathered more than FOLD_AFTER change rows into
    one row per (status, live). It runs in the job's transaction, never on a request's path: a
    request that took a second connection from the pool for it could wait on its own pool."""
    keys = (
        await db.execute(
            select(TaskCount.org_id, TaskCount.kind, TaskCount.ref)
            .group_by(TaskCount.org_id, TaskCount.kind, TaskCount.ref)
            .having(func.count() > FOLD_AFTER)
            .limit(settings.scheduler_batch_size)
        )
    ).all()
    conn = await db.connection()
    for org_id, kind, ref in keys:
        await _fold_rows(conn, org_id, kind, ref)
    return len(keys)


async def _fold_rows(conn: AsyncConnection, org_id: str, kind: str, ref: str) -> None:
    gone = await conn.execute(
        delete(TaskCount)
        .where(TaskCount.org_id == org_id, TaskCount.kind == kind, TaskCount.ref == ref)
        .returning(TaskCount.status, TaskCount.live, TaskCount.n)
    )
    sums: dict[tuple[str, bool], int] = {}
    for status, is_live, n in gone.all():
        sums[(status, bool(is_live))] = sums.get((status, bool(is_live)), 0) + int(n)
    rows = [
        {"org_id": org_id, "kind": kind, "ref": ref, "status": s, "live": lv, "n": n}
        for (s, lv), n in sorted(sums.items())
        if n
    ]
    if rows:
        await conn.execute(insert(TaskCount), rows)
