"""File bytes never run as a page of this origin (Content-Security-Policy: sandbox on every
answer that carries them), and a long file name keeps its extension."""

from __future__ import annotations

import pytest

from tests.conftest import Org
from tests.files.test_routes import task_file
from tests.support.factories import ok


@pytest.mark.parametrize("suffix", ["", "/dl"])
def test_every_file_answer_is_sandboxed(org: Org, suffix: str) -> None:
    asset = task_file(org, b"<script>alert(1)</script>", "page.txt")
    path = org.path(f"/file/{asset['id']}{suffix}")
    whole = org.api.get(path)
    assert whole.status_code == 200
    assert whole.headers["content-security-policy"] == "sandbox"
    part = org.api.get(path, headers={"Range": "bytes=0-3"})
    assert part.status_code == 206 and part.content == b"<scr"
    assert part.headers["content-security-policy"] == "sandbox"
    unchanged = org.api.get(path, headers={"If-None-Match": whole.headers["etag"]})
    assert unchanged.status_code == 304
    assert unchanged.headers["content-security-policy"] == "sandbox"


def test_xml_is_served_as_an_attachment_and_sandboxed(org: Org) -> None:
    asset = task_file(org, b"<svg xmlns='http://www.w3.org/2000/svg'/>", "drawing.xml")
    response = org.api.get(org.path(f"/file/{asset['id']}"))
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["content-security-policy"] == "sandbox"


def test_a_name_over_255_characters_keeps_its_extension(org: Org) -> None:
    asset = task_file(org, b"%PDF-1.4", "r" * 300 + ".pdf")
    assert len(asset["filename"]) == 255
    assert asset["filename"] == "r" * 251 + ".pdf"
    assert asset["mime_type"] == "application/pdf"
    response = org.api.get(org.path(f"/assets/{asset['id']}"))
    assert ok(response)[0]["filename"] == asset["filename"]


def test_a_long_unicode_name_keeps_its_extension(org: Org) -> None:
    asset = task_file(org, b"data", "ü" * 260 + ".txt")
    assert asset["filename"] == "ü" * 251 + ".txt"
