"""The BlobStore contract, on the local filesystem and on a real S3-compatible server (moto)."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest

from checkrun.storage import BlobMissing, BlobStore, StoredBlob, TooLarge
from checkrun.storage.local import LocalBlobStore
from checkrun.storage.s3 import PART_SIZE, S3BlobStore


def s3_client(endpoint: str) -> object:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "files")
    client = s3_client(request.getfixturevalue("s3_endpoint"))
    bucket = f"b{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    return S3BlobStore(bucket, "some/prefix", client=client)


async def chunks_of(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def read_all(store: BlobStore, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([part async for part in store.open(key, start, end)])


async def all_keys(store: BlobStore) -> list[str]:
    return sorted([key async for key, _ in store.keys()])


def test_put_then_read_back_with_hash(store: BlobStore) -> None:
    data = b"x" * 1000 + b"end"
    blob = asyncio.run(store.put("org/a1", chunks_of(data, 100), max_bytes=10_000))
    assert (blob.size, blob.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert asyncio.run(read_all(store, "org/a1")) == data
    assert asyncio.run(read_all(store, "org/a1", 1000, 1002)) == b"end"
    assert asyncio.run(store.exists("org/a1"))
    assert asyncio.run(all_keys(store)) == ["org/a1"]


def test_object_larger_than_a_part_goes_up_whole(store: BlobStore) -> None:
    data = bytes(range(256)) * ((PART_SIZE * 2 + 12345) // 256)
    blob = asyncio.run(store.put("org/big", chunks_of(data, 1 << 20), max_bytes=len(data)))
    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    assert asyncio.run(read_all(store, "org/big")) == data


def test_too_large_keeps_nothing(store: BlobStore) -> None:
    data = b"y" * (PART_SIZE + 10)
    with pytest.raises(TooLarge):
        asyncio.run(store.put("org/no", chunks_of(data, 1 << 20), max_bytes=PART_SIZE))
    assert not asyncio.run(store.exists("org/no"))
    assert asyncio.run(all_keys(store)) == []


def test_failed_stream_keeps_nothing(store: BlobStore) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"z" * PART_SIZE
        yield b"z" * 100
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        asyncio.run(store.put("org/cut", broken(), max_bytes=10 * PART_SIZE))
    assert asyncio.run(all_keys(store)) == []


def test_delete_removes_bytes(store: BlobStore) -> None:
    asyncio.run(store.put("org/gone", chunks_of(b"bye"), max_bytes=100))
    asyncio.run(store.delete("org/gone"))
    assert not asyncio.run(store.exists("org/gone"))
    assert asyncio.run(all_keys(store)) == []


def test_reading_a_missing_key_raises_blob_missing(store: BlobStore) -> None:
    with pytest.raises(BlobMissing):
        asyncio.run(read_all(store, "org/never"))
    with pytest.raises(BlobMissing):
        asyncio.run(read_all(store, "org/never", 0, 9))


LATER = datetime.now(UTC) + timedelta(days=1)


async def _half_written(store: BlobStore, gate: asyncio.Event) -> asyncio.Task[StoredBlob]:
    """A put that has stored more than one S3 part and now waits for the rest of its bytes."""
    waiting = asyncio.Event()

    async def slow() -> AsyncIterator[bytes]:
        yield b"a" * (PART_SIZE + 1)
        waiting.set()  # the store asked for more: the first part is written
        await gate.wait()
        yield b"end"

    put = asyncio.create_task(store.put("org/slow", slow(), max_bytes=10 * PART_SIZE))
    async with asyncio.timeout(20):
        await waiting.wait()
    return put


def test_bytes_are_invisible_until_complete(store: BlobStore) -> None:
    async def scenario() -> tuple[list[str], bool, int, list[str], list[str]]:
        gate = asyncio.Event()
        put = await _half_written(store, gate)
        during = (
            await all_keys(store),
            await store.exists("org/slow"),
            len(await store.incomplete(LATER)),
        )
        gate.set()
        await put
        return *during, await all_keys(store), await store.incomplete(LATER)

    assert asyncio.run(scenario()) == ([], False, 1, ["org/slow"], [])


def test_a_cancelled_put_leaves_nothing(store: BlobStore) -> None:
    async def scenario() -> tuple[list[str], list[str]]:
        put = await _half_written(store, asyncio.Event())
        put.cancel()
        with pytest.raises(asyncio.CancelledError):
            await put
        return await all_keys(store), await store.incomplete(LATER)

    assert asyncio.run(scenario()) == ([], [])


def test_incomplete_uploads_are_listed_by_age_and_discarded(store: BlobStore) -> None:
    async def scenario() -> tuple[list[str], list[str], list[str]]:
        put = await _half_written(store, asyncio.Event())
        long_ago = await store.incomplete(datetime(2000, 1, 1, tzinfo=UTC))
        found = await store.incomplete(LATER)
        await store.discard_incomplete(found)
        left = await store.incomplete(LATER)
        put.cancel()
        await asyncio.gather(put, return_exceptions=True)
        return long_ago, found, left

    long_ago, found, left = asyncio.run(scenario())
    assert (long_ago, len(found), left) == ([], 1, [])
