"""An organization's working time: which moments count, on its own wall clock.

Counting follows Tallyfy's documented behaviour: minutes and hours are counted in working time
(an hour asked for at 16:30 on a Friday, with a 17:00 close, is due at 09:30 on Monday); days,
weeks and months are counted on the calendar, and a result that falls on a day off or outside
the day's hours moves forward to the start of the next working period, never backward.
Everything is done on the organization's wall clock (09:00 stays 09:00 across a DST change).

Pure functions, no I/O: the callers read the organization's settings."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WHOLE_DAY = (0, 24 * 60)
WORKING_UNITS = {"minute": 60, "hour": 3600}
CALENDAR_UNITS = ("day", "week", "month")
# Where a count that would leave the calendar stops (only pathological settings get there).
LATEST = datetime(9999, 12, 30, tzinfo=UTC)
EARLIEST = datetime(1000, 1, 1, tzinfo=UTC)

Window = tuple[int, int]  # minutes since local midnight: [start, end]


def _minutes(text: Any) -> int | None:
    """`HH:MM` (00:00-24:00) as minutes since midnight; None when it isn't one."""
    try:
        hours, minutes = (int(part) for part in str(text).split(":"))
    except (TypeError, ValueError):
        return None
    total = hours * 60 + minutes
    return total if 0 <= minutes < 60 and 0 <= total <= 24 * 60 else None


def _window(day: Mapping[str, Any] | None) -> Window | None:
    """A day's working hours; None for a day off. A working day without valid hours (none
    given, or an end not after the start) counts every hour ("All hours")."""
    if not isinstance(day, Mapping) or not day.get("enabled", True):
        return None
    start, end = _minutes(day.get("start_time")), _minutes(day.get("end_time"))
    if start is None or end is None or end <= start:
        return WHOLE_DAY
    return start, end


def zone_of(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass(frozen=True)
class WorkWeek:
    zone: ZoneInfo
    windows: tuple[Window | None, ...]  # Monday..Sunday

    @classmethod
    def of(cls, timezone: str | None, working_days: Mapping[str, Any] | None) -> WorkWeek:
        """From `organizations.timezone` and the `working_days` setting (Monday..Sunday, each
        `{enabled, start_time, end_time}`); a day the setting doesn't name keeps the default
        (Monday-Friday 09:00-17:00). A week without a working day counts every moment."""
        given = working_days if isinstance(working_days, Mapping) else {}
        windows = tuple(_window(given.get(day, _default_day(day))) for day in WEEKDAYS)
        if not any(windows):
            windows = (WHOLE_DAY,) * 7
        return cls(zone_of(timezone), windows)

    @property
    def week_seconds(self) -> int:
        return sum((w[1] - w[0]) * 60 for w in self.windows if w)

    def bounds(self, day: date) -> tuple[datetime, datetime] | None:
        window = self.windows[day.weekday()]
        if window is None:
            return None
        midnight = datetime.combine(day, time())
        return midnight + timedelta(minutes=window[0]), midnight + timedelta(minutes=window[1])

    # `combine` rather than `replace(tzinfo=...)`, which costs four times as much on 3.11; both
    # keep `fold`, which picks the side of a repeated local hour.
    def local(self, moment: datetime) -> datetime:
        moment = moment.astimezone(self.zone)
        return datetime.combine(moment.date(), moment.time())

    def instant(self, local: datetime) -> datetime:
        return datetime.combine(local.date(), local.time(), self.zone).astimezone(UTC)


def _default_day(day: str) -> dict[str, Any]:
    return {
        "enabled": day not in ("Saturday", "Sunday"),
        "start_time": "09:00",
        "end_time": "17:00",
    }


def _bounds(week: WorkWeek, day: date) -> tuple[datetime, datetime]:
    found = week.bounds(day)
    assert found is not None, "only working days are asked for"
    return found


def _next_day(week: WorkWeek, day: date) -> date:
    return next(d for d in (day + timedelta(days=n) for n in range(1, 8)) if week.bounds(d))


def _previous_day(week: WorkWeek, day: date) -> date:
    return next(d for d in (day - timedelta(days=n) for n in range(1, 8)) if week.bounds(d))


def _forward(week: WorkWeek, local: datetime) -> tuple[date, datetime]:
    """`local` if it is working time, else the start of the next working period; with the
    working day it belongs to."""
    day = local.date()
    found = week.bounds(day)
    if found is not None and local <= found[1]:
        return day, max(local, found[0])
    day = _next_day(week, day)
    return day, _bounds(week, day)[0]


def _backward(week: WorkWeek, local: datetime) -> tuple[date, datetime]:
    """`local` if it is working time, else the end of the previous working period (which can
    be the next day's midnight, for a day that works all hours); with its working day."""
    day = local.date()
    found = week.bounds(day)
    if found is not None and local >= found[0]:
        return day, min(local, found[1])
    day = _previous_day(week, day)
    return day, _bounds(week, day)[1]


# Exact to the microsecond: a period's remainder is never rounded, so an amount of working
# time that spans several periods adds up to exactly itself.
_TICK = timedelta(microseconds=1)


def _add_working(week: WorkWeek, local: datetime, seconds: int) -> datetime:
    day, moment = _forward(week, local)
    left = timedelta(seconds=seconds)
    whole_week = timedelta(seconds=week.week_seconds)
    while True:
        available = _bounds(week, day)[1] - moment
        if left <= available:
            return moment + left
        left -= available
        # From the start of a working period, a whole week holds exactly week_seconds.
        weeks = (left - _TICK) // whole_week
        day = _next_day(week, day) + timedelta(weeks=weeks)
        left -= weeks * whole_week
        moment = _bounds(week, day)[0]


def _subtract_working(week: WorkWeek, local: datetime, seconds: int) -> datetime:
    day, moment = _backward(week, local)
    left = timedelta(seconds=seconds)
    whole_week = timedelta(seconds=week.week_seconds)
    while True:
        available = moment - _bounds(week, day)[0]
        if left <= available:
            return moment - left
        left -= available
        weeks = (left - _TICK) // whole_week
        day = _previous_day(week, day) - timedelta(weeks=weeks)
        left -= weeks * whole_week
        moment = _bounds(week, day)[1]


def _add_months(local: datetime, months: int) -> datetime:
    years, month = divmod(local.month - 1 + months, 12)
    year = local.year + years
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    return local.replace(year=year, month=month + 1, day=day)


def _calendar(local: datetime, value: int, unit: str) -> datetime:
    if unit == "month":
        return _add_months(local, value)
    return local + timedelta(days=value * (7 if unit == "week" else 1))


def unit_of(name: str | None) -> str:
    """`minutes`/`minute` ... `months`/`month` as the singular; unknown units count days."""
    unit = str(name or "day").lower().rstrip("s")
    return unit if unit in WORKING_UNITS or unit in CALENDAR_UNITS else "day"


def shift(
    week: WorkWeek, anchor: datetime, value: int, unit: str | None, backward: bool = False
) -> datetime:
    """`value` units after (or before) `anchor`, as the module docstring says; the answer is
    always working time."""
    name = unit_of(unit)
    local = week.local(anchor)
    try:
        if name in WORKING_UNITS:
            seconds = value * WORKING_UNITS[name]
            moved = (
                _subtract_working(week, local, seconds)
                if backward
                else _add_working(week, local, seconds)
            )
        else:
            moved = _forward(week, _calendar(local, -value if backward else value, name))[1]
        return week.instant(moved)
    except (OverflowError, ValueError):
        return EARLIEST if backward else LATEST


def snap(week: WorkWeek, moment: datetime) -> datetime:
    """The moment itself in working time, else the start of the next working period."""
    try:
        return week.instant(_forward(week, week.local(moment))[1])
    except (OverflowError, ValueError):
        return LATEST
