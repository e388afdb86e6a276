"""S3-compatible object store. Large objects go up as a multipart upload, which S3 makes visible
only on completion (and aborts on failure), so readers never see a partial object; memory holds at
most one part."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

import anyio

from checkrun.storage.base import BlobMissing, StoredBlob, StoreUnavailable, TooLarge

PART_SIZE = 8 * 1024 * 1024  # S3 parts must be at least 5 MiB, but for the last
READ_CHUNK = 1024 * 1024


# The readiness probe's client: one try, short timeouts, so that a store that is down holds a
# thread for seconds, not minutes of retries.
PROBE_CONFIG: dict[str, Any] = {
    "connect_timeout": 1,
    "read_timeout": 2,
    "retries": {"max_attempts": 1, "mode": "standard"},
}


class S3BlobStore:
    def __init__(
        self, bucket: str, prefix: str = "", client: Any = None, endpoint_url: str | None = None
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client or _client(endpoint_url)
        self.endpoint_url = endpoint_url
        # A client handed in is probed as it is; our own gets a twin for probes, made on the
        # first one.
        self._probe_client: Any = client

    @classmethod
    def from_url(cls, url: str, endpoint_url: str | None = None) -> S3BlobStore:
        parsed = urlparse(url)
        if not parsed.netloc:
            raise ValueError(f"CHECKRUN_STORAGE_URL {url!r} names no bucket: s3://BUCKET/PREFIX")
        try:
            client = _client(endpoint_url)
        except ValueError as exc:  # botocore: "Invalid endpoint: ..."
            raise ValueError(f"CHECKRUN_S3_ENDPOINT_URL {endpoint_url!r}: {exc}") from exc
        store = cls(parsed.netloc, parsed.path, client=client, endpoint_url=endpoint_url)
        store._probe_client = None  # our own client: probes get their quick twin
        return store

    async def probe(self) -> None:
        if self._probe_client is None:
            self._probe_client = await asyncio.to_thread(_client, self.endpoint_url, PROBE_CONFIG)
        await asyncio.to_thread(self._probe_client.head_bucket, Bucket=self.bucket)

    def check_usable(self) -> None:
        """One HEAD of the bucket, with short timeouts and no retries."""
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        meta = self.client.meta
        quick = {"connect_timeout": 5, "read_timeout": 10, "retries": {"total_max_attempts": 1}}
        where = f"the S3 bucket {self.bucket!r} at {meta.endpoint_url}"
        try:
            _client(meta.endpoint_url, quick, meta.region_name).head_bucket(Bucket=self.bucket)
        except NoCredentialsError as exc:
            raise StoreUnavailable(
                f"no credentials for {where}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            ) from exc
        except ClientError as exc:
            raise StoreUnavailable(f"{where} refused: {_refusal(exc)}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"cannot reach {where}: {exc}") from exc

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    async def put(self, key: str, chunks: AsyncIterator[bytes], max_bytes: int) -> StoredBlob:
        digest = hashlib.sha256()
        size = 0
        buffer = bytearray()
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge()
                digest.update(chunk)
                buffer += chunk
                if len(buffer) >= PART_SIZE:
                    upload_id = upload_id or await self._start_multipart(key)
                    parts.append(await self._part(key, upload_id, len(parts) + 1, bytes(buffer)))
                    buffer.clear()
            if upload_id is None:
                await asyncio.to_thread(
                    self.client.put_object,
                    Bucket=self.bucket,
                    Key=self._key(key),
                    Body=bytes(buffer),
                )
            else:
                if buffer:
                    parts.append(await self._part(key, upload_id, len(parts) + 1, bytes(buffer)))
                await asyncio.to_thread(
                    self.client.complete_multipart_upload,
                    Bucket=self.bucket,
                    Key=self._key(key),
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
        except BaseException:
            if upload_id is not None:
                # Shielded: a cancelled request must still abort, or S3 keeps the parts.
                with anyio.CancelScope(shield=True):
                    await self._abort(self._key(key), upload_id)
            raise
        return StoredBlob(key=key, size=size, sha256=digest.hexdigest())

    async def _start_multipart(self, key: str) -> str:
        created = await asyncio.to_thread(
            self.client.create_multipart_upload, Bucket=self.bucket, Key=self._key(key)
        )
        return str(created["UploadId"])

    async def _part(self, key: str, upload_id: str, number: int, body: bytes) -> dict[str, Any]:
        done = await asyncio.to_thread(
            self.client.upload_part,
            Bucket=self.bucket,
            Key=self._key(key),
            UploadId=upload_id,
            PartNumber=number,
            Body=body,
        )
        return {"ETag": done["ETag"], "PartNumber": number}

    async def open(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        extra: dict[str, Any] = {}
        if start or end is not None:
            extra["Range"] = f"bytes={start}-{'' if end is None else end}"
        try:
            got = await asyncio.to_thread(
                self.client.get_object, Bucket=self.bucket, Key=self._key(key), **extra
            )
        except self.client.exceptions.NoSuchKey:
            raise BlobMissing(key) from None
        body = got["Body"]
        try:
            while data := await asyncio.to_thread(body.read, READ_CHUNK):
                yield data
        finally:
            body.close()

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.client.delete_object, Bucket=self.bucket, Key=self._key(key))

    async def exists(self, key: str) -> bool:
        try:
            await asyncio.to_thread(self.client.head_object, Bucket=self.bucket, Key=self._key(key))
        except self.client.exceptions.ClientError:
            return False
        return True

    async def keys(self) -> AsyncIterator[tuple[str, datetime]]:
        pages = await asyncio.to_thread(_list_all, self.client, self.bucket, self.prefix)
        strip = len(self.prefix) + 1 if self.prefix else 0
        for key, modified in pages:
            yield key[strip:], modified.astimezone(UTC)

    async def incomplete(self, before: datetime) -> list[str]:
        uploads = await asyncio.to_thread(_list_uploads, self.client, self.bucket, self.prefix)
        strip = len(self.prefix) + 1 if self.prefix else 0
        return [
            f"{key[strip:]}#{upload_id}" for key, upload_id, started in uploads if started < before
        ]

    async def discard_incomplete(self, names: list[str]) -> None:
        for name in names:
            key, _, upload_id = name.rpartition("#")  # upload ids never hold a '#'
            await self._abort(self._key(key), upload_id)

    async def _abort(self, full_key: str, upload_id: str) -> None:
        try:
            await asyncio.to_thread(
                self.client.abort_multipart_upload,
                Bucket=self.bucket,
                Key=full_key,
                UploadId=upload_id,
            )
        except self.client.exceptions.NoSuchUpload:
            pass  # aborted already (by gc, or by the failing upload itself)


def _list_uploads(client: Any, bucket: str, prefix: str) -> list[tuple[str, str, datetime]]:
    out = []
    paginator = client.get_paginator("list_multipart_uploads")
    for page in paginator.paginate(Bucket=bucket, Prefix=f"{prefix}/" if prefix else ""):
        for item in page.get("Uploads", []):
            out.append((item["Key"], item["UploadId"], item["Initiated"].astimezone(UTC)))
    return out


def _list_all(client: Any, bucket: str, prefix: str) -> list[tuple[str, datetime]]:
    out = []
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=f"{prefix}/" if prefix else ""):
        for item in page.get("Contents", []):
            out.append((item["Key"], item["LastModified"]))
    return out


def _refusal(exc: Any) -> str:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if status == 404:
        return "there is no such bucket (HTTP 404)"
    if status == 403:
        return "access denied (HTTP 403): check the AWS_* credentials and the bucket's policy"
    return f"HTTP {status} {exc.response.get('Error', {}).get('Code', '')}".strip()


def _client(
    endpoint_url: str | None = None, config: dict[str, Any] | None = None, region: str | None = None
) -> Any:
    import boto3
    from botocore.config import Config

    endpoint = endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
    return boto3.client(
        "s3",
        endpoint_url=endpoint or None,
        config=Config(**config) if config else None,
        region_name=region,
    )
