"""The one list helper: page/per_page in, Fractal-style meta.pagination with absolute links out."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlunsplit

from fastapi import Query, Request

from checkrun.kit.query import from_query
from checkrun.kit.routing import route_path

MAX_PER_PAGE = 100
# Keeps the row offset inside a 64-bit integer whatever page a client asks for.
MAX_PAGE = 1_000_000_000


@dataclass(frozen=True)
class PageParams:
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def _int_or(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def paging(page: str | None, per_page: str | None, default_per_page: int = 10) -> PageParams:
    """Lenient like the real service: garbage means the default."""
    p = min(MAX_PAGE, max(1, _int_or(page, 1)))
    pp = min(MAX_PER_PAGE, max(1, _int_or(per_page, default_per_page)))
    return PageParams(page=p, per_page=pp)


def page_params(default_per_page: int = 10) -> Any:
    """A dependency factory for `page`/`per_page`."""

    def dependency(
        page: str | None = Query(None), per_page: str | None = Query(None)
    ) -> PageParams:
        return paging(page, per_page, default_per_page)

    return from_query(dependency)


def _link(request: Request, base_url: str | None, page: int) -> str:
    """The request's URL with `page` replaced (moved last), as Starlette's
    `include_query_params` writes it, without building the URL objects."""
    url = request.url
    pairs = [(k, v) for k, v in parse_qsl(url.query, keep_blank_values=True) if k != "page"]
    query = urlencode([*pairs, ("page", str(page))])
    if base_url:  # CHECKRUN_PUBLIC_URL stands for the origin and the root path together
        return base_url.rstrip("/") + route_path(request.scope) + "?" + query
    return urlunsplit(url.components._replace(query=query))


def pagination_meta(
    request: Request, params: PageParams, total: int, count: int, base_url: str | None = None
) -> dict[str, Any]:
    total_pages = max(1, math.ceil(total / params.per_page)) if total else 0
    links: dict[str, str] = {}
    if params.page > 1:
        links["previous"] = _link(request, base_url, min(params.page - 1, max(total_pages, 1)))
    if params.page < total_pages:
        links["next"] = _link(request, base_url, params.page + 1)
    return {
        "pagination": {
            "total": total,
            "count": count,
            "per_page": params.per_page,
            "current_page": params.page,
            "total_pages": total_pages,
            "has_more_pages": params.page < total_pages,
            "links": links,
        }
    }
