"""Engine, sessions and the declarative Base shared by every domain (the request's session and
its commit are `kit/unit_of_work.py`)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from pydantic_core import from_json
from sqlalchemy import DateTime, MetaData, event, exc
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from checkrun import sqlite_connection
from checkrun.config import Settings

# Reads a SQLite URL's path and options as SQLAlchemy's own connect would.
_sqlite_dialect = SQLiteDialect_aiosqlite()

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


_combine = datetime.combine


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC and returns aware UTC: SQLite keeps no zone, so both databases hold the
    same values."""

    impl = DateTime
    cache_ok = True

    # `datetime.combine` rather than `replace(tzinfo=...)`: on Python 3.11 `replace` costs four
    # times as much, and a page of tasks converts a hundred values.
    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is None:
            return value
        value = value.astimezone(UTC)
        return _combine(value.date(), value.time())

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return _combine(value.date(), value.time(), UTC)


def json_loads(text: str) -> Any:
    """JSON columns as they are read: pydantic-core's parser (a fifth of `json.loads`'s CPU; a
    page of runs decodes dozens of values), else `json.loads` for what it refuses and
    `json.loads` takes (an escaped lone surrogate, which `json.dumps` writes)."""
    try:
        return from_json(text)
    except ValueError:
        return json.loads(text)


def make_engine(url: str, ping_idle_seconds: float = 10.0) -> AsyncEngine:
    kwargs: dict[str, Any] = {"json_deserializer": json_loads}
    if url.startswith("sqlite"):
        args, params = _sqlite_dialect.create_connect_args(make_url(url))
        kwargs["async_creator"] = sqlite_connection.creator(list(args), {**params, "timeout": 30})
    else:
        # Enough kept open for a busy process: a connection above `pool_size` is closed when
        # handed back, and opening one (TLS negotiation, authentication) costs more than a read.
        kwargs.update(pool_size=20, max_overflow=10)
    engine = create_async_engine(url, **kwargs)
    if url.startswith("sqlite"):
        _configure_sqlite(engine)
    else:
        _ping_when_idle(engine, ping_idle_seconds)
    return engine


def _ping_when_idle(engine: AsyncEngine, seconds: float) -> None:
    """`pool_pre_ping`, but only for a connection that sat in the pool longer than `seconds`:
    one dropped meanwhile (a database restart, a firewall's idle timeout) is replaced before a
    request gets it, while a busy pool spends no round trip per request on pinging. A
    connection that breaks while in use invalidates the pool as usual."""
    dialect = engine.sync_engine.dialect

    @event.listens_for(engine.sync_engine, "checkin")
    def _idle_from(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since <= seconds:
            return
        try:
            dialect.do_ping(dbapi_conn)
        except Exception as dropped:
            # The pool discards this connection and hands out another (or a new one).
            raise exc.DisconnectionError("a pooled connection was dropped") from dropped


SQLITE_BUSY_MS = 30_000  # how long a statement waits on another connection's lock


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # A file system without shared memory keeps the rollback journal.
        journal_mode = str(cur.fetchone()[0])
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cur.close()
        sqlite_connection.note_pragmas(dbapi_conn, journal_mode, SQLITE_BUSY_MS)


NUMBERING_LOCK_TIMEOUT = "2s"
_NUMBERING = "numbering"


def make_numbering_engine(engine: AsyncEngine) -> AsyncEngine | None:
    """PostgreSQL: where a launch takes its numbers, each statement committed on its own
    (`orgs.repository.reserve_launch`), so that the organization's row lock lasts one
    statement rather than the launch. A pool of its own: a request holding a connection of the
    main pool never waits for another of it. A statement that waits longer than
    `NUMBERING_LOCK_TIMEOUT` for the row gives up, and the launch numbers in its own
    transaction instead. None on SQLite (one writer: the launch holds the write lock)."""
    if engine.dialect.name != "postgresql":
        return None
    return create_async_engine(
        engine.url,
        json_deserializer=json_loads,
        pool_size=2,
        max_overflow=4,
        isolation_level="AUTOCOMMIT",
        connect_args={"server_settings": {"lock_timeout": NUMBERING_LOCK_TIMEOUT}},
    )


def make_sessionmaker(
    engine: AsyncEngine, settings: Settings | None = None, numbering: AsyncEngine | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions carry the app's settings in `info`, so that listeners of domain events (which
    get only the session) know this app's configuration: mail on or off, its public URL; and
    the numbering engine, when there is one."""
    info = {"settings": settings, _NUMBERING: numbering}
    return async_sessionmaker(engine, expire_on_commit=False, info=info)


def numbering_engine_of(db: AsyncSession) -> AsyncEngine | None:
    found = db.info.get(_NUMBERING)
    return found if isinstance(found, AsyncEngine) else None


class WriteInRead(RuntimeError):
    """A write through a session for a read-only request (a route bug, never the client's)."""


_WRITE_VERBS = frozenset(
    {"INSERT", "UPDATE", "DELETE", "MERGE", "REPLACE", "CREATE", "DROP", "ALTER", "TRUNCATE"}
)


def _refuse_writes(
    _conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
) -> None:
    words = statement.lstrip().split(None, 1)
    if (context is not None and (context.isinsert or context.isupdate or context.isdelete)) or (
        words and words[0].upper() in _WRITE_VERBS
    ):
        raise WriteInRead(f"a write in a read-only request: {statement[:80]}")


def make_read_sessionmaker(
    engine: AsyncEngine, settings: Settings | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions for requests that only read. On PostgreSQL they run without a transaction
    (each statement on its own, as SQLite runs reads anyway): a transaction at READ COMMITTED
    gives a read no more consistency than that (each statement sees what was committed when
    it began) and costs two round trips, BEGIN and COMMIT, a fifth of a small read's CPU.
    A write through them is refused before it reaches the database, on both databases, so a
    request that writes without being declared a writer fails loudly instead of committing
    statement by statement."""
    options: dict[str, Any] = {}
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "AUTOCOMMIT"
    reads = engine.execution_options(**options)
    event.listen(reads.sync_engine, "before_cursor_execute", _refuse_writes)
    return make_sessionmaker(reads, settings)


def settings_of(db: AsyncSession) -> Settings | None:
    found = db.info.get("settings")
    return found if isinstance(found, Settings) else None
