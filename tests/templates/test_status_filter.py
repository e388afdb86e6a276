from __future__ import annotations

from tests.conftest import Org
from tests.support.factories import checklist, folder, ok


def titles(org: Org, query: str) -> list[str]:
    found = ok(org.api.get(org.path(f"/checklists?{query}&per_page=50&sort_by=title")))
    return [t["title"] for t in found]


def test_status_filters_live_archived_and_all(org: Org) -> None:
    checklist(org, steps=0, title="Alpha")
    gone = checklist(org, steps=0, title="Beta")
    org.api.delete(org.path(f"/checklists/{gone['id']}"))
    assert titles(org, "status=active") == ["Alpha"]
    assert titles(org, "status=archived") == ["Beta"]
    assert titles(org, "status=all") == ["Alpha", "Beta"]
    assert titles(org, "status=ARCHIVED") == ["Beta"]
    # Without versions every live template is published.
    assert titles(org, "status=published") == ["Alpha"]
    assert titles(org, "status=draft") == []


def test_unknown_status_is_refused(org: Org) -> None:
    refused = org.api.get(org.path("/checklists?status=sleeping"))
    assert refused.status_code == 422
    assert "status" in refused.json()["errors"]


def test_folder_id_filters_as_folder_does(org: Org) -> None:
    box = folder(org, "Ops")
    checklist(org, steps=0, title="Inside", folder_id=box)
    checklist(org, steps=0, title="Outside")
    assert titles(org, f"folder_id={box}") == ["Inside"]
