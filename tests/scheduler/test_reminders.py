"""Reminders: `due-soon` the organization's lead before a deadline, `overdue` when it passes,
once per task per deadline value; never for a task completed first; not activity entries."""

from __future__ import annotations

from datetime import datetime, timedelta

from checkrun.kit import events
from tests.conftest import LiveServer, Org, new_org
from tests.scheduler.conftest import (
    BASE,
    deadline_of,
    one_off,
    query,
    reminders_of,
    ticks,
)
from tests.support.clock import MovableClock
from tests.support.factories import ok

DEADLINE = BASE + timedelta(days=2, hours=3)  # Wednesday 12:00 UTC


def _at(clock: MovableClock, server: LiveServer, moment: datetime, job: str = "reminders") -> None:
    clock.set(moment)
    ticks(server, job)


def test_due_soon_then_overdue_each_once_at_their_moment(
    sched_server: LiveServer, sched_org: Org, clock: MovableClock, emitted: list[events.Event]
) -> None:
    task = one_off(sched_org, DEADLINE)
    deadline = deadline_of(task)
    stamp = task["deadline"]

    _at(clock, sched_server, deadline - timedelta(hours=24, seconds=1))
    assert reminders_of(emitted, task["id"]) == []
    _at(clock, sched_server, deadline - timedelta(hours=24))
    assert reminders_of(emitted, task["id"]) == [("due-soon", stamp)]
    _at(clock, sched_server, deadline - timedelta(seconds=1))
    assert reminders_of(emitted, task["id"]) == [("due-soon", stamp)]
    _at(clock, sched_server, deadline)
    _at(clock, sched_server, deadline + timedelta(days=3))
    assert reminders_of(emitted, task["id"]) == [("due-soon", stamp), ("overdue", stamp)]

    event = next(e for e in emitted if e.task_id == task["id"] and e.verb == "overdue")
    assert (event.org_id, event.type, event.entity_type, event.entity_id) == (
        sched_org.id,
        "Task",
        "task",
        task["id"],
    )
    assert (event.actor_id, event.source, event.run_id) == (None, "System", None)
    recorded = query(
        sched_server,
        "SELECT count(*) FROM activity_feeds WHERE task_id = :t "
        "AND verb IN ('due-soon', 'overdue')",
        t=task["id"],
    )
    assert recorded[0][0] == 0


def test_a_changed_deadline_reminds_again(
    sched_server: LiveServer, sched_org: Org, clock: MovableClock, emitted: list[events.Event]
) -> None:
    task = one_off(sched_org, DEADLINE)
    first = task["deadline"]
    _at(clock, sched_server, deadline_of(task) + timedelta(hours=1))
    # Straight past the deadline: overdue only (no due-soon for a task already late).
    assert reminders_of(emitted, task["id"]) == [("overdue", first)]

    later = DEADLINE + timedelta(days=2, hours=3)  # Friday 15:00 UTC
    moved = ok(
        sched_org.api.put(
            sched_org.path(f"/tasks/{task['id']}"),
            json={
                "title": task["title"],
                "owners": {"users": [sched_org.admin_id]},
                "deadline": later.strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        )
    )
    second = moved["deadline"]
    assert second != first
    _at(clock, sched_server, deadline_of(moved) - timedelta(hours=24))
    _at(clock, sched_server, deadline_of(moved))
    assert reminders_of(emitted, task["id"]) == [
        ("overdue", first),
        ("due-soon", second),
        ("overdue", second),
    ]


def test_a_task_completed_before_its_moment_never_reminds(
    sched_server: LiveServer, sched_org: Org, clock: MovableClock, emitted: list[events.Event]
) -> None:
    task = one_off(sched_org, DEADLINE)
    ok(sched_org.api.post(sched_org.path("/completed-tasks"), json={"task_id": task["id"]}))
    _at(clock, sched_server, deadline_of(task) + timedelta(days=1))
    assert reminders_of(emitted, task["id"]) == []
    # Reopened when already late: it is overdue now and nobody was told, so once.
    ok(sched_org.api.delete(sched_org.path(f"/completed-tasks/{task['id']}")))
    _at(clock, sched_server, deadline_of(task) + timedelta(days=2))
    assert reminders_of(emitted, task["id"]) == [("overdue", task["deadline"])]


def test_archived_tasks_are_not_reminded(
    sched_server: LiveServer, sched_org: Org, clock: MovableClock, emitted: list[events.Event]
) -> None:
    task = one_off(sched_org, DEADLINE)
    ok(sched_org.api.delete(sched_org.path(f"/tasks/{task['id']}")))
    _at(clock, sched_server, deadline_of(task) + timedelta(days=1))
    assert reminders_of(emitted, task["id"]) == []


def test_the_organization_chooses_the_lead_and_the_overdue_reminder(
    sched_server: LiveServer, sched_org: Org, clock: MovableClock, emitted: list[events.Event]
) -> None:
    task = one_off(sched_org, DEADLINE)
    # Changed after the task exists: its reminder moves with the setting.
    settings = ok(
        sched_org.api.put(
            sched_org.path(""), json={"reminder_due_soon_hours": 2, "reminder_overdue": False}
        )
    )
    assert (settings["reminder_due_soon_hours"], settings["reminder_overdue"]) == (2, False)
    deadline = deadline_of(task)
    _at(clock, sched_server, deadline - timedelta(hours=2, seconds=1))
    assert reminders_of(emitted, task["id"]) == []
    _at(clock, sched_server, deadline - timedelta(hours=2))
    _at(clock, sched_server, deadline + timedelta(hours=1))
    assert reminders_of(emitted, task["id"]) == [("due-soon", task["deadline"])]


def test_a_longer_lead_reminds_earlier_and_zero_turns_due_soon_off(
    sched_server: LiveServer, sched_org: Org, clock: MovableClock, emitted: list[events.Event]
) -> None:
    early, other = one_off(sched_org, DEADLINE), one_off(sched_org, DEADLINE)
    ok(sched_org.api.put(sched_org.path(""), json={"reminder_due_soon_hours": 48}))
    _at(clock, sched_server, deadline_of(early) - timedelta(hours=48))
    assert reminders_of(emitted, early["id"]) == [("due-soon", early["deadline"])]
    assert reminders_of(emitted, other["id"]) == [("due-soon", other["deadline"])]

    late = one_off(sched_org, DEADLINE + timedelta(days=1))
    ok(sched_org.api.put(sched_org.path(""), json={"reminder_due_soon_hours": 0}))
    _at(clock, sched_server, deadline_of(late) - timedelta(seconds=1))
    assert reminders_of(emitted, late["id"]) == []
    _at(clock, sched_server, deadline_of(late))
    assert reminders_of(emitted, late["id"]) == [("overdue", late["deadline"])]


def test_reminder_settings_are_validated(sched_org: Org) -> None:
    for body in (
        {"reminder_due_soon_hours": -1},
        {"reminder_due_soon_hours": 721},
        {"reminder_due_soon_hours": "soon"},
        {"reminder_overdue": "maybe"},
    ):
        answer = sched_org.api.put(sched_org.path(""), json=body)
        assert answer.status_code == 422, answer.text
    defaults = ok(sched_org.api.get(sched_org.path("")))
    assert (defaults["reminder_due_soon_hours"], defaults["reminder_overdue"]) == (24, True)


def test_one_organizations_settings_leave_another_alone(
    sched_server: LiveServer, sched_org: Org, clock: MovableClock, emitted: list[events.Event]
) -> None:
    with new_org(sched_server) as other:
        mine, theirs = one_off(sched_org, DEADLINE), one_off(other, DEADLINE)
        ok(
            other.api.put(
                other.path(""), json={"reminder_due_soon_hours": 0, "reminder_overdue": False}
            )
        )
        _at(clock, sched_server, deadline_of(mine) + timedelta(hours=1))
        assert reminders_of(emitted, mine["id"]) == [("overdue", mine["deadline"])]
        assert reminders_of(emitted, theirs["id"]) == []
