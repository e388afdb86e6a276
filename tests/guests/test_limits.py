"""The hourly cap on guest invites: 30 per hour per organization (§1.10)."""

from __future__ import annotations

from tests.conftest import Org
from tests.guests.conftest import address, guest, refused
from tests.support.factories import ok

CAP_MESSAGE = (
    "You've reached the hourly limit for Guest Invite (30 per hour per organization). "
    "Please try again later."
)


def test_the_31st_new_guest_in_an_hour_is_429(org: Org) -> None:
    made = [guest(org, address(f"g{i}")) for i in range(30)]
    late = address("late")
    response = org.api.post(org.path("/guests"), json={"email": late})
    body = refused(response, 429)
    assert body == {"error": True, "message": CAP_MESSAGE, "code": "RATE_LIMIT_EXCEEDED"}
    assert 0 < int(response.headers["Retry-After"]) <= 3600
    # One X-RateLimit-Remaining: the cap's, which says nothing is left.
    assert response.headers.get_list("X-RateLimit-Remaining") == ["0"]
    # Nothing of the refused invite is kept; an existing guest is not a new invite.
    assert refused(org.api.get(org.path(f"/guests/{late}")), 404)
    assert (
        ok(org.api.post(org.path("/guests"), json={"email": made[0]["email"]}), 201)["id"]
        == made[0]["id"]
    )
    assert len(ok(org.api.get(org.path("/guests")))) == 30
    # Another organization has its own hourly count.
    theirs = org.server.new_org()
    with org.server.client(theirs.token) as them:
        ok(them.post(f"/organizations/{theirs.org_id}/guests", json={"email": late}), 201)


def test_converting_a_member_counts_as_an_invite(org: Org) -> None:
    for i in range(30):
        guest(org, address(f"g{i}"))
    member_id, _ = org.member("standard")
    response = org.api.put(org.path(f"/users/{member_id}/to/guest"))
    assert refused(response, 429)["code"] == "RATE_LIMIT_EXCEEDED"
    assert len(ok(org.api.get(org.path("/guests")))) == 30
