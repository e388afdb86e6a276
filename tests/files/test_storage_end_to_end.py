"""The file rules on every store and database: local files and a real S3-compatible server
(moto), each on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer, Org, live_server, new_bucket, new_org
from tests.support.factories import checklist, db_count, ok, one_off_task, run, run_upload

COMBOS = ["sqlite-local", "postgresql-local", "sqlite-s3", "postgresql-s3"]


def _start(request: pytest.FixtureRequest, tmp: Path, **overrides: Any) -> Any:
    backend, store = request.param.split("-")
    if store == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        overrides |= {"storage_url": f"s3://{new_bucket(endpoint)}/files",
                      "s3_endpoint_url": endpoint}
    return live_server(backend, tmp, **overrides)


@pytest.fixture(scope="module", params=COMBOS)
def store_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[LiveServer]:
    with _start(request, tmp_path_factory.mktemp(request.param)) as live:
        yield live


@pytest.fixture(scope="module", params=COMBOS)
def tiny_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[LiveServer]:
    """A server that takes files of at most 1 KiB."""
    with _start(request, tmp_path_factory.mktemp("tiny-" + request.param),
                max_upload_bytes=1024) as live:
        yield live


@pytest.fixture
def sorg(store_server: LiveServer) -> Iterator[Org]:
    with new_org(store_server) as made:
        yield made


def keys_of(org: Org) -> set[str]:
    return {k for k in org.server.stored_keys() if k.startswith(org.id + "/")}


def post_file(org: Org, subject_id: str, content: bytes, name: str = "a.txt") -> httpx.Response:
    return org.api.post(org.path("/file"), files={"name": (name, content)},
                        data={"subject_type": "Task", "subject_id": subject_id,
                              "uploaded_from": "ko_field"})


def test_upload_serve_and_delete(sorg: Org) -> None:
    task = one_off_task(sorg)
    content = bytes(range(256)) * 40
    asset = ok(post_file(sorg, task["id"], content, "table.csv"))
    assert keys_of(sorg) == {f"{sorg.id}/{asset['id']}"}
    (meta,) = ok(sorg.api.get(sorg.path(f"/assets/{asset['id']}")))
    assert (meta["size"], meta["checksum"]) == (len(content), hashlib.sha256(content).hexdigest())
    assert sorg.api.get(sorg.path(f"/file/{asset['id']}/dl")).content == content
    deleted = sorg.api.delete(sorg.path(f"/file/{asset['id']}"))
    assert (deleted.status_code, deleted.content) == (200, b"")
    assert keys_of(sorg) == set()


@pytest.mark.parametrize("header, start, end", [
    ("bytes=0-9", 0, 9), ("bytes=100-", 100, 10239), ("bytes=-5", 10235, 10239),
    ("bytes=10000-99999", 10000, 10239),
])
def test_range_requests(sorg: Org, header: str, start: int, end: int) -> None:
    content = bytes(range(256)) * 40
    asset = ok(post_file(sorg, one_off_task(sorg)["id"], content))
    got = sorg.api.get(sorg.path(f"/file/{asset['id']}/dl"), headers={"Range": header})
    assert got.status_code == 206
    assert got.content == content[start:end + 1]
    assert got.headers["content-range"] == f"bytes {start}-{end}/{len(content)}"
    assert got.headers["content-length"] == str(end - start + 1)


def test_unsatisfiable_range_and_etag(sorg: Org) -> None:
    asset = ok(post_file(sorg, one_off_task(sorg)["id"], b"0123456789"))
    path = sorg.path(f"/file/{asset['id']}")
    refused = sorg.api.get(path, headers={"Range": "bytes=50-60"})
    assert refused.status_code == 416
    assert refused.headers["content-range"] == "bytes */10"
    first = sorg.api.get(path)
    assert first.headers["accept-ranges"] == "bytes"
    again = sorg.api.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")


def test_archive_keeps_bytes_and_purge_removes_them(sorg: Org) -> None:
    asset = ok(post_file(sorg, one_off_task(sorg)["id"], b"keep me"))
    archived = ok(sorg.api.delete(sorg.path(f"/assets/{asset['id']}")))
    assert archived["archived_at"] is not None
    assert sorg.api.get(sorg.path(f"/assets/{asset['id']}")).status_code == 404
    assert keys_of(sorg) == {f"{sorg.id}/{asset['id']}"}
    assert sorg.api.delete(sorg.path(f"/file/{asset['id']}")).status_code == 200
    assert keys_of(sorg) == set()


def test_permanent_run_delete_removes_its_bytes(sorg: Org) -> None:
    launched = run(sorg, checklist(sorg, steps=1)["id"])
    run_upload(sorg, launched)
    other = ok(post_file(sorg, one_off_task(sorg)["id"], b"unrelated"))
    assert len(keys_of(sorg)) == 2
    assert sorg.api.delete(sorg.path(f"/runs/{launched['id']}/delete")).status_code == 200
    assert keys_of(sorg) == {f"{sorg.id}/{other['id']}"}


def test_bad_subject_after_the_file_leaves_nothing(sorg: Org) -> None:
    # The file part first and the subject after it: the bytes are stored, then removed again.
    body = (
        b'--xyz\r\nContent-Disposition: form-data; name="name"; filename="late.txt"\r\n\r\n'
        b"bytes first\r\n"
        b'--xyz\r\nContent-Disposition: form-data; name="subject_type"\r\n\r\nTask\r\n'
        b'--xyz\r\nContent-Disposition: form-data; name="subject_id"\r\n\r\n'
        + b"f" * 32 + b"\r\n--xyz--\r\n"
    )
    refused = sorg.api.post(sorg.path("/file"), content=body,
                            headers={"Content-Type": "multipart/form-data; boundary=xyz"})
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"] == {"subject_id": ["Subject not found"]}
    assert keys_of(sorg) == set()


def test_subject_after_the_file_is_accepted(sorg: Org) -> None:
    task = one_off_task(sorg)
    body = (
        b'--xyz\r\nContent-Disposition: form-data; name="name"; filename="late.txt"\r\n\r\n'
        b"bytes first\r\n"
        b'--xyz\r\nContent-Disposition: form-data; name="subject_type"\r\n\r\nTask\r\n'
        b'--xyz\r\nContent-Disposition: form-data; name="subject_id"\r\n\r\n'
        + task["id"].encode() + b"\r\n--xyz--\r\n"
    )
    asset = ok(sorg.api.post(sorg.path("/file"), content=body,
                             headers={"Content-Type": "multipart/form-data; boundary=xyz"}))
    assert sorg.api.get(sorg.path(f"/file/{asset['id']}")).content == b"bytes first"


def multipart_head(org: Org, task_id: str, boundary: str) -> bytes:
    fields = {"subject_type": "Task", "subject_id": task_id, "uploaded_from": "ko_field"}
    head = "".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                   for k, v in fields.items())
    head += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"name\"; "
             "filename=\"half.txt\"\r\nContent-Type: text/plain\r\n\r\n")
    return head.encode()


def test_upload_cut_off_halfway_leaves_no_record_and_no_bytes(sorg: Org) -> None:
    task = one_off_task(sorg)
    # The body ends inside the file part: no closing boundary ever comes.
    body = multipart_head(sorg, task["id"], "xyz") + b"A" * 200_000
    refused = sorg.api.post(sorg.path("/file"), content=body,
                            headers={"Content-Type": "multipart/form-data; boundary=xyz"})
    assert refused.status_code == 400
    assert "cut off" in refused.json()["message"]
    assert keys_of(sorg) == set()
    assert db_count(sorg, "assets", "org_id = :org_id", org_id=sorg.id) == 0


def test_client_that_disconnects_mid_upload_leaves_nothing(sorg: Org) -> None:
    task = one_off_task(sorg)
    head = multipart_head(sorg, task["id"], "xyz")
    port = int(sorg.server.base.rsplit(":", 1)[1])
    request = (f"POST /api/organizations/{sorg.id}/file HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               f"Authorization: Bearer {sorg.token}\r\nX-Tallyfy-Client: APIClient\r\n"
               "Content-Type: multipart/form-data; boundary=xyz\r\n"
               f"Content-Length: {len(head) + 50_000_000}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(request + head + b"B" * 9_000_000)
    tmp = sorg.server.files_dir / ".tmp"
    deadline = time.time() + 20
    # Bounded wait for the server to notice the disconnect and clean up.
    while time.time() < deadline and (tmp.exists() and any(tmp.iterdir())):
        time.sleep(0.05)
    assert not (tmp.exists() and any(tmp.iterdir()))
    assert keys_of(sorg) == set()
    assert db_count(sorg, "assets", "org_id = :org_id", org_id=sorg.id) == 0


def test_file_over_the_limit_is_413_and_nothing_is_kept(tiny_server: LiveServer) -> None:
    with new_org(tiny_server) as org:
        task = one_off_task(org)
        refused = post_file(org, task["id"], b"x" * 1025)
        assert refused.status_code == 413
        assert refused.json()["code"] == "FILE_TOO_LARGE"
        assert keys_of(org) == set()
        assert ok(post_file(org, task["id"], b"x" * 1024))["size"] == 1024
