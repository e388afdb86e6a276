"""The scheduler of one `checkrun serve` process: every `scheduler_poll_seconds` it runs each
registered job, each in a transaction of its own, under the job's lease.

A run takes the job's lease in a short committed transaction first (nobody holds it, or its
holder's lease ran out: a crashed process blocks the job for `lease` at most), then does the
job's work and, as the last statement of that same transaction, gives the lease back only if
it still holds it: if the lease ran out mid-run and another process took the job over, this
run rolls back instead of committing, so the job's effect happens once. A job that handled a
whole batch runs again at once. Errors are logged and the loop goes on. A read that found
many task-count rows to fold wakes it before its next poll (`wakeup.FOLDS`); a stop lets the
run in hand finish (`kit/background.py`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import checkrun.scheduler.jobs  # noqa: F401 - registers the jobs
from checkrun.config import Settings
from checkrun.kit.background import GRACE_SECONDS, cancelling, stop_tasks
from checkrun.kit.clock import now
from checkrun.kit.ids import new_id
from checkrun.kit.wakeup import FOLDS
from checkrun.scheduler import registry
from checkrun.scheduler.repository import SchedulerRepository

log = logging.getLogger("checkrun.scheduler")
# Rounds of one job within a tick before the others get their turn.
MAX_ROUNDS = 20


class Scheduler:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self._main: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        # Set by a stop, and by a read that found task counts to fold (wakeup.FOLDS).
        self._wake = asyncio.Event()

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=max(120.0, self.settings.scheduler_poll_seconds * 4))

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        FOLDS.register(self._loop, self._wake)
        self._main = asyncio.create_task(self._run(), name="scheduler")

    async def stop(self) -> None:
        """Starts no more job runs; the one in hand gets GRACE_SECONDS to finish."""
        if self._loop is not None:
            FOLDS.unregister(self._loop, self._wake)
        self._stopping = True
        self._wake.set()
        if self._main is not None:
            await stop_tasks([self._main], "scheduler", grace=GRACE_SECONDS)

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            await self.tick()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.scheduler_poll_seconds)

    async def tick(self) -> None:
        for job in registry.jobs():
            await self._drain(job)

    async def _drain(self, job: registry.Job) -> None:
        for _ in range(MAX_ROUNDS):
            if self._stopping:
                return
            try:
                handled = await self.run_once(job)
            except Exception:  # noqa: BLE001 - one failing job must not stop the others
                if cancelling():
                    raise asyncio.CancelledError from None  # stopping, whatever the job raised
                log.exception("scheduler: job %s failed", job.name)
                return
            if handled is None or handled < self.settings.scheduler_batch_size:
                return

    async def run_once(self, job: registry.Job) -> int | None:
        """Runs `job` once at the current moment; None when another process holds it."""
        moment, token = now(), new_id()
        async with self.sessionmaker() as db:
            taken = await SchedulerRepository(db).take_lease(
                job.name, token, moment, moment + self.lease
            )
            await db.commit()
        if not taken:
            return None
        try:
            return await self._work(job, token, moment)
        except BaseException:
            await self._release(job.name, token)
            raise

    async def _work(self, job: registry.Job, token: str, moment: datetime) -> int | None:
        async with self.sessionmaker() as db:
            handled = await job.run(db, moment, self.settings)
            if not await SchedulerRepository(db).finish(job.name, token, moment):
                await db.rollback()
                log.warning(
                    "scheduler: job %s outlived its lease; another process took it "
                    "over, this run is undone",
                    job.name,
                )
                return None
            await db.commit()
        return handled

    async def _release(self, name: str, token: str) -> None:
        with contextlib.suppress(Exception):
            async with self.sessionmaker() as db:
                await SchedulerRepository(db).release(name, token)
                await db.commit()
