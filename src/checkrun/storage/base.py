from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class TooLarge(Exception):
    """The stream passed the size limit; nothing was kept."""


class BlobMissing(LookupError):
    """No bytes are stored under the key."""


class StoreUnavailable(Exception):
    """The store can't be used (unreachable, refusing, not writable); the message says which
    store and why, for a person to act on."""


@dataclass(frozen=True)
class StoredBlob:
    key: str
    size: int
    sha256: str


class BlobStore(Protocol):
    """Where file bytes live. `put` makes the object visible only once it is complete."""

    async def put(self, key: str, chunks: AsyncIterator[bytes], max_bytes: int) -> StoredBlob: ...

    def open(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """The bytes from `start` to `end` (inclusive); raises BlobMissing on the first read if
        the key holds nothing."""
        ...

    async def delete(self, key: str) -> None: ...

    async def exists(self, key: str) -> bool: ...

    def check_usable(self) -> None:
        """Blocking, once at start: raises StoreUnavailable unless the store can be used."""
        ...

    def keys(self) -> AsyncIterator[tuple[str, datetime]]:
        """Every stored key with its last-modified time (UTC)."""
        ...

    async def incomplete(self, before: datetime) -> list[str]:
        """Uploads started before `before` and not completed (in flight, or left by a crash),
        named `.tmp/<name>` (local) or `<key>#<upload id>` (S3)."""
        ...

    async def discard_incomplete(self, names: list[str]) -> None: ...

    async def probe(self) -> None:
        """A round trip to the store (readiness); raises when it can't be made."""
        ...
