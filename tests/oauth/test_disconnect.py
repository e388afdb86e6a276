"""A client that goes away while its token request's body is still arriving leaves no
traceback in the server's log (it is a client's doing, not a fault of the server)."""

from __future__ import annotations

import logging
import socket
import time
from urllib.parse import urlsplit

import pytest

from tests.conftest import LiveServer

GONE = "the client went away"


def _cut_off_token_request(server: LiveServer) -> None:
    url = urlsplit(server.base)
    head = (
        "POST /api/oauth/token HTTP/1.1\r\n"
        f"Host: {url.netloc}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        "Content-Length: 1000\r\n\r\n"
    )
    with socket.create_connection((url.hostname, url.port), timeout=30) as conn:
        conn.sendall(head.encode() + b"grant_type=pass")


def test_disconnect_while_the_form_is_read_leaves_no_traceback(
    server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    uvicorn_log = logging.getLogger("uvicorn.error")
    uvicorn_log.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="checkrun")
    try:
        _cut_off_token_request(server)
        # Wait (bounded) for the server to have handled the request, whichever way it went.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(
            GONE in r.getMessage() or r.exc_info for r in caplog.records
        ):
            time.sleep(0.05)
    finally:
        uvicorn_log.removeHandler(caplog.handler)
    assert [r for r in caplog.records if r.exc_info] == []
    assert "Traceback" not in caplog.text
    assert any(GONE in r.getMessage() and "/oauth/token" in r.getMessage() for r in caplog.records)
