"""Query parameters of the activity feed, read the way clients send them (a FastAPI dependency,
so the names are the API's). A value that can't mean anything is a 422, never an ignored
filter."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from checkrun.activity.repository import FeedFilters
from checkrun.kit.errors import invalid, invalid_field
from checkrun.kit.query import from_query
from checkrun.tasks.params import user_id as parse_user_id

# The documented scopes, plus the other things the feed records entries about.
ENTITY_TYPES = (
    "checklist",
    "run",
    "step",
    "task",
    "thread",
    "user",
    "guest",
    "group",
    "tag",
    "folder",
    "asset",
    "organization",
)
TYPES = (
    "Blueprint",
    "Step",
    "Process",
    "Task",
    "Comment",
    "User",
    "Guest",
    "Organization",
    "Tag",
    "Group",
    "Folder",
    "Asset",
)
VERBS = (
    "created",
    "updated",
    "owners-updated",
    "uploaded",
    "completed",
    "uncompleted",
    "deleted",
    "re-ordered",
    "commented",
    "issue-reported",
    "issue-resolved",
    "archived",
    "unarchived",
    "re-opened",
    "emitted",
    "enabled",
    "disabled",
    "comment-deleted",
    "invited",
    "invite-accepted",
    "linked",
    "unlinked",
)
SOURCES = ("Member", "Guest", "Webhook", "System")
ORIGIN_TYPES = ("checklist", "run", "step", "task")
SORTS = ("created_at", "-created_at")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SEARCH_MIN, SEARCH_MAX = 2, 100


def _given(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _choice(name: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    """The allowed value the parameter names, whatever its case."""
    if value is None:
        return None
    found = next((a for a in allowed if a.lower() == value.lower()), None)
    if found is None:
        raise invalid_field(name, f"The selected {name.replace('_', ' ')} is invalid.")
    return found


def _day(name: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    human = name.replace("_", " ")
    try:
        if not DAY.match(value):
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError:
        raise invalid_field(name, f"The {human} does not match the format Y-m-d.") from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _dates(after: str | None, before: str | None) -> tuple[datetime | None, datetime | None]:
    """Both days inclusive: the feed runs from the start of `after` to the end of `before`."""
    start, end = _day("created_after", after), _day("created_before", before)
    if start is not None and end is not None and end < start:
        raise invalid_field(
            "created_before", "The created before must be a date after or equal to created after."
        )
    if end is not None and end.year < 9999:
        end += timedelta(days=1)
    elif end is not None:
        end = None
    return start, end


def _search(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) < SEARCH_MIN:
        raise invalid_field("search", f"The search must be at least {SEARCH_MIN} characters.")
    if len(value) > SEARCH_MAX:
        raise invalid_field(
            "search", f"The search may not be greater than {SEARCH_MAX} characters."
        )
    return value


def _actor_id(value: str | None) -> int | None:
    if value is None:
        return None
    number = parse_user_id(value)
    if number is None:
        raise invalid_field("actor_id", "The actor id must be an integer.")
    return number


def _origin(origin_type: str | None, origin_id: str | None) -> str | None:
    if origin_id is not None and origin_type is None:
        raise invalid(
            {"origin_type": ["The origin type field is required when origin id is present."]}
        )
    return _choice("origin_type", origin_type, ORIGIN_TYPES)


def _short(name: str, value: str | None, size: int) -> str | None:
    if value is not None and len(value) > size:
        raise invalid_field(
            name, f"The {name.replace('_', ' ')} may not be greater than {size} characters."
        )
    return value


@from_query
def feed_filters(
    entity_type: str | None = None,
    entity_id: str | None = None,
    type: str | None = None,
    verb: str | None = None,
    actor_type: str | None = None,
    actor_id: str | None = None,
    actor_email: str | None = None,
    source: str | None = None,
    created_after: str | None = None,
    created_before: str | None = None,
    search: str | None = None,
    field: str | None = None,
    origin_type: str | None = None,
    origin_id: str | None = None,
    sort: str | None = None,
) -> FeedFilters:
    """The documented activity-feed query parameters."""
    start, end = _dates(_given(created_after), _given(created_before))
    email = _short("actor_email", _given(actor_email), 254)
    return FeedFilters(
        entity_type=_choice("entity_type", _given(entity_type), ENTITY_TYPES),
        entity_id=_short("entity_id", _given(entity_id), 64),
        type=_choice("type", _given(type), TYPES),
        verb=_choice("verb", _given(verb), VERBS),
        actor_type=_choice("actor_type", _given(actor_type), ("user", "guest")),
        actor_id=_actor_id(_given(actor_id)),
        actor_email=email.lower() if email else None,
        source=_choice("source", _given(source), SOURCES),
        created_from=start,
        created_until=end,
        search=_search(_given(search)),
        field=_short("field", _given(field), 100),
        origin_type=_origin(_given(origin_type), _given(origin_id)),
        origin_id=_short("origin_id", _given(origin_id), 64),
        newest_first=_choice("sort", _given(sort), SORTS) != "created_at",
    )
