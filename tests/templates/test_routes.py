from __future__ import annotations

from typing import Any

from tests.conftest import Org
from tests.support.factories import checklist, ok, run, stored_bytes, upload

DELETED_MESSAGE = "The Template was deleted, and references were also deleted from:"


def kickoff_file_field(org: Org, template: dict[str, Any]) -> dict[str, Any]:
    body = {"title": template["title"],
            "prerun": [{"label": "Contract", "field_type": "file", "required": False}]}
    return ok(org.api.put(org.path(f"/checklists/{template['id']}"), json=body))["prerun"][0]


def test_update_requires_title_and_keeps_other_fields(org: Org) -> None:
    template = checklist(org, steps=0, summary="first")
    refused = org.api.put(org.path(f"/checklists/{template['id']}"), json={"summary": "x"})
    assert refused.status_code == 422
    assert "title" in refused.json()["errors"]
    updated = ok(org.api.put(org.path(f"/checklists/{template['id']}"),
                             json={"title": "Renamed"}))
    assert (updated["title"], updated["summary"]) == ("Renamed", "first")


def test_prerun_put_is_the_whole_kickoff_form(org: Org) -> None:
    template = checklist(org, steps=0)
    path = org.path(f"/checklists/{template['id']}")
    first = ok(org.api.put(path, json={"title": "T", "prerun": [
        {"label": "Customer", "field_type": "text", "required": True},
        {"label": "Notes", "field_type": "textarea"},
    ]}))["prerun"]
    kept = ok(org.api.put(path, json={"title": "T", "prerun": [
        {"id": first[1]["id"], "label": "Remarks", "field_type": "textarea", "value": "hi"},
    ]}))["prerun"]
    assert [(f["id"], f["label"], f.get("value")) for f in kept] == [
        (first[1]["id"], "Remarks", "hi")]


def test_kickoff_file_field_holds_the_uploaded_asset(org: Org) -> None:
    template = checklist(org, steps=0)
    field = kickoff_file_field(org, template)
    asset = upload(org, "Checklist", template["id"], b"%PDF-1.4", filename="terms.pdf")
    body = {"title": template["title"], "prerun": [{**field, "value": [asset]}]}
    (value,) = ok(org.api.put(org.path(f"/checklists/{template['id']}"), json=body))[
        "prerun"][0]["value"]
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
    assert light.put(org.path(f"/checklists/{template['id']}"),
                     json={"title": "x"}).status_code == 403


def test_template_of_another_org_is_not_found(org: Org) -> None:
    other = org.server.new_org()
    with org.server.client(other.token) as them:
        theirs = ok(them.post(f"/organizations/{other.org_id}/checklists",
                              json={"title": "Theirs", "type": "procedure"}), 201)
    for call in (org.api.get, org.api.delete):
        assert call(org.path(f"/checklists/{theirs['id']}")).status_code == 404
