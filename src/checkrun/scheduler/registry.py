"""The scheduler's jobs. A domain registers what time should do for it; the scheduler runs
every job on each tick, under a lease, in a transaction of its own.

A job's `run(db, moment, settings)` does the work that is due at `moment` (at most
`settings.scheduler_batch_size` rows), in `db` without committing, and returns how many rows it
handled: when that equals the batch size the scheduler runs it again at once. It must read only
due rows, through an index, and must leave nothing due that it handled (so that running it
twice at one moment does nothing the second time)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.config import Settings

JobRun = Callable[[AsyncSession, datetime, Settings], Awaitable[int]]


@dataclass(frozen=True)
class Job:
    name: str
    run: JobRun


_jobs: dict[str, Job] = {}


def register(job: Job) -> None:
    _jobs[job.name] = job


def jobs() -> list[Job]:
    return list(_jobs.values())
