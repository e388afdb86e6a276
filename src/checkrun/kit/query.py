"""Query parameters read in one step. FastAPI parses and validates each declared query
parameter of each dependency on every request, one by one; for a list route's twenty-odd
optional strings that costs more than the list's SQL. `from_query(fn)` turns a function of
optional strings into a dependency that reads them all from the query string at once, with
the answers FastAPI would give (absent is None, a repeated name gives its last value).

The OpenAPI document still lists the parameters, exactly as FastAPI would declare them from
`fn`: `documented` shows them to the document's builder while it runs."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from fastapi import params
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant
from starlette.requests import Request

T = TypeVar("T")
_READS = "__checkrun_reads_query__"  # on a `from_query` dependency: the function it calls


def _alias(parameter: inspect.Parameter) -> str:
    default = parameter.default
    if isinstance(default, params.Query) and default.alias:
        return default.alias
    return parameter.name


def _optional(parameter: inspect.Parameter) -> bool:
    default = parameter.default
    return default is None or (isinstance(default, params.Query) and default.default is None)


def from_query(fn: Callable[..., T]) -> Callable[[Request], Coroutine[Any, Any, T]]:
    """`fn`'s parameters must all be optional strings (`str | None = None`, or `Query(None)`
    for an alias): that is what lets one `dict.get` per name stand for FastAPI's parsing."""
    parameters = list(inspect.signature(fn).parameters.values())
    if not all(_optional(p) and p.annotation in ("str | None", str | None) for p in parameters):
        raise TypeError(f"{fn.__qualname__}: only optional string query parameters")
    names = tuple((p.name, _alias(p)) for p in parameters)

    async def read(request: Request) -> T:
        given = request.query_params
        return fn(**{name: given.get(alias) for name, alias in names})

    read.__qualname__ = read.__name__ = fn.__name__
    setattr(read, _READS, fn)
    return read


def _walk(dependants: Iterable[Dependant]) -> Iterator[Dependant]:
    for dependant in dependants:
        yield dependant
        yield from _walk(dependant.dependencies)


@contextmanager
def documented(dependants: Iterable[Dependant]) -> Iterator[None]:
    """While the OpenAPI document is built (synchronously: no request is solved meanwhile),
    each `from_query` dependency declares the parameters of the function it reads them for."""
    swapped: list[tuple[Dependant, list[Any]]] = []
    for dependant in _walk(dependants):
        fn = getattr(dependant.call, _READS, None)
        if fn is not None:
            swapped.append((dependant, dependant.query_params))
            dependant.query_params = get_dependant(path="", call=fn).query_params
    try:
        yield
    finally:
        for dependant, own in swapped:
            dependant.query_params = own
