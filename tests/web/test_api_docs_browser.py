"""/api/docs in a real browser with every other host unreachable: Swagger UI renders the
document's operations from checkrun's own assets and asks no other host for anything."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import LiveServer


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_the_docs_render_offline(server: LiveServer, context: Any) -> None:
    here = urlsplit(server.base).netloc
    elsewhere: list[str] = []

    def only_here(route: Any) -> None:
        if urlsplit(route.request.url).netloc == here:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    context.route("**/*", only_here)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/api/docs")
    page.locator(
        ".opblock-summary-path", has_text="/organizations/{org_id}/checklists"
    ).first.wait_for()
    assert page.locator(".opblock").count() > 100
    assert "checkrun" in page.title()
    assert elsewhere == []
    assert errors == []
