"""Timestamps are written one way everywhere: UTC, to the second, `Z`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from checkrun.kit.clock import iso


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (datetime(2026, 1, 2, 3, 4, 5, 999999, tzinfo=UTC), "2026-01-02T03:04:05Z"),
        (
            datetime(2026, 1, 2, 23, 4, 5, tzinfo=timezone(timedelta(hours=-5))),
            "2026-01-03T04:04:05Z",
        ),
        (
            datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=5, minutes=30))),
            "2026-01-01T21:34:05Z",
        ),
        (datetime(2026, 1, 2, 3, 4, 5), "2026-01-02T03:04:05Z"),  # naive: UTC already
        (datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC), "0999-01-02T03:04:05Z"),
    ],
)
def test_a_timestamp_is_written_in_utc_to_the_second(value: datetime, written: str) -> None:
    assert iso(value) == written


def test_no_timestamp_is_null() -> None:
    assert iso(None) is None
