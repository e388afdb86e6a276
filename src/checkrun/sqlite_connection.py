"""aiosqlite with fewer thread hops.

aiosqlite runs every call on its connection's own thread and hands the result back through the
event loop: creating a cursor, executing, fetching, closing the cursor and committing are five
hops for a one-statement read, each two context switches and a wake-up of the loop. On a busy
server those hops cost more CPU than the SQL (measured: 64 context switches and 1.3 ms of system
time per list request, against 0.2 ms for the statement itself).

Here the calls that cannot wait on another connection's lock run on the loop's thread, at once:
- a new cursor, fetching the rows of a statement already executed (its locks are held by then),
  closing a cursor, and a commit or rollback with no transaction open (pysqlite's no-op);
- in WAL mode, the reads and inserts of a transaction that holds the database's write lock (a
  write in it succeeded): nothing there can wait, the lock is this connection's;
- in WAL mode, any other read, with no busy wait and a budget of `LOOP_BUDGET_S`: a WAL read
  waits on no writer, only on rare locks (another process's WAL recovery, an exclusive-mode
  connection), and then it is refused at once; a read still computing at the end of its
  budget (a search scanning a large table) is interrupted. Either way it starts again on the
  connection's thread, to wait or compute there while the loop serves others. This halves a
  small read's CPU: the hop costs more than the statement.

Everything else runs on the connection's thread: a statement that may have to wait for the
write lock (the first write of a transaction, and every read without WAL); an update or
delete, which can touch any number of rows (an organization's purge) while the loop serves
others; and a commit, which may checkpoint. A statement waiting on `busy_timeout` never
blocks the loop. The connection is only ever used by one call at a time (SQLAlchemy awaits
each), so sharing it between the two threads is safe with `check_same_thread=False`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Coroutine
from typing import Any

import aiosqlite

_CURSOR_CALLS = frozenset({"fetchall", "fetchone", "fetchmany", "close"})
_ENDS = frozenset({"commit", "rollback"})
_STATEMENTS = frozenset({"execute", "executemany"})
_WRITES = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE"})
_WHILE_WRITING = frozenset({"SELECT", "INSERT"})
# What a read may take on the loop's thread before it is sent to the connection's thread.
LOOP_BUDGET_S = 0.005
_PROGRESS_STEPS = 1000  # virtual machine instructions between two looks at the clock
# Refusals after which a read starts again on the connection's thread.
_AGAIN_ON_THREAD = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_INTERRUPT})


def _at_once(fn: Callable[..., Any]) -> bool:
    """Whether `fn` (a bound method of a sqlite3 cursor or connection) never waits on a lock."""
    owner = getattr(fn, "__self__", None)
    name = getattr(fn, "__name__", "")
    if isinstance(owner, sqlite3.Cursor):
        return name in _CURSOR_CALLS
    if isinstance(owner, sqlite3.Connection):
        return name == "cursor" or (name in _ENDS and not owner.in_transaction)
    return False


def _verb(fn: Callable[..., Any], args: tuple[Any, ...]) -> str:
    """The first word of the SQL `fn` executes ("" when `fn` executes none)."""
    if not args or getattr(fn, "__name__", "") not in _STATEMENTS:
        return ""
    if not isinstance(getattr(fn, "__self__", None), sqlite3.Cursor):
        return ""
    words = str(args[0]).split(None, 1)
    return words[0].upper() if words else ""


class FewerHopsConnection(aiosqlite.Connection):
    wal = False  # set by `note_pragmas` when the connection opens
    busy_ms = 0  # its `busy_timeout`, set by `note_pragmas`
    _writing = False  # a write of the open transaction succeeded: the write lock is ours

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        conn = self._connection
        if not self._running or conn is None:
            return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]
        if self._writing and not conn.in_transaction:
            self._writing = False
        verb = _verb(fn, args)
        if _at_once(fn) or (self._writing and self.wal and verb in _WHILE_WRITING):
            return fn(*args, **kwargs)
        if self.wal and verb == "SELECT":
            try:
                return self._without_waiting(conn, fn, *args, **kwargs)
            except sqlite3.OperationalError as refused:
                if (getattr(refused, "sqlite_errorcode", 0) & 0xFF) not in _AGAIN_ON_THREAD:
                    raise
        result = await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]
        if verb in _WRITES and conn.in_transaction:
            self._writing = True
        return result

    def _without_waiting(
        self, conn: sqlite3.Connection, fn: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> Any:
        deadline = time.perf_counter() + LOOP_BUDGET_S

        def over_budget() -> int:
            return 1 if time.perf_counter() > deadline else 0

        conn.execute("PRAGMA busy_timeout=0")
        conn.set_progress_handler(over_budget, _PROGRESS_STEPS)
        try:
            return fn(*args, **kwargs)
        finally:
            conn.set_progress_handler(None, 0)
            conn.execute(f"PRAGMA busy_timeout={self.busy_ms}")


def creator(
    args: list[Any], kwargs: dict[str, Any]
) -> Callable[[], Coroutine[Any, Any, FewerHopsConnection]]:
    """An `async_creator` for SQLAlchemy: `sqlite3.connect(*args, **kwargs)` behind a
    `FewerHopsConnection` whose thread does not keep the process alive (as SQLAlchemy's own
    aiosqlite connect does)."""

    def connector() -> sqlite3.Connection:
        connection: sqlite3.Connection = sqlite3.connect(
            *args, **{**kwargs, "check_same_thread": False}
        )
        return connection

    async def connect() -> FewerHopsConnection:
        connection = FewerHopsConnection(connector, iter_chunk_size=64)
        connection._thread.daemon = True
        await connection
        return connection

    return connect


def note_pragmas(dbapi_connection: Any, journal_mode: str, busy_ms: int) -> None:
    """Called with the journal mode and busy timeout the connection's pragmas left it in."""
    driver = getattr(dbapi_connection, "_connection", None)
    if isinstance(driver, FewerHopsConnection):
        driver.wal = journal_mode.lower() == "wal"
        driver.busy_ms = busy_ms
