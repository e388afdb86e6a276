"""The SDK methods that find things by name: the search endpoint behind them."""

from __future__ import annotations

import pytest
from tallyfy import TallyfySDK
from tallyfy.models import SearchResultsList, TallyfyError

from tests.conftest import Org
from tests.support.factories import checklist, one_off_task, run


def test_find_templates_processes_and_tasks_by_name(sdk: TallyfySDK, org: Org) -> None:
    """search_templates_by_name, get_template(template_name=), search_processes_by_name,
    find_process_by_name, tasks.search, search_processes, search_templates, search_tasks,
    searches.search_all"""
    template = checklist(org, steps=1, title="Vendor onboarding")
    checklist(org, steps=0, title="Payroll")
    launched = run(org, template["id"], name="Acme vendor")
    one_off_task(org, title="Call Acme about vendor form")
    assert sdk.templates.search_templates_by_name(org.id, "vendor onboarding") == template["id"]
    found = sdk.templates.get_template(org.id, template_name="Vendor onboarding")
    assert found is not None and found.id == template["id"]
    assert sdk.tasks.search_processes_by_name(org.id, "Acme vendor") == launched["id"]
    assert [r.id for r in sdk.tasks.find_process_by_name(org.id, "acme vendor")] == [
        launched["id"]]
    processes = sdk.tasks.search_processes(org.id, "acme")
    assert isinstance(processes, SearchResultsList)
    assert [r.id for r in processes.data] == [launched["id"]]
    assert [r.id for r in sdk.tasks.search_templates(org.id, "payroll").data] != []
    tasks = sdk.tasks.search_tasks(org.id, "vendor form")
    assert [r.name for r in tasks.data] == ["Call Acme about vendor form"]
    assert len(sdk.tasks.search(org.id, "vendor", search_type="blueprint").data) == 1
    every = sdk.searches.search_all(org.id, "vendor", types=["blueprint", "process", "task"])
    assert {kind: len(found.data) for kind, found in every.items()} == {
        "blueprint": 1, "process": 1, "task": 1}


def test_unknown_name_is_a_clear_error(sdk: TallyfySDK, org: Org) -> None:
    with pytest.raises(TallyfyError):
        sdk.templates.search_templates_by_name(org.id, "does not exist")


def test_search_route_validation_and_tenancy(org: Org) -> None:
    assert org.api.get(org.path("/search")).status_code == 422
    assert org.api.get(org.path("/search"), params={"search": "x", "on": "nope"}
                       ).status_code == 422
    checklist(org, steps=0, title="Secret plan")
    other = org.server.new_org()
    with org.server.client(other.token) as them:
        body = them.get(f"/organizations/{other.org_id}/search",
                        params={"search": "secret", "on": "blueprint"}).json()
    assert body["blueprint"]["data"] == []
    mine = org.api.get(org.path("/search"), params={"search": "secret", "on": "blueprint"})
    assert mine.status_code == 200
    assert [t["title"] for t in mine.json()["blueprint"]["data"]] == ["Secret plan"]
