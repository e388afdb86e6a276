"""Serving a file's bytes: safe types and names, one byte range, conditional requests."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import quote

from checkrun.files.models import Asset
from checkrun.kit.errors import AppError, not_found
from checkrun.storage import BlobMissing, BlobStore

log = logging.getLogger(__name__)

# Types a browser would render or execute: never served inline.
ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/javascript",
        "application/javascript",
        "text/xml",
        "application/xml",
    }
)
# A file is never a page of this origin: no script, no forms, no plugins, whatever its type
# and whatever a browser makes of it.
SANDBOX = "sandbox"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass(frozen=True)
class Conditions:
    """The request headers that shape the answer."""

    range: str | None = None
    if_range: str | None = None
    if_none_match: str | None = None


@dataclass
class Served:
    status: int
    media_type: str
    headers: dict[str, str]
    body: AsyncIterator[bytes] | None  # None for 304


async def serve(store: BlobStore, asset: Asset, download: bool, asked: Conditions) -> Served:
    media_type, headers = serving_headers(asset, download)
    if _matches(asked.if_none_match, headers["ETag"]):
        kept = {
            k: headers[k]
            for k in (
                "ETag",
                "Accept-Ranges",
                "Cache-Control",
                "Content-Security-Policy",
                "X-Content-Type-Options",
            )
        }
        return Served(304, media_type, kept, None)
    wanted = None
    if asked.if_range is None or _matches(asked.if_range, headers["ETag"]):
        wanted = byte_range(asked.range, asset.size)
    if wanted is None:
        return Served(200, media_type, headers, await _opened(store, asset.storage_key, 0, None))
    start, end = wanted
    headers["Content-Length"] = str(end - start + 1)
    headers["Content-Range"] = f"bytes {start}-{end}/{asset.size}"
    return Served(206, media_type, headers, await _opened(store, asset.storage_key, start, end))


def _matches(header: str | None, etag: str) -> bool:
    """If-None-Match / If-Range against our strong ETag (weak comparison, lists and `*`)."""
    if header is None:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or etag in tags


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one range asked for, as (start, end) inclusive; None means the whole file (no header,
    several ranges, or a form we do not serve). Unsatisfiable: 416."""
    match = _RANGE.match((header or "").replace(" ", ""))
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if first == "":
        start, end = max(0, size - int(last)), size - 1
    elif last and int(last) < int(first):
        return None  # not a valid range at all: RFC 9110 says ignore the header
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        raise AppError(
            416,
            "The requested range is not satisfiable.",
            "RANGE_NOT_SATISFIABLE",
            headers={"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes"},
        )
    return start, end


async def _opened(store: BlobStore, key: str, start: int, end: int | None) -> AsyncIterator[bytes]:
    """The bytes, with the first read done before any header goes out, so that a store failure
    is a clean error response instead of a cut-off 200."""
    chunks = store.open(key, start, end)
    try:
        first = await anext(chunks, b"")
    except BlobMissing:
        log.error("the bytes of %s are missing (`checkrun storage gc` reports such records)", key)
        raise not_found() from None
    return _chained(first, chunks)


async def _chained(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    if first:
        yield first
    async for chunk in rest:
        yield chunk


def is_active(mime_type: str) -> bool:
    """Types a browser would render as a document or run (any XML dialect included)."""
    kind = mime_type.split(";")[0].strip().lower()
    return kind in ACTIVE_TYPES or kind.endswith("+xml")


def content_disposition(kind: str, filename: str) -> str:
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in filename)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def serving_headers(asset: Asset, download: bool) -> tuple[str, dict[str, str]]:
    """Media type and headers: inline keeps the real type unless a browser would run it."""
    inline = not download and not is_active(asset.mime_type)
    media_type = asset.mime_type if inline else "application/octet-stream"
    headers = {
        "Content-Disposition": content_disposition(
            "inline" if inline else "attachment", asset.filename
        ),
        "Content-Length": str(asset.size),
        "ETag": f'"{asset.sha256}"',
        "Accept-Ranges": "bytes",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": SANDBOX,
        "Cache-Control": "private, no-cache",
    }
    return media_type, headers
