"""Streaming uploads: fields before or after the file, refusals, limits, bodies that end early,
clients that go away and commits that fail. Never a half file, an orphan or a record without
bytes, on each database and store."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.conftest import Org
from tests.files.conftest import TINY_LIMIT
from tests.support.factories import checklist, db_count, ok, one_off_task, run

BOUNDARY = "xyz"
MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def field(name: str, value: str) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
    ).encode()


def file_head(filename: str = "late.txt") -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="name"; '
        f'filename="{filename}"\r\nContent-Type: text/plain\r\n\r\n'
    ).encode()


def file_part(content: bytes, filename: str = "late.txt") -> bytes:
    return file_head(filename) + content + b"\r\n"


END = f"--{BOUNDARY}--\r\n".encode()


def post_raw(org: Org, body: bytes) -> httpx.Response:
    return org.api.post(org.path("/file"), content=body, headers=MULTIPART)


def keys_of(org: Org) -> set[str]:
    return {k for k in org.server.stored_keys() if k.startswith(org.id + "/")}


def assets_of(org: Org) -> int:
    return db_count(org, "assets", "org_id = :org_id", org_id=org.id)


def assert_nothing_kept(org: Org) -> None:
    assert keys_of(org) == set()
    assert assets_of(org) == 0
    assert org.server.incomplete_uploads() == []


def wait_for(condition: Callable[[], bool], seconds: float = 20) -> bool:
    """Polls for something the server does on its own time (bounded, never a timing assert)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@contextmanager
def raw_upload(org: Org, content_length: int) -> Iterator[socket.socket]:
    """A socket with the request line and headers of an upload sent; the body is up to the test."""
    port = int(org.server.base.rsplit(":", 1)[1])
    request = (
        f"POST /api/organizations/{org.id}/file HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {org.token}\r\nX-Tallyfy-Client: APIClient\r\n"
        f"Content-Type: {MULTIPART['Content-Type']}\r\n"
        f"Content-Length: {content_length}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(request)
        yield sock


# --- field order ----------------------------------------------------------------------------


def test_subject_after_the_file_is_accepted(org: Org) -> None:
    task = one_off_task(org)
    body = (
        file_part(b"bytes first")
        + field("subject_type", "Task")
        + field("subject_id", task["id"])
        + END
    )
    asset = ok(post_raw(org, body))
    assert asset["subject"] == {"id": task["id"], "type": "Task"}
    assert org.api.get(org.path(f"/file/{asset['id']}")).content == b"bytes first"


def test_run_step_fields_after_the_file_are_accepted(org: Org) -> None:
    template = checklist(org, steps=1)
    launched = run(org, template["id"])
    step_id = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))[0]["step_id"]
    # The subject comes first, the fields a Run also needs come after the file.
    body = (
        field("subject_type", "Run")
        + field("subject_id", launched["id"])
        + file_part(b"mixed order")
        + field("step_id", step_id)
        + field("checklist_id", template["id"])
        + END
    )
    asset = ok(post_raw(org, body))
    assert (asset["subject"]["id"], asset["step_id"]) == (launched["id"], step_id)
    assert keys_of(org) == {f"{org.id}/{asset['id']}"}


def test_bad_subject_after_the_file_leaves_nothing(org: Org) -> None:
    body = (
        file_part(b"bytes first")
        + field("subject_type", "Task")
        + field("subject_id", "f" * 32)
        + END
    )
    refused = post_raw(org, body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"] == {"subject_id": ["Subject not found"]}
    assert_nothing_kept(org)


def test_missing_run_fields_after_the_file_leave_nothing(org: Org) -> None:
    launched = run(org)
    body = field("subject_type", "Run") + field("subject_id", launched["id"])
    refused = post_raw(org, body + file_part(b"no step") + END)
    assert refused.status_code == 422, refused.text
    assert set(refused.json()["errors"]) == {"step_id", "checklist_id"}
    assert_nothing_kept(org)


def test_a_bad_subject_sent_first_is_refused_before_any_byte_is_stored(tiny_org: Org) -> None:
    # Storing would hit the size limit (413); the 422 shows the file was never read.
    too_big = b"x" * (TINY_LIMIT + 1)
    fields = field("subject_type", "Task") + field("subject_id", "f" * 32)
    first = post_raw(tiny_org, fields + file_part(too_big) + END)
    assert first.status_code == 422, first.text
    after = post_raw(tiny_org, file_part(too_big) + fields + END)
    assert after.status_code == 413, after.text
    assert_nothing_kept(tiny_org)


# --- limits ---------------------------------------------------------------------------------


def test_file_over_the_limit_is_413_and_nothing_is_kept(tiny_org: Org) -> None:
    task = one_off_task(tiny_org)
    data = {"subject_type": "Task", "subject_id": task["id"]}
    refused = tiny_org.api.post(
        tiny_org.path("/file"), data=data, files={"name": ("big.txt", b"x" * (TINY_LIMIT + 1))}
    )
    assert refused.status_code == 413
    assert refused.json()["code"] == "FILE_TOO_LARGE"
    assert_nothing_kept(tiny_org)
    fits = ok(
        tiny_org.api.post(
            tiny_org.path("/file"), data=data, files={"name": ("fits.txt", b"x" * TINY_LIMIT)}
        )
    )
    assert fits["size"] == TINY_LIMIT


def test_413_comes_as_soon_as_the_limit_is_passed(tiny_org: Org) -> None:
    # The client announces far more than it sends: the answer can only come if the server stops
    # reading at the limit instead of waiting for the rest of the body.
    head = fields_then_file_head(tiny_org)
    with raw_upload(tiny_org, len(head) + 10_000_000) as sock:
        sock.sendall(head + b"x" * (TINY_LIMIT + 1))
        sock.settimeout(20)
        status_line = sock.recv(4096).split(b"\r\n", 1)[0]
    assert status_line == b"HTTP/1.1 413 Request Entity Too Large"
    assert wait_for(lambda: tiny_org.server.incomplete_uploads() == [])
    assert_nothing_kept(tiny_org)


def test_endless_form_fields_are_refused(org: Org) -> None:
    task = one_off_task(org)
    padding = b"".join(field(f"extra{i}", "v" * 60_000) for i in range(20))
    body = (
        field("subject_type", "Task")
        + field("subject_id", task["id"])
        + padding
        + file_part(b"never stored")
        + END
    )
    refused = post_raw(org, body)
    assert refused.status_code == 400, refused.text
    assert_nothing_kept(org)


# --- bodies that end early, clients that go away, commits that fail -------------------------


def fields_then_file_head(org: Org) -> bytes:
    task = one_off_task(org)
    return field("subject_type", "Task") + field("subject_id", task["id"]) + file_head("half.txt")


def test_upload_cut_off_halfway_leaves_no_record_and_no_bytes(org: Org) -> None:
    # The body ends inside the file part: no closing boundary ever comes.
    refused = post_raw(org, fields_then_file_head(org) + b"A" * 200_000)
    assert refused.status_code == 400
    assert "cut off" in refused.json()["message"]
    assert_nothing_kept(org)


def test_a_body_that_ends_inside_a_field_leaves_nothing(org: Org) -> None:
    refused = post_raw(org, field("subject_type", "Task")[:-10])
    assert refused.status_code == 400
    assert_nothing_kept(org)


def test_client_that_disconnects_mid_upload_leaves_nothing(org: Org) -> None:
    head = fields_then_file_head(org)
    with raw_upload(org, len(head) + 50_000_000) as sock:
        # More than one S3 part, so the S3 store has a multipart upload open too.
        sock.sendall(head + b"B" * 9_000_000)
        assert wait_for(lambda: org.server.incomplete_uploads() != []), "upload never started"
    assert wait_for(lambda: org.server.incomplete_uploads() == []), "upload never cleaned up"
    assert keys_of(org) == set()
    assert assets_of(org) == 0


REFUSE_SQLITE = """CREATE TRIGGER refuse_upload BEFORE INSERT ON assets
WHEN NEW.filename = 'refused.txt' BEGIN SELECT RAISE(ABORT, 'refused'); END"""
REFUSE_PG_FUNCTION = """CREATE OR REPLACE FUNCTION refuse_upload() RETURNS trigger AS $$
BEGIN IF NEW.filename = 'refused.txt' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END
$$ LANGUAGE plpgsql"""
REFUSE_PG = """CREATE TRIGGER refuse_upload BEFORE INSERT ON assets
FOR EACH ROW EXECUTE FUNCTION refuse_upload()"""


@pytest.fixture
def refusing_database(org: Org) -> Any:
    """The server's database refuses to insert an asset named refused.txt."""
    if org.server.backend == "postgresql":
        org.server.execute(REFUSE_PG_FUNCTION)
        org.server.execute(REFUSE_PG)
    else:
        org.server.execute(REFUSE_SQLITE)
    yield
    org.server.execute(
        "DROP TRIGGER refuse_upload" + (" ON assets" if org.server.backend == "postgresql" else "")
    )


@pytest.mark.usefixtures("refusing_database")
def test_a_record_that_fails_to_commit_leaves_no_bytes(org: Org) -> None:
    task = one_off_task(org)
    data = {"subject_type": "Task", "subject_id": task["id"]}
    failed = org.api.post(
        org.path("/file"), data=data, files={"name": ("refused.txt", b"x" * 100_000)}
    )
    assert failed.status_code == 500
    assert_nothing_kept(org)
    kept = ok(org.api.post(org.path("/file"), data=data, files={"name": ("ok.txt", b"fine")}))
    assert keys_of(org) == {f"{org.id}/{kept['id']}"}
