"""`with=a,b,c`: parsing (a set of requested includes, dotted names kept whole), the typed
fields read models declare for them, and the map of each resource's includes to the loaders
that fill them for a whole page of rows at once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy.ext.asyncio import AsyncSession

from checkrun.kit.query import from_query

T = TypeVar("T")
RowT = TypeVar("RowT")
ReadT = TypeVar("ReadT", bound=BaseModel)


class Includes(frozenset[str]):
    def wants(self, name: str) -> bool:
        return name in self or any(item.startswith(name + ".") for item in self)

    def nested(self, name: str) -> Includes:
        """What `name.x` asks of the included `name`s: `x`."""
        return Includes(i.removeprefix(name + ".") for i in self if i.startswith(name + "."))

    def with_(self, name: str) -> Includes:
        return Includes(self | {name})


def parse_with(value: str | None) -> Includes:
    if not value:
        return Includes()
    return Includes(part.strip() for part in value.split(",") if part.strip())


def _with(with_: str | None = Query(None, alias="with")) -> Includes:
    return parse_with(with_)


includes = from_query(_with)


class Wrapped(BaseModel, Generic[T]):
    """An include, wrapped the Fractal way: `{"data": ...}`."""

    data: T


def _absent(value: Any) -> bool:
    return value is None


# A field a read model has only when asked for (`with=`): left out of the JSON otherwise, and
# out of the OpenAPI document, which describes the bare resource.
Include = Annotated[SkipJsonSchema[T | None], Field(exclude_if=_absent)]


@dataclass(frozen=True)
class Page(Generic[RowT, ReadT]):
    """The rows being read, their read models (same order) and what to include."""

    db: AsyncSession
    org_id: str
    rows: list[RowT]
    reads: list[ReadT]
    includes: Includes
    api_base: str = ""
    for_guest: bool = False
    # What was read for the rows themselves and an include needs again, by include name.
    loaded: dict[str, Any] = field(default_factory=dict)

    @property
    def ids(self) -> list[str]:
        return [str(getattr(row, "id")) for row in self.rows]  # noqa: B009 - rows of any model

    def pairs(self) -> Iterable[tuple[RowT, ReadT]]:
        return zip(self.rows, self.reads, strict=True)


Loader = Callable[[Page[RowT, ReadT]], Awaitable[None]]


class IncludeMap(Generic[RowT, ReadT]):
    """Every `with=` name a resource supports, each with the loader that fills it for a page
    (a loader may fill several names, e.g. threads and its alias comments)."""

    def __init__(self, entries: dict[str | tuple[str, ...], Loader[RowT, ReadT]]) -> None:
        self.entries = [((k,) if isinstance(k, str) else k, v) for k, v in entries.items()]

    @property
    def names(self) -> list[str]:
        return [name for names, _ in self.entries for name in names]

    async def fill(self, page: Page[RowT, ReadT]) -> None:
        if not page.rows:
            return
        for names, loader in self.entries:
            if any(page.includes.wants(name) for name in names):
                await loader(page)
