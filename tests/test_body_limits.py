"""Bodies cannot exhaust memory: a request without a valid token is refused before its body is
read, and JSON/form bodies over CHECKRUN_MAX_JSON_BYTES (1 MiB by default) get 413 without
being buffered. Uploads keep their own limit.

"Before the body is read" is shown by declaring a large Content-Length, sending only a few
bytes and still getting the answer: a server that waited for the body would never answer."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.conftest import CLIENT_HEADERS, LiveServer, Org
from tests.support.factories import checklist, ok, upload

MIB = 1024 * 1024
HUGE = 50 * MIB


def raw_post(
    server: LiveServer, path: str, length: int, sent: bytes, headers: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    """Declares `length` body bytes, sends only `sent`, and reads the answer."""
    url = urlsplit(server.base)
    head = [
        f"POST {path} HTTP/1.1",
        f"Host: {url.netloc}",
        f"Content-Length: {length}",
        "Content-Type: application/json",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    with socket.create_connection((url.hostname, url.port), timeout=60) as conn:
        conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + sent)
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        header_block, _, body = data.partition(b"\r\n\r\n")
        lines = header_block.decode("latin-1").split("\r\n")
        fields = dict(line.split(": ", 1) for line in lines[1:])
        size = int({k.lower(): v for k, v in fields.items()}["content-length"])
        while len(body) < size:
            body += conn.recv(65536)
        return int(lines[0].split()[1]), json.loads(body)


def test_no_token_is_refused_before_the_body_is_read(org: Org) -> None:
    status, body = raw_post(
        org.server, f"/api/organizations/{org.id}/tags", HUGE, b'{"ti', dict(CLIENT_HEADERS)
    )
    assert status == 401
    # The very body the route's own dependency gives.
    with org.server.client(None) as anonymous:
        assert body == anonymous.get(org.path("/tags")).json()
    assert body["message"].startswith("Unauthenticated. Send Authorization")


def test_invalid_token_is_refused_before_the_body_is_read(org: Org) -> None:
    headers = {**CLIENT_HEADERS, "Authorization": "Bearer not-a-token"}
    status, body = raw_post(org.server, f"/organizations/{org.id}/checklists", HUGE, b"{", headers)
    assert status == 401
    with org.server.client("not-a-token") as stranger:
        assert body == stranger.get(org.path("/checklists")).json()
    assert body["code"] == "UNAUTHENTICATED" and "invalid or revoked" in body["message"]


def test_missing_client_header_is_refused_before_the_body_is_read(org: Org) -> None:
    status, body = raw_post(
        org.server,
        f"/api/organizations/{org.id}/tags",
        HUGE,
        b"{",
        {"Authorization": f"Bearer {org.token}"},
    )
    assert status == 401 and body["code"] == "CLIENT_HEADER_MISSING"


def test_declared_length_over_the_limit_is_413_at_once(org: Org) -> None:
    headers = {**CLIENT_HEADERS, "Authorization": f"Bearer {org.token}"}
    status, body = raw_post(org.server, f"/api/organizations/{org.id}/tags", MIB + 1, b"{", headers)
    assert status == 413
    assert body["error"] is True and body["code"] == "PAYLOAD_TOO_LARGE"
    assert str(MIB) in body["message"]


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    yield b'{"title": "'
    for _ in range(total // size):
        yield b"a" * size
    yield b'"}'


def test_chunked_body_over_the_limit_is_413(org: Org) -> None:
    response = org.api.post(
        org.path("/tags"), content=_chunks(2 * MIB), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"
    # The connection is still good for the next request.
    assert org.api.get(org.path("/tags")).status_code == 200


def test_chunked_body_under_the_limit_is_read(org: Org) -> None:
    body = b'{"title": "Chunked tag"}'
    response = org.api.post(
        org.path("/tags"),
        content=iter([body[:5], body[5:]]),
        headers={"Content-Type": "application/json"},
    )
    assert ok(response, 201)["title"] == "Chunked tag"


def test_body_just_under_the_limit_reaches_validation(org: Org) -> None:
    title = "a" * (MIB - 100)
    response = org.api.post(org.path("/tags"), json={"title": title})
    assert response.status_code == 422, response.text


def test_token_form_over_the_limit_is_413(server: LiveServer) -> None:
    with httpx.Client(base_url=server.api, timeout=60) as client:
        response = client.post(
            "/oauth/token",
            content=b"grant_type=password&x=" + b"a" * 2 * MIB,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"


def test_uploads_keep_their_own_limit(org: Org) -> None:
    asset = upload(
        org,
        "Checklist",
        checklist(org, steps=0)["id"],
        content=b"x" * (3 * MIB),
        filename="big.txt",
    )
    assert asset["size"] == 3 * MIB


def test_unknown_route_with_a_body_is_still_404(server: LiveServer) -> None:
    with server.client(None) as anonymous:
        response = anonymous.post("/no/such/route", json={"a": 1})
    assert response.status_code == 404
    assert response.json()["code"] == "ENDPOINT_NOT_FOUND"
