"""Task lists that don't scan history: assignment rows carry their task's organization, status,
archive state and creation time, and `task_counts` keeps exact counts of runs and tasks per
organization and of tasks per assignee, all maintained by triggers in the transaction of every change (whatever sends it)

Revision ID: 0011_reads
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from checkrun.db import UTCDateTime

revision = "0011_reads"
down_revision = "0010"
branch_labels = None
depends_on = None

COUNT = "INSERT INTO task_counts (org_id, kind, ref, status, live, n)"

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER trg_runs_count_insert AFTER INSERT ON runs BEGIN
        {COUNT} VALUES (NEW.org_id, 'run', '', NEW.status, NEW.deleted_at IS NULL, 1);
    END""",
    f"""CREATE TRIGGER trg_runs_count_delete AFTER DELETE ON runs BEGIN
        {COUNT} VALUES (OLD.org_id, 'run', '', OLD.status, OLD.deleted_at IS NULL, -1);
    END""",
    f"""CREATE TRIGGER trg_runs_count_update AFTER UPDATE OF status, deleted_at, org_id ON runs
    WHEN OLD.status IS NOT NEW.status OR OLD.org_id IS NOT NEW.org_id
        OR (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)
    BEGIN
        {COUNT} VALUES (OLD.org_id, 'run', '', OLD.status, OLD.deleted_at IS NULL, -1),
            (NEW.org_id, 'run', '', NEW.status, NEW.deleted_at IS NULL, 1);
    END""",
    f"""CREATE TRIGGER trg_tasks_count_insert AFTER INSERT ON tasks BEGIN
        {COUNT} VALUES (NEW.org_id, 'org', '', NEW.status, NEW.deleted_at IS NULL, 1);
    END""",
    f"""CREATE TRIGGER trg_tasks_count_delete AFTER DELETE ON tasks BEGIN
        {COUNT} VALUES (OLD.org_id, 'org', '', OLD.status, OLD.deleted_at IS NULL, -1);
    END""",
    f"""CREATE TRIGGER trg_tasks_count_update AFTER UPDATE OF status, deleted_at, org_id ON tasks
    WHEN OLD.status IS NOT NEW.status OR OLD.org_id IS NOT NEW.org_id
        OR (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)
    BEGIN
        {COUNT} VALUES (OLD.org_id, 'org', '', OLD.status, OLD.deleted_at IS NULL, -1),
            (NEW.org_id, 'org', '', NEW.status, NEW.deleted_at IS NULL, 1);
        {COUNT} SELECT OLD.org_id, kind, ref, OLD.status, OLD.deleted_at IS NULL, -1
            FROM task_owners WHERE task_id = NEW.id;
        {COUNT} SELECT NEW.org_id, kind, ref, NEW.status, NEW.deleted_at IS NULL, 1
            FROM task_owners WHERE task_id = NEW.id;
        UPDATE task_owners SET org_id = NEW.org_id, task_status = NEW.status,
            task_live = NEW.deleted_at IS NULL WHERE task_id = NEW.id;
    END""",
    f"""CREATE TRIGGER trg_task_owners_insert AFTER INSERT ON task_owners BEGIN
        UPDATE task_owners SET (org_id, task_status, task_live, task_created_at) =
            (SELECT org_id, status, deleted_at IS NULL, created_at FROM tasks
             WHERE id = NEW.task_id)
        WHERE id = NEW.id;
        {COUNT} SELECT org_id, NEW.kind, NEW.ref, status, deleted_at IS NULL, 1
            FROM tasks WHERE id = NEW.task_id;
    END""",
    f"""CREATE TRIGGER trg_task_owners_delete AFTER DELETE ON task_owners
    WHEN OLD.org_id IS NOT NULL BEGIN
        {COUNT} VALUES (OLD.org_id, OLD.kind, OLD.ref, OLD.task_status, OLD.task_live, -1);
    END""",
    f"""CREATE TRIGGER trg_task_owners_update AFTER UPDATE OF kind, ref ON task_owners
    WHEN OLD.org_id IS NOT NULL BEGIN
        {COUNT} VALUES (OLD.org_id, OLD.kind, OLD.ref, OLD.task_status, OLD.task_live, -1),
            (NEW.org_id, NEW.kind, NEW.ref, NEW.task_status, NEW.task_live, 1);
    END""",
]

POSTGRESQL_TRIGGERS = [
    f"""CREATE FUNCTION checkrun_runs_count() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            {COUNT} VALUES (OLD.org_id, 'run', '', OLD.status, OLD.deleted_at IS NULL, -1);
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            {COUNT} VALUES (NEW.org_id, 'run', '', NEW.status, NEW.deleted_at IS NULL, 1);
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER trg_runs_count AFTER INSERT OR DELETE OR UPDATE OF status, deleted_at,
    org_id ON runs FOR EACH ROW EXECUTE FUNCTION checkrun_runs_count()""",
    f"""CREATE FUNCTION checkrun_tasks_count() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            {COUNT} VALUES (NEW.org_id, 'org', '', NEW.status, NEW.deleted_at IS NULL, 1);
        ELSIF TG_OP = 'DELETE' THEN
            {COUNT} VALUES (OLD.org_id, 'org', '', OLD.status, OLD.deleted_at IS NULL, -1);
        ELSIF OLD.status IS DISTINCT FROM NEW.status OR OLD.org_id IS DISTINCT FROM NEW.org_id
                OR (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL) THEN
            {COUNT} VALUES (OLD.org_id, 'org', '', OLD.status, OLD.deleted_at IS NULL, -1),
                (NEW.org_id, 'org', '', NEW.status, NEW.deleted_at IS NULL, 1);
            {COUNT} SELECT OLD.org_id, kind, ref, OLD.status, OLD.deleted_at IS NULL, -1
                FROM task_owners WHERE task_id = NEW.id;
            {COUNT} SELECT NEW.org_id, kind, ref, NEW.status, NEW.deleted_at IS NULL, 1
                FROM task_owners WHERE task_id = NEW.id;
            UPDATE task_owners SET org_id = NEW.org_id, task_status = NEW.status,
                task_live = NEW.deleted_at IS NULL WHERE task_id = NEW.id;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER trg_tasks_count AFTER INSERT OR DELETE OR UPDATE OF status, deleted_at,
    org_id ON tasks FOR EACH ROW EXECUTE FUNCTION checkrun_tasks_count()""",
    """CREATE FUNCTION checkrun_task_owners_fill() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        SELECT org_id, status, deleted_at IS NULL, created_at
            INTO NEW.org_id, NEW.task_status, NEW.task_live, NEW.task_created_at
            FROM tasks WHERE id = NEW.task_id;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER trg_task_owners_fill BEFORE INSERT ON task_owners
    FOR EACH ROW EXECUTE FUNCTION checkrun_task_owners_fill()""",
    f"""CREATE FUNCTION checkrun_task_owners_count() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('DELETE', 'UPDATE') AND OLD.org_id IS NOT NULL THEN
            {COUNT} VALUES (OLD.org_id, OLD.kind, OLD.ref, OLD.task_status, OLD.task_live, -1);
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.org_id IS NOT NULL THEN
            {COUNT} VALUES (NEW.org_id, NEW.kind, NEW.ref, NEW.task_status, NEW.task_live, 1);
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER trg_task_owners_count AFTER INSERT OR DELETE OR UPDATE OF kind, ref
    ON task_owners FOR EACH ROW EXECUTE FUNCTION checkrun_task_owners_count()""",
]

SQLITE_FILL = """UPDATE task_owners SET (org_id, task_status, task_live, task_created_at) =
    (SELECT org_id, status, deleted_at IS NULL, created_at FROM tasks
     WHERE tasks.id = task_owners.task_id)"""
POSTGRESQL_FILL = """UPDATE task_owners SET org_id = t.org_id, task_status = t.status,
    task_live = t.deleted_at IS NULL, task_created_at = t.created_at
    FROM tasks t WHERE t.id = task_owners.task_id"""
COUNT_TASKS = f"""{COUNT} SELECT org_id, 'org', '', status, deleted_at IS NULL, count(*)
    FROM tasks GROUP BY org_id, status, deleted_at IS NULL"""
COUNT_RUNS = f"""{COUNT} SELECT org_id, 'run', '', status, deleted_at IS NULL, count(*)
    FROM runs GROUP BY org_id, status, deleted_at IS NULL"""
COUNT_OWNERS = f"""{COUNT} SELECT org_id, kind, ref, task_status, task_live, count(*)
    FROM task_owners WHERE org_id IS NOT NULL GROUP BY org_id, kind, ref, task_status, task_live"""


def backfill_statements(dialect: str) -> list[str]:
    """Fills the copies and the counts from the rows as they are (also used by the benchmark,
    whose seeder writes rows straight into the tables; the triggers then keep them)."""
    fill = POSTGRESQL_FILL if dialect == "postgresql" else SQLITE_FILL
    return ["DELETE FROM task_counts", fill, COUNT_TASKS, COUNT_RUNS, COUNT_OWNERS]


def upgrade() -> None:
    op.create_table(
        "task_counts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("org_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("ref", sa.String(254), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("live", sa.Boolean(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
    )
    op.create_index("ix_task_counts_org_kind_ref", "task_counts", ["org_id", "kind", "ref"])
    op.add_column("task_owners", sa.Column("org_id", sa.String(32), nullable=True))
    op.add_column("task_owners", sa.Column("task_status", sa.String(16), nullable=True))
    op.add_column("task_owners", sa.Column("task_live", sa.Boolean(), nullable=True))
    op.add_column("task_owners", sa.Column("task_created_at", UTCDateTime(), nullable=True))
    op.create_index(
        "ix_task_owners_listing",
        "task_owners",
        ["kind", "ref", "org_id", "task_live", "task_created_at", "task_id"],
    )
    dialect = op.get_bind().dialect.name
    for statement in backfill_statements(dialect):
        op.execute(statement)
    for statement in POSTGRESQL_TRIGGERS if dialect == "postgresql" else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS trg_runs_count ON runs")
        op.execute("DROP TRIGGER IF EXISTS trg_tasks_count ON tasks")
        op.execute("DROP TRIGGER IF EXISTS trg_task_owners_fill ON task_owners")
        op.execute("DROP TRIGGER IF EXISTS trg_task_owners_count ON task_owners")
        for name in ("runs_count", "tasks_count", "task_owners_fill", "task_owners_count"):
            op.execute(f"DROP FUNCTION IF EXISTS checkrun_{name}()")
    else:
        for table in ("runs", "tasks"):
            for verb in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_count_{verb}")
        for name in ("task_owners_insert", "task_owners_delete", "task_owners_update"):
            op.execute(f"DROP TRIGGER IF EXISTS trg_{name}")
    op.drop_index("ix_task_owners_listing", table_name="task_owners")
    for column in ("task_created_at", "task_live", "task_status", "org_id"):
        op.drop_column("task_owners", column)
    op.drop_table("task_counts")
