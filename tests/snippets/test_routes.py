"""Snippets ("text templates", GET /text-templates): reusable text of an organization."""

from __future__ import annotations

from tests.conftest import LiveServer, Org, new_org
from tests.support.factories import ok

PATH = "/text-templates"


def test_snippets_are_made_read_changed_and_deleted(org: Org) -> None:
    assert ok(org.api.get(org.path(PATH))) == []
    made = ok(
        org.api.post(org.path(PATH), json={"title": "Welcome", "content": "Hello {{name}}"}), 201
    )
    assert (made["title"], made["content"], made["created_by"]) == (
        "Welcome",
        "Hello {{name}}",
        org.admin_id,
    )
    ok(org.api.post(org.path(PATH), json={"title": "Goodbye"}), 201)
    listed = org.api.get(org.path(PATH), params={"per_page": 1})
    assert listed.status_code == 200
    assert listed.json()["meta"]["pagination"]["total"] == 2
    found = ok(org.api.get(org.path(PATH), params={"q": "welc"}))
    assert [s["id"] for s in found] == [made["id"]]
    one = org.path(f"{PATH}/{made['id']}")
    assert ok(org.api.get(one))["content"] == "Hello {{name}}"
    changed = ok(org.api.put(one, json={"title": "Welcome!", "content": "Hi"}))
    assert (changed["title"], changed["content"]) == ("Welcome!", "Hi")
    assert org.api.delete(one).status_code == 204
    assert org.api.get(one).status_code == 404


def test_bad_bodies_roles_and_other_orgs(org: Org, server: LiveServer) -> None:
    for body in ({}, {"title": ""}, {"title": "x" * 251}, {"title": "t", "content": 5}):
        assert org.api.post(org.path(PATH), json=body).status_code == 422, body
    made = ok(org.api.post(org.path(PATH), json={"title": "Shared"}), 201)
    one = org.path(f"{PATH}/{made['id']}")
    assert org.api.put(one, json={"content": "no title"}).status_code == 422
    _, light = org.member("light")
    with light:
        assert ok(light.get(org.path(PATH)))[0]["id"] == made["id"]
        assert light.post(org.path(PATH), json={"title": "Mine"}).status_code == 403
        assert light.put(one, json={"title": "Mine"}).status_code == 403
        assert light.delete(one).status_code == 403
    with new_org(server) as stranger:
        assert ok(stranger.api.get(stranger.path(PATH))) == []
        theirs = stranger.path(f"{PATH}/{made['id']}")
        assert stranger.api.get(theirs).status_code == 404
        assert stranger.api.put(theirs, json={"title": "x"}).status_code == 404
        assert stranger.api.delete(theirs).status_code == 404
