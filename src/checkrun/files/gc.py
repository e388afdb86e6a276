"""`checkrun storage gc`: bytes no record points to, and records whose bytes are gone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from checkrun.config import Settings
from checkrun.db import make_engine, make_sessionmaker
from checkrun.files.repository import FilesRepository
from checkrun.kit.clock import now
from checkrun.storage import make_store

# Bytes younger than this may belong to an upload whose record is not committed yet.
GRACE = timedelta(hours=1)


async def collect(settings: Settings, dry_run: bool, grace: timedelta = GRACE) -> dict[str, Any]:
    store = make_store(settings.resolved_storage_url, settings.s3_endpoint_url)
    engine = make_engine(settings.resolved_database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            repo = FilesRepository(db)
            known = await repo.all_storage_keys()
            cutoff = now() - grace
            stored: set[str] = set()
            orphan_bytes: list[str] = []
            async for key, modified in store.keys():
                stored.add(key)
                if key not in known and modified < cutoff:
                    orphan_bytes.append(key)
            orphan_records = sorted(asset_id for key, asset_id in known.items()
                                    if key not in stored)
            if not dry_run:
                for key in orphan_bytes:
                    await store.delete(key)
                await repo.purge_many(orphan_records)
                await db.commit()
    finally:
        await engine.dispose()
    return {
        "dry_run": dry_run,
        "orphan_bytes": sorted(orphan_bytes),
        "records_without_bytes": orphan_records,
    }
