"""SQLite's driver (`checkrun/sqlite_connection.py`) runs some calls on the event loop's thread;
a statement waiting on another connection's lock must still wait on its own thread, so the
server keeps answering meanwhile."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import text

from checkrun.db import SQLITE_BUSY_MS, make_engine
from checkrun.sqlite_connection import FewerHopsConnection
from tests.conftest import live_server, new_org
from tests.support.factories import ok


def test_a_write_waiting_on_the_lock_leaves_reads_answered(tmp_path: Path) -> None:
    with live_server("sqlite", tmp_path) as live, new_org(live) as org:
        ok(org.api.post(org.path("/tags"), json={"title": "before"}), 201)
        writer = org.client(org.token)
        holder = sqlite3.connect(tmp_path / "checkrun.db", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process's write transaction
        try:
            with ThreadPoolExecutor(1) as pool:
                waiting = pool.submit(
                    writer.post, org.path("/tags"), json={"title": "after the lock"}
                )
                time.sleep(0.5)  # the write reaches the lock: the reads below come after it
                for _ in range(3):
                    titles = [t["title"] for t in ok(org.api.get(org.path("/tags")))]
                    assert titles == ["before"]
                assert not waiting.done()
                holder.execute("ROLLBACK")
                ok(waiting.result(timeout=60), 201)
        finally:
            holder.close()
        after = {t["title"] for t in ok(org.api.get(org.path("/tags")))}
        assert after == {"before", "after the lock"}


class _Recorded(sqlite3.Cursor):
    """A cursor that notes the thread each statement ran on, and refuses one as a lock would
    (SQLITE_BUSY) when it runs on the loop's thread and `busy_on_loop` is set."""

    threads: list[str]
    busy_on_loop = False

    def execute(self, sql: str, *args: Any) -> _Recorded:
        on_loop = threading.current_thread() is threading.main_thread()
        self.threads.append("loop" if on_loop else "thread")
        if on_loop and self.busy_on_loop:
            refused = sqlite3.OperationalError("database is locked")
            refused.sqlite_errorcode = sqlite3.SQLITE_BUSY
            raise refused
        super().execute(sql, *args)
        return self


async def _reads(path: Path, busy_on_loop: bool, sql: str) -> tuple[list[str], int, Any]:
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.connect() as conn:  # opens it with the server's pragmas
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            assert isinstance(driver, FewerHopsConnection) and driver.wal
            sqlite = driver._connection
            assert sqlite is not None
            cursor = _Recorded(sqlite)
            cursor.threads, cursor.busy_on_loop = [], busy_on_loop
            try:
                await driver._execute(cursor.execute, sql)
                rows: Any = await driver._execute(cursor.fetchall)
            except sqlite3.Error as exc:
                rows = exc
            timeout = await driver._execute(sqlite.execute, "PRAGMA busy_timeout")
            busy_ms = (await driver._execute(timeout.fetchone))[0]
            return cursor.threads, busy_ms, rows
    finally:
        await engine.dispose()


def test_a_wal_read_runs_on_the_loops_thread(tmp_path: Path) -> None:
    threads, busy_ms, rows = asyncio.run(_reads(tmp_path / "r.db", False, "SELECT 1"))
    assert (threads, busy_ms, rows) == (["loop"], SQLITE_BUSY_MS, [(1,)])


def test_a_read_refused_by_a_lock_waits_on_its_thread(tmp_path: Path) -> None:
    threads, busy_ms, rows = asyncio.run(_reads(tmp_path / "r.db", True, "SELECT 1"))
    assert (threads, busy_ms, rows) == (["loop", "thread"], SQLITE_BUSY_MS, [(1,)])


def test_a_read_that_fails_otherwise_fails_at_once(tmp_path: Path) -> None:
    threads, busy_ms, failed = asyncio.run(_reads(tmp_path / "r.db", False, "SELECT * FROM nope"))
    assert (threads, busy_ms) == (["loop"], SQLITE_BUSY_MS)
    assert isinstance(failed, sqlite3.OperationalError) and "no such table" in str(failed)


def test_a_read_longer_than_the_loops_budget_finishes_on_its_thread(tmp_path: Path) -> None:
    count = (
        "SELECT max(x) FROM (WITH RECURSIVE c(x) AS "
        "(SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) SELECT x FROM c)"
    )
    threads, busy_ms, rows = asyncio.run(_reads(tmp_path / "r.db", False, count))
    assert (threads, busy_ms, rows) == (["loop", "thread"], SQLITE_BUSY_MS, [(3000000,)])


async def _writers(path: Path, count: int) -> list[int]:
    """`count` transactions that each write, then hold the write lock for the rest of their
    work; they arrive 10 ms apart. Returns the order they wrote in."""
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE marks (n INTEGER)"))
        # Opened first (the pool keeps five): opening one takes its own time on a thread.
        opened = [await engine.connect() for _ in range(count)]
        for conn in opened:
            await conn.close()

        async def writer(n: int) -> None:
            await asyncio.sleep(n * 0.01)
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO marks VALUES (:n)"), {"n": n})
                await asyncio.sleep(0.05)

        await asyncio.gather(*(writer(n) for n in range(count)))
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT n FROM marks ORDER BY rowid"))
            return [int(n) for n in rows.scalars()]
    finally:
        await engine.dispose()


def test_writers_of_one_process_take_the_write_lock_in_arrival_order(tmp_path: Path) -> None:
    # Waiting on SQLite's busy handler, a writer naps and polls, and a later one often wins.
    assert asyncio.run(_writers(tmp_path / "gate.db", 5)) == list(range(5))
