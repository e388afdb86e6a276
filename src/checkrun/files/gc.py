"""`checkrun storage gc`: bytes no record points to, records whose bytes are gone, and uploads
that never finished (a temporary file, an S3 multipart upload) left behind by a crash."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.config import Settings
from checkrun.db import make_engine, make_sessionmaker
from checkrun.files.repository import FilesRepository
from checkrun.kit.clock import now
from checkrun.storage import BlobStore, make_store

EVERY = 1000  # a progress line per this many files


@dataclass
class Findings:
    orphan_bytes: list[str]
    records_without_bytes: list[str]
    incomplete_uploads: list[str]


def _quiet(_: str) -> None:
    pass


async def collect(
    settings: Settings, dry_run: bool, progress: Callable[[str], None] = _quiet
) -> dict[str, Any]:
    """Finds the three kinds and, unless `dry_run`, removes them. Anything younger than
    `settings.gc_grace_seconds` is left alone: it may be an upload still on its way.
    `progress` hears how far it got (the CLI prints it on stderr)."""
    store = make_store(settings.resolved_storage_url, settings.s3_endpoint_url)
    cutoff = now() - timedelta(seconds=settings.gc_grace_seconds)
    engine = make_engine(settings.resolved_database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            found = await _find(FilesRepository(db), store, cutoff, progress)
            if not dry_run:
                await _remove(db, store, found, progress)
    finally:
        await engine.dispose()
    # Unfinished uploads are bytes no record points to as well: one list, so the report keeps
    # the shape scripts already read.
    return {
        "dry_run": dry_run,
        "orphan_bytes": sorted(found.orphan_bytes + found.incomplete_uploads),
        "records_without_bytes": found.records_without_bytes,
    }


async def _find(
    repo: FilesRepository, store: BlobStore, cutoff: datetime, progress: Callable[[str], None]
) -> Findings:
    # Records first, bytes second: an upload stores its bytes before its record commits, so a
    # record that appears meanwhile always finds its bytes listed.
    known = await repo.all_storage_keys()
    progress(f"gc: {len(known)} file records")
    stored: set[str] = set()
    orphans: list[str] = []
    async for key, modified in store.keys():
        stored.add(key)
        if len(stored) % EVERY == 0:
            progress(f"gc: {len(stored)} stored files listed")
        if key not in known and modified < cutoff:
            orphans.append(key)
    progress(f"gc: {len(stored)} stored files listed")
    without_bytes = [asset_id for key, asset_id in known.items() if key not in stored]
    return Findings(sorted(orphans), sorted(without_bytes), sorted(await store.incomplete(cutoff)))


async def _remove(
    db: AsyncSession, store: BlobStore, found: Findings, progress: Callable[[str], None]
) -> None:
    await FilesRepository(db).purge_many(found.records_without_bytes)
    await db.commit()
    progress(f"gc: {len(found.records_without_bytes)} records without bytes removed")
    for number, key in enumerate(found.orphan_bytes, 1):
        await store.delete(key)
        if number % EVERY == 0 or number == len(found.orphan_bytes):
            progress(f"gc: {number}/{len(found.orphan_bytes)} orphaned files removed")
    await store.discard_incomplete(found.incomplete_uploads)
    progress(f"gc: {len(found.incomplete_uploads)} unfinished uploads discarded")
