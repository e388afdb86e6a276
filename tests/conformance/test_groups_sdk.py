"""The SDK's `groups` manager: create, read, walk the list, update (read-modify-write), delete."""

from __future__ import annotations

import pytest
from tallyfy import TallyfySDK
from tallyfy.models import Group, TallyfyError

from tests.conformance.conftest import data, is_hex32
from tests.conftest import Org


def test_create_read_and_list_groups(sdk: TallyfySDK, org: Org) -> None:
    """create_group, get_group, get_groups"""
    member_id, _ = org.member("standard")
    finance = sdk.groups.create_group(
        org.id,
        "Finance",
        description="Money people",
        members=[member_id],
        guests=["Auditor@Example.com"],
    )
    assert isinstance(finance, Group) and is_hex32(finance.id)
    assert (finance.name, finance.description) == ("Finance", "Money people")
    assert finance.members == [member_id] and finance.guests == ["auditor@example.com"]
    sdk.groups.create_group(org.id, "Legal", description="Contracts")
    fetched = sdk.groups.get_group(org.id, finance.id)
    assert isinstance(fetched, Group) and fetched.id == finance.id
    assert fetched.members == [member_id]
    # One group per page: the SDK walks every page (total_pages must be an integer).
    walked = sdk.groups.get_groups(org.id, per_page=1)
    assert sorted(g.name for g in walked) == ["Finance", "Legal"]
    assert [g.name for g in sdk.groups.get_groups(org.id, q="contract")] == ["Legal"]


def test_update_group(sdk: TallyfySDK, org: Org) -> None:
    """update_group: the SDK reads the group and re-sends its name, members and guests with
    the change, so an unchanged list must be accepted as it is."""
    member_id, _ = org.member("standard")
    made = sdk.groups.create_group(
        org.id,
        "Finance",
        description="Money people",
        members=[member_id],
        guests=["auditor@example.com"],
    )
    renamed = sdk.groups.update_group(org.id, made.id, name="Finance team")
    assert isinstance(renamed, Group) and renamed.name == "Finance team"
    assert renamed.members == [member_id] and renamed.description == "Money people"
    assert renamed.guests == ["auditor@example.com"]
    emptied = sdk.groups.update_group(org.id, made.id, members=[], guests=[])
    assert emptied.members == [] and emptied.guests == []
    assert data(org.api.get(org.path(f"/groups/{made.id}")))["name"] == "Finance team"


def test_delete_group(sdk: TallyfySDK, org: Org) -> None:
    """delete_group"""
    keep = sdk.groups.create_group(org.id, "Finance", description="Money people")
    legal = sdk.groups.create_group(org.id, "Legal", description="Contracts")
    assert sdk.groups.delete_group(org.id, legal.id) is True
    with pytest.raises(TallyfyError) as raised:
        sdk.groups.get_group(org.id, legal.id)
    assert raised.value.status_code == 404
    assert [g["id"] for g in data(org.api.get(org.path("/groups")))] == [keep.id]


def test_group_as_task_assignee(sdk: TallyfySDK, org: Org) -> None:
    member_id, member = org.member("standard")
    group = sdk.groups.create_group(org.id, "Ops", description="Operations", members=[member_id])
    task = sdk.tasks.create_task(
        org.id, "Rotate keys", "2030-01-01T10:00:00Z", group_ids=[group.id]
    )
    assert task is not None and task.owners is not None and task.owners.groups == [group.id]
    mine = member.get(org.path("/me/tasks"))
    assert [t["id"] for t in data(mine)] == [task.id]


def test_group_refusals(sdk: TallyfySDK, org: Org) -> None:
    sdk.groups.create_group(org.id, "Finance", description="Money people")
    with pytest.raises(TallyfyError) as raised:
        sdk.groups.create_group(org.id, "Finance", description="Again")
    assert raised.value.status_code == 422
    with pytest.raises(TallyfyError) as raised:
        sdk.groups.create_group(org.id, "Ghosts", description="x", members=[999_999_999])
    assert raised.value.status_code == 422
    with pytest.raises(TallyfyError) as raised:
        sdk.groups.get_group(org.id, "0" * 32)
    assert raised.value.status_code == 404
    with pytest.raises(TallyfyError) as raised:
        sdk.tasks.create_task(org.id, "Nobody's", "2030-01-01T10:00:00Z", group_ids=["0" * 32])
    assert raised.value.status_code == 422
