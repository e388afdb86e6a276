"""Schema migrations (Alembic) run from code: `checkrun db upgrade` and server start use this."""

from __future__ import annotations

import asyncio
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


def upgrade(url: str) -> None:
    """Blocking; env.py runs its own event loop, so never call this from inside one.
    `heads`: branches that parallel work opened are applied too, until a merge revision joins
    them."""
    command.upgrade(alembic_config(url), "heads")


async def upgrade_async(url: str) -> None:
    await asyncio.to_thread(upgrade, url)


def script_revisions() -> list[Script]:
    """Every schema revision this version of checkrun knows."""
    return list(ScriptDirectory.from_config(alembic_config("")).walk_revisions())
