"""`checkrun import FILE`: an exported organization back into the configured database and file
store, whichever they are, with its ids, timestamps and files' checksums.

Refused before anything is written when the organization is there already, or when any row
would take an id another row of the target has (a user already there under the same id and
email is the same person: kept, not refused). The files go into the store first and are checked
against their SHA-256; the rows then go in, in one transaction, so a failure leaves no
organization half-restored (at worst files that `checkrun storage gc` removes).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from itertools import islice
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from checkrun import migrate
from checkrun.backup import rows
from checkrun.backup.archive import ArchiveError, Manifest, Reader
from checkrun.backup.export import BATCH, Progress, _mb
from checkrun.config import Settings
from checkrun.db import make_engine
from checkrun.storage import make_store
from checkrun.storage.base import BlobStore

CHUNK = 1024 * 1024
# Checked for collisions in slices of this many ids (a bound parameter list per statement).
ID_SLICE = 500


class RestoreError(ValueError):
    """What stops an import, said for the person running it."""


async def import_org(settings: Settings, path: Path, progress: Progress) -> Manifest:
    reader = _open(path)
    try:
        url = settings.resolved_database_url
        await migrate.upgrade_async(url)
        engine = make_engine(url)
        try:
            async with engine.connect() as conn:
                await _check_revision(conn, reader.manifest)
                keep = await _conflicts(conn, reader)
            store = make_store(settings.resolved_storage_url, settings.s3_endpoint_url)
            await _files(store, reader, progress)
            async with engine.begin() as conn:
                await _insert_all(conn, reader, keep, progress)
        finally:
            await engine.dispose()
        return reader.manifest
    finally:
        reader.close()


def _open(path: Path) -> Reader:
    try:
        return Reader(path)
    except ArchiveError as exc:
        raise RestoreError(f"{path} can't be imported: {exc}") from None
    except OSError as exc:
        raise RestoreError(f"{path} can't be read: {exc.strerror or exc}") from None


async def _check_revision(conn: AsyncConnection, manifest: Manifest) -> None:
    known = {r.revision for r in migrate.script_revisions()}
    if manifest.revision not in known:
        raise RestoreError(
            f"the archive was written by a newer checkrun (schema {manifest.revision}, "
            f"checkrun {manifest.checkrun}): upgrade checkrun, then import it"
        )


async def _conflicts(conn: AsyncConnection, reader: Reader) -> dict[str, set[Any]]:
    """The users to keep as they are (there already, same id and email); refuses any other
    row whose id is taken."""
    orgs = rows.table(rows.ORGS)
    org_id = reader.manifest.org_id
    if (await conn.execute(select(orgs.c.id).where(orgs.c.id == org_id))).first():
        raise RestoreError(
            f"organization {org_id} ({reader.manifest.org_name}) is already in this database: "
            "nothing was imported"
        )
    keep = {rows.USERS: await _same_users(conn, reader)}
    keep["user_passwords"] = set(keep[rows.USERS])
    for table in rows.tables():
        if table.name not in keep:
            await _refuse_taken_ids(conn, table, reader)
    return keep


async def _same_users(conn: AsyncConnection, reader: Reader) -> set[Any]:
    users = rows.table(rows.USERS)
    wanted = {row["id"]: row["email"] for row in reader.rows(rows.USERS)}
    there: dict[Any, str] = {}
    for ids in _slices(list(wanted)):
        found = await conn.execute(select(users.c.id, users.c.email).where(users.c.id.in_(ids)))
        there.update({user_id: email for user_id, email in found.all()})
    clash = [i for i, email in there.items() if email.lower() != str(wanted[i]).lower()]
    if clash:
        raise RestoreError(
            f"user id {clash[0]} is another person in this database ({len(clash)} such ids): "
            "nothing was imported"
        )
    emails = [e for i, e in wanted.items() if i not in there]
    for part in _slices(emails):
        taken = await conn.execute(
            select(users.c.email).where(
                func.lower(users.c.email).in_([str(e).lower() for e in part])
            )
        )
        email = taken.scalar()
        if email is not None:
            raise RestoreError(
                f"{email} is already a user of this database under another id: nothing was imported"
            )
    return set(there)


async def _refuse_taken_ids(conn: AsyncConnection, table: Table, reader: Reader) -> None:
    [key] = list(table.primary_key.columns)
    ids = [row[key.name] for row in reader.rows(table.name)]
    for part in _slices(ids):
        taken = await conn.execute(select(func.count()).where(key.in_(part)))
        if taken.scalar():
            raise RestoreError(
                f"{table.name} of this database already has rows with the archive's ids "
                "(it was imported here before, or the database is shared): nothing was imported"
            )


def _slices(values: list[Any]) -> Iterator[list[Any]]:
    it = iter(values)
    while part := list(islice(it, ID_SLICE)):
        yield part


async def _files(store: BlobStore, reader: Reader, progress: Progress) -> None:
    files = reader.manifest.files
    done = 0
    for number, (key, meta) in enumerate(sorted(files.items()), 1):
        stored = await store.put(key, _chunks(reader.file(key)), int(meta["size"]) + 1)
        if stored.sha256 != meta["sha256"]:
            await store.delete(key)
            raise RestoreError(f"file {key} in the archive does not match its SHA-256")
        done += stored.size
        progress(f"import: files: {number}/{len(files)} ({_mb(done)})")


async def _chunks(source: IO[bytes]) -> AsyncIterator[bytes]:
    while chunk := source.read(CHUNK):
        yield chunk


async def _insert_all(
    conn: AsyncConnection, reader: Reader, keep: dict[str, set[Any]], progress: Progress
) -> None:
    for table in rows.tables():
        [key] = list(table.primary_key.columns)
        kept = keep.get(table.name, set())
        batch: list[dict[str, Any]] = []
        count = 0
        for row in reader.rows(table.name):
            if row[key.name] in kept:
                continue
            batch.append(rows.decode(table, row))
            if len(batch) >= BATCH:
                count += await _insert(conn, table, batch)
        count += await _insert(conn, table, batch)
        progress(f"import: {table.name}: {count} rows")
    if conn.dialect.name == "postgresql":
        await _advance_sequences(conn)


async def _insert(conn: AsyncConnection, table: Table, batch: list[dict[str, Any]]) -> int:
    if not batch:
        return 0
    await conn.execute(insert(table), batch)
    count = len(batch)
    batch.clear()
    return count


async def _advance_sequences(conn: AsyncConnection) -> None:
    """Ids inserted as they were leave PostgreSQL's sequences behind: the next row would take
    one of them."""
    for table in rows.tables():
        [key] = list(table.primary_key.columns)
        if not key.autoincrement or key.foreign_keys:
            continue
        sequence = (
            await conn.execute(
                text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": key.name}
            )
        ).scalar()
        if sequence:
            await conn.execute(
                text(f"SELECT setval(:s, GREATEST((SELECT max({key.name}) FROM {table.name}), 1))"),
                {"s": sequence},
            )
