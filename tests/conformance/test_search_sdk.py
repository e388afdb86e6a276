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
    assert [r.id for r in sdk.tasks.find_process_by_name(org.id, "acme vendor")] == [launched["id"]]
    processes = sdk.tasks.search_processes(org.id, "acme")
    assert isinstance(processes, SearchResultsList)
    assert [r.id for r in processes.data] == [launched["id"]]
    assert [r.id for r in sdk.tasks.search_templates(org.id, "payroll").data] != []
    tasks = sdk.tasks.search_tasks(org.id, "vendor form")
    assert [r.name for r in tasks.data] == ["Call Acme about vendor form"]
    assert len(sdk.tasks.search(org.id, "vendor", search_type="blueprint").data) == 1
    every = sdk.searches.search_all(org.id, "vendor", types=["blueprint", "process", "task"])
    assert {kind: len(found.data) for kind, found in every.items()} == {
        "blueprint": 1,
        "process": 1,
        "task": 1,
    }


def test_unknown_name_is_a_clear_error(sdk: TallyfySDK, org: Org) -> None:
    with pytest.raises(TallyfyError):
        sdk.templates.search_templates_by_name(org.id, "does not exist")


def test_search_route_validation_and_tenancy(org: Org) -> None:
    assert org.api.get(org.path("/search")).status_code == 422
    assert org.api.get(org.path("/search"), params={"search": "x", "on": "nope"}).status_code == 422
    checklist(org, steps=0, title="Secret plan")
    other = org.server.new_org()
    with org.server.client(other.token) as them:
        body = them.get(
            f"/organizations/{other.org_id}/search", params={"search": "secret", "on": "blueprint"}
        ).json()
    assert body["blueprint"]["data"] == []
    mine = org.api.get(org.path("/search"), params={"search": "secret", "on": "blueprint"})
    assert mine.status_code == 200
    assert [t["title"] for t in mine.json()["blueprint"]["data"]] == ["Secret plan"]


def test_search_manager_directly(sdk: TallyfySDK, org: Org) -> None:
    """searches.search (with a filter and tags), search_templates, search_processes,
    search_tasks, search_snippets, search_templates_by_name, search_processes_by_name,
    find_process_by_name"""
    template = checklist(org, steps=1, title="Vendor onboarding")
    launched = run(org, template["id"], name="Acme vendor")
    run(org, template["id"], name="Globex vendor")
    task = one_off_task(org, title="Vendor call")
    found = sdk.searches.search(org.id, "vendor", on="process", per_page=1)
    assert isinstance(found, SearchResultsList) and len(found.data) == 1
    assert found.meta is not None and found.meta.total == 2 and found.meta.total_pages == 2
    assert found.data[0].search_type == "process"
    filtered = sdk.searches.search(
        org.id, "vendor", on="process", filter_={"field": "name", "value": "Acme vendor"}
    )
    assert [r.id for r in filtered.data] == [launched["id"]]
    either = sdk.searches.search(
        org.id,
        "vendor",
        on="process",
        filter_=[
            {"type": "boolean", "value": "OR"},
            {"field": "name", "value": "Acme vendor"},
            {"field": "name", "operation": "=", "value": "Globex vendor"},
        ],
    )
    assert len(either.data) == 2
    assert (
        sdk.searches.search(org.id, "vendor", on="blueprint", tags=True).data[0].id
        == template["id"]
    )
    assert [r.id for r in sdk.searches.search_templates(org.id, "onboarding").data] == [
        template["id"]
    ]
    assert {r.id for r in sdk.searches.search_processes(org.id, "vendor").data} == {
        launched["id"],
        run_id_of(org, "Globex vendor"),
    }
    assert [r.id for r in sdk.searches.search_tasks(org.id, "vendor call").data] == [task["id"]]
    assert sdk.searches.search_snippets(org.id, "vendor").data == []
    assert sdk.searches.search_templates_by_name(org.id, "Vendor onboarding") == template["id"]
    assert sdk.searches.search_processes_by_name(org.id, "acme vendor") == launched["id"]
    assert [r.id for r in sdk.searches.find_process_by_name(org.id, "Acme vendor")] == [
        launched["id"]
    ]
    with pytest.raises(TallyfyError):
        sdk.searches.search_processes_by_name(org.id, "vendor")  # two partial matches
    with pytest.raises(TallyfyError) as raised:
        sdk.searches.search(org.id, "vendor", filter_={"field": "no_such_field", "value": "x"})
    assert raised.value.status_code == 422


def run_id_of(org: Org, name: str) -> str:
    runs = org.api.get(org.path("/runs"), params={"q": name}).json()["data"]
    return str(runs[0]["id"])
