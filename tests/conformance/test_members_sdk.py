"""The SDK's `users` manager, member half: who am I, invite, list, find, roles, disable/enable,
approve. Guests are in test_guests_sdk.py."""

from __future__ import annotations

import uuid

import pytest
from tallyfy import TallyfySDK
from tallyfy.models import TallyfyError, User, UsersList

from tests.conformance.conftest import data, sdk_for
from tests.conftest import Org


def email(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"


def test_current_user_and_member_reads(sdk: TallyfySDK, org: Org) -> None:
    """get_current_user_info, get_user, get_organization_users, get_organization_users_list,
    get_user_by_email, get_all_organization_members (without guests)"""
    me = sdk.users.get_current_user_info(org.id)
    assert isinstance(me, User)
    assert (me.id, me.email) == (org.admin_id, org.admin_email)
    member_id, _ = org.member("standard")
    fetched = sdk.users.get_user(org.id, member_id)
    assert isinstance(fetched, User) and fetched.id == member_id
    assert fetched.first_name == "Standard" and (fetched.role or "").lower() == "standard"
    users = sdk.users.get_organization_users(org.id)
    assert isinstance(users, UsersList)
    assert {u.id for u in users.data} == {org.admin_id, member_id}
    assert users.count == 2
    listed = sdk.users.get_organization_users_list(org.id)
    assert isinstance(listed, UsersList)
    assert {u.id for u in listed.data} == {org.admin_id, member_id}
    found = sdk.users.get_user_by_email(org.id, org.admin_email.upper())
    assert found is not None and found.id == org.admin_id
    assert sdk.users.get_user_by_email(org.id, email("nobody")) is None
    everyone = sdk.users.get_all_organization_members(
        org.id, include_guests=False, with_groups=True
    )
    assert set(everyone) == {"users"}
    assert {u.id for u in everyone["users"].data} == {org.admin_id, member_id}


def test_invitations(sdk: TallyfySDK, org: Org) -> None:
    """invite_user_to_organization, invite_user_with_custom_role_permissions,
    invite_multiple_users, resend_invitation, search_members_by_name"""
    ada = email("ada")
    invited = sdk.users.invite_user_to_organization(
        org.id, ada, "Ada", "Lovelace", role="standard", message="Welcome"
    )
    assert isinstance(invited, User) and isinstance(invited.id, int)
    assert (invited.email, invited.first_name, invited.last_name) == (ada, "Ada", "Lovelace")
    assert invited.status == "invited" and invited.invited_by == org.admin_id
    custom = sdk.users.invite_user_with_custom_role_permissions(
        org.id, email("cp"), "Charles", "Babbage", "light", custom_permissions={"x": 1}
    )
    assert isinstance(custom, User) and (custom.role or "").lower() == "light"
    batch = sdk.users.invite_multiple_users(
        org.id,
        [
            {"email": email("m1"), "first_name": "Mary", "last_name": "Somerville"},
            {"email": org.admin_email, "first_name": "Al", "last_name": "Ready"},
        ],
    )
    assert isinstance(batch[0], User) and batch[0].first_name == "Mary"
    assert batch[1] is None  # already a member: 422, which the SDK swallows into None
    # There is no resend route: the SDK invites again with placeholder names.
    fresh = email("resend")
    assert sdk.users.resend_invitation(org.id, fresh) is True
    placeholder = sdk.users.get_user_by_email(org.id, fresh)
    assert placeholder is not None
    assert (placeholder.first_name, placeholder.last_name) == ("User", "Invite")
    with pytest.raises(TallyfyError) as raised:
        sdk.users.resend_invitation(org.id, org.admin_email)
    assert raised.value.status_code == 422
    hits = sdk.users.search_members_by_name(org.id, "lovelace", include_guests=False)
    assert [u.id for u in hits["users"]] == [invited.id]


def test_invite_refusals(sdk: TallyfySDK, org: Org) -> None:
    with pytest.raises(TallyfyError) as raised:
        sdk.users.invite_user_to_organization(org.id, org.admin_email, "Me", "Again")
    assert raised.value.status_code == 422
    assert raised.value.response_data["errors"]
    _, standard = org.member("standard")
    with sdk_for(org, standard) as as_standard, pytest.raises(TallyfyError) as raised:
        as_standard.users.invite_user_to_organization(
            org.id, email("boss"), "Big", "Boss", role="admin"
        )
    assert raised.value.status_code == 403
    with pytest.raises(ValueError):
        sdk.users.invite_user_to_organization(org.id, "not-an-email", "A", "B")


def test_role_disable_enable_approve(sdk: TallyfySDK, org: Org) -> None:
    """change_user_role, disable_user, enable_user, approve_user"""
    member_id, member = org.member("standard")
    assert sdk.users.change_user_role(org.id, member_id, "admin") is True
    assert (sdk.users.get_user(org.id, member_id).role or "").lower() == "admin"
    assert sdk.users.disable_user(org.id, member_id) is True
    assert sdk.users.get_user(org.id, member_id).status == "disabled"
    assert member.get(org.path("/me")).status_code in (401, 403)
    assert sdk.users.enable_user(org.id, member_id) is True
    assert sdk.users.get_user(org.id, member_id).status == "active"
    assert member.get(org.path("/me")).status_code == 200
    invited = sdk.users.invite_user_to_organization(org.id, email("new"), "New", "Person")
    assert invited is not None
    assert sdk.users.approve_user(org.id, invited.id) is True
    assert sdk.users.get_user(org.id, invited.id).approved_at is not None


def test_member_refusals(sdk: TallyfySDK, org: Org) -> None:
    with pytest.raises(TallyfyError) as raised:
        sdk.users.get_user(org.id, 999_999_999)
    assert raised.value.status_code == 404
    with pytest.raises(TallyfyError) as raised:
        sdk.users.change_user_role(org.id, org.admin_id, "light")
    assert raised.value.status_code in (400, 403, 422)  # the default admin is protected
    assert (data(org.api.get(org.path(f"/users/{org.admin_id}")))["role"]).lower() == "admin"
    with pytest.raises(ValueError):
        sdk.users.change_user_role(org.id, org.admin_id, "owner")


def test_local_helpers_need_no_server(sdk: TallyfySDK) -> None:
    """get_invitation_template_message, validate_invitation_data (no request)"""
    assert "Acme" in sdk.users.get_invitation_template_message("Acme")
    cleaned = sdk.users.validate_invitation_data(
        {"email": "Ada@Example.com", "first_name": "Ada", "last_name": "L", "role": "light"}
    )
    assert cleaned["email"] == "ada@example.com"
