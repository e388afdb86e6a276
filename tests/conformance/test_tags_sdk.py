"""The SDK's `tags` manager: tag CRUD, the walked list, and tagging templates and processes
(the SDK finds the association id in `?with=tags` and detaches by it)."""

from __future__ import annotations

import pytest
from tallyfy import TallyfySDK
from tallyfy.models import Tag, TallyfyError

from tests.conformance.conftest import data, is_hex32
from tests.conftest import Org
from tests.support.factories import checklist, run


def tag_ids_of(org: Org, path: str) -> list[str]:
    tags = data(org.api.get(org.path(path), params={"with": "tags"}))["tags"]
    entries = tags["data"] if isinstance(tags, dict) else tags
    return [entry["tag_id"] for entry in entries]


def test_tag_lifecycle(sdk: TallyfySDK, org: Org) -> None:
    """create_tag, get_tag, update_tag, get_tags, delete_tag"""
    urgent = sdk.tags.create_tag(org.id, "Urgent", color="#ff0000")
    assert isinstance(urgent, Tag) and is_hex32(urgent.id)
    assert (urgent.title, urgent.color) == ("Urgent", "#ff0000")
    sdk.tags.create_tag(org.id, "Later")
    fetched = sdk.tags.get_tag(org.id, urgent.id)
    assert isinstance(fetched, Tag) and fetched.title == "Urgent"
    renamed = sdk.tags.update_tag(org.id, urgent.id, title="Very urgent")
    assert isinstance(renamed, Tag) and renamed.title == "Very urgent"
    assert renamed.color == "#ff0000"
    recolored = sdk.tags.update_tag(org.id, urgent.id, color="#00ff00")
    assert (recolored.title, recolored.color) == ("Very urgent", "#00ff00")
    # One tag per page: the SDK walks every page (total_pages must be an integer).
    walked = sdk.tags.get_tags(org.id, per_page=1)
    assert sorted(t.title for t in walked) == ["Later", "Very urgent"]
    assert [t.title for t in sdk.tags.get_tags(org.id, q="later")] == ["Later"]
    assert sdk.tags.delete_tag(org.id, urgent.id) is True
    with pytest.raises(TallyfyError) as raised:
        sdk.tags.get_tag(org.id, urgent.id)
    assert raised.value.status_code == 404
    assert [t.title for t in sdk.tags.get_tags(org.id)] == ["Later"]


def test_tag_and_untag_a_template(sdk: TallyfySDK, org: Org) -> None:
    """tag_template, untag_template"""
    template = checklist(org, steps=1)
    tag = sdk.tags.create_tag(org.id, "Onboarding")
    assert sdk.tags.tag_template(org.id, template["id"], tag.id) is True
    assert sdk.tags.tag_template(org.id, template["id"], tag.id) is True  # no duplicate
    assert tag_ids_of(org, f"/checklists/{template['id']}") == [tag.id]
    found = sdk.templates.get_template(org.id, template["id"])
    assert found is not None and [t.id for t in found.tags] != []
    assert sdk.tags.untag_template(org.id, tag.id, template["id"]) is True
    assert tag_ids_of(org, f"/checklists/{template['id']}") == []
    with pytest.raises(ValueError):
        sdk.tags.untag_template(org.id, tag.id, template["id"])  # no longer attached


def test_tag_and_untag_a_process(sdk: TallyfySDK, org: Org) -> None:
    """tag_process, untag_process"""
    launched = run(org, checklist(org, steps=1)["id"])
    tag = sdk.tags.create_tag(org.id, "Q3", color="#123456")
    assert sdk.tags.tag_process(org.id, launched["id"], tag.id) is True
    assert tag_ids_of(org, f"/runs/{launched['id']}") == [tag.id]
    process = sdk.tasks.get_process(org.id, launched["id"], with_="tags")
    assert process.tags is not None
    assert sdk.tags.untag_process(org.id, launched["id"], tag.id) is True
    assert tag_ids_of(org, f"/runs/{launched['id']}") == []


def test_tag_refusals(sdk: TallyfySDK, org: Org) -> None:
    sdk.tags.create_tag(org.id, "Urgent")
    with pytest.raises(TallyfyError) as raised:
        sdk.tags.create_tag(org.id, "urgent")
    assert raised.value.status_code == 422
    with pytest.raises(TallyfyError) as raised:
        sdk.tags.create_tag(org.id, "Bad colour", color="red")
    assert raised.value.status_code == 422
    with pytest.raises(TallyfyError) as raised:
        sdk.tags.create_tag(org.id, "x" * 31)
    assert raised.value.status_code == 422
    tag = sdk.tags.create_tag(org.id, "Fine")
    archived = checklist(org, steps=0)
    assert org.api.delete(org.path(f"/checklists/{archived['id']}")).status_code == 200
    with pytest.raises(TallyfyError) as raised:
        sdk.tags.tag_template(org.id, archived["id"], tag.id)
    assert raised.value.status_code == 422  # "Subject not found"
    with pytest.raises(TallyfyError) as raised:
        sdk.tags.tag_process(org.id, "0" * 32, tag.id)
    assert raised.value.status_code == 422
    assert sdk.tags.delete_tag(org.id, "0" * 32) is True  # 204 even for an unknown id
