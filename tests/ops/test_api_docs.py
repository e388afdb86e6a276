"""/api/docs works offline: every script, style and icon the page names is served by checkrun
itself, and nothing points at another host."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import httpx

from checkrun.apidocs import ASSET_TYPES
from tests.conftest import LiveServer

REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")
URL_IN_TEXT = re.compile(r"""https?://[^\s"'<>]+""")


def test_every_asset_the_page_names_is_served_here(server: LiveServer) -> None:
    page = httpx.get(server.base + "/api/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    references = REFERENCE.findall(html)
    assert len(references) >= 3, html  # the script, the style sheet, the icon
    assert URL_IN_TEXT.findall(html) == []  # no absolute URL at all, to any host
    for reference in references:
        url = urljoin(server.base + "/api/docs", reference)
        assert urlsplit(url).netloc == urlsplit(server.base).netloc, reference
        asset = httpx.get(url)
        assert asset.status_code == 200, reference
        assert len(asset.content) > 100, reference
        assert asset.headers["content-type"].split(";")[0] in ASSET_TYPES.values()
    assert "openapi.json" in html


def test_only_the_listed_assets_are_served(server: LiveServer) -> None:
    for name in ("index.html", "..%2F..%2Fpyproject.toml", "swagger-ui.js.map"):
        assert httpx.get(f"{server.base}/api/docs/assets/{name}").status_code == 404


def test_the_oauth2_redirect_page_is_served(server: LiveServer) -> None:
    answer = httpx.get(server.base + "/api/docs/oauth2-redirect")
    assert answer.status_code == 200
    assert URL_IN_TEXT.findall(answer.text) == []
