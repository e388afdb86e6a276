"""Finding a request's route in a few dictionary lookups instead of a walk over every route.

FastAPI keeps an included router nested and, per request, tries each of its routes in turn,
twice (once to match, once more to handle), rechecking each router's version on the way:
with the API served under `/api` and `/`, after the web pages, that walk cost a read about a
fifth of its CPU. So the app's routers are included flat (`include`: each route copied onto the
app's router with its full path, as FastAPI before 0.120 did) and the app's router looks routes
up through a `RouteIndex` (`index_routes`).

The index keeps the router's semantics: the candidates for a path are every route that could
match it, in the router's order, and the first full match wins (a method mismatch answers 405
as before). A path no route matches goes to the router unchanged, so its trailing-slash
redirects and 404s stay the router's.
"""

from __future__ import annotations

import copy
from bisect import insort
from collections import defaultdict
from collections.abc import Sequence

from fastapi import FastAPI
from fastapi.datastructures import DefaultPlaceholder
from fastapi.routing import APIRoute, APIRouter
from starlette.routing import BaseRoute, Match, Route, compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from checkrun.kit.unit_of_work import UnitOfWorkRoute

ANY = None  # a segment that is (or holds) a parameter


def include(
    app: FastAPI, router: APIRouter, prefix: str = "", include_in_schema: bool = True
) -> None:
    """`app.include_router(router, prefix=...)` with the routes copied flat onto the app."""
    if "{" in prefix:
        raise ValueError("a prefix with parameters would change the routes' dependencies")
    for route in router.routes:
        app.router.routes.append(_moved(route, prefix, include_in_schema))


def _moved(route: BaseRoute, prefix: str, include_in_schema: bool) -> BaseRoute:
    if not isinstance(route, Route):
        raise TypeError(f"only routes are included flat, not {type(route).__name__}")
    if isinstance(route, APIRoute) and not isinstance(route, UnitOfWorkRoute):
        raise TypeError(f"{route.path}: a router's routes are UnitOfWorkRoutes (route_class=)")
    moved = copy.copy(route)
    moved.path = prefix + route.path
    moved.path_regex, moved.path_format, moved.param_convertors = compile_path(moved.path)
    moved.include_in_schema = route.include_in_schema and include_in_schema
    if isinstance(moved, APIRoute) and not moved.operation_id:
        moved.unique_id = _unique_id(moved)
    return moved


def _unique_id(route: APIRoute) -> str:
    make = route.generate_unique_id_function
    if isinstance(make, DefaultPlaceholder):
        make = make.value
    return str(make(route))


def _shape(route: BaseRoute) -> tuple[str | None, ...] | None:
    """The route's path segments (`ANY` where a parameter is), or None when it can match paths
    of other lengths (a mount, a `{name:path}` parameter): such a route is tried for every
    path."""
    if not isinstance(route, Route) or ":path}" in route.path:
        return None
    return tuple(ANY if "{" in part else part for part in route.path.split("/"))


class RouteIndex:
    """The router's routes by path length, then segment by segment."""

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self.routes = list(routes)
        self.always: list[int] = []
        self.by_length: dict[int, _Node] = defaultdict(_Node)
        for position, route in enumerate(self.routes):
            shape = _shape(route)
            if shape is None:
                self.always.append(position)
            else:
                self.by_length[len(shape)].add(shape, position)

    def candidates(self, path: str) -> list[BaseRoute]:
        parts = path.split("/")
        node = self.by_length.get(len(parts))
        positions = list(self.always)
        if node is not None:
            for position in node.find(parts, 0):
                insort(positions, position)
        return [self.routes[p] for p in positions]


class _Node:
    __slots__ = ("here", "literal", "wild")

    def __init__(self) -> None:
        self.here: list[int] = []
        self.literal: dict[str, _Node] = {}
        self.wild: _Node | None = None

    def add(self, shape: tuple[str | None, ...], position: int) -> None:
        node = self
        for part in shape:
            if part is ANY:
                node.wild = node.wild or _Node()
                node = node.wild
            else:
                node = node.literal.setdefault(part, _Node())
        node.here.append(position)

    def find(self, parts: list[str], depth: int) -> list[int]:
        if depth == len(parts):
            return self.here
        found: list[int] = []
        literal = self.literal.get(parts[depth])
        if literal is not None:
            found += literal.find(parts, depth + 1)
        if self.wild is not None and parts[depth]:
            found += self.wild.find(parts, depth + 1)
        return found


class IndexedDispatch:
    """The app router's entry point: the indexed candidates first, then the router itself for
    what none of them matches (and for lifespan and websocket scopes)."""

    def __init__(self, router: APIRouter, fallback: ASGIApp) -> None:
        self.router = router
        self.fallback = fallback
        self.index = RouteIndex(router.routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.fallback(scope, receive, send)
            return
        if len(self.index.routes) != len(self.router.routes):  # a route added since
            self.index = RouteIndex(self.router.routes)
        scope.setdefault("router", self.router)
        path = route_path(scope)
        partial: tuple[BaseRoute, Scope] | None = None
        for route in self.index.candidates(path):
            match, child_scope = route.matches(scope)
            if match == Match.FULL:
                scope["route"] = route  # as Starlette's router: the access log's template
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
            if match == Match.PARTIAL and partial is None:
                partial = (route, child_scope)
        if partial is not None:
            route, child_scope = partial
            scope["route"] = route
            scope.update(child_scope)
            await route.handle(scope, receive, send)
            return
        await self.fallback(scope, receive, send)


def route_path(scope: Scope) -> str:
    """The path the routes match: without the root path it is served under (as Starlette's)."""
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if not root or not path.startswith(root):
        return path
    rest = path[len(root) :]
    return rest if rest == "" or rest.startswith("/") else path


def index_routes(app: FastAPI) -> None:
    """Call once every route is on the app's router. A router with form limits of its own is
    left to walk its routes (the index does not apply them)."""
    router = app.router
    if not getattr(router, "form_limits", None):
        router.middleware_stack = IndexedDispatch(router, router.middleware_stack)
