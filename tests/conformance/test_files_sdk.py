from __future__ import annotations

import pytest
from tallyfy import TallyfySDK
from tallyfy.models import Asset, TallyfyError

from tests.conftest import Org
from tests.support.factories import checklist, one_off_task, run


def test_upload_and_download_on_a_one_off_task(sdk: TallyfySDK, org: Org) -> None:
    task = one_off_task(org)
    content = bytes(range(256)) * 100
    asset = sdk.files.upload_file(
        org.id,
        content,
        "data.csv",
        uploaded_from="ko_field",
        subject_type="Task",
        subject_id=task["id"],
    )
    assert isinstance(asset, Asset)
    assert asset.filename == "data.csv"
    assert asset.subject == {"id": task["id"], "type": "Task"}
    assert sdk.files.download_file(org.id, asset.id) == content


def test_upload_to_a_process_task_and_download_by_url(sdk: TallyfySDK, org: Org) -> None:
    template = checklist(org, steps=1)
    process = run(org, template["id"])
    step_id = org.api.get(org.path(f"/checklists/{template['id']}?with=steps")).json()["data"][
        "steps"
    ][0]["id"]
    asset = sdk.files.upload_file(
        org.id,
        b"%PDF-1.4 tiny",
        "contract.pdf",
        uploaded_from="ko_field",
        subject_type="Run",
        subject_id=process["id"],
        step_id=step_id,
        checklist_id=template["id"],
    )
    metadata = org.api.get(org.path(f"/assets/{asset.id}")).json()["data"][0]
    assert sdk.files.download_file_from_url(metadata["url"]) == b"%PDF-1.4 tiny"
    assert sdk.files.download_file_from_url(metadata["full_url"]) == b"%PDF-1.4 tiny"


def test_download_of_a_deleted_file_is_a_404(sdk: TallyfySDK, org: Org) -> None:
    task = one_off_task(org)
    asset = sdk.files.upload_file(
        org.id, b"x", "x.txt", uploaded_from="ko_field", subject_type="Task", subject_id=task["id"]
    )
    assert org.api.delete(org.path(f"/file/{asset.id}")).status_code == 200
    with pytest.raises(TallyfyError) as raised:
        sdk.files.download_file(org.id, asset.id)
    assert raised.value.status_code == 404
