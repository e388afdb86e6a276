"""`with=a,b,c` parsing: a set of requested includes, dotted names kept whole."""

from __future__ import annotations

from fastapi import Query


class Includes(frozenset[str]):
    def wants(self, name: str) -> bool:
        return name in self or any(item.startswith(name + ".") for item in self)


def parse_with(value: str | None) -> Includes:
    if not value:
        return Includes()
    return Includes(part.strip() for part in value.split(",") if part.strip())


def includes(with_: str | None = Query(None, alias="with")) -> Includes:
    return parse_with(with_)
