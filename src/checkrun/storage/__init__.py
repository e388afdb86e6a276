"""Blob stores for file bytes, chosen by CHECKRUN_STORAGE_URL."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from checkrun.storage.base import BlobMissing, BlobStore, StoredBlob, StoreUnavailable, TooLarge
from checkrun.storage.local import LocalBlobStore


def make_store(url: str, s3_endpoint_url: str | None = None) -> BlobStore:
    """Raises ValueError (naming the setting) for a URL that can't be used, StoreUnavailable
    for a local folder that can't be made."""
    if url.startswith("file://"):
        return LocalBlobStore(url.removeprefix("file://"))
    if url.startswith("s3://"):
        from checkrun.storage.s3 import S3BlobStore

        return S3BlobStore.from_url(url, s3_endpoint_url)
    scheme = url.partition("://")[0] if "://" in url else url
    raise ValueError(
        f"CHECKRUN_STORAGE_URL {url!r}: the scheme {scheme!r} is not supported; use "
        "file:///PATH or s3://BUCKET/PREFIX"
    )


async def get_store(request: Request) -> BlobStore:
    store: BlobStore = request.app.state.store
    return store


Store = Annotated[BlobStore, Depends(get_store)]

__all__ = [
    "BlobMissing",
    "BlobStore",
    "Store",
    "StoreUnavailable",
    "StoredBlob",
    "TooLarge",
    "get_store",
    "make_store",
]
