"""The one worker shape of the outboxes (webhook deliveries, email): rows written in the
transaction of a change, sent afterwards by a worker in every process.

A worker leases due rows (a lease token and `lease_until` on the row, so that several processes
never send one row at once and a lease left by a crashed process expires), handles them
concurrently with no database transaction open, and records each outcome only if it still holds
the lease. It is woken by its own process's commits (`kit.wakeup`) and polls for the rest.

An outbox table has the columns `id`, `status` ("pending" to send), `next_attempt_at`,
`lease_token` and `lease_until`, with an index on (status, next_attempt_at)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from checkrun.config import Settings
from checkrun.kit.background import GRACE_SECONDS, cancelling, stop_tasks
from checkrun.kit.wakeup import Waiters

PENDING = "pending"
ERROR_CHARS = 500
T = TypeVar("T")
Row = TypeVar("Row")
log = logging.getLogger("checkrun.outbox")
# The jitter's own generator: the process-wide `random` state is left to whoever seeds it.
_jitter = random.Random()


def backoff(base_seconds: float, max_seconds: float, attempts: int) -> float:
    """Seconds before the next try after `attempts` failures: exponential, capped, jittered
    (between half and all of it) so that many failed rows do not retry in step."""
    full = base_seconds * float(2 ** min(max(0, attempts - 1), 62))
    return min(max_seconds, full) * _jitter.uniform(0.5, 1.0)


def clip(text: str) -> str:
    return text if len(text) <= ERROR_CHARS else text[: ERROR_CHARS - 1] + "…"


# -- the SQL of leases, the same for every outbox table ------------------------------------------


def _claimable(model: Any, moment: datetime) -> Any:
    return (
        (model.status == PENDING)
        & (model.next_attempt_at <= moment)
        & or_(model.lease_until.is_(None), model.lease_until < moment)
    )


async def due_ids(db: AsyncSession, model: Any, moment: datetime, limit: int) -> list[str]:
    rows = await db.execute(
        select(model.id)
        .where(_claimable(model, moment))
        .order_by(model.next_attempt_at, model.created_at)
        .limit(limit)
    )
    return list(rows.scalars())


async def claim(
    db: AsyncSession,
    model: type[Row],
    ids: list[str],
    moment: datetime,
    token: str,
    until: datetime,
) -> list[Row]:
    """Leases the rows that are still claimable. The conditions are repeated in the UPDATE so
    that of two workers racing for a row only one matches it: PostgreSQL re-checks them on the
    row it waited for, SQLite runs one writer at a time."""
    if not ids:
        return []
    table: Any = model
    await db.execute(
        update(table)
        .where(table.id.in_(ids), _claimable(table, moment))
        .values(lease_token=token, lease_until=until)
    )
    rows = await db.execute(select(table).where(table.lease_token == token, table.id.in_(ids)))
    return list(rows.scalars())


async def record(
    db: AsyncSession, model: Any, row_id: str, token: str, values: dict[str, Any]
) -> None:
    """Writes an outcome and ends the lease, if this worker still holds it."""
    await db.execute(
        update(model)
        .where(model.id == row_id, model.lease_token == token)
        .values(lease_token=None, lease_until=None, **values)
    )


# -- the loop ----------------------------------------------------------------------------------


class LeaseWorker(ABC, Generic[T]):
    """Claims up to `batch_size` due items at a time, at most `concurrency` in hand."""

    label = "outbox"

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, waiters: Waiters
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.waiters = waiters
        self._wake = asyncio.Event()
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._main: asyncio.Task[None] | None = None
        self._busy: set[asyncio.Task[None]] = set()

    @property
    @abstractmethod
    def poll_seconds(self) -> float: ...

    @property
    @abstractmethod
    def batch_size(self) -> int: ...

    @property
    @abstractmethod
    def concurrency(self) -> int: ...

    @abstractmethod
    async def claim(self, limit: int) -> list[T]:
        """Leases up to `limit` due rows, in a transaction of its own that it commits."""

    @abstractmethod
    async def process(self, item: T) -> None:
        """Sends one claimed item and records the outcome; must not raise."""

    async def opened(self) -> None:
        """Called once before the loop starts (clients to open)."""

    async def closed(self) -> None:
        """Called once after the loop stopped."""

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self.waiters.register(self._loop, self._wake)
        await self.opened()
        self._main = asyncio.create_task(self._run(), name=f"{self.label}-worker")

    async def stop(self) -> None:
        """Claims nothing more; what is in hand gets GRACE_SECONDS to finish (what is cut
        short is sent again when its lease ends)."""
        if self._loop is not None:
            self.waiters.unregister(self._loop, self._wake)
        self._stopping = True
        self._wake.set()
        await stop_tasks(
            [t for t in (self._main, *self._busy) if t is not None],
            f"{self.label} worker",
            grace=GRACE_SECONDS,
        )
        await self.closed()

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            limit = min(self.batch_size, self.concurrency - len(self._busy))
            claimed: list[T] = []
            if limit > 0:
                try:
                    claimed = await self.claim(limit)
                except Exception:  # noqa: BLE001 - the database may be away for a while
                    if cancelling():
                        raise asyncio.CancelledError from None  # stopping
                    log.exception("%s outbox: claiming due rows failed", self.label)
            for item in claimed:  # claimed before a stop: theirs to finish
                task = asyncio.create_task(self.process(item))
                self._busy.add(task)
                task.add_done_callback(self._done)
            if claimed and len(claimed) == limit:  # there may be more due
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._busy.discard(task)
        self._wake.set()
