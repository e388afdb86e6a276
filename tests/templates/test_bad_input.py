"""Malformed bodies on every template route are refused with a 4xx, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Org
from tests.support.factories import checklist, ok

HUGE = 2**63
NOT_OBJECTS: list[Any] = [[], "text", 7, None]
BAD_BODIES: list[tuple[str, str, Any]] = [
    ("POST", "", {"title": "T", "type": "procedure", "owner_id": HUGE}),
    ("POST", "", {"title": "T", "type": "procedure", "prerun": "x"}),
    ("POST", "", {"title": "T", "type": "procedure", "prerun": [{"label": "L"}]}),
    ("POST", "", {"title": "T", "type": "procedure", "groups": [{"id": 1}]}),
    ("POST", "", {"title": "T" * 251, "type": "procedure"}),
    (
        "PUT",
        "/{c}",
        {
            "title": "T",
            "prerun": [
                {"label": "x", "field_type": "dropdown", "options": [{"text": "a", "id": HUGE}]}
            ],
        },
    ),
    (
        "PUT",
        "/{c}",
        {
            "title": "T",
            "prerun": [{"id": "{k}", "label": "x", "field_type": "date", "value": "not a date"}],
        },
    ),
    ("PUT", "/{c}", {"title": "T", "folder_id": "f" * 100}),
    ("POST", "/{c}/steps", {"title": "S", "deadline": "2026-01-01"}),
    ("POST", "/{c}/steps", {"title": "S", "deadline": {"value": HUGE}}),
    ("POST", "/{c}/steps", {"title": "S", "assignees": ["me"]}),
    ("POST", "/{c}/steps", {"title": "S", "start_date": [1]}),
    ("PUT", "/{c}/steps/{s}", {"title": "S", "groups": ["g" * 65]}),
    ("PUT", "/{c}/steps/{s}/reorder", {"position": HUGE}),
    ("POST", "/{c}/steps/{s}/captures", {"label": "L", "field_type": "text", "position": HUGE}),
    ("POST", "/{c}/steps/{s}/captures", {"label": "L", "field_type": "table", "columns": "a"}),
    ("PUT", "/{c}/steps/{s}/captures/{f}", {"label": "L", "field_type": "text", "settings": "x"}),
    ("PUT", "/{c}/steps/{s}/captures", {"capture_id": "{f}", "position": 0}),
    ("PUT", "/{c}/steps/{s}/captures/{f}/move-out", {"target_step_id": "0" * 32}),
    (
        "POST",
        "/{c}/automated-actions",
        {
            "conditions": [{"conditionable_id": "{f}", "statement": [1]}],
            "then_actions": [
                {"action_type": "visibility", "action_verb": "hide", "target_step_id": "{s}"}
            ],
        },
    ),
    ("POST", "/{c}/automated-actions", {"conditions": "{f}", "then_actions": "{s}"}),
    ("PUT", "/{c}/automated-actions/{r}", {"conditions": None}),
    (
        "PUT",
        "/{c}/automated-actions/{r}",
        {
            "then_actions": [
                {
                    "action_type": "deadline",
                    "action_verb": "set",
                    "target_step_id": "{s}",
                    "deadline": {"value": "soon"},
                }
            ]
        },
    ),
    ("POST", "/{c}/clone", ["not", "an", "object"]),
]


def _fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, names) for v in value]
    return value.format(**names) if isinstance(value, str) and "{" in value else value


@pytest.fixture
def names(org: Org) -> dict[str, str]:
    """Ids of a template with a step, a step field, a kick-off field and a rule."""
    template = checklist(org, steps=1)
    base = org.path(f"/checklists/{template['id']}")
    (step,) = ok(org.api.get(base + "/steps"))
    field = ok(
        org.api.post(
            base + f"/steps/{step['id']}/captures", json={"label": "Ref", "field_type": "text"}
        ),
        201,
    )
    kickoff = ok(
        org.api.put(base, json={"title": "T", "prerun": [{"label": "When", "field_type": "date"}]})
    )["prerun"][0]
    rule = ok(
        org.api.post(
            base + "/automated-actions",
            json={
                "conditions": [{"conditionable_id": field["id"], "statement": "x"}],
                "then_actions": [
                    {
                        "action_type": "visibility",
                        "action_verb": "hide",
                        "target_step_id": step["id"],
                    }
                ],
            },
        ),
        201,
    )
    return {
        "c": template["id"],
        "s": step["id"],
        "f": field["id"],
        "k": kickoff["id"],
        "r": rule["id"],
    }


@pytest.mark.parametrize(("method", "path", "body"), BAD_BODIES)
def test_bad_bodies_are_client_errors(
    org: Org, names: dict[str, str], method: str, path: str, body: Any
) -> None:
    response = org.api.request(
        method, org.path("/checklists" + path.format(**names)), json=_fill(body, names)
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"] is True


@pytest.mark.parametrize("body", NOT_OBJECTS)
def test_bodies_that_are_not_objects_are_client_errors(
    org: Org, names: dict[str, str], body: Any
) -> None:
    for method, path in (
        ("POST", ""),
        ("PUT", "/{c}"),
        ("POST", "/{c}/steps"),
        ("PUT", "/{c}/steps/{s}"),
        ("PUT", "/{c}/steps/{s}/captures/{f}"),
        ("POST", "/{c}/automated-actions"),
        ("PUT", "/{c}/automated-actions/{r}"),
    ):
        response = org.api.request(
            method, org.path("/checklists" + path.format(**names)), json=body
        )
        assert 400 <= response.status_code < 500, (method, path, response.text)
