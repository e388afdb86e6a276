"""Values and the life of their records: an archived record keeps its values (and answers 404
until restored); one deleted for good takes them with it."""

from __future__ import annotations

from tests.conftest import Org
from tests.customfields.test_keys import make_key
from tests.customfields.test_values import fields, put
from tests.support.factories import checklist, db_count, folder, ok, run


def values_of(org: Org, kind: str) -> int:
    return db_count(
        org, "custom_field_values", "org_id = :o AND subject_type = :k", o=org.id, k=kind
    )


def test_an_archived_run_keeps_its_values_and_a_purged_one_loses_them(org: Org) -> None:
    make_key(org, "region", applies_to="process")
    make_key(org, "size", applies_to="task", field_type="number")
    launched = run(org)
    process = org.path(f"/runs/{launched['id']}")
    task = ok(org.api.get(process + "/tasks"))[0]
    put(org.api, process, {"region": "EU"})
    put(org.api, f"{process}/tasks/{task['id']}", {"size": 2})
    ok(org.api.delete(process))
    assert org.api.get(process + "/custom-fields").status_code == 404
    ok(org.api.put(process + "/activate"))
    assert fields(org.api, process) == {"region": "EU"}
    assert org.api.delete(process + "/delete").status_code == 200
    assert values_of(org, "process") == 0
    assert values_of(org, "task") == 0


def test_a_purged_template_and_a_deleted_folder_lose_their_values(org: Org) -> None:
    make_key(org, "risk", applies_to="template")
    make_key(org, "owner", applies_to="step")
    make_key(org, "where", applies_to="folder")
    template = checklist(org, steps=1)
    tpl = org.path(f"/checklists/{template['id']}")
    step = ok(org.api.get(tpl + "/steps"))[0]
    put(org.api, tpl, {"risk": "low"})
    put(org.api, f"{tpl}/steps/{step['id']}", {"owner": "ops"})
    kept = org.path(f"/checklists/{checklist(org, steps=0)['id']}")
    put(org.api, kept, {"risk": "high"})
    assert org.api.delete(tpl).status_code == 200
    assert values_of(org, "template") == 2  # archived: kept
    assert org.api.delete(tpl + "/delete").status_code in (200, 204)
    assert values_of(org, "template") == 1 and values_of(org, "step") == 0
    assert fields(org.api, kept) == {"risk": "high"}

    shelf = org.path(f"/folders/{folder(org)}")
    put(org.api, shelf, {"where": "top"})
    assert org.api.delete(shelf).status_code == 204
    assert values_of(org, "folder") == 0
