"""The success bodies of the OpenAPI document, from what each route declares it answers
(`kit/answers`), and the read models they name, added to the components."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from checkrun.kit.answers import PAGINATION, Answer, Component, envelope


class Undeclared(Exception):
    """A route of the document says nothing of what it answers."""


def describe_success(
    doc: dict[str, Any],
    operations: list[tuple[str, str, dict[str, Any]]],
    answers: dict[tuple[str, str], Answer],
) -> None:
    """Fills in each operation's 2xx body and adds the read models to the components."""
    missing = [(m, p) for m, p, _ in operations if (m, p) not in answers]
    if missing:
        raise Undeclared(f"routes without a declared answer (kit/answers): {missing}")
    _add_models(doc["components"]["schemas"], list(answers.values()))
    for method, path, operation in operations:
        answer = answers[(method, path)]
        responses = operation.get("responses", {})
        if answer.created_or_found:
            responses["201"] = {**responses["200"], "description": "Linked"}
            responses["200"] = {**responses["200"], "description": "Already linked"}
        for status, response in responses.items():
            if status.startswith("2") and "content" in response:
                _describe(path, answer, response)


def _add_models(schemas: dict[str, Any], answers: list[Answer]) -> None:
    shapes = {shape for answer in answers for shape in answer.shapes()}
    models = [s for s in shapes if not isinstance(s, Component)]
    for shape in sorted(models, key=lambda m: m.__name__):
        schema = TypeAdapter(shape).json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[shape.__name__] = schema
    schemas["Pagination"] = PAGINATION
    for component in sorted((s for s in shapes if isinstance(s, Component)), key=_name):
        schemas[component.name] = component.schema


def _name(component: Component) -> str:
    return component.name


def _describe(path: str, answer: Answer, response: dict[str, Any]) -> None:
    if answer.kind == "empty":
        response.pop("content")
        response["description"] = "Done; the body is empty"
    elif answer.kind == "binary":
        # Viewing keeps the file's own type (octet-stream for types a browser would run);
        # downloading is always octet-stream.
        media = "application/octet-stream" if path.endswith("/dl") else "*/*"
        response["content"] = {media: {"schema": {"type": "string", "format": "binary"}}}
    else:
        response["content"] = {"application/json": {"schema": envelope(answer)}}
