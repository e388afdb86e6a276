"""Organizations (§2.1): the caller's organizations, the organization object and its settings,
and the caller's own profile."""

from __future__ import annotations

import pytest
from tallyfy import TallyfySDK
from tallyfy.models import Organization, OrganizationsList

from tests.conftest import Org
from tests.support.factories import ok

ORG_FIELDS = {
    "id",
    "name",
    "industry",
    "description",
    "address1",
    "address2",
    "created_on",
    "last_updated",
    "live_support_enabled",
    "org_logo",
    "settings",
    "country",
    "state",
    "city",
    "zipcode",
    "users_count",
    "payment_state",
    "team_size",
    "signup_survey",
    "in_trial",
    "analytics_enabled",
    "limit_trial_features",
    "real_time_billing",
    "saml_enabled",
    "saml_login_url",
    "sso_default_role",
    "preferred_trial_plan",
    "plan_code",
    "auto_join_signups",
    "home_bg",
    "guest_onboarding_snippet",
    "maximum_group_assignment_limit",
    "allow_user_invite",
    "allow_manage_groups",
    "working_days",
    "deadline_setting",
    "wyiwyg",
    "cadence_days",
    "guest_cadence_days",
    "timezone",
    "default_deadline",
    "auto_archive",
    "auto_complete_tasks",
    "auto_complete_task_months",
    "light_role_error_snippet",
    "global_css",
    "error_404_template",
    "enable_custom_404_error",
    "enable_custom_smtp",
    "onboarding_template_id",
    "enable_onboarding_template",
    "disable_min_members_billing",
    "enable_light_users_billing",
    "webhook_date_field_format",
    "purpose",
    "process_today",
    "restrict_blueprint_permissions",
    "auto_archive_processes_after",
    "use_generative_ai",
}


@pytest.fixture
def sdk(org: Org) -> TallyfySDK:
    return TallyfySDK(api_key=org.token, base_url=org.server.api, max_retries=0)


def test_organization_carries_every_documented_field(org: Org, sdk: TallyfySDK) -> None:
    data = ok(org.api.get(org.path("")))
    assert ORG_FIELDS <= set(data)
    assert data["working_days"]["Monday"]["enabled"] is True
    assert data["working_days"]["Sunday"]["enabled"] is False
    assert data["default_deadline"] == {"type": "days", "value": 5}
    assert data["auto_archive_processes_after"] == {"unit": "weeks", "value": 52}
    assert data["user_role"] == "admin"
    parsed = sdk.organizations.get_organization(org.id)
    assert isinstance(parsed, Organization) and parsed.id == org.id
    assert parsed.default_deadline is not None and parsed.default_deadline.value == 5
    assert parsed.working_days is not None and parsed.working_days.Friday is not None


def test_my_organizations_lists_every_membership(org: Org, sdk: TallyfySDK) -> None:
    other = org.server.new_org("Second Org")
    with org.server.client(other.token) as them:
        ok(
            them.post(
                f"/organizations/{other.org_id}/users/invite",
                json={
                    "email": org.admin_email,
                    "first_name": "A",
                    "last_name": "B",
                    "role": "standard",
                },
            )
        )
    body = org.api.get("/me/organizations").json()
    assert {o["id"]: o["user_role"] for o in body["data"]} == {
        org.id: "admin",
        other.org_id: "standard",
    }
    assert body["meta"]["pagination"]["total"] == 2
    assert body["meta"]["pagination"]["per_page"] == 10
    listed = sdk.organizations.get_current_user_organizations()
    assert isinstance(listed, OrganizationsList)
    assert {o.name for o in listed.data} == {"Test Org", "Second Org"}
    assert listed.count == 2
    one = org.api.get("/me/organizations", params={"per_page": 1, "page": 2}).json()
    assert len(one["data"]) == 1 and one["meta"]["pagination"]["total_pages"] == 2


def test_my_organizations_leaves_out_disabled_memberships(org: Org) -> None:
    user_id, member = org.member("standard")
    ok(org.api.delete(org.path(f"/users/{user_id}/disable")))
    with member:
        body = member.get("/me/organizations").json()
    assert body["data"] == [] and body["meta"]["pagination"]["total"] == 0


def test_admin_updates_settings(org: Org) -> None:
    body = {
        "name": "  Renamed Co ",
        "timezone": "Europe/Paris",
        "industry": "Logistics",
        "city": "Lyon",
        "allow_manage_groups": True,
        "working_days": {"Saturday": {"enabled": True, "start_time": "10:00", "end_time": "14:00"}},
        "default_deadline": {"type": "days", "value": 3},
        "auto_archive_processes_after": {"unit": "months", "value": 6},
        "cadence_days": ["Monday", "Thursday"],
        "unknown_key": "ignored",
    }
    data = ok(org.api.put(org.path(""), json=body))
    assert (data["name"], data["timezone"], data["industry"], data["city"]) == (
        "Renamed Co",
        "Europe/Paris",
        "Logistics",
        "Lyon",
    )
    assert data["allow_manage_groups"] is True
    assert data["working_days"]["Saturday"]["start_time"] == "10:00"
    assert data["default_deadline"] == {"type": "days", "value": 3}
    assert data["cadence_days"] == ["Monday", "Thursday"]
    assert "unknown_key" not in data
    again = ok(org.api.get(org.path("")))
    assert again["industry"] == "Logistics" and again["auto_archive_processes_after"] == {
        "unit": "months",
        "value": 6,
    }
    kept = ok(org.api.put(org.path(""), json={"industry": None}))
    assert kept["industry"] is None and kept["city"] == "Lyon" and kept["name"] == "Renamed Co"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "n" * 251}, "name"),
        ({"timezone": "Nowhere/City"}, "timezone"),
        ({"allow_user_invite": "sometimes"}, "allow_user_invite"),
        ({"default_deadline": {"type": "fortnights", "value": 1}}, "default_deadline.type"),
        ({"working_days": {"Funday": {"enabled": True}}}, "working_days.Funday.[key]"),
        ({"working_days": []}, "working_days"),
    ],
)
def test_bad_settings_are_422(org: Org, body: dict[str, object], field: str) -> None:
    response = org.api.put(org.path(""), json=body)
    assert response.status_code == 422, response.text
    assert any(key.startswith(field.split(".[")[0]) for key in response.json()["errors"])


def test_only_admins_update_the_organization(org: Org) -> None:
    _, standard = org.member("standard")
    with standard:
        refused = standard.put(org.path(""), json={"name": "Mine now"})
    assert refused.status_code == 403
    assert ok(org.api.get(org.path("")))["name"] == "Test Org"
    other = org.server.new_org()
    assert org.api.put(f"/organizations/{other.org_id}", json={"name": "x"}).status_code == 403


def test_update_own_profile(org: Org) -> None:
    user_id, member = org.member("light")
    body = {
        "first_name": "Lee",
        "last_name": "Self",
        "timezone": "Asia/Tokyo",
        "job_title": "Analyst",
    }
    with member:
        data = ok(member.put(org.path("/me"), json=body))
        assert data["id"] == user_id and data["full_name"] == "Lee Self"
        assert data["UTC_offset"] == "+09:00" and data["job_title"] == "Analyst"
        assert ok(member.get("/me"))["timezone"] == "Asia/Tokyo"
        bad = member.put(org.path("/me"), json={"first_name": "Lee"})
        assert bad.status_code == 422
        assert {"last_name", "timezone"} <= set(bad.json()["errors"])
