"""Public kick-off forms over plain HTTP: anyone with the link launches the template, without
signing in; 404 unless the template is public, live and of that organization; counted per
client address. Also the web side of variables: a guest's answer resolves a step title."""

from __future__ import annotations

from typing import Any

import httpx

from checkrun.runs.public import LAUNCHES_PER_HOUR
from tests.conftest import Org
from tests.support.factories import checklist, ok
from tests.web.conftest import browser_client, csrf_of, in_thread, set_password, signed_in

HOSTILE = '<img src=x onerror="alert(1)">'


def public_template(org: Org, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Request " + HOSTILE,
        "is_public_kickoff": True,
        "prerun": [{"label": "Company", "field_type": "text", "required": True}],
        **fields,
    }
    return checklist(org, steps=1, **body)


def link(org: Org, template_id: str) -> str:
    return f"/app/public/library/{org.id}/blueprint/{template_id}/kick-off"


def submit(web: httpx.Client, page: str, **data: str) -> httpx.Response:
    token = csrf_of(web.get(page).text)
    return web.post(page, data={"csrf_token": token, **data})


def runs_of(org: Org, template_id: str) -> list[dict[str, Any]]:
    runs = ok(org.api.get(org.path("/runs"), params={"per_page": 100}))
    return [r for r in runs if r["checklist_id"] == template_id]


def test_anyone_with_the_link_launches_it(org: Org) -> None:
    template = public_template(org)
    field_id = template["prerun"][0]["id"]
    web = browser_client(org.server)
    page = web.get(link(org, template["id"]))
    assert page.status_code == 200
    assert "Company" in page.text and "Request &lt;img" in page.text
    assert "<img src=x" not in page.text
    done = submit(
        web, link(org, template["id"]), email="Asker@Example.com", **{f"f_{field_id}": "Acme"}
    )
    assert done.status_code == 200, done.text
    assert "Thank you" in done.text
    (launched,) = runs_of(org, template["id"])
    # Launched as the template's owner, with the answers and who sent them.
    assert (launched["started_by"], launched["owner_id"]) == (org.admin_id, org.admin_id)
    assert launched["prerun"] == {field_id: "Acme"}
    assert "asker@example.com" in launched["summary"]


def test_refusals_are_drawn_on_the_form_and_launch_nothing(org: Org) -> None:
    template = public_template(org)
    field_id = template["prerun"][0]["id"]
    web = browser_client(org.server)
    page = link(org, template["id"])
    bad_email = submit(web, page, email="nope", **{f"f_{field_id}": "Acme"})
    assert bad_email.status_code == 422
    assert "Enter a valid email address." in bad_email.text
    assert 'value="Acme"' in bad_email.text
    missing = submit(web, page, email="a@example.com")
    assert missing.status_code == 422
    assert "Company is required" in missing.text
    assert runs_of(org, template["id"]) == []
    # Without the page's CSRF token the form is refused.
    forged = web.post(page, data={"email": "a@example.com", f"f_{field_id}": "x"})
    assert forged.status_code == 403
    assert runs_of(org, template["id"]) == []


def test_404_unless_public_live_and_of_that_organization(org: Org) -> None:
    web = browser_client(org.server)
    private = checklist(org, steps=1)
    archived = public_template(org)
    assert org.api.delete(org.path(f"/checklists/{archived['id']}")).status_code == 200
    document = public_template(org, type="document")
    for template_id in (private["id"], archived["id"], document["id"], "0" * 32):
        assert web.get(link(org, template_id)).status_code == 404
        assert web.post(link(org, template_id), data={}).status_code == 404
    other_boot = in_thread(org.server.new_org)
    theirs = public_template(org)
    wrong_org = f"/app/public/library/{other_boot.org_id}/blueprint/{theirs['id']}/kick-off"
    assert web.get(wrong_org).status_code == 404
    # Turned off again: the link stops working.
    ok(
        org.api.put(
            org.path(f"/checklists/{theirs['id']}"),
            json={"title": theirs["title"], "is_public_kickoff": False},
        )
    )
    assert web.get(link(org, theirs["id"])).status_code == 404


def test_submissions_are_counted_per_client_address(org: Org) -> None:
    template = public_template(org, prerun=[])
    web = browser_client(org.server)
    page = link(org, template["id"])
    for _ in range(LAUNCHES_PER_HOUR):
        assert submit(web, page, email="a@example.com").status_code == 200
    refused = submit(web, page, email="a@example.com")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert len(runs_of(org, template["id"])) == LAUNCHES_PER_HOUR


def test_the_template_page_shows_the_link(org: Org) -> None:
    template = public_template(org)
    private = checklist(org, steps=0)
    set_password(org.server, org.admin_email)
    web = signed_in(org.server, org.admin_email)
    shown = web.get(f"/app/templates/{template['id']}")
    assert f'href="{link(org, template["id"])}"' in shown.text
    assert "public kick-off form" not in web.get(f"/app/templates/{private['id']}").text


def test_a_guest_answer_resolves_a_later_step_title(org: Org) -> None:
    """Variables follow a value a guest fills in through their link (guests/work.py)."""
    template = checklist(org, steps=0)
    for title in ("Ask", "Ship to {{address}}"):
        ok(
            org.api.post(org.path(f"/checklists/{template['id']}/steps"), json={"title": title}),
            201,
        )
    steps = ok(org.api.get(org.path(f"/checklists/{template['id']}"), params={"with": "steps"}))
    field = ok(
        org.api.post(
            org.path(f"/checklists/{template['id']}/steps/{steps['steps'][0]['id']}/captures"),
            json={"label": "Address", "field_type": "text"},
        ),
        201,
    )
    guest = ok(org.api.post(org.path("/guests"), json={"email": "gina@example.com"}), 201)
    launched = ok(org.api.post(org.path("/runs"), json={"checklist_id": template["id"]}), 201)
    ask, ship = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks")))
    assert ship["title"] == "Ship to "
    ok(
        org.api.put(
            org.path(f"/runs/{launched['id']}/tasks/{ask['id']}"),
            json={"owners": {"guests": ["gina@example.com"]}},
        )
    )
    web = browser_client(org.server)
    page = guest["link"].removeprefix(org.server.base) + f"/tasks/{ask['id']}"
    saved = submit(web, page, action="save", **{f"f_{field['id']}": "1 Main St"})
    assert saved.status_code == 303, saved.text
    ship = ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks/{ship['id']}")))
    assert (ship["title"], ship["original_title"]) == ("Ship to 1 Main St", "Ship to {{address}}")
