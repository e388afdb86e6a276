"""A 100 MB file goes up and comes back whole, hashed on both ends, without the client holding
it in memory (the server's own memory is measured in bench/files_bench.py); one byte more is
refused. On each store."""

from __future__ import annotations

import hashlib
import io
import os
from typing import IO, cast

import pytest

from tests.conftest import Org
from tests.support.factories import db_count, ok, one_off_task

MB = 1024 * 1024
LIMIT = 100 * MB


class Generated(io.RawIOBase):
    """`size` bytes of a repeated random block, produced as they are read."""

    def __init__(self, size: int) -> None:
        self.block = os.urandom(MB)
        self.left = size
        self.sha256 = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        n = min(len(buffer), self.left, MB)
        offset = (LIMIT - self.left) % MB
        chunk = (self.block[offset:] + self.block)[:n]
        buffer[:n] = chunk
        self.sha256.update(chunk)
        self.left -= n
        return n


def upload_generated(org: Org, size: int) -> tuple[Generated, object]:
    source = Generated(size)
    response = org.api.post(
        org.path("/file"),
        files={"name": ("big.zip", cast(IO[bytes], source), "application/zip")},  # a raw file
        data={
            "subject_type": "Task",
            "subject_id": one_off_task(org)["id"],
            "uploaded_from": "ko_field",
        },
    )
    return source, response


# Bytes never touch the database: each store once is enough for the two slowest tests here.
ONE_PER_STORE = pytest.mark.parametrize(
    "files_server", ["sqlite-local", "sqlite-s3"], indirect=True
)


@ONE_PER_STORE
def test_a_100_mb_upload_round_trips(org: Org) -> None:
    source, response = upload_generated(org, LIMIT)
    asset = ok(response)  # type: ignore[arg-type]
    assert asset["size"] == LIMIT
    assert asset["checksum"] == source.sha256.hexdigest()
    digest, total = hashlib.sha256(), 0
    with org.api.stream("GET", org.path(f"/file/{asset['id']}/dl")) as download:
        assert download.headers["content-length"] == str(LIMIT)
        for chunk in download.iter_bytes(MB):
            digest.update(chunk)
            total += len(chunk)
    assert (total, digest.hexdigest()) == (LIMIT, source.sha256.hexdigest())


@ONE_PER_STORE
def test_one_byte_over_100_mb_is_refused_and_nothing_kept(org: Org) -> None:
    _, response = upload_generated(org, LIMIT + 1)
    assert response.status_code == 413  # type: ignore[attr-defined]
    assert not any(k.startswith(org.id + "/") for k in org.server.stored_keys())
    assert db_count(org, "assets", "org_id = :org_id", org_id=org.id) == 0
    assert org.server.incomplete_uploads() == []
