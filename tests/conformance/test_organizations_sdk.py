"""The SDK's `organizations` manager: the organization and the caller's organizations."""

from __future__ import annotations

import pytest
from tallyfy import TallyfySDK
from tallyfy.models import Organization, OrganizationsList, TallyfyError

from tests.conftest import Org


def test_get_organization(sdk: TallyfySDK, org: Org) -> None:
    """get_organization"""
    found = sdk.organizations.get_organization(org.id)
    assert isinstance(found, Organization)
    assert (found.id, found.name) == (org.id, "Test Org")
    assert found.users_count == 1
    assert found.default_deadline is not None and found.default_deadline.value == 5
    assert found.working_days is not None
    with_extras = sdk.organizations.get_organization(org.id, with_="subscription")
    assert with_extras.id == org.id


def test_current_user_organizations(sdk: TallyfySDK, org: Org) -> None:
    """get_current_user_organizations"""
    mine = sdk.organizations.get_current_user_organizations()
    assert isinstance(mine, OrganizationsList)
    assert [o.id for o in mine.data] == [org.id]
    assert mine.data[0].name == "Test Org"
    assert mine.count == 1


def test_organization_refusals(sdk: TallyfySDK, org: Org) -> None:
    other = org.server.new_org()
    with pytest.raises(TallyfyError) as raised:
        sdk.organizations.get_organization(other.org_id)
    assert raised.value.status_code == 403
    assert [o.id for o in sdk.organizations.get_current_user_organizations().data] == [org.id]
