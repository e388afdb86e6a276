"""The route index picks, for every path and method, the route the router's own walk over its
routes would pick: the first full match, else the first that matches the path but not the
method (405), else none (the router answers)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.routing import BaseRoute, Match, Route

from checkrun.app import create_app
from checkrun.config import Settings
from checkrun.kit.routing import IndexedDispatch, RouteIndex, route_path
from tests.conftest import Org

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
PARAM = re.compile(r"\{([^}:]+)(?::([^}]+))?\}")


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> list[BaseRoute]:
    app = create_app(Settings(data_dir=Path(tmp_path_factory.mktemp("routing"))))
    assert isinstance(app.router.middleware_stack, IndexedDispatch)
    return list(app.router.routes)


def _scope(path: str, method: str, root_path: str = "") -> dict[str, object]:
    return {"type": "http", "path": root_path + path, "root_path": root_path, "method": method}


def walked(routes: list[BaseRoute], scope: dict[str, object]) -> tuple[Match, BaseRoute | None]:
    """What Starlette's router does: every route in order."""
    partial = None
    for route in routes:
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return match, route
        if match == Match.PARTIAL and partial is None:
            partial = route
    return (Match.PARTIAL, partial) if partial is not None else (Match.NONE, None)


def indexed(index: RouteIndex, scope: dict[str, object]) -> tuple[Match, BaseRoute | None]:
    return walked(index.candidates(route_path(scope)), scope)


def _filled(path: str) -> Iterator[str]:
    yield PARAM.sub(lambda m: "7" if m.group(2) == "int" else "abc123", path)
    yield PARAM.sub(lambda m: "x" * 32, path) + "/"  # the trailing slash: no route, a redirect


def test_every_route_of_the_app_is_found_as_the_router_finds_it(routes: list[BaseRoute]) -> None:
    index = RouteIndex(routes)
    paths = [p for r in routes if isinstance(r, Route) for p in _filled(r.path)]
    assert len(paths) > 600
    found = 0
    for path in paths + ["/app/static/app.css", "/nowhere", "/", "", "//"]:
        for method in METHODS:
            scope = _scope(path, method)
            expected = walked(routes, scope)
            assert indexed(index, scope) == expected, (method, path)
            found += expected[0] == Match.FULL
    assert found > 300


def test_a_root_path_is_left_out_of_the_lookup_as_the_routes_leave_it(
    routes: list[BaseRoute],
) -> None:
    index = RouteIndex(routes)
    for path in ("/api/organizations/o1/runs/r1", "/organizations/o1/me/tasks", "/app"):
        for root in ("/checkrun", "/check"):
            scope = _scope(path, "GET", root)
            assert indexed(index, scope) == walked(routes, scope)
            assert indexed(index, scope)[0] == Match.FULL


def _segments(routes: list[BaseRoute]) -> list[str]:
    return sorted({s for r in routes if isinstance(r, Route) for s in r.path.split("/")})


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_any_path_made_of_the_routes_segments_is_found_as_the_router_finds_it(
    routes: list[BaseRoute], data: st.DataObject
) -> None:
    segment = st.sampled_from(_segments(routes)) | st.sampled_from(["", "7", "abc", "a.b", "%20"])
    parts = data.draw(st.lists(segment, min_size=1, max_size=9))
    path = "/" + "/".join(parts)
    method = data.draw(st.sampled_from(METHODS))
    scope = _scope(path, method)
    assert indexed(RouteIndex(routes), scope) == walked(routes, scope)


def test_the_api_answers_through_the_index_as_documented(org: Org) -> None:
    """Over HTTP: a full match, a wrong method (405, JSON), an unknown path (404, JSON) and the
    unprefixed copy of the API."""
    assert org.api.get("/me").status_code == 200
    wrong = org.api.request("PATCH", org.path("/runs"))
    assert wrong.status_code == 405 and wrong.json()["error"] is True
    missing = org.api.get(org.path("/no-such-thing"))
    assert missing.status_code == 404 and missing.json()["code"] == "ENDPOINT_NOT_FOUND"
    with org.server.client(org.token, prefix="") as root:
        unprefixed = root.get(org.path("/runs"))
    assert unprefixed.status_code == 200, unprefixed.text
    assert unprefixed.json()["data"] == org.api.get(org.path("/runs")).json()["data"]
