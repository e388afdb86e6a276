"""The SDK's `users` manager, guest half: create, read, update, list, find, disable/enable, and a
guest's tasks. Guests are addressed by email in the path (`@` as `%40`, `+` as `%2B`)."""

from __future__ import annotations

import uuid

import pytest
from tallyfy import TallyfySDK
from tallyfy.models import Guest, GuestsList, TallyfyError, TasksList

from tests.conformance.conftest import data
from tests.conftest import Org
from tests.support.factories import one_off_task


def guest_email() -> str:
    return f"grace+{uuid.uuid4().hex[:6]}@example.com"


def test_guest_lifecycle(sdk: TallyfySDK, org: Org) -> None:
    """create_guest, get_guest, update_guest, disable_guest, enable_guest"""
    address = guest_email()
    guest = sdk.users.create_guest(
        org.id, address, "Grace", "Hopper", phone="+1 555 0100", company_name="Navy"
    )
    assert isinstance(guest, Guest)
    assert (guest.email, guest.first_name, guest.last_name) == (address, "Grace", "Hopper")
    assert guest.link and "/guest/" in guest.link and guest.guest_id
    assert guest.details is not None and guest.details.company_name == "Navy"
    again = sdk.users.create_guest(org.id, address, "Grace", "Hopper")
    assert again.email == address and again.guest_id == guest.guest_id  # idempotent by email
    fetched = sdk.users.get_guest(org.id, address)
    assert isinstance(fetched, Guest) and fetched.email == address
    assert fetched.guest_id == guest.guest_id
    # Only `associated_members` can change; the SDK's name fields are ignored, as documented.
    updated = sdk.users.update_guest(org.id, address, first_name="Gracie")
    assert isinstance(updated, Guest) and updated.email == address
    assert updated.first_name == "Grace"
    assert sdk.users.disable_guest(org.id, address) is True
    assert sdk.users.get_guest(org.id, address).details.disabled_at is not None
    assert sdk.users.enable_guest(org.id, address) is True
    assert sdk.users.get_guest(org.id, address).details.disabled_at is None


def test_guest_lists_and_finders(sdk: TallyfySDK, org: Org) -> None:
    """get_organization_guests, get_organization_guests_list, get_guest_by_email,
    get_all_organization_members, search_members_by_name (with guests)"""
    first, second = guest_email(), guest_email()
    sdk.users.create_guest(org.id, first, "Grace", "Hopper")
    sdk.users.create_guest(org.id, second, "Katherine", "Johnson")
    guests = sdk.users.get_organization_guests(org.id, with_stats=True)
    assert isinstance(guests, GuestsList)
    assert {g.email for g in guests.data} == {first, second}
    assert all("stats" in g.extra for g in guests.data)
    short = sdk.users.get_organization_guests_list(org.id)
    assert isinstance(short, GuestsList) and {g.email for g in short.data} == {first, second}
    found = sdk.users.get_guest_by_email(org.id, second.upper())
    assert found is not None and found.first_name == "Katherine"
    assert sdk.users.get_guest_by_email(org.id, "nobody@example.com") is None
    everyone = sdk.users.get_all_organization_members(org.id, with_stats=True)
    assert [u.id for u in everyone["users"].data] == [org.admin_id]
    assert {g.email for g in everyone["guests"].data} == {first, second}
    hits = sdk.users.search_members_by_name(org.id, "johnson")
    assert hits["users"] == [] and [g.email for g in hits["guests"]] == [second]


def test_guest_tasks(sdk: TallyfySDK, org: Org) -> None:
    """get_guest_tasks: by the guest code taken from the guest's link"""
    address = guest_email()
    guest = sdk.users.create_guest(org.id, address, "Grace", "Hopper")
    task = one_off_task(org, title="Sign the NDA", owners={"guests": [address]})
    one_off_task(org, title="Not hers")
    assert guest.guest_id is not None
    tasks = sdk.users.get_guest_tasks(org.id, guest.guest_id)
    assert isinstance(tasks, TasksList)
    assert [t.id for t in tasks.data] == [task["id"]]
    assert tasks.data[0].owners is not None and tasks.data[0].owners.guests == [address]


def test_guest_refusals(sdk: TallyfySDK, org: Org) -> None:
    with pytest.raises(TallyfyError) as raised:
        sdk.users.create_guest(org.id, org.admin_email, "Not", "Guest")
    assert raised.value.status_code == 422  # a member can't become a guest
    with pytest.raises(TallyfyError) as raised:
        sdk.users.get_guest(org.id, "nobody@example.com")
    assert raised.value.status_code == 404
    with pytest.raises(TallyfyError, match="At least one field"):
        sdk.users.update_guest(org.id, "nobody@example.com")
    other = org.server.new_org()
    with org.server.client(other.token) as them:
        them.post(
            f"/organizations/{other.org_id}/guests",
            json={"email": "theirs@example.com", "first_name": "T", "last_name": "G"},
        )
    assert data(org.api.get(org.path("/guests"))) == []
    with pytest.raises(TallyfyError) as raised:
        sdk.users.get_guest(org.id, "theirs@example.com")
    assert raised.value.status_code == 404
