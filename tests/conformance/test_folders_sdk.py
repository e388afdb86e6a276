"""The SDK's `folders` manager: folder CRUD, filing a template (PUT on the template) and a process
(the add-object relation, whose integer id the SDK returns and later deletes)."""

from __future__ import annotations

import pytest
from tallyfy import TallyfySDK
from tallyfy.models import Folder, TallyfyError

from tests.conformance.conftest import data, is_hex32
from tests.conftest import Org
from tests.support.factories import checklist, run


def test_folder_lifecycle(sdk: TallyfySDK, org: Org) -> None:
    """create_folder, get_folder, update_folder, get_folders, delete_folder"""
    clients = sdk.folders.create_folder(org.id, "Clients")
    assert isinstance(clients, Folder) and is_hex32(clients.id) and clients.name == "Clients"
    active = sdk.folders.create_folder(org.id, "Active", parent_id=clients.id)
    assert active.parent_id == clients.id
    fetched = sdk.folders.get_folder(org.id, clients.id)
    assert isinstance(fetched, Folder) and fetched.name == "Clients"
    renamed = sdk.folders.update_folder(org.id, clients.id, name="Customers")
    assert isinstance(renamed, Folder) and renamed.name == "Customers"
    archive = sdk.folders.create_folder(org.id, "Archive")
    moved = sdk.folders.update_folder(org.id, active.id, parent_id=archive.id)
    assert (moved.name, moved.parent_id) == ("Active", archive.id)  # name read back by the SDK
    listed = sdk.folders.get_folders(org.id)
    assert all(isinstance(f, Folder) for f in listed)
    names = {f.name for f in listed} | {c.name for f in listed for c in (f.children or [])}
    assert names == {"Customers", "Active", "Archive"}
    assert [f.name for f in sdk.folders.get_folders(org.id, q="custom")] == ["Customers"]
    assert sdk.folders.delete_folder(org.id, clients.id) is True
    with pytest.raises(TallyfyError) as raised:
        sdk.folders.get_folder(org.id, clients.id)
    assert raised.value.status_code == 404


def test_file_a_template_and_a_process(sdk: TallyfySDK, org: Org) -> None:
    """add_object_to_folder (checklist and run), remove_object_from_folder"""
    template = checklist(org, steps=1, title="Onboarding")
    templates = sdk.folders.create_folder(org.id, "Templates")
    assert (
        sdk.folders.add_object_to_folder(org.id, templates.id, template["id"], "checklist") is True
    )
    assert data(org.api.get(org.path(f"/checklists/{template['id']}")))["folder_id"] == templates.id
    assert data(org.api.get(org.path(f"/checklists/{template['id']}")))["title"] == "Onboarding"
    launched = run(org, template["id"])
    made = org.api.post(org.path("/folders"), json={"name": "2026", "folder_type": "run"})
    run_folder = data(made, 201)
    relation = sdk.folders.add_object_to_folder(org.id, run_folder["id"], launched["id"], "run")
    assert isinstance(relation, dict) and isinstance(relation["id"], int)
    filed = data(org.api.get(org.path("/runs"), params={"folder": run_folder["id"]}))
    assert [r["id"] for r in filed] == [launched["id"]]
    run_folders = sdk.folders.get_folders(org.id, folder_type="run")
    assert [f.id for f in run_folders] == [run_folder["id"]]
    assert sdk.folders.remove_object_from_folder(org.id, relation["id"]) is True
    assert data(org.api.get(org.path("/runs"), params={"folder": run_folder["id"]})) == []


def test_folder_refusals(sdk: TallyfySDK, org: Org) -> None:
    with pytest.raises(TallyfyError) as raised:
        sdk.folders.get_folder(org.id, "0" * 32)
    assert raised.value.status_code == 404
    with pytest.raises(TallyfyError) as raised:
        sdk.folders.create_folder(org.id, "Child", parent_id="0" * 32)
    assert raised.value.status_code == 422
    with pytest.raises(TallyfyError) as raised:
        sdk.folders.add_object_to_folder(org.id, "0" * 32, "0" * 32, "run")
    assert raised.value.status_code in (404, 422)
    with pytest.raises(TallyfyError) as raised:
        sdk.folders.remove_object_from_folder(org.id, 999_999_999)
    assert raised.value.status_code == 404
    with pytest.raises(ValueError):
        sdk.folders.remove_object_from_folder(org.id, "abc")
