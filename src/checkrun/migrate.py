"""Schema migrations (Alembic) run from code: `checkrun db upgrade` and server start use this."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import Script, ScriptDirectory

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = url
    return config


def upgrade(url: str, progress: Callable[[str], None] | None = None) -> None:
    """Blocking; env.py runs its own event loop, so never call this from inside one.
    `heads`: branches that parallel work opened are applied too, until a merge revision joins
    them. `progress` hears each migration as it starts (a long one can take minutes)."""
    if progress is None:
        command.upgrade(alembic_config(url), "heads")
        return
    handler = _Lines(progress)
    runner = logging.getLogger("alembic.runtime.migration")
    level = runner.level
    runner.addHandler(handler)
    runner.setLevel(logging.INFO)
    try:
        command.upgrade(alembic_config(url), "heads")
    finally:
        runner.removeHandler(handler)
        runner.setLevel(level)


class _Lines(logging.Handler):
    """Alembic's "Running upgrade a -> b, what" lines, handed on."""

    def __init__(self, progress: Callable[[str], None]) -> None:
        super().__init__(logging.INFO)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("Running upgrade"):
            first = message.removeprefix("Running upgrade ").splitlines()[0]
            self.progress(f"db upgrade: {first}")


async def upgrade_async(url: str) -> None:
    await asyncio.to_thread(upgrade, url)


def script_revisions() -> list[Script]:
    """Every schema revision this version of checkrun knows."""
    return list(ScriptDirectory.from_config(alembic_config("")).walk_revisions())
