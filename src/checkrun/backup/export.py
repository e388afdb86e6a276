"""`checkrun export --org ID --out FILE`: every record of one organization and its files'
bytes, read in one transaction (one consistent moment), written to one archive."""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Table, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from checkrun import __version__
from checkrun.backup import rows
from checkrun.backup.archive import Manifest, Writer
from checkrun.config import Settings
from checkrun.db import make_engine
from checkrun.kit.clock import iso, now
from checkrun.storage import make_store
from checkrun.storage.base import BlobMissing, BlobStore

Progress = Callable[[str], None]
BATCH = 1000


class ExportError(ValueError):
    """What stops an export, said for the person running it."""


async def export_org(settings: Settings, org_id: str, out: Path, progress: Progress) -> Manifest:
    engine = make_engine(settings.resolved_database_url)
    store = make_store(settings.resolved_storage_url, settings.s3_endpoint_url)
    writer = Writer(out)
    try:
        async with engine.connect() as conn, conn.begin():
            manifest = await _manifest(conn, org_id)
            with tempfile.TemporaryDirectory() as work:
                for table in rows.tables():
                    count = await _table(conn, table, org_id, Path(work), writer)
                    manifest.tables[table.name] = count
                    progress(f"export: {table.name}: {count} rows")
                await _files(conn, store, org_id, manifest, Path(work), writer, progress)
        writer.add_bytes("manifest.json", manifest.to_json())
    except BaseException:
        writer.close()
        out.unlink(missing_ok=True)
        raise
    finally:
        await engine.dispose()
    writer.close()
    return manifest


async def _manifest(conn: AsyncConnection, org_id: str) -> Manifest:
    orgs = rows.table(rows.ORGS)
    name = (await conn.execute(select(orgs.c.name).where(orgs.c.id == org_id))).scalar()
    if name is None:
        raise ExportError(f"there is no organization {org_id} in this database")
    revision = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    return Manifest(org_id, str(name), str(revision), __version__, iso(now()) or "")


async def _table(
    conn: AsyncConnection, table: Table, org_id: str, work: Path, writer: Writer
) -> int:
    path = work / f"{table.name}.jsonl"
    count = 0
    with path.open("w", encoding="utf-8") as fh:
        result = await conn.stream(rows.rows_of(table, org_id))
        async for partition in result.mappings().partitions(BATCH):
            for row in partition:
                fh.write(json.dumps(rows.encode(table, dict(row)), ensure_ascii=False) + "\n")
                count += 1
    writer.add_file(f"tables/{table.name}.jsonl", path)
    path.unlink()
    return count


async def _files(
    conn: AsyncConnection,
    store: BlobStore,
    org_id: str,
    manifest: Manifest,
    work: Path,
    writer: Writer,
    progress: Progress,
) -> None:
    assets = rows.table("assets")
    found = await conn.execute(
        select(assets.c.storage_key, assets.c.size, assets.c.sha256)
        .where(assets.c.org_id == org_id)
        .order_by(assets.c.storage_key)
    )
    listed = found.all()
    done = 0
    for number, (key, size, sha256) in enumerate(listed, 1):
        await _file(store, key, sha256, work, writer)
        manifest.files[key] = {"size": size, "sha256": sha256}
        done += size
        progress(f"export: files: {number}/{len(listed)} ({_mb(done)})")


async def _file(store: BlobStore, key: str, sha256: str, work: Path, writer: Writer) -> None:
    path = work / "blob"
    digest = hashlib.sha256()
    try:
        with path.open("wb") as fh:
            async for chunk in store.open(key):
                digest.update(chunk)
                fh.write(chunk)
    except BlobMissing:
        raise ExportError(f"the bytes of file {key} are missing from the store") from None
    if digest.hexdigest() != sha256:
        raise ExportError(f"the bytes of file {key} do not match their SHA-256 any more")
    writer.add_file(f"files/{key}", path)
    path.unlink()


def _mb(size: Any) -> str:
    return f"{int(size) / 1_000_000:.1f} MB"
