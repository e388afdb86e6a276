"""Seeds an organization for the workflow benchmark straight into the server's database with
SQLAlchemy Core bulk inserts (the HTTP API would take far too long for 200k tasks).

Shape: 100 templates of 5-20 steps (the first has 20); 20 members including the admin; runs of
20 tasks (the template's steps, then ad-hoc tasks added to the run), 80% active, 12% complete,
8% archived; every task has one assignee spread evenly over the 20 members (10% a second one).
A 21st member, the "fixed" member, is the assignee of the tasks of the first 50 runs at every
scale, so that their list shows how latency depends on the size of the organization alone.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, insert, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from checkrun.db import make_engine
from checkrun.models import (
    Checklist,
    Membership,
    Organization,
    Run,
    Step,
    Task,
    TaskOwner,
    User,
)
from checkrun.tasks.deadlines import SNAPSHOT, Rule

TEMPLATES = 100
TASKS_PER_RUN = 20
MEMBERS = 20  # including the admin
FIXED_MEMBER_RUNS = 50
BATCH = 5000
Row = dict[str, Any]


@dataclass
class Seeded:
    template_20: str
    active_run_ids: list[str]
    visible_run_ids: list[str]  # active and complete: what `GET /runs/{id}` is asked for
    open_tasks: list[tuple[str, str]]  # (run id, task id) of active runs, shuffled
    fixed_member_id: int
    fixed_member_email: str
    counts: dict[str, int]
    seconds: float


@dataclass
class Org:
    id: str
    admin_id: int
    started: datetime  # the first run's start; runs follow one every few minutes


def _uid() -> str:
    return uuid.uuid4().hex


def check_not_null(table: Table, rows: list[Row]) -> None:
    """Every NOT NULL column without a server default is given explicitly; columns the seed does
    not care about get the model's scalar default (added by later migrations, say)."""
    required = {
        c.name
        for c in table.columns
        if not c.nullable and c.server_default is None and c is not table.autoincrement_column
    }
    for column in table.columns:
        if column.name in required and column.default is not None and column.default.is_scalar:
            for row in rows:
                row.setdefault(column.name, column.default.arg)  # type: ignore[attr-defined]
    missing = required - set(rows[0]) if rows else set()
    if missing:
        raise ValueError(f"{table.name}: no value for NOT NULL {sorted(missing)}")


# --- rows ------------------------------------------------------------------------------------


def user_rows(count: int, when: datetime) -> list[Row]:
    tag = _uid()[:6]
    return [
        {
            "email": f"member{n}-{tag}@example.com",
            "first_name": "Member",
            "last_name": str(n),
            "timezone": "UTC",
            "created_at": when,
            "updated_at": when,
        }
        for n in range(count)
    ]


def membership_rows(org: Org, user_ids: list[int], when: datetime) -> list[Row]:
    return [
        {
            "org_id": org.id,
            "user_id": uid,
            "role": "standard",
            "status": "active",
            "is_default_admin": False,
            "invited_by": org.admin_id,
            "created_at": when,
        }
        for uid in user_ids
    ]


def template_rows(org: Org) -> tuple[list[Row], dict[str, list[Row]]]:
    templates: list[Row] = []
    steps: dict[str, list[Row]] = {}
    when = org.started - timedelta(days=30)
    for n in range(TEMPLATES):
        tid = _uid()
        templates.append(
            {
                "id": tid,
                "org_id": org.id,
                "increment_id": n + 1,
                "title": f"Template {n}",
                "type": "procedure",
                "starred": False,
                "is_public": False,
                "can_add_oot": True,
                "auto_naming": False,
                "created_by": org.admin_id,
                "owner_id": org.admin_id,
                "users": [],
                "groups": [],
                "automated_actions": [],
                "settings": {},
                "created_at": when,
                "updated_at": when,
            }
        )
        count = TASKS_PER_RUN if n == 0 else 5 + n % 16
        steps[tid] = [step_row(tid, p, when) for p in range(1, count + 1)]
    return templates, steps


def step_row(checklist_id: str, position: int, when: datetime) -> Row:
    return {
        "id": _uid(),
        "checklist_id": checklist_id,
        "title": f"Step {position}",
        "alias": f"step-{position}",
        "step_type": "task",
        "position": position,
        "deadline": {"value": position, "unit": "days", "option": "from", "step": None},
        "assignees": [],
        "guests": [],
        "groups": [],
        "assign_run_starter": True,
        "everyone_must_complete": False,
        "can_complete_only_assignees": False,
        "prevent_guest_comment": False,
        "max_assignable": 0,
        "top_secret": False,
        "skip_start_process": False,
        "allow_guest_owners": False,
        "settings": {},
        "created_at": when,
        "updated_at": when,
    }


def run_row(
    org: Org, number: int, template: Row, status: str, starter: int, started: datetime
) -> Row:
    archived = status == "archived"
    return {
        "id": _uid(),
        "org_id": org.id,
        "increment_id": number,
        "checklist_id": template["id"],
        "checklist_title": template["title"],
        "name": f"{template['title']} - {started:%Y-%m-%d %H:%M}",
        "status": status,
        "status_before_archive": "active" if archived else None,
        "type": "procedure",
        "owner_id": starter,
        "started_by": starter,
        "prerun": {},
        "starred": False,
        "is_public": False,
        "can_add_oot": True,
        "users": [],
        "groups": [],
        "settings": {},
        "prerun_completed_at": started,
        "prerun_completed_by": starter,
        "created_at": started,
        "started_at": started,
        "updated_at": started,
        "completed_at": started + timedelta(days=3) if status == "complete" else None,
        "deleted_at": started + timedelta(days=4) if archived else None,
    }


def _launch_settings(step: Row | None) -> dict[str, Any]:
    """What a launch keeps on a step's task: the deadline rule it was counted by."""
    rule = Rule.read(step["deadline"]) if step else None
    return {SNAPSHOT: rule.as_dict()} if rule else {}


def task_row(run: Row, number: int, position: int, step: Row | None, done: bool) -> Row:
    started: datetime = run["started_at"]
    finished = started + timedelta(hours=6 * position) if done else None
    return {
        "id": _uid(),
        "org_id": run["org_id"],
        "increment_id": number,
        "run_id": run["id"],
        "step_id": step["id"] if step else None,
        "checklist_id": run["checklist_id"] if step else None,
        "title": step["title"] if step else f"Ad-hoc task {position}",
        "alias": step["alias"] if step else None,
        "task_type": "task",
        "status": "completed" if done else "active",
        "position": position,
        "deadline": started + timedelta(days=position),
        "started_at": started,
        "starter_id": run["started_by"],
        "completer_id": run["started_by"] if done else None,
        "completed_at": finished,
        "everyone_must_complete": False,
        "can_complete_only_assignees": False,
        "prevent_guest_comment": False,
        "max_assignable": 0,
        "top_secret": False,
        "created_at": started,
        "updated_at": started,
        "deleted_at": run["deleted_at"],
        "archived_with_run": run["deleted_at"] is not None,
        "hidden_by_rule": False,
        "settings": _launch_settings(step),
    }


def owner_rows(task_id: str, assignees: list[int]) -> list[Row]:
    return [{"task_id": task_id, "kind": "user", "ref": str(a)} for a in assignees]


@dataclass
class Workload:
    runs: list[Row]
    tasks: list[Row]
    owners: list[Row]


def workload(
    org: Org,
    templates: list[Row],
    steps: dict[str, list[Row]],
    run_count: int,
    members: list[int],
    fixed_member: int,
    rng: random.Random,
) -> Workload:
    out = Workload([], [], [])
    for r in range(run_count):
        template = templates[rng.randrange(TEMPLATES)]
        status = rng.choices(["active", "complete", "archived"], [80, 12, 8])[0]
        run = run_row(
            org,
            r + 1,
            template,
            status,
            rng.choice(members),
            org.started + timedelta(minutes=5 * r),
        )
        out.runs.append(run)
        # Work goes front to back: the first `done` tasks of an open run are completed.
        done = TASKS_PER_RUN if status == "complete" else rng.randint(0, 14)
        template_steps = steps[template["id"]]
        for p in range(1, TASKS_PER_RUN + 1):
            step = template_steps[p - 1] if p <= len(template_steps) else None
            task = task_row(run, len(out.tasks) + 1, p, step, p <= done)
            out.tasks.append(task)
            out.owners += owner_rows(task["id"], _assignees(r, members, fixed_member, rng))
    return out


def _assignees(run_index: int, members: list[int], fixed: int, rng: random.Random) -> list[int]:
    first = fixed if run_index < FIXED_MEMBER_RUNS else rng.choice(members)
    if rng.random() < 0.10:
        second = rng.choice(members)
        return [first] if second == first else [first, second]
    return [first]


# --- inserts ---------------------------------------------------------------------------------


async def _insert(conn: AsyncConnection, table: Table, rows: list[Row]) -> None:
    check_not_null(table, rows)
    for i in range(0, len(rows), BATCH):
        await conn.execute(insert(table), rows[i : i + BATCH])


async def _insert_users(conn: AsyncConnection, rows: list[Row]) -> list[int]:
    check_not_null(User.__table__, rows)
    result = await conn.execute(insert(User).returning(User.id, sort_by_parameter_order=True), rows)
    return [int(row[0]) for row in result]


async def seed(
    url: str, org_id: str, admin_id: int, task_count: int, seed_value: int = 7
) -> Seeded:
    began = time.perf_counter()
    rng = random.Random(seed_value)
    now = datetime.now(UTC)
    run_count = max(1, task_count // TASKS_PER_RUN)
    org = Org(org_id, admin_id, now - timedelta(minutes=5 * run_count + 60))
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            users = user_rows(MEMBERS, now)
            user_ids = await _insert_users(conn, users)
            await _insert(conn, Membership.__table__, membership_rows(org, user_ids, now))
            members, fixed = [admin_id, *user_ids[: MEMBERS - 1]], user_ids[-1]
            templates, steps = template_rows(org)
            await _insert(conn, Checklist.__table__, templates)
            await _insert(conn, Step.__table__, [s for group in steps.values() for s in group])
            work = workload(org, templates, steps, run_count, members, fixed, rng)
            await _insert(conn, Run.__table__, work.runs)
            await _insert(conn, Task.__table__, work.tasks)
            await _insert(conn, TaskOwner.__table__, work.owners)
            await conn.execute(
                update(Organization)
                .where(Organization.id == org_id)
                .values(checklist_seq=TEMPLATES, run_seq=len(work.runs), task_seq=len(work.tasks))
            )
        if url.startswith("postgresql"):
            # Autovacuum gathers planner statistics soon after a bulk load; do it now so that
            # the measurement does not depend on its timing. SQLite gathers none unless told
            # to, and checkrun never tells it: it is left as deployments have it.
            async with engine.begin() as conn:
                await conn.execute(text("ANALYZE"))
    finally:
        await engine.dispose()
    summary = _summary(templates[0]["id"], work, fixed, rng, time.perf_counter() - began)
    summary.fixed_member_email = users[-1]["email"]
    return summary


def _summary(
    template_20: str, work: Workload, fixed: int, rng: random.Random, seconds: float
) -> Seeded:
    active = {r["id"] for r in work.runs if r["status"] == "active"}
    open_tasks = [
        (t["run_id"], t["id"])
        for t in work.tasks
        if t["run_id"] in active and t["status"] == "active"
    ]
    rng.shuffle(open_tasks)
    counts = {
        "templates": TEMPLATES,
        "members": MEMBERS + 1,
        "runs": len(work.runs),
        "active_runs": len(active),
        "tasks": len(work.tasks),
        "task_owners": len(work.owners),
        "open_tasks_in_active_runs": len(open_tasks),
    }
    return Seeded(
        template_20=template_20,
        active_run_ids=[r["id"] for r in work.runs if r["status"] == "active"],
        visible_run_ids=[r["id"] for r in work.runs if r["status"] != "archived"],
        open_tasks=open_tasks,
        fixed_member_id=fixed,
        fixed_member_email="",
        counts=counts,
        seconds=seconds,
    )


async def compact_counts(url: str) -> None:
    """The seeder's bulk inserts went through the triggers of migration 0011_reads, one count
    row per task and assignment; fold them as the migration's backfill does (a deployment's
    readers fold them as they go), then vacuum and analyze PostgreSQL."""
    import importlib

    from checkrun.db import make_engine

    try:
        migration = importlib.import_module("checkrun.migrations.versions.0011_reads")
    except ImportError:
        return  # a tree from before the counters
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            for statement in migration.backfill_statements(engine.dialect.name):
                await conn.execute(text(statement))
        if url.startswith("postgresql"):
            # The fold leaves the seed's count rows dead: autovacuum would clear them (and set
            # the visibility map that index-only scans need); do it now, outside a transaction.
            async with engine.connect() as conn:
                auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await auto.execute(text("VACUUM ANALYZE"))
    finally:
        await engine.dispose()
