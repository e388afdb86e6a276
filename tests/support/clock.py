"""The time a live server (and its scheduler) sees, moved by the test: the server is started
with `clock_file=` this file (CHECKRUN_CLOCK_FILE) and reads the instant written here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path


class MovableClock:
    def __init__(self, path: Path, start: datetime | None = None) -> None:
        self.path = path
        self.set(start or datetime.now(UTC).replace(microsecond=0))

    def set(self, moment: datetime) -> datetime:
        self.moment = moment.astimezone(UTC)
        # Written whole, then renamed: the server never reads a half-written instant.
        partial = self.path.with_suffix(".tmp")
        partial.write_text(self.moment.isoformat())
        partial.replace(self.path)
        return self.moment

    def advance(self, **delta: float) -> datetime:
        return self.set(self.moment + timedelta(**delta))
