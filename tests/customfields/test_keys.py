"""Custom field keys: admins define them, anyone lists them, the fixed parts stay fixed, and
deleting a key takes its values with it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Org
from tests.support.factories import db_count, ok, run

KEYS = "/custom-field-keys"


def make_key(org: Org, key: str, applies_to: str = "process", **fields: Any) -> dict[str, Any]:
    body = {"key": key, "applies_to": applies_to, "field_type": "text", **fields}
    return ok(org.api.post(org.path(KEYS), json=body), 201)


def test_create_list_update_and_delete_a_key(org: Org) -> None:
    made = make_key(org, "cost_center", is_required=False, label="Cost center")
    assert {k: made[k] for k in ("key", "applies_to", "field_type", "key_type", "is_active")} == {
        "key": "cost_center",
        "applies_to": "process",
        "field_type": "text",
        "key_type": "org",
        "is_active": True,
    }
    make_key(org, "region", applies_to="guest", field_type="dropdown", options=["EU", "US"])
    listed = org.api.get(org.path(KEYS), params={"applies_to": "process"}).json()
    assert [k["key"] for k in listed["data"]] == ["cost_center"]
    assert listed["meta"]["pagination"]["total"] == 1
    everything = ok(
        org.api.get(org.path(KEYS), params={"sort_by": "key", "sort_direction": "desc"})
    )
    assert [k["key"] for k in everything] == ["region", "cost_center"]
    assert [k["key"] for k in ok(org.api.get(org.path(KEYS), params={"q": "REG"}))] == ["region"]

    changed = ok(
        org.api.put(
            org.path(f"{KEYS}/{made['id']}"), json={"is_required": True, "key": "cost_center"}
        )
    )
    assert changed["is_required"] is True
    refused = org.api.put(org.path(f"{KEYS}/{made['id']}"), json={"field_type": "number"})
    assert refused.status_code == 422, refused.text

    launched = run(org)
    ok(
        org.api.put(
            org.path(f"/runs/{launched['id']}/custom-fields"),
            json={"custom_fields": {"cost_center": "CC-1"}},
        )
    )
    assert db_count(org, "custom_field_values", "key_id = :k", k=made["id"]) == 1
    assert org.api.delete(org.path(f"{KEYS}/{made['id']}")).status_code == 204
    assert db_count(org, "custom_field_values", "key_id = :k", k=made["id"]) == 0
    assert org.api.get(org.path(f"{KEYS}/{made['id']}")).status_code == 404
    assert ok(org.api.get(org.path(f"/runs/{launched['id']}/custom-fields"))) == {
        "custom_fields": {}
    }


@pytest.mark.parametrize(
    "body",
    [
        {"key": "bad key", "applies_to": "process", "field_type": "text"},
        {"key": "k", "applies_to": "planet", "field_type": "text"},
        {"key": "k", "applies_to": "process", "field_type": "colour"},
        {"key": "k", "applies_to": "process", "field_type": "dropdown"},
        {"key": "k", "applies_to": "process", "field_type": "table"},
        {"key": "k", "applies_to": "process", "field_type": "radio", "options": ["a", "a"]},
        {"key": "k", "applies_to": "process", "field_type": "text", "key_type": "system"},
    ],
)
def test_a_bad_key_is_refused(org: Org, body: dict[str, Any]) -> None:
    answer = org.api.post(org.path(KEYS), json=body)
    assert answer.status_code == 422, answer.text
    assert ok(org.api.get(org.path(KEYS))) == []


def test_key_names_are_unique_and_aliases_name_kinds(org: Org) -> None:
    assert make_key(org, "owner", applies_to="run")["applies_to"] == "process"
    again = org.api.post(
        org.path(KEYS), json={"key": "owner", "applies_to": "task", "field_type": "text"}
    )
    assert again.status_code == 422
    assert make_key(org, "kind", applies_to="capture")["applies_to"] == "form_field"


def test_only_admins_write_keys_and_other_orgs_see_none(org: Org, other_org: Org) -> None:
    made = make_key(org, "secret")
    _, standard = org.member("standard")
    body = {"key": "mine", "applies_to": "task", "field_type": "text"}
    assert standard.post(org.path(KEYS), json=body).status_code == 403
    assert (
        standard.put(org.path(f"{KEYS}/{made['id']}"), json={"is_active": False}).status_code == 403
    )
    assert standard.delete(org.path(f"{KEYS}/{made['id']}")).status_code == 403
    assert [k["key"] for k in ok(standard.get(org.path(KEYS)))] == ["secret"]
    assert ok(other_org.api.get(other_org.path(KEYS))) == []
    assert other_org.api.get(other_org.path(f"{KEYS}/{made['id']}")).status_code == 404
    assert other_org.api.delete(other_org.path(f"{KEYS}/{made['id']}")).status_code == 404
