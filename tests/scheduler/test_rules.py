"""The scheduler's pure rules: reminder moments and decisions, calendar months."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from checkrun.scheduler.jobs import months_before, period_before
from checkrun.scheduler.reminders import Rules, decide, next_moment
from checkrun.scheduler.repository import ReminderRow

D = datetime(2030, 1, 9, 12, 0, tzinfo=UTC)
DEFAULT = Rules(timedelta(hours=24), True)


def _row(**fields: Any) -> ReminderRow:
    base: dict[str, Any] = {
        "id": "t",
        "org_id": "o",
        "run_id": None,
        "checklist_id": None,
        "title": "T",
        "task_type": "task",
        "deadline": D,
        "is_open": True,
        "remind_at": D - timedelta(days=1),
        "reminded_soon_for": None,
        "reminded_overdue_for": None,
    }
    return ReminderRow(**{**base, **fields})


def test_next_moment_follows_what_was_sent_for_this_deadline() -> None:
    assert next_moment(D, None, None, DEFAULT) == D - timedelta(hours=24)
    assert next_moment(D, D, None, DEFAULT) == D
    assert next_moment(D, D, D, DEFAULT) is None
    # Sent for an earlier deadline: this one is new.
    earlier = D - timedelta(days=3)
    assert next_moment(D, earlier, earlier, DEFAULT) == D - timedelta(hours=24)
    assert next_moment(D, None, None, Rules(timedelta(0), True)) == D
    assert next_moment(D, None, None, Rules(timedelta(0), False)) is None
    assert next_moment(None, None, None, DEFAULT) is None


def test_decide_never_leaves_a_handled_row_due() -> None:
    moments = [
        D - timedelta(days=2),
        D - timedelta(hours=24),
        D - timedelta(seconds=1),
        D,
        D + timedelta(days=30),
    ]
    for rules in (DEFAULT, Rules(timedelta(0), True), Rules(timedelta(hours=2), False)):
        for moment in moments:
            for assigned in (True, False):
                values = decide(_row(), rules, moment, assigned).values
                assert values["remind_at"] is None or values["remind_at"] > moment


def test_decide_picks_the_reminder_of_the_moment() -> None:
    assert decide(_row(), DEFAULT, D - timedelta(hours=24), True).verb == "due-soon"
    assert decide(_row(), DEFAULT, D - timedelta(hours=25), True).verb is None
    assert decide(_row(), DEFAULT, D, True).verb == "overdue"
    late = decide(_row(), DEFAULT, D + timedelta(days=1), True)
    assert late.verb == "overdue" and late.values["reminded_soon_for"] == D
    assert decide(_row(), DEFAULT, D, False).verb is None
    assert decide(_row(reminded_overdue_for=D), DEFAULT, D, True).verb is None
    assert decide(_row(is_open=False), DEFAULT, D, True).values == {"remind_at": None}
    assert decide(_row(task_type="expiring"), DEFAULT.for_type("expiring"), D, True).verb is None


def test_calendar_months() -> None:
    assert months_before(datetime(2030, 3, 31, 8, tzinfo=UTC), 1) == datetime(
        2030, 2, 28, 8, tzinfo=UTC
    )
    assert months_before(datetime(2030, 1, 15, tzinfo=UTC), 2) == datetime(2029, 11, 15, tzinfo=UTC)
    assert months_before(datetime(2030, 1, 15, tzinfo=UTC), 24) == datetime(2028, 1, 15, tzinfo=UTC)
    assert period_before(D, {"unit": "days", "value": 3}) == D - timedelta(days=3)
    assert period_before(D, {"unit": "weeks", "value": 2}) == D - timedelta(weeks=2)
    assert period_before(D, {"unit": "years", "value": 1}) == D.replace(year=2029)
