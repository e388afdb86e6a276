"""Time in one place: aware UTC datetimes inside, ISO 8601 with Z outside.

Everything that asks what time it is calls `now()`. A process started with CHECKRUN_CLOCK_FILE
reads the time from that file instead (one ISO 8601 instant; re-read when the file changes), so
tests and rehearsals move the clock of a live server, scheduler included, without sleeping."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path


class _FileClock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int, int] | None = None
        self._value: datetime | None = None

    def read(self) -> datetime | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        # A file replaced by rename has a new inode even within one coarse mtime tick.
        stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            text = self.path.read_text().strip()
            self._value = parse_datetime(text) if text else None
            self._stamp = stamp
        return self._value


_source: _FileClock | None = None


def use_file(path: Path | str | None) -> None:
    """Read the time from `path` from now on (None: the system clock again)."""
    global _source
    _source = _FileClock(Path(path)) if path else None


def now() -> datetime:
    if _source is not None:
        moved = _source.read()
        if moved is not None:
            return moved
    return datetime.now(UTC)


def iso(value: datetime | None) -> str | None:
    """`YYYY-MM-DDTHH:MM:SSZ` in UTC (a naive value is UTC already). A page of tasks formats
    a hundred of these: `%` formatting costs a third of an f-string with format specifiers,
    two thirds of `isoformat` of an aware value, and pads a year below 1000 to four digits
    (`strftime` does not)."""
    if value is None:
        return None
    if value.utcoffset():
        value = value.astimezone(UTC)
    v = value
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (  # noqa: UP031 - see above
        v.year,
        v.month,
        v.day,
        v.hour,
        v.minute,
        v.second,
    )


def parse_datetime(value: str) -> datetime:
    """Accepts ISO 8601 (with Z or an offset) and Tallyfy's `YYYY-MM-DD HH:MM:SS`; naive is UTC."""
    text = value.strip()
    if text.endswith("Z") or text.endswith("z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


if os.environ.get("CHECKRUN_CLOCK_FILE"):
    use_file(os.environ["CHECKRUN_CLOCK_FILE"])
