"""Working-time counting on its own (kit/worktime.py): no server, known instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from checkrun.kit.worktime import LATEST, WEEKDAYS, WorkWeek, shift, snap
from checkrun.tasks.deadlines import Rule, plan

UTC_WEEK = WorkWeek.of("UTC", None)  # the default: Monday-Friday 09:00-17:00
# 2026-12-04 is a Friday.
FRIDAY = datetime(2026, 12, 4, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "value", "unit", "expected"),
    [
        (at(4, 16, 30), 1, "hours", at(7, 9, 30)),  # Tallyfy's Friday 16:30 example
        (at(4, 16), 1, "hour", at(4, 17)),  # the close of the day is still working time
        (at(4, 15), 2, "days", at(7, 9)),  # Sunday 15:00 moves to Monday's start
        (at(1, 10), 2, "days", at(3, 10)),  # inside working time: plain calendar days
        (at(1, 10), 1, "weeks", at(8, 10)),
        (at(5, 11), 30, "minutes", at(7, 9, 30)),  # counting starts at the next working period
        (at(1, 10), 16, "hours", at(3, 10)),  # two working days of eight hours
        (at(1, 10), 0, "days", at(1, 10)),
        (at(5, 11), 0, "days", at(7, 9)),
    ],
)
def test_counting_forward(start: datetime, value: int, unit: str, expected: datetime) -> None:
    assert shift(UTC_WEEK, start, value, unit) == expected


@pytest.mark.parametrize(
    ("start", "value", "unit", "expected"),
    [
        (at(7, 10), 2, "hours", at(4, 16)),  # back over the weekend, in working hours
        (at(7, 11), 2, "hours", at(7, 9)),
        (at(8, 10), 1, "days", at(7, 10)),
        (at(7, 10), 1, "days", at(7, 9)),  # Sunday 10:00 is pushed forward, never backward
    ],
)
def test_counting_backward(start: datetime, value: int, unit: str, expected: datetime) -> None:
    assert shift(UTC_WEEK, start, value, unit, backward=True) == expected


def test_months_are_calendar_months() -> None:
    # 31 January 2027 + 1 month: the last day of February (a Sunday) -> Monday 1 March.
    assert shift(UTC_WEEK, datetime(2027, 1, 31, 10, tzinfo=UTC), 1, "months") == datetime(
        2027, 3, 1, 9, tzinfo=UTC
    )
    assert shift(UTC_WEEK, datetime(2026, 12, 15, 10, tzinfo=UTC), 2, "months") == datetime(
        2027, 2, 15, 10, tzinfo=UTC
    )


def test_custom_days_and_hours() -> None:
    # Sunday-Thursday, 08:00-12:00 on Thursdays.
    week = WorkWeek.of(
        "UTC",
        {
            "Friday": {"enabled": False},
            "Saturday": {"enabled": False},
            "Sunday": {"enabled": True, "start_time": "09:00", "end_time": "17:00"},
            "Thursday": {"enabled": True, "start_time": "08:00", "end_time": "12:00"},
        },
    )
    assert shift(week, at(3, 10), 1, "days") == at(6, 9)  # Friday -> Sunday 09:00
    assert shift(week, at(3, 11), 2, "hours") == at(6, 10)  # 1 h Thursday, 1 h Sunday
    assert snap(week, at(3, 12, 30)) == at(6, 9)


def test_all_hours_days_and_a_week_without_working_days() -> None:
    every = {
        d: {"enabled": True, "start_time": None, "end_time": None}
        for d in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    }
    week = WorkWeek.of("UTC", every)
    assert shift(week, at(4, 16, 30), 1, "hours") == at(4, 17, 30)
    assert shift(week, at(4, 15), 2, "days") == at(6, 15)
    assert shift(week, at(4, 15), 50, "hours", backward=True) == at(2, 13)
    nothing = WorkWeek.of("UTC", {d: {"enabled": False} for d in every})
    assert shift(nothing, at(5, 3), 2, "days") == at(7, 3)


def test_the_organizations_time_zone_and_its_clock_changes() -> None:
    york = WorkWeek.of("America/New_York", None)
    # Friday 15:00 EST (20:00 UTC) + 3 working hours: 2 on Friday, 1 on Monday -> 10:00 EST.
    assert shift(york, at(4, 20), 3, "hours") == at(7, 15)
    # Across the March change: Friday 10:00 EST + 3 days -> Monday 10:00 EDT (14:00 UTC).
    assert shift(york, datetime(2027, 3, 12, 15, tzinfo=UTC), 3, "days") == datetime(
        2027, 3, 15, 14, tzinfo=UTC
    )
    assert WorkWeek.of("Not/AZone", None).zone.key == "UTC"


def test_hours_without_meaning_count_the_whole_day() -> None:
    week = WorkWeek.of(
        "UTC", {"Monday": {"enabled": True, "start_time": "18:00", "end_time": "09:00"}}
    )
    assert snap(week, at(7, 3)) == at(7, 3)


def test_counts_that_would_leave_the_calendar_stop_at_its_end() -> None:
    tiny = WorkWeek.of(
        "UTC",
        {
            "Monday": {"enabled": True, "start_time": "09:00", "end_time": "09:01"},
            **{d: {"enabled": False} for d in ("Tuesday", "Wednesday", "Thursday", "Friday")},
        },
    )
    assert shift(tiny, at(1, 10), 9999, "hours") == LATEST


def test_a_plan_counts_steps_from_each_other_and_from_fixed_moments() -> None:
    rules = {
        "a": Rule(1, "day"),
        "b": Rule(2, "day", step="a"),
        "c": Rule(1, "hour", backward=True, step="b"),
        "loop1": Rule(1, "day", step="loop2"),
        "loop2": Rule(1, "day", step="loop1"),
        "lost": Rule(1, "day", step="gone"),
    }
    launched = at(1, 10)  # Tuesday
    planned = plan(rules, launched, UTC_WEEK)
    assert planned.deadlines["a"] == at(2, 10)
    assert planned.deadlines["b"] == at(4, 10)
    assert planned.deadlines["c"] == at(4, 9)
    assert planned.deadlines["loop2"] == at(2, 10)  # the loop is cut where it closes
    assert planned.deadlines["loop1"] == at(3, 10)
    assert planned.deadlines["lost"] == at(2, 10)
    assert planned.anchored_on["b"] == "a" and planned.anchored_on["lost"] is None
    completed = plan(rules, launched, UTC_WEEK, {"a": at(1, 14)})
    assert completed.deadlines["a"] == at(1, 14) and completed.deadlines["b"] == at(3, 14)


def test_rules_read_step_json_and_the_default_setting() -> None:
    assert Rule.read({"value": 3, "unit": "hours", "option": "prior_to", "step": "x"}) == Rule(
        3, "hour", backward=True, step="x"
    )
    assert Rule.read({"type": "weeks", "value": 2}, "default") == Rule(2, "week", source="default")
    assert Rule.read(None) is None and Rule.read({"unit": "days"}) is None
    assert Rule.read({"value": "x"}) is None


@pytest.mark.parametrize("backward", [False, True])
def test_a_fraction_of_a_second_is_kept_across_periods(backward: bool) -> None:
    """Three hours from 21:11:17.6 cross midnight: the answer is 00:11:17.6, not a second
    later (each period's remainder was rounded down to whole seconds)."""
    week = WorkWeek.of("UTC", {d: {"enabled": True} for d in WEEKDAYS})  # all hours
    start = datetime(2026, 12, 1, 21, 11, 17, 600_000, tzinfo=UTC)
    if backward:
        start = datetime(2026, 12, 2, 2, 11, 17, 600_000, tzinfo=UTC)
        assert shift(week, start, 3, "hours", backward=True) == start - timedelta(hours=3)
    else:
        assert shift(week, start, 3, "hours") == start + timedelta(hours=3)
    friday = datetime(2026, 12, 4, 16, 59, 59, 250_000, tzinfo=UTC)  # 0.75 s before close
    assert shift(UTC_WEEK, friday, 1, "hours") == datetime(
        2026, 12, 7, 9, 59, 59, 250_000, tzinfo=UTC
    )
