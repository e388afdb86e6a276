"""What a route answers on success, declared next to it for the OpenAPI document.

Handlers return `JSONResponse` (the Tallyfy envelope is built by `kit/responses`), so FastAPI
sees no response model. Each route says instead, as a decorator under the router's:

    @router.get(RUN)
    @answers.item(RunRead)
    async def get_run(...): ...

`item(M)` answers `{"data": M}`, `page(M)` `{"data": [M...], "meta": {"pagination": ...}}`,
`items(M)` `{"data": [M...]}`, `empty()` no body, `binary()` the file's bytes, `raw(schema)` a
body that is not the envelope. `openapi.py` builds every success schema from these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

Kind = Literal["item", "page", "items", "empty", "binary", "raw"]
F = TypeVar("F", bound=Callable[..., Any])
ATTRIBUTE = "__checkrun_answer__"


PAGINATION: dict[str, Any] = {
    "type": "object",
    "properties": {
        "pagination": {
            "type": "object",
            "properties": {
                "total": {"type": "integer"},
                "count": {"type": "integer"},
                "per_page": {"type": "integer"},
                "current_page": {"type": "integer"},
                "total_pages": {"type": "integer"},
                "links": {
                    "type": "object",
                    "properties": {
                        "previous": {"type": ["string", "null"]},
                        "next": {"type": ["string", "null"]},
                    },
                },
            },
        }
    },
}
OBJECT: dict[str, Any] = {"type": "object"}


@dataclass(frozen=True, eq=False)
class Component:
    """A schema written by hand, shown once under `components/schemas/<name>`."""

    name: str
    schema: dict[str, Any]


@dataclass(frozen=True)
class Answer:
    kind: Kind
    # A read model (pydantic model, TypedDict or Component); None: an object left open.
    model: Any = None
    # `raw`: the whole body's JSON schema, and the models it refers to.
    schema: dict[str, Any] | None = None
    models: tuple[Any, ...] = ()
    # The envelope requires `data` (a few documented shapes do not say so).
    required: bool = True
    # A link that answers 201 when new and 200 (the same link) when repeated.
    created_or_found: bool = False

    def shapes(self) -> tuple[Any, ...]:
        """The models and components this answer refers to."""
        return (*((self.model,) if self.model is not None else ()), *self.models)


def ref(model: Any) -> dict[str, str]:
    name = model.name if isinstance(model, Component) else model.__name__
    return {"$ref": f"#/components/schemas/{name}"}


def _declare(answer: Answer) -> Callable[[F], F]:
    def mark(endpoint: F) -> F:
        setattr(endpoint, ATTRIBUTE, answer)
        return endpoint

    return mark


def item(model: Any = None, *, required: bool = True) -> Callable[[F], F]:
    return _declare(Answer("item", model, required=required))


def linked(model: Any, *, required: bool = True) -> Callable[[F], F]:
    """An item; 201 when the link is new, 200 when it already existed."""
    return _declare(Answer("item", model, required=required, created_or_found=True))


def page(model: Any = None) -> Callable[[F], F]:
    return _declare(Answer("page", model))


def items(model: Any = None) -> Callable[[F], F]:
    """A list without pagination."""
    return _declare(Answer("items", model))


def empty() -> Callable[[F], F]:
    return _declare(Answer("empty"))


def binary() -> Callable[[F], F]:
    """The file's bytes: its own type when viewed, octet-stream when downloaded."""
    return _declare(Answer("binary"))


def raw(schema: dict[str, Any], *models: Any) -> Callable[[F], F]:
    return _declare(Answer("raw", schema=schema, models=models))


def answer_of(endpoint: object) -> Answer | None:
    found = getattr(endpoint, ATTRIBUTE, None)
    return found if isinstance(found, Answer) else None


def envelope(answer: Answer) -> dict[str, Any]:
    """The JSON schema of a body answered through `kit/responses`."""
    if answer.kind == "raw" and answer.schema is not None:
        return answer.schema
    data = ref(answer.model) if answer.model is not None else OBJECT
    body: dict[str, Any] = {"data": data}
    if answer.kind in ("page", "items"):
        body = {"data": {"type": "array", "items": data}}
    if answer.kind == "page":
        body["meta"] = {"$ref": "#/components/schemas/Pagination"}
    if not answer.required:
        return {"type": "object", "properties": body}
    return {"type": "object", "required": ["data"], "properties": body}
