from __future__ import annotations

from typing import Any

from tests.conftest import Org
from tests.support.factories import checklist, folder, group, ok, run, stored_bytes, upload

DELETED_MESSAGE = "The Template was deleted, and references were also deleted from:"


def kickoff_file_field(org: Org, template: dict[str, Any]) -> dict[str, Any]:
    body = {
        "title": template["title"],
        "prerun": [{"label": "Contract", "field_type": "file", "required": False}],
    }
    return ok(org.api.put(org.path(f"/checklists/{template['id']}"), json=body))["prerun"][0]


def test_update_requires_title_and_keeps_other_fields(org: Org) -> None:
    template = checklist(org, steps=0, summary="first")
    refused = org.api.put(org.path(f"/checklists/{template['id']}"), json={"summary": "x"})
    assert refused.status_code == 422
    assert "title" in refused.json()["errors"]
    updated = ok(org.api.put(org.path(f"/checklists/{template['id']}"), json={"title": "Renamed"}))
    assert (updated["title"], updated["summary"]) == ("Renamed", "first")


def test_prerun_put_is_the_whole_kickoff_form(org: Org) -> None:
    template = checklist(org, steps=0)
    path = org.path(f"/checklists/{template['id']}")
    first = ok(
        org.api.put(
            path,
            json={
                "title": "T",
                "prerun": [
                    {"label": "Customer", "field_type": "text", "required": True},
                    {"label": "Notes", "field_type": "textarea"},
                ],
            },
        )
    )["prerun"]
    kept = ok(
        org.api.put(
            path,
            json={
                "title": "T",
                "prerun": [
                    {
                        "id": first[1]["id"],
                        "label": "Remarks",
                        "field_type": "textarea",
                        "value": "hi",
                    },
                ],
            },
        )
    )["prerun"]
    assert [(f["id"], f["label"], f.get("value")) for f in kept] == [
        (first[1]["id"], "Remarks", "hi")
    ]


def test_kickoff_file_field_holds_the_uploaded_asset(org: Org) -> None:
    template = checklist(org, steps=0)
    field = kickoff_file_field(org, template)
    asset = upload(org, "Checklist", template["id"], b"%PDF-1.4", filename="terms.pdf")
    body = {"title": template["title"], "prerun": [{**field, "value": [asset]}]}
    (value,) = ok(org.api.put(org.path(f"/checklists/{template['id']}"), json=body))["prerun"][0][
        "value"
    ]
    assert value["id"] == asset["id"]
    assert value["url"] == f"organizations/{org.id}/file/{asset['id']}/dl"
    assert value["full_url"].startswith("http") and value["full_url"].endswith(value["url"])
    assert org.api.get("/" + value["url"]).content == b"%PDF-1.4"


def test_kickoff_value_must_be_a_file_of_this_org(org: Org) -> None:
    template = checklist(org, steps=0)
    field = kickoff_file_field(org, template)
    body = {"title": "T", "prerun": [{**field, "value": [{"id": "f" * 32}]}]}
    refused = org.api.put(org.path(f"/checklists/{template['id']}"), json=body)
    assert refused.status_code == 422
    assert list(refused.json()["errors"]) == [f"prerun.{field['id']}"]


def test_archive_hides_template_and_its_files_restore_brings_both(org: Org) -> None:
    template = checklist(org, steps=1)
    asset = upload(org, "Checklist", template["id"])
    archived = org.api.delete(org.path(f"/checklists/{template['id']}"))
    assert archived.status_code == 200
    assert archived.json() == {"message": DELETED_MESSAGE, "deleted_references": []}
    assert org.api.get(org.path(f"/checklists/{template['id']}")).status_code == 404
    assert org.api.get(org.path(f"/assets/{asset['id']}")).status_code == 404
    listed = ok(org.api.get(org.path("/checklists"), params={"archived": "only"}))
    assert [c["id"] for c in listed] == [template["id"]]
    path = org.path(f"/checklists/{template['id']}")
    for flag in ("true", "1", "only"):
        shown = ok(org.api.get(path, params={"archived": flag, "with": "steps"}))
        assert shown["id"] == template["id"] and shown["archived_at"] is not None
        assert len(shown["steps"]) == 1
    for flag in ("false", "0"):
        assert org.api.get(path, params={"archived": flag}).status_code == 404
    restored = ok(org.api.put(org.path(f"/checklists/{template['id']}/restore")))
    assert restored["archived_at"] is None
    assert org.api.get(org.path(f"/assets/{asset['id']}")).status_code == 200


def test_archived_template_cannot_launch(org: Org) -> None:
    template = checklist(org, steps=1)
    org.api.delete(org.path(f"/checklists/{template['id']}"))
    refused = org.api.post(org.path("/runs"), json={"checklist_id": template["id"]})
    assert refused.status_code == 422


def test_permanent_delete_needs_archive_and_admin(org: Org) -> None:
    template = checklist(org, steps=1)
    path = org.path(f"/checklists/{template['id']}/delete")
    assert org.api.delete(path).status_code == 422
    org.api.delete(org.path(f"/checklists/{template['id']}"))
    _, standard = org.member("standard")
    assert standard.delete(path).status_code == 403
    assert org.api.delete(path).json() == {"message": DELETED_MESSAGE, "deleted_references": []}
    assert org.api.put(org.path(f"/checklists/{template['id']}/restore")).status_code == 404


def test_permanent_delete_removes_files_but_keeps_runs(org: Org) -> None:
    template = checklist(org, steps=1)
    launched = run(org, template["id"])
    asset = upload(org, "Checklist", template["id"])
    org.api.delete(org.path(f"/checklists/{template['id']}"))
    assert org.api.delete(org.path(f"/checklists/{template['id']}/delete")).status_code == 200
    assert not stored_bytes(org, asset["id"]).exists()
    assert ok(org.api.get(org.path(f"/runs/{launched['id']}")))["id"] == launched["id"]


def test_light_member_cannot_archive_or_edit(org: Org) -> None:
    template = checklist(org, steps=0)
    _, light = org.member("light")
    assert light.delete(org.path(f"/checklists/{template['id']}")).status_code == 403
    assert (
        light.put(org.path(f"/checklists/{template['id']}"), json={"title": "x"}).status_code == 403
    )


def test_template_of_another_org_is_not_found(org: Org) -> None:
    other = org.server.new_org()
    with org.server.client(other.token) as them:
        theirs = ok(
            them.post(
                f"/organizations/{other.org_id}/checklists",
                json={"title": "Theirs", "type": "procedure"},
            ),
            201,
        )
    for call in (org.api.get, org.api.delete):
        assert call(org.path(f"/checklists/{theirs['id']}")).status_code == 404


def test_create_echoes_every_documented_field(org: Org) -> None:
    member, _ = org.member("standard")
    shelf, ops = folder(org), group(org)
    created = checklist(
        org,
        steps=0,
        summary="s",
        icon="rocket",
        is_featured=True,
        kickoff_title="Start here",
        folder_id=shelf,
        users=[member],
        groups=[ops],
        user_id=member,
        webhook="https://example.com/hook",
    )
    assert {
        k: created[k]
        for k in (
            "icon",
            "is_featured",
            "kickoff_title",
            "folder_id",
            "users",
            "groups",
            "owner_id",
            "webhook",
        )
    } == {
        "icon": "rocket",
        "is_featured": True,
        "kickoff_title": "Start here",
        "folder_id": shelf,
        "users": [member],
        "groups": [ops],
        "owner_id": member,
        "webhook": "https://example.com/hook",
    }
    assert (created["created_by"], created["last_updated_by"]) == (org.admin_id, org.admin_id)
    assert {
        k: created[k]
        for k in (
            "explanation_video",
            "is_pinned",
            "is_public_kickoff",
            "topic_tags",
            "industry_tags",
            "started_processes",
            "is_published_state",
            "steps_count",
            "prerun",
            "automated_actions",
        )
    } == {
        "explanation_video": None,
        "is_pinned": False,
        "is_public_kickoff": False,
        "topic_tags": [],
        "industry_tags": [],
        "started_processes": 0,
        "is_published_state": True,
        "steps_count": 0,
        "prerun": [],
        "automated_actions": [],
    }
    assert "steps" not in created and "tags" not in created


def test_update_replaces_users_and_groups_and_keeps_pass_through_fields(org: Org) -> None:
    member, client = org.member("standard")
    a, b, c = group(org), group(org), group(org)
    template = checklist(org, steps=0, icon="rocket", users=[org.admin_id], groups=[a, b])
    path = org.path(f"/checklists/{template['id']}")
    updated = ok(
        client.put(
            path,
            json={
                "title": "T",
                "users": [member],
                "groups": [c],
                "explanation_video": "https://v.example/1",
            },
        )
    )
    assert (updated["users"], updated["groups"], updated["icon"]) == ([member], [c], "rocket")
    assert updated["explanation_video"] == "https://v.example/1"
    assert updated["last_updated_by"] == member


def test_people_on_a_template_must_be_members(org: Org) -> None:
    template = checklist(org, steps=0)
    path = org.path(f"/checklists/{template['id']}")
    for body, field in (
        ({"users": [987654]}, "users.0"),
        ({"owner_id": 987654}, "owner_id.0"),
        ({"users": [2**40]}, "users.0"),
        ({"folder_id": "x" * 33}, "folder_id"),
    ):
        refused = org.api.put(path, json={"title": "T", **body})
        assert refused.status_code == 422, refused.text
        assert field in refused.json()["errors"]
    refused = org.api.post(
        org.path("/checklists"), json={"title": "T", "type": "procedure", "user_id": 987654}
    )
    assert refused.status_code == 422 and "user_id.0" in refused.json()["errors"]


def titles(org: Org, **params: str) -> list[str]:
    return [c["title"] for c in ok(org.api.get(org.path("/checklists"), params=params))]


def test_list_searches_sorts_and_puts_pinned_first(org: Org) -> None:
    for title in ("Beta review", "alpha review", "Gamma"):
        checklist(org, steps=0, title=title)
    assert titles(org) == ["Gamma", "alpha review", "Beta review"]
    assert titles(org, q="REVIEW", sort_by="title") == ["alpha review", "Beta review"]
    assert titles(org, sort="-title") == ["Gamma", "Beta review", "alpha review"]
    assert titles(org, sort_by="-created_at") == ["Gamma", "alpha review", "Beta review"]
    assert titles(org, sort_by="created_at") == ["Beta review", "alpha review", "Gamma"]
    checklist(org, steps=0, title="Pinned old", is_pinned=True)
    checklist(org, steps=0, title="Newest")
    assert titles(org)[:2] == ["Pinned old", "Newest"]
    assert titles(org, sort_by="created_at")[0] == "Pinned old"
    assert titles(org, type="form") == []
    assert titles(org, tag="f" * 32) == []


def test_list_pages_by_ten_and_includes_steps_bare_and_tags_wrapped(org: Org) -> None:
    template = checklist(org, steps=1)
    for i in range(10):
        checklist(org, steps=0, title=f"Other {i}")
    page = org.api.get(org.path("/checklists")).json()
    assert len(page["data"]) == 10
    assert page["meta"]["pagination"]["total"] == 11
    assert page["meta"]["pagination"]["total_pages"] == 2
    last = ok(org.api.get(org.path("/checklists"), params={"page": 2, "with": "steps,tags"}))
    assert [c["id"] for c in last] == [template["id"]]
    assert [s["title"] for s in last[0]["steps"]] == ["Step 1"]
    assert last[0]["steps"][0]["captures"] == []
    assert last[0]["tags"] == {"data": []}


def test_started_processes_counts_runs(org: Org) -> None:
    template = checklist(org, steps=1)
    run(org, template["id"])
    run(org, template["id"])
    assert ok(org.api.get(org.path(f"/checklists/{template['id']}")))["started_processes"] == 2


def test_clone_copies_steps_fields_kickoff_rules_and_anchors(org: Org) -> None:
    template = checklist(org, steps=2, icon="rocket")
    base = org.path(f"/checklists/{template['id']}")
    first, second = ok(org.api.get(base + "/steps"))
    kickoff = ok(
        org.api.put(
            base,
            json={
                "title": template["title"],
                "prerun": [
                    {
                        "label": "Plan",
                        "field_type": "radio",
                        "options": [{"text": "A"}, {"text": "B"}],
                    }
                ],
            },
        )
    )["prerun"][0]
    field = ok(
        org.api.post(
            base + f"/steps/{first['id']}/captures", json={"label": "Ref", "field_type": "text"}
        ),
        201,
    )
    ok(
        org.api.put(
            base + f"/steps/{second['id']}",
            json={"title": "Step 2", "deadline": {"value": 2, "unit": "days", "step": first["id"]}},
        )
    )
    ok(
        org.api.post(
            base + "/automated-actions",
            json={
                "conditions": [
                    {
                        "conditionable_type": "Prerun",
                        "conditionable_id": kickoff["id"],
                        "statement": "A",
                    }
                ],
                "then_actions": [
                    {
                        "action_type": "visibility",
                        "action_verb": "hide",
                        "target_step_id": second["id"],
                    }
                ],
            },
        ),
        201,
    )
    copy = ok(org.api.post(base + "/clone", json={}), 201)
    assert (copy["title"], copy["icon"]) == ("Onboarding (copy)", "rocket")
    assert copy["increment_id"] != template["increment_id"]
    steps = ok(org.api.get(org.path(f"/checklists/{copy['id']}/steps")))
    assert [s["title"] for s in steps] == ["Step 1", "Step 2"]
    assert not {s["id"] for s in steps} & {first["id"], second["id"]}
    assert steps[1]["deadline"]["step"] == steps[0]["id"]
    assert [(c["label"], c["id"] != field["id"]) for c in steps[0]["captures"]] == [("Ref", True)]
    (new_kickoff,) = copy["prerun"]
    assert new_kickoff["id"] != kickoff["id"] and new_kickoff["options"] == kickoff["options"]
    (rule,) = copy["automated_actions"]
    assert rule["conditions"][0]["conditionable_id"] == new_kickoff["id"]
    assert rule["then_actions"][0]["target_step_id"] == steps[1]["id"]
    source = ok(org.api.get(base))
    assert source["automated_actions"][0]["id"] != rule["id"]


def test_clone_refusals(org: Org) -> None:
    template = checklist(org, steps=0)
    path = org.path(f"/checklists/{template['id']}/clone")
    assert org.api.post(path, data={"tenant": "0" * 32}).status_code == 403
    long_title = org.api.post(path, json={"title": "x" * 251})
    assert long_title.status_code == 422 and "title" in long_title.json()["errors"]
    bad_json = org.api.post(path, content=b"{", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400
    _, light = org.member("light")
    assert light.post(path, json={"title": "Mine"}).status_code == 403
    assert org.api.post(org.path(f"/checklists/{'0' * 32}/clone")).status_code == 404
    assert titles(org) == [template["title"]]
