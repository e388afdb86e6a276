"""Ordering of record and byte removal: rows go in the transaction, bytes only after it commits,
so a rollback never leaves a record pointing at missing bytes. Bytes whose removal fails after
the commit are orphans that `checkrun storage gc` finds."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.storage import BlobStore

log = logging.getLogger(__name__)


async def commit_then_discard(db: AsyncSession, store: BlobStore, keys: list[str]) -> None:
    await db.commit()
    for key in keys:
        try:
            await store.delete(key)
        except Exception:  # the record is gone already; gc collects what is left
            log.exception("could not remove stored bytes %s", key)
