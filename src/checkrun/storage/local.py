"""Local filesystem store: bytes go to a temporary name, are fsynced, then renamed into place."""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from checkrun.storage.base import BlobMissing, StoredBlob, StoreUnavailable, TooLarge

CHUNK = 1024 * 1024
_TMP = ".tmp"


class LocalBlobStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        try:
            (self.root / _TMP).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._unavailable(exc) from exc

    def _unavailable(self, exc: OSError) -> StoreUnavailable:
        return StoreUnavailable(
            f"the file store {self.root.absolute()} is not writable: {exc.strerror or exc} "
            "(CHECKRUN_STORAGE_URL)"
        )

    def check_usable(self) -> None:
        try:
            with tempfile.TemporaryFile(dir=self.root / _TMP):
                pass
        except OSError as exc:
            raise self._unavailable(exc) from exc

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"key escapes the store: {key!r}")
        return path

    async def probe(self) -> None:
        await asyncio.to_thread(self._probe)

    def _probe(self) -> None:
        """Writes, reads back and removes a small file where uploads are written."""
        path = self.root / _TMP / f"probe-{uuid.uuid4().hex}"
        try:
            path.write_bytes(b"ok")
            if path.read_bytes() != b"ok":
                raise OSError(f"the store read back other bytes than it wrote at {path}")
        finally:
            path.unlink(missing_ok=True)

    async def put(self, key: str, chunks: AsyncIterator[bytes], max_bytes: int) -> StoredBlob:
        final = self._path(key)
        tmp = self.root / _TMP / uuid.uuid4().hex
        digest = hashlib.sha256()
        size = 0
        pending = bytearray()
        # Opened on the loop (one quick syscall): an await between creating the temporary file
        # and entering `try` would let a cancellation leave it behind.
        fh = open(tmp, "wb")
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge()
                pending += chunk
                if len(pending) >= CHUNK:
                    # One thread hop per MiB, not per network read; hashing there too, since
                    # hashlib releases the GIL while the loop goes on parsing.
                    await asyncio.to_thread(_hash_and_write, fh, digest, bytes(pending))
                    pending.clear()
            await asyncio.to_thread(_hash_and_write, fh, digest, bytes(pending))
            await asyncio.to_thread(_flush_and_sync, fh)
            fh.close()
            await asyncio.to_thread(_publish, tmp, final)
        except BaseException:
            fh.close()
            tmp.unlink(missing_ok=True)
            raise
        return StoredBlob(key=key, size=size, sha256=digest.hexdigest())

    async def open(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        path = self._path(key)
        try:
            fh = await asyncio.to_thread(open, path, "rb")
        except FileNotFoundError:
            raise BlobMissing(key) from None
        try:
            if start:
                fh.seek(start)
            remaining = None if end is None else end - start + 1
            while remaining is None or remaining > 0:
                want = CHUNK if remaining is None else min(CHUNK, remaining)
                data = await asyncio.to_thread(fh.read, want)
                if not data:
                    break
                if remaining is not None:
                    remaining -= len(data)
                yield data
        finally:
            fh.close()

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, True)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._path(key).is_file)

    async def keys(self) -> AsyncIterator[tuple[str, datetime]]:
        for item in await asyncio.to_thread(_walk, self.root):
            yield item

    async def incomplete(self, before: datetime) -> list[str]:
        return [
            f"{_TMP}/{name}"
            for name, modified in await asyncio.to_thread(_walk, self.root / _TMP)
            if modified < before
        ]

    async def discard_incomplete(self, names: list[str]) -> None:
        for name in names:
            await asyncio.to_thread((self.root / _TMP / Path(name).name).unlink, True)


def _hash_and_write(fh: Any, digest: Any, data: bytes) -> None:
    digest.update(data)
    fh.write(data)


def _flush_and_sync(fh: object) -> None:
    fh.flush()  # type: ignore[attr-defined]
    os.fsync(fh.fileno())  # type: ignore[attr-defined]


def _publish(tmp: Path, final: Path) -> None:
    created = not final.parent.exists()
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, final)
    # The rename (and a new folder's entry) must reach the disk before the record commits, or a
    # power cut could leave a committed record whose bytes never arrived.
    _sync_dir(final.parent)
    if created:
        _sync_dir(final.parent.parent)


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _walk(root: Path) -> list[tuple[str, datetime]]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        if Path(dirpath) == root and _TMP in dirnames:
            dirnames.remove(_TMP)
        for name in filenames:
            path = Path(dirpath) / name
            try:
                modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            except FileNotFoundError:
                continue  # removed (or renamed into place) while we walked
            out.append((path.relative_to(root).as_posix(), modified))
    return out
