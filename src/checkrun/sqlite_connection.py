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

Writers of one process queue for the write lock on the event loop (`WriteGate`), not in
SQLite's busy handler, which naps and polls: under 16 concurrent launches that cut p99 from
3.0-4.5 s to 0.24-0.29 s at the same throughput (bench/results/sqlite-write-gate-*).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import weakref
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
# Statements that never take the write lock; any other may, so it passes the write gate first.
_NEVER_WRITE = frozenset(
    {"SELECT", "PRAGMA", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT", "END", "EXPLAIN"}
)


class WriteGate:
    """One writer at a time per database file in this process, queued on the event loop.

    SQLite lets one connection write at a time; the others wait on `busy_timeout`, whose
    handler sleeps and polls (1, 2, 5 ... up to 100 ms a nap), so a waiting writer wakes up
    to 100 ms after the lock came free, and an unlucky one keeps losing the race (seconds at
    p99 under 16 concurrent launches). Taking this gate before a transaction's first write
    and handing it on as the transaction commits or rolls back passes the lock on at once,
    in arrival order. SQLite's lock stays the truth (another process, a connection without
    the gate): a gate held longer than `busy_timeout` is passed by, and the statement waits
    on SQLite as before. One lock per event loop: an asyncio lock belongs to one.
    """

    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        found = self._locks.get(loop)
        if found is None:
            found = self._locks[loop] = asyncio.Lock()
        return found


_GATES: dict[str, WriteGate] = {}


def gate_for(database: str) -> WriteGate | None:
    """The write gate of a database file (None for an in-memory database: its own per
    connection)."""
    if not database or database == ":memory:" or "mode=memory" in database:
        return None
    return _GATES.setdefault(database, WriteGate())


def _at_once(fn: Callable[..., Any]) -> bool:
    """Whether `fn` (a bound method of a sqlite3 cursor or connection) never waits on a lock."""
    owner = getattr(fn, "__self__", None)
    name = getattr(fn, "__name__", "")
    if isinstance(owner, sqlite3.Cursor):
        return name in _CURSOR_CALLS
    if isinstance(owner, sqlite3.Connection):
        return name == "cursor" or (name in _ENDS and not owner.in_transaction)
    return False


def _ends(fn: Callable[..., Any]) -> bool:
    """Whether `fn` is a commit or rollback of a sqlite3 connection."""
    return isinstance(getattr(fn, "__self__", None), sqlite3.Connection) and (
        getattr(fn, "__name__", "") in _ENDS
    )


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
    gate: WriteGate | None = None  # set by `creator`
    _gate_held: asyncio.Lock | None = None  # the gate's lock, held until the transaction ends

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        conn = self._connection
        if not self._running or conn is None:
            return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]
        if not conn.in_transaction:
            self._writing = False
            self._open_gate()
        verb = _verb(fn, args)
        if verb and verb not in _NEVER_WRITE and self._gate_held is None and self.wal:
            await self._pass_gate()
        elif _ends(fn):
            # The next writer starts on its thread now and waits out the last moments of
            # this commit in SQLite's busy handler (1-3 ms naps): its first statement then
            # runs while the loop answers this request.
            self._open_gate()
        try:
            result = await self._run(conn, verb, fn, *args, **kwargs)
        except asyncio.CancelledError:
            # The thread may still be running the statement: the gate stays held until
            # this connection's transaction is seen to end (or the connection stops).
            raise
        except BaseException:
            self._open_gate_if_ended(conn)
            raise
        self._open_gate_if_ended(conn)
        return result

    async def _run(
        self, conn: sqlite3.Connection, verb: str, fn: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> Any:
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

    async def _pass_gate(self) -> None:
        if self.gate is None:
            return
        lock = self.gate.lock()
        try:
            async with asyncio.timeout(self.busy_ms / 1000):
                await lock.acquire()
        except TimeoutError:
            return  # SQLite's own busy wait decides
        self._gate_held = lock

    def _open_gate(self) -> None:
        held, self._gate_held = self._gate_held, None
        if held is not None and held.locked():
            held.release()

    def _open_gate_if_ended(self, conn: sqlite3.Connection) -> None:
        if self._gate_held is None:
            return
        try:
            ended = not conn.in_transaction
        except sqlite3.ProgrammingError:  # closed
            ended = True
        if ended:
            self._open_gate()

    def stop(self) -> asyncio.Future[Any] | None:
        self._open_gate()
        return super().stop()

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

    gate = gate_for(str(args[0]) if args else "")

    def connector() -> sqlite3.Connection:
        connection: sqlite3.Connection = sqlite3.connect(
            *args, **{**kwargs, "check_same_thread": False}
        )
        return connection

    async def connect() -> FewerHopsConnection:
        connection = FewerHopsConnection(connector, iter_chunk_size=64)
        connection.gate = gate
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
