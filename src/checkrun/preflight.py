"""What the command line checks before it acts. A failure a person can act on is a
`StartupError`: one line that names what failed and where, printed without a traceback."""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import tempfile
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from checkrun.config import Settings
from checkrun.storage import StoreUnavailable, make_store

UNUSABLE = 2  # a setting that can't be used as it is written
UNAVAILABLE = 1  # something a setting names is missing, unreachable or refusing
CONNECT_SECONDS = 10
DRIVERS = ("postgresql+asyncpg", "sqlite+aiosqlite")
DATABASE_FORMS = "postgresql+asyncpg://USER:PASSWORD@HOST:PORT/DATABASE or sqlite+aiosqlite:///PATH"


class StartupError(Exception):
    def __init__(self, message: str, status: int = UNAVAILABLE) -> None:
        super().__init__(message)
        self.status = status


def reason(exc: BaseException) -> str:
    """An OS error's own words ("Read-only file system"), else the first line of the error."""
    if isinstance(exc, TimeoutError) and not exc.strerror:
        return f"no answer within {CONNECT_SECONDS} s"
    if isinstance(exc, OSError) and exc.errno and exc.errno > 0:
        return os.strerror(exc.errno)  # asyncio's own words name no cause: "Connect call failed"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "CHECKRUN_" + str(first["loc"][0]).upper()
        raise StartupError(f"{name}: {first['msg']}", UNUSABLE) from exc


def data_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise StartupError(
            f"the data directory {path.absolute()} is not writable: {reason(exc)} "
            "(--data-dir or CHECKRUN_DATA_DIR)"
        ) from exc


# --- the database -------------------------------------------------------------------------------


def database_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except sa_exc.ArgumentError as exc:
        raise StartupError(
            f"CHECKRUN_DATABASE_URL is not a database URL; use {DATABASE_FORMS}", UNUSABLE
        ) from exc
    if parsed.drivername not in DRIVERS:
        raise StartupError(
            f"CHECKRUN_DATABASE_URL {shown(parsed)}: the scheme {parsed.drivername}:// is not "
            f"supported; use {DATABASE_FORMS}",
            UNUSABLE,
        )
    return parsed


def shown(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def database(url: str) -> None:
    """The database answers and takes writes (SQLite) or sign-ins (PostgreSQL)."""
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite":
        _sqlite(parsed)
    else:
        asyncio.run(_postgresql(parsed))


def _sqlite(url: URL) -> None:
    if not url.database or url.database == ":memory:":
        return
    path = Path(url.database)
    try:
        if not path.exists():  # migrating will create it: its folder must take files
            with tempfile.TemporaryFile(dir=path.parent):
                return
        with sqlite3.connect(f"{path.absolute().as_uri()}?mode=rw", uri=True, timeout=5) as db:
            db.execute("BEGIN IMMEDIATE")
            db.rollback()
    except (OSError, sqlite3.Error) as exc:
        raise StartupError(
            f"the SQLite database {path.absolute()} is not writable: {reason(exc)}"
        ) from exc


async def _postgresql(url: URL) -> None:
    engine = create_async_engine(url, poolclass=NullPool, connect_args={"timeout": CONNECT_SECONDS})
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except (OSError, TimeoutError) as exc:
        raise StartupError(
            f"cannot reach the database at {where} ({shown(url)}): {reason(exc)}"
        ) from exc
    except sa_exc.DBAPIError as exc:
        why = reason(exc.orig or exc)
        raise StartupError(
            f"the database at {where} refused the connection ({shown(url)}): {why}"
        ) from exc
    finally:
        await engine.dispose()


def refused_upgrade(url: str, exc: sa_exc.DBAPIError) -> StartupError:
    return StartupError(
        f"the database {shown(make_url(url))} refused the schema upgrade: {reason(exc.orig or exc)}"
    )


# --- file storage and the port ------------------------------------------------------------------


def storage(settings: Settings) -> None:
    try:
        store = make_store(settings.resolved_storage_url, settings.s3_endpoint_url)
        store.check_usable()
    except ValueError as exc:
        raise StartupError(str(exc), UNUSABLE) from exc
    except StoreUnavailable as exc:
        raise StartupError(str(exc)) from exc


def port_free(host: str, port: int) -> None:
    """Binds and lets go, as uvicorn will bind: taken, foreign or unknown addresses fail here,
    before anything is made or printed."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise StartupError(
                f"cannot listen on {host}:{port}: {reason(exc)} (--host/--port or "
                "CHECKRUN_HOST/CHECKRUN_PORT)"
            ) from exc
