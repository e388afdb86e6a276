"""What time does to tasks and processes: expiring tasks complete at their deadline; the
organization's auto-complete and auto-archive settings; each at its moment, not before, once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from checkrun.kit import events
from checkrun.kit.clock import parse_datetime
from tests.conftest import LiveServer, Org, new_org
from tests.scheduler.conftest import BASE, deadline_of, eventually, one_off, query, task_now, ticks
from tests.support.clock import MovableClock
from tests.support.factories import checklist, ok, run

DEADLINE = BASE + timedelta(days=2, hours=3)  # Wednesday 12:00 UTC


def _at(clock: MovableClock, server: LiveServer, moment: datetime, job: str) -> None:
    clock.set(moment)
    ticks(server, job)


def _completions(server: LiveServer, task_id: str) -> list[Any]:
    return query(
        server,
        "SELECT actor_type, actor_id FROM activity_feeds WHERE task_id = :t "
        "AND type = 'Task' AND verb = 'completed'",
        t=task_id,
    )


def _completed(org: Org, task: dict[str, Any]) -> dict[str, Any] | None:
    now = task_now(org, task)
    return now if now["status"] == "completed" else None


def test_an_expiring_task_completes_at_its_deadline_as_expired(
    sched_server: LiveServer, sched_org: Org, clock: MovableClock, emitted: list[events.Event]
) -> None:
    task = one_off(sched_org, DEADLINE, task_type="expiring")
    _at(clock, sched_server, deadline_of(task) - timedelta(seconds=1), "expiring_tasks")
    assert task_now(sched_org, task)["status"] != "completed"

    clock.set(deadline_of(task))
    done = eventually(lambda: _completed(sched_org, task), what="expiry")
    assert done["is_approved"] is False and done["completer_id"] is None
    assert parse_datetime(done["completed_at"]) == deadline_of(task)
    ticks(sched_server, "expiring_tasks")
    assert _completions(sched_server, task["id"]) == [("system", None)]
    # It expired rather than went late: no overdue reminder.
    ticks(sched_server, "reminders")
    assert not [e for e in emitted if e.task_id == task["id"] and e.verb == "overdue"]


def test_an_acknowledged_expiring_task_is_left_alone(
    sched_server: LiveServer, sched_org: Org, clock: MovableClock
) -> None:
    task = one_off(sched_org, DEADLINE, task_type="expiring")
    ok(
        sched_org.api.post(
            sched_org.path("/completed-tasks"), json={"task_id": task["id"], "is_approved": True}
        )
    )
    _at(clock, sched_server, deadline_of(task) + timedelta(hours=1), "expiring_tasks")
    now = task_now(sched_org, task)
    assert now["is_approved"] is True and now["completer_id"] == sched_org.admin_id
    assert _completions(sched_server, task["id"]) == [("user", sched_org.admin_id)]


def test_an_expiring_last_step_completes_its_process(
    sched_server: LiveServer, sched_org: Org, clock: MovableClock
) -> None:
    template = checklist(sched_org, steps=0)
    ok(
        sched_org.api.post(
            sched_org.path(f"/checklists/{template['id']}/steps"),
            json={
                "title": "Read the memo",
                "step_type": "expiring",
                "deadline": {"value": 2, "unit": "days"},
            },
        ),
        201,
    )
    launched = run(sched_org, template["id"])
    tasks = ok(sched_org.api.get(sched_org.path(f"/runs/{launched['id']}/tasks")))
    assert [t["task_type"] for t in tasks] == ["expiring"]
    clock.set(deadline_of(tasks[0]))
    eventually(lambda: _completed(sched_org, tasks[0]), what="expiry")
    process = ok(sched_org.api.get(sched_org.path(f"/runs/{launched['id']}")))
    assert process["status"] == "complete"
    assert (
        query(
            sched_server,
            "SELECT count(*) FROM activity_feeds WHERE run_id = :r AND "
            "type = 'Process' AND verb = 'completed'",
            r=launched["id"],
        )[0][0]
        == 1
    )


def _plus_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    return moment.replace(year=index // 12, month=index % 12 + 1)


def test_auto_complete_takes_tasks_overdue_longer_than_the_setting(
    sched_server: LiveServer, sched_org: Org, clock: MovableClock
) -> None:
    ok(
        sched_org.api.put(
            sched_org.path(""), json={"auto_complete_tasks": True, "auto_complete_task_months": 2}
        )
    )
    task = one_off(sched_org, DEADLINE, task_type="approval")
    with new_org(sched_server) as other:
        untouched = one_off(other, DEADLINE)
        limit = _plus_months(deadline_of(task), 2)
        _at(clock, sched_server, limit, "auto_complete_tasks")
        assert task_now(sched_org, task)["status"] != "completed"

        clock.set(limit + timedelta(seconds=1))
        done = eventually(lambda: _completed(sched_org, task), what="auto-complete")
        assert done["completer_id"] is None and done["is_approved"] is None
        _at(clock, sched_server, limit + timedelta(days=400), "auto_complete_tasks")
        assert task_now(other, untouched)["status"] != "completed"
        assert _completions(sched_server, task["id"]) == [("system", None)]


def _finished_run(org: Org) -> dict[str, Any]:
    launched = run(org, checklist(org, steps=1)["id"])
    task = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))[0]
    ok(
        org.api.post(
            org.path(f"/runs/{launched['id']}/completed-tasks"), json={"task_id": task["id"]}
        )
    )
    finished = ok(org.api.get(org.path(f"/runs/{launched['id']}")))
    assert finished["status"] == "complete", finished
    return dict(finished)


def _status(org: Org, launched: dict[str, Any]) -> str:
    return str(ok(org.api.get(org.path(f"/runs/{launched['id']}")))["status"])


def test_auto_archive_archives_completed_processes_after_the_period(
    sched_server: LiveServer, sched_org: Org, clock: MovableClock
) -> None:
    ok(
        sched_org.api.put(
            sched_org.path(""),
            json={
                "auto_archive": True,
                "auto_archive_processes_after": {"unit": "days", "value": 3},
            },
        )
    )
    finished = _finished_run(sched_org)
    still_open = run(sched_org, checklist(sched_org, steps=1)["id"])
    with new_org(sched_server) as other:
        theirs = _finished_run(other)
        _at(clock, sched_server, BASE + timedelta(days=3, seconds=-1), "auto_archive_processes")
        assert _status(sched_org, finished) == "complete"

        clock.set(BASE + timedelta(days=3))
        eventually(lambda: _status(sched_org, finished) == "archived", what="auto-archive")
        archived = ok(sched_org.api.get(sched_org.path(f"/runs/{finished['id']}")))
        assert archived["archived_at"] is not None
        _at(clock, sched_server, BASE + timedelta(days=30), "auto_archive_processes")
        assert _status(sched_org, still_open) == "active"
        assert _status(other, theirs) == "complete"
        assert query(
            sched_server,
            "SELECT actor_type FROM activity_feeds WHERE run_id = :r AND verb = 'archived'",
            r=finished["id"],
        ) == [("system",)]
