"""Deadlines follow the organization: its default deadline, working days and hours and time
zone; steps counted from another step's deadline or completion; start dates; deadlines given by
hand; and the automatic-deadline / reset-deadline routes. Launches happen at known instants on a
server whose clock the test moves (both databases)."""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import LiveServer, Org, live_server, new_org
from tests.support.clock import MovableClock
from tests.support.factories import checklist, ok

# 2026-12-01 is a Tuesday, 2026-12-04 a Friday.
TUESDAY_10 = datetime(2026, 12, 1, 10, tzinfo=UTC)
FRIDAY_15 = datetime(2026, 12, 4, 15, tzinfo=UTC)
UNKNOWN_ID = "0" * 32
_stamps = itertools.count(1)


def at(day: int, hour: int, minute: int = 0) -> str:
    return f"2026-12-{day:02d}T{hour:02d}:{minute:02d}:00Z"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def clocked(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, MovableClock]]:
    data = tmp_path_factory.mktemp(f"deadlines-{request.param}")
    clock = MovableClock(tmp_path_factory.mktemp("clock") / "now", TUESDAY_10)
    with live_server(request.param, data, clock_file=clock.path) as live:
        yield live, clock


@pytest.fixture
def org(clocked: tuple[LiveServer, MovableClock]) -> Iterator[Org]:
    with new_org(clocked[0]) as made:
        yield made


def move(clocked: tuple[LiveServer, MovableClock], moment: datetime) -> None:
    """The server's time is `moment` from now on."""
    clock = clocked[1]
    clock.set(moment)
    # File times are coarse: give each instant its own, so the server sees every change.
    stamp = time.time_ns() + next(_stamps) * 1_000_000
    os.utime(clock.path, ns=(stamp, stamp))


def settings(org: Org, **body: Any) -> None:
    ok(org.api.put(org.path(""), json=body))


def template_with(org: Org, *steps: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    template = checklist(org, steps=0)
    ids = [
        ok(
            org.api.post(
                org.path(f"/checklists/{template['id']}/steps"), json={"title": f"Step {i}", **step}
            ),
            201,
        )["id"]
        for i, step in enumerate(steps, start=1)
    ]
    return template, ids


def launch(
    org: Org,
    clocked: tuple[LiveServer, MovableClock],
    moment: datetime,
    *steps: dict[str, Any],
    **body: Any,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A run of a new template with `steps`, launched at `moment`, and its tasks."""
    template, _ = template_with(org, *steps)
    move(clocked, moment)
    launched = ok(
        org.api.post(org.path("/runs"), json={"checklist_id": template["id"], **body}), 201
    )
    assert launched["started_at"] == moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return launched, tasks(org, launched)


def launch_steps(
    org: Org,
    clocked: tuple[LiveServer, MovableClock],
    moment: datetime,
    template: dict[str, Any],
    **body: Any,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    move(clocked, moment)
    launched = ok(
        org.api.post(org.path("/runs"), json={"checklist_id": template["id"], **body}), 201
    )
    return launched, tasks(org, launched)


def tasks(org: Org, launched: dict[str, Any]) -> list[dict[str, Any]]:
    return ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks"), params={"per_page": 50}))


def deadlines(org: Org, launched: dict[str, Any]) -> list[str]:
    return [t["deadline"] for t in tasks(org, launched)]


def task_path(launched: dict[str, Any], task: dict[str, Any], suffix: str = "") -> str:
    return f"/runs/{launched['id']}/tasks/{task['id']}{suffix}"


def complete(org: Org, launched: dict[str, Any], task: dict[str, Any]) -> None:
    ok(
        org.api.post(
            org.path(f"/runs/{launched['id']}/completed-tasks"), json={"task_id": task["id"]}
        )
    )


# --- the organization's default and working time --------------------------------------------


def test_a_step_without_deadline_gets_the_organizations_default(org: Org, clocked: Any) -> None:
    _, (five,) = launch(org, clocked, TUESDAY_10, {})
    assert five["deadline"] == at(7, 9)  # Sunday 10:00 -> Monday at the start of the day
    settings(org, default_deadline={"type": "days", "value": 2})
    _, (two,) = launch(org, clocked, TUESDAY_10, {})
    assert two["deadline"] == at(3, 10)
    settings(org, default_deadline={"type": "hours", "value": 3})
    _, (hours, own) = launch(
        org, clocked, TUESDAY_10, {}, {"deadline": {"value": 1, "unit": "days"}}
    )
    assert (hours["deadline"], own["deadline"]) == (at(1, 13), at(2, 10))


def test_a_friday_afternoon_launch_moves_weekend_deadlines_to_monday_morning(
    org: Org, clocked: Any
) -> None:
    _, (two_days, one_hour, three_hours, one_week) = launch(
        org,
        clocked,
        FRIDAY_15,
        {"deadline": {"value": 2, "unit": "days"}},
        {"deadline": {"value": 1, "unit": "hours"}},
        {"deadline": {"value": 3, "unit": "hours"}},
        {"deadline": {"value": 1, "unit": "weeks"}},
    )
    assert two_days["deadline"] == at(7, 9)
    assert one_hour["deadline"] == at(4, 16)
    # Two working hours on Friday, one on Monday.
    assert three_hours["deadline"] == at(7, 10)
    assert one_week["deadline"] == at(11, 15)


def test_hours_count_working_hours_only(org: Org, clocked: Any) -> None:
    # Tallyfy's example: an hour given at 16:30 on a Friday is due at 09:30 on Monday.
    _, (task,) = launch(
        org,
        clocked,
        datetime(2026, 12, 4, 16, 30, tzinfo=UTC),
        {"deadline": {"value": 1, "unit": "hours"}},
    )
    assert task["deadline"] == at(7, 9, 30)
    # A launch at night counts from the next morning.
    _, (night, minutes) = launch(
        org,
        clocked,
        datetime(2026, 12, 1, 22, tzinfo=UTC),
        {"deadline": {"value": 10, "unit": "hours"}},
        {"deadline": {"value": 45, "unit": "minutes"}},
    )
    assert (night["deadline"], minutes["deadline"]) == (at(3, 11), at(2, 9, 45))


def test_custom_working_days_and_hours(org: Org, clocked: Any) -> None:
    settings(
        org,
        working_days={
            "Friday": {"enabled": False},
            "Saturday": {"enabled": False},
            "Sunday": {"enabled": True, "start_time": "08:00", "end_time": "16:00"},
            "Thursday": {"enabled": True, "start_time": "09:00", "end_time": "12:00"},
        },
    )
    thursday = datetime(2026, 12, 3, 11, tzinfo=UTC)
    _, (day, hours) = launch(
        org,
        clocked,
        thursday,
        {"deadline": {"value": 1, "unit": "days"}},
        {"deadline": {"value": 2, "unit": "hours"}},
    )
    assert day["deadline"] == at(6, 8)  # Friday is off: Sunday at 08:00
    assert hours["deadline"] == at(6, 9)  # one hour before Thursday's noon close, one on Sunday


def test_an_organization_in_another_time_zone(org: Org, clocked: Any) -> None:
    settings(org, timezone="America/New_York")
    friday_3pm_new_york = datetime(2026, 12, 4, 20, tzinfo=UTC)
    _, (hour, three, day) = launch(
        org,
        clocked,
        friday_3pm_new_york,
        {"deadline": {"value": 1, "unit": "hours"}},
        {"deadline": {"value": 3, "unit": "hours"}},
        {"deadline": {"value": 1, "unit": "days"}},
    )
    assert hour["deadline"] == at(4, 21)  # 16:00 in New York (after 17:00 UTC)
    assert three["deadline"] == at(7, 15)  # Monday 10:00 in New York
    assert day["deadline"] == at(7, 14)  # Saturday -> Monday 09:00 in New York


# --- steps counted from other steps ------------------------------------------------------------


def add_step(org: Org, template: dict[str, Any], **fields: Any) -> str:
    body = {"title": "Step", **fields}
    return str(
        ok(org.api.post(org.path(f"/checklists/{template['id']}/steps"), json=body), 201)["id"]
    )


def test_prior_to_counts_back_from_the_other_steps_deadline(org: Org, clocked: Any) -> None:
    template = checklist(org, steps=0)
    anchor = add_step(org, template, deadline={"value": 3, "unit": "days"})
    for rule in (
        {"value": 1, "unit": "days"},
        {"value": 2, "unit": "hours"},
        {"value": 4, "unit": "days"},
    ):
        add_step(org, template, deadline={**rule, "option": "prior_to", "step": anchor})
    monday = add_step(org, template, deadline={"value": 6, "unit": "days"})
    add_step(
        org, template, deadline={"value": 1, "unit": "days", "option": "prior_to", "step": monday}
    )
    _, found = launch_steps(org, clocked, TUESDAY_10, template)
    assert [t["deadline"] for t in found] == [
        at(4, 10),  # Friday 10:00
        at(3, 10),  # a day before
        at(3, 16),  # two working hours before: 09:00-10:00 Friday, 16:00-17:00 Thursday
        "2026-11-30T10:00:00Z",  # before the launch: counted as the rule says
        at(7, 10),  # Monday 10:00
        at(7, 9),  # a day before is a Sunday: moved forward to Monday morning, never back
    ]


def test_counting_from_a_step_follows_its_completion(org: Org, clocked: Any) -> None:
    template = checklist(org, steps=0)
    first = add_step(org, template, deadline={"value": 1, "unit": "days"})
    second = add_step(org, template, deadline={"value": 2, "unit": "days", "step": first})
    add_step(org, template, deadline={"value": 1, "unit": "days", "step": second})
    launched, (a, b, _) = launch_steps(org, clocked, TUESDAY_10, template)
    assert deadlines(org, launched) == [at(2, 10), at(4, 10), at(7, 9)]
    move(clocked, datetime(2026, 12, 1, 14, tzinfo=UTC))
    complete(org, launched, a)
    # From the completion (Tuesday 14:00), and the third from the second's new deadline.
    assert deadlines(org, launched) == [at(2, 10), at(3, 14), at(4, 14)]
    automatic = ok(org.api.get(org.path(task_path(launched, b, "/automatic-deadline"))))
    assert (automatic["counted_from"], automatic["anchor"], automatic["anchor_task_id"]) == (
        "step_completion",
        at(1, 14),
        a["id"],
    )
    ok(org.api.delete(org.path(f"/runs/{launched['id']}/completed-tasks/{a['id']}")))
    assert deadlines(org, launched) == [at(2, 10), at(4, 10), at(7, 9)]
    before = ok(org.api.get(org.path(task_path(launched, b, "/automatic-deadline"))))
    assert (before["counted_from"], before["anchor"]) == ("step_deadline", at(2, 10))


def test_deadlines_given_by_hand_stay_when_the_anchor_moves(org: Org, clocked: Any) -> None:
    template = checklist(org, steps=0)
    first = add_step(org, template, deadline={"value": 1, "unit": "days"})
    add_step(org, template, deadline={"value": 2, "unit": "days", "step": first})
    launched, (a, b) = launch_steps(org, clocked, TUESDAY_10, template)
    ok(org.api.put(org.path(task_path(launched, b)), json={"deadline": at(9, 12)}))
    complete(org, launched, a)
    assert deadlines(org, launched)[1] == at(9, 12)
    # A new deadline of the first step by hand moves the second, which follows the rules.
    launched, (a, _) = launch_steps(org, clocked, TUESDAY_10, template)
    ok(org.api.put(org.path(task_path(launched, a)), json={"deadline": at(8, 11)}))
    assert deadlines(org, launched) == [at(8, 11), at(10, 11)]


def test_start_dates_count_from_launch_in_working_time(org: Org, clocked: Any) -> None:
    _, (day, hours, none) = launch(
        org,
        clocked,
        datetime(2026, 12, 4, 16, tzinfo=UTC),
        {"start_date": {"value": 1, "unit": "days"}, "deadline": {"value": 2, "unit": "weeks"}},
        {"start_date": {"value": 2, "unit": "hours"}},
        {},
    )
    assert day["started_at"] == at(7, 9)  # Saturday -> Monday morning
    assert hours["started_at"] == at(7, 10)  # one hour on Friday, one on Monday
    assert none["started_at"] == at(4, 16)


# --- by hand, automatic, reset ----------------------------------------------------------------


def test_the_by_hand_flag(org: Org, clocked: Any) -> None:
    template, (first, second) = template_with(org, {}, {})
    launched, (a, b) = launch_steps(
        org, clocked, TUESDAY_10, template, tasks={first: {"deadline": at(20, 8)}}
    )
    assert (a["deadline"], a["deadline_set_by_hand"]) == (at(20, 8), True)
    assert b["deadline_set_by_hand"] is False
    # The same deadline sent back (as a client sending the whole task does) changes nothing.
    same = ok(org.api.put(org.path(task_path(launched, b)), json={"deadline": b["deadline"]}))
    assert same["deadline_set_by_hand"] is False
    # A person's deadline stands as given, even on a Sunday night.
    moved = ok(org.api.put(org.path(task_path(launched, b)), json={"deadline": at(6, 23)}))
    assert (moved["deadline"], moved["deadline_set_by_hand"]) == (at(6, 23), True)
    one_off = ok(
        org.api.post(
            org.path("/tasks"),
            json={
                "title": "Call",
                "task_type": "task",
                "owners": {"users": [org.admin_id]},
                "deadline": at(5, 3),
            },
        ),
        201,
    )
    assert (one_off["deadline"], one_off["deadline_set_by_hand"]) == (at(5, 3), True)


def test_automatic_deadline_and_reset(org: Org, clocked: Any) -> None:
    template, (first, _) = template_with(org, {"deadline": {"value": 2, "unit": "days"}}, {})
    launched, (a, b) = launch_steps(
        org, clocked, TUESDAY_10, template, tasks={first: {"deadline": at(20, 8)}}
    )
    found = ok(org.api.get(org.path(task_path(launched, a, "/automatic-deadline"))))
    assert found == {
        "task_id": a["id"],
        "deadline": at(3, 10),
        "current_deadline": at(20, 8),
        "deadline_set_by_hand": True,
        "is_current": False,
        "rule": {"value": 2, "unit": "days", "option": "from", "step": None},
        "rule_source": "step",
        "counted_from": "launch",
        "anchor": at(1, 10),
        "anchor_task_id": None,
        "timezone": "UTC",
    }
    default = ok(org.api.get(org.path(task_path(launched, b, "/automatic-deadline"))))
    assert (default["rule_source"], default["is_current"], default["deadline"]) == (
        "default",
        True,
        at(7, 9),
    )
    reset = ok(org.api.post(org.path(task_path(launched, a, "/reset-deadline"))))
    assert (reset["id"], reset["deadline"], reset["deadline_set_by_hand"]) == (
        a["id"],
        at(3, 10),
        False,
    )
    assert set(reset) == set(ok(org.api.get(org.path(task_path(launched, a)))))
    # The rule is the launch's, and the calendar the organization's as it is now.
    settings(org, timezone="Asia/Tokyo")
    again = ok(org.api.get(org.path(task_path(launched, a, "/automatic-deadline"))))
    # Thursday 19:00 in Tokyo is after hours: Friday 09:00 there.
    assert (again["deadline"], again["timezone"]) == (at(4, 0), "Asia/Tokyo")


def test_automatic_deadline_refusals(org: Org, clocked: Any) -> None:
    template, _ = template_with(org, {}, {})
    ok(
        org.api.put(
            org.path(f"/checklists/{template['id']}"),
            json={"title": template["title"], "can_add_oot": True},
        )
    )
    launched, (a, b) = launch_steps(org, clocked, TUESDAY_10, template)
    other, _ = launch_steps(org, clocked, TUESDAY_10, template)
    for method, suffix in (("GET", "/automatic-deadline"), ("POST", "/reset-deadline")):
        for path in (
            f"/runs/{launched['id']}/tasks/{UNKNOWN_ID}{suffix}",
            f"/runs/{other['id']}/tasks/{a['id']}{suffix}",
            f"/runs/{UNKNOWN_ID}/tasks/{a['id']}{suffix}",
        ):
            assert org.api.request(method, org.path(path)).status_code == 404, path
    with new_org(org.server) as stranger:
        for suffix in ("/automatic-deadline", "/reset-deadline"):
            url = f"/organizations/{stranger.id}" + task_path(launched, a, suffix)
            assert (
                stranger.api.request("GET" if "auto" in suffix else "POST", url).status_code == 404
            )
        # Nor through our organization's path with their token.
        assert stranger.api.get(
            org.path(task_path(launched, a, "/automatic-deadline"))
        ).status_code in (403, 404)
    ad_hoc = ok(
        org.api.post(
            org.path("/tasks"),
            json={
                "title": "Extra",
                "task_type": "task",
                "owners": {"users": [org.admin_id]},
                "deadline": at(9, 9),
                "run_id": launched["id"],
            },
        ),
        201,
    )
    for method, suffix in (("GET", "/automatic-deadline"), ("POST", "/reset-deadline")):
        refused = org.api.request(method, org.path(task_path(launched, ad_hoc, suffix)))
        assert refused.status_code == 400 and "one-off" in refused.json()["message"]
    _, light = org.member("light")
    assert light.get(org.path(task_path(launched, a, "/automatic-deadline"))).status_code == 200
    assert light.post(org.path(task_path(launched, a, "/reset-deadline"))).status_code == 403
    _, standard = org.member("standard")
    assert standard.post(org.path(task_path(launched, a, "/reset-deadline"))).status_code == 200
    complete(org, launched, a)
    done = org.api.post(org.path(task_path(launched, a, "/reset-deadline")))
    assert done.status_code == 422 and "status" in done.json()["errors"]
    assert org.api.get(org.path(task_path(launched, a, "/automatic-deadline"))).status_code == 200
    ok(org.api.delete(org.path(f"/runs/{launched['id']}")))
    archived = org.api.post(org.path(task_path(launched, b, "/reset-deadline")))
    assert archived.status_code == 422 and "archived_at" in archived.json()["errors"]


def test_an_automation_deadline_counts_in_working_time_too(
    org: Org, clocked: tuple[LiveServer, MovableClock]
) -> None:
    from tests.runs.test_automations import second_task, template_with_actions

    template, field, _ = template_with_actions(
        org,
        {
            "action_type": "deadline",
            "action_verb": "set",
            "deadline": {"value": 1, "unit": "hours"},
        },
    )
    move(clocked, datetime(2026, 12, 4, 16, 30, tzinfo=UTC))  # Friday 16:30
    launched = ok(
        org.api.post(
            org.path("/runs"), json={"checklist_id": template["id"], "prerun": {field: "gold"}}
        ),
        201,
    )
    # Half an hour on Friday, the other half from Monday's 09:00.
    assert second_task(org, launched)["deadline"] == at(7, 9, 30)
