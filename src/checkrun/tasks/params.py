"""Query parameters of the task lists, read the way clients send them (FastAPI dependencies,
so the parameter names are the API's). Values that can't mean anything are a 422, never an
ignored filter."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from fastapi import Query

from checkrun.kit.clock import parse_datetime
from checkrun.kit.errors import invalid_field
from checkrun.kit.pagination import PageParams, paging
from checkrun.kit.query import from_query
from checkrun.tasks.repository import STATUS_VALUES, TaskFilters
from checkrun.templates.schemas import MAX_INT

# `without_pagination=true` answers one page this big: "everything", within reason.
UNPAGED_LIMIT = 1000
DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATE_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2}):(\d{4}-\d{2}-\d{2})$")
# Timestamps are kept to the microsecond: an inclusive bound is this much past the value.
TICK = timedelta(microseconds=1)
Range = tuple[datetime | None, datetime | None]


def flag(value: str | None) -> bool | None:
    return {"true": True, "1": True, "false": False, "0": False}.get((value or "").lower())


def user_id(text: str) -> int | None:
    """A user id written in decimal, or None if the text can't be one."""
    text = text.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 10):
        return None
    number = int(text)
    return number if 0 < number <= MAX_INT else None


def user_ids(name: str, value: str | None) -> tuple[int, ...]:
    """A comma-separated list of user ids."""
    parts = [user_id(p) for p in (value or "").split(",") if p.strip()]
    if None in parts:
        raise invalid_field(name, f"The {name} must be a comma-separated list of user ids.")
    return tuple(p for p in parts if p is not None)


def list_page(default_per_page: int = 10) -> Callable[..., Awaitable[PageParams]]:
    """`page`/`per_page` as everywhere, plus `without_pagination=true`."""

    def dependency(
        page: str | None = Query(None),
        per_page: str | None = Query(None),
        without_pagination: str | None = Query(None),
    ) -> PageParams:
        if flag(without_pagination):
            return PageParams(page=1, per_page=UNPAGED_LIMIT)
        return paging(page, per_page, default_per_page)

    return from_query(dependency)


def _moment(name: str, value: str) -> tuple[datetime, bool]:
    """The instant a date filter names, and whether it was a whole day (`YYYY-MM-DD`)."""
    try:
        moment = parse_datetime(value)
    except ValueError:
        moment = None
    # The bounds are shifted by up to a day: the calendar's last day can't be one.
    if moment is None or not 1 < moment.year < 9999:
        raise invalid_field(name, f"The {name} is not a valid date.")
    return moment, bool(DATE_ONLY.match(value.strip()))


def _start(name: str, value: str | None, exclusive: bool = False) -> datetime | None:
    if not value:
        return None
    moment, whole_day = _moment(name, value)
    if whole_day and exclusive:
        return moment + timedelta(days=1)
    return moment + TICK if exclusive else moment


def _end(name: str, value: str | None, exclusive: bool = False) -> datetime | None:
    if not value:
        return None
    moment, whole_day = _moment(name, value)
    if exclusive:
        return moment
    return moment + timedelta(days=1) if whole_day else moment + TICK


def _tightest(*ranges: Range) -> Range:
    starts = [s for s, _ in ranges if s is not None]
    ends = [e for _, e in ranges if e is not None]
    return (max(starts) if starts else None, min(ends) if ends else None)


def deadline_range(
    on: str | None,
    start_range: str | None,
    end_range: str | None,
    before: str | None,
    after: str | None,
) -> Range:
    """`deadline_on` wins over the others; `_range` bounds are inclusive, `before`/`after`
    exclusive; a bare date covers its whole day."""
    if on:
        return _start("deadline_on", on), _end("deadline_on", on)
    return _tightest(
        (_start("deadline_start_range", start_range), _end("deadline_end_range", end_range)),
        (
            _start("deadline_after", after, exclusive=True),
            _end("deadline_before", before, exclusive=True),
        ),
    )


def created_range(value: str | None) -> Range:
    """`created=YYYY-MM-DD` (that day) or `created=YYYY-MM-DD:YYYY-MM-DD` (both days in)."""
    if not value:
        return None, None
    pair = DATE_RANGE.match(value.strip())
    first, last = pair.groups() if pair else (value, value)
    return _start("created", first), _end("created", last)


def _status(value: str | None) -> str | None:
    if not value:
        return None
    status = value.strip().lower()
    if status not in STATUS_VALUES:
        raise invalid_field("status", "The selected status is invalid.")
    return status


@from_query
def task_filters(
    status: str | None = None,
    q: str | None = None,
    archived: str | None = None,
    is_oneoff: str | None = None,
    owners: str | None = None,
    unassigned: str | None = None,
    sort: str | None = None,
    sort_by: str | None = None,
    deadline_on: str | None = None,
    deadline_start_range: str | None = None,
    deadline_end_range: str | None = None,
    deadline_before: str | None = None,
    deadline_after: str | None = None,
    created: str | None = None,
    tag: str | None = None,
    folder: str | None = None,
    guests: str | None = None,
    groups: str | None = None,
    custom_field_key: str | None = None,
    custom_field_value: str | None = None,
) -> TaskFilters:
    """The documented task list query parameters."""
    deadline_from, deadline_until = deadline_range(
        deadline_on, deadline_start_range, deadline_end_range, deadline_before, deadline_after
    )
    created_from, created_until = created_range(created)
    return TaskFilters(
        status=_status(status),
        q=q,
        archived=archived,
        is_oneoff=flag(is_oneoff),
        owners=user_ids("owners", owners),
        unassigned=bool(flag(unassigned)),
        sort=sort or sort_by,
        deadline_from=deadline_from,
        deadline_until=deadline_until,
        created_from=created_from,
        created_until=created_until,
        tag=(tag or "").strip() or None,
        folder=(folder or "").strip() or None,
        guests=_csv(guests, lower=True),
        groups=_csv(groups),
        custom_field=_custom_field(custom_field_key, custom_field_value),
    )


def _custom_field(key: str | None, value: str | None) -> tuple[str, str | None] | None:
    key = (key or "").strip()
    if not key:
        if value:
            raise invalid_field(
                "custom_field_key",
                "The custom field key field is required when custom field value is present.",
            )
        return None
    return key, value


def _csv(value: str | None, lower: bool = False) -> tuple[str, ...]:
    parts = (p.strip() for p in (value or "").split(","))
    return tuple(dict.fromkeys(p.lower() if lower else p for p in parts if p))
