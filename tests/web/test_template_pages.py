"""Template pages over plain HTTP (forms posted as a browser without JavaScript does): the
list and its search, editing a template, its steps and fields, errors at the field, roles,
CSRF and other organizations' ids."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.conftest import Org
from tests.support.factories import checklist, group, ok
from tests.web.conftest import csrf_of, in_thread, member, set_password, signed_in

HOSTILE = '<img src=x onerror="alert(1)">'


def admin_web(org: Org) -> httpx.Client:
    set_password(org.server, org.admin_email)
    return signed_in(org.server, org.admin_email)


def post(web: httpx.Client, page: str, action: str, **data: Any) -> httpx.Response:
    """A form on `page` posted to `action` with the page's CSRF token."""
    token = csrf_of(web.get(page).text)
    return web.post(action, data={"csrf_token": token, **data})


def outline(org: Org, template_id: str) -> dict[str, Any]:
    return ok(org.api.get(org.path(f"/checklists/{template_id}"), params={"with": "steps"}))


def test_templates_list_searches_and_pages(org: Org) -> None:
    for i in range(22):
        checklist(org, steps=0, title=f"Audit {i:02d}")
    checklist(org, steps=0, title="Hiring " + HOSTILE)
    web = admin_web(org)
    first = web.get("/app/templates")
    assert first.status_code == 200 and "Page 1 of 2" in first.text
    assert "Audit 00" in first.text and "Audit 21" not in first.text
    second = web.get("/app/templates", params={"p": "2"})
    assert "Audit 21" in second.text and "Page 2 of 2" in second.text
    found = web.get("/app/templates", params={"q": "hiring"})
    assert "Audit" not in found.text and "Hiring &lt;img" in found.text
    assert "<img src=x" not in found.text
    # A page past the end shows the last one, a bad number the first.
    assert web.get("/app/templates", params={"p": "99"}).status_code == 200
    assert "Page 1 of 2" in web.get("/app/templates", params={"p": "x"}).text


def test_admin_builds_a_template_without_javascript(org: Org) -> None:
    web = admin_web(org)
    made = post(
        web, "/app/templates", "/app/templates", title="Onboard " + HOSTILE, summary="New hires"
    )
    assert made.status_code == 303
    base = made.headers["location"].split("?")[0]
    template_id = base.rsplit("/", 1)[1]
    page = web.get(base)
    assert page.status_code == 200 and "Onboard &lt;img" in page.text
    assert f'href="/app/launch/{template_id}"' in page.text
    for title in ("Paperwork", "Laptop", "Welcome lunch"):
        assert post(web, base, base + "/steps", title=title).status_code == 303
    steps = outline(org, template_id)["steps"]
    lunch, laptop = steps[2]["id"], steps[1]["id"]
    assert post(web, base, f"{base}/steps/{lunch}/move", direction="up").status_code == 303
    assert post(web, base, f"{base}/steps/{lunch}/move", direction="up").status_code == 303
    # Already first: stays first.
    assert post(web, base, f"{base}/steps/{lunch}/move", direction="up").status_code == 303
    assert post(web, base, f"{base}/steps/{laptop}/remove").status_code == 303
    assert [s["title"] for s in outline(org, template_id)["steps"]] == [
        "Welcome lunch",
        "Paperwork",
    ]
    # The service's refusal shows on the page, and the step stays.
    paperwork = outline(org, template_id)["steps"][1]["id"]
    ok(
        org.api.put(
            org.path(f"/checklists/{template_id}/steps/{paperwork}"),
            json={"title": "Paperwork", "deadline": {"value": 1, "unit": "days", "step": lunch}},
        )
    )
    refused = post(web, base, f"{base}/steps/{lunch}/remove")
    assert refused.status_code == 422 and "relative to this step" in refused.text
    assert len(outline(org, template_id)["steps"]) == 2
    assert "1 days after step “Welcome lunch”" in web.get(base).text
    saved = post(web, base, base, title="Onboarding", summary="For every new hire")
    assert saved.status_code == 303
    read = outline(org, template_id)
    assert (read["title"], read["summary"]) == ("Onboarding", "For every new hire")


def test_step_assignees_deadline_and_fields(org: Org) -> None:
    team = group(org, "Facilities")
    standard_id, _, _ = member(org, "standard")
    template = checklist(org, steps=1)
    step_id = outline(org, template["id"])["steps"][0]["id"]
    # Settings the page doesn't show survive its edits (the API's PUT would reset them).
    ok(
        org.api.put(
            org.path(f"/checklists/{template['id']}/steps/{step_id}"),
            json={"title": "Step 1", "step_type": "approval", "guests": ["vendor@example.com"]},
        )
    )
    web = admin_web(org)
    url = f"/app/templates/{template['id']}/steps/{step_id}"
    page = web.get(url)
    assert page.status_code == 200 and "Facilities" in page.text
    token = csrf_of(page.text)
    saved = web.post(
        url,
        data={
            "csrf_token": token,
            "title": "Order a desk",
            "deadline_value": "3",
            "deadline_unit": "days",
            "assignees": [str(standard_id), str(org.admin_id)],
            "groups": team,
        },
    )
    assert saved.status_code == 303, saved.text
    step = ok(org.api.get(org.path(f"/checklists/{template['id']}/steps/{step_id}")))
    assert step["title"] == "Order a desk"
    assert step["deadline"]["value"] == 3 and step["deadline"]["unit"] == "days"
    assert sorted(step["assignees"]) == sorted([standard_id, org.admin_id])
    assert step["groups"] == [team]
    assert step["step_type"] == "approval" and step["guests"] == ["vendor@example.com"]
    # A bad deadline is refused at its control, with what was typed kept, and nothing saved.
    bad = web.post(
        url,
        data={
            "csrf_token": token,
            "title": "Renamed",
            "deadline_value": "soon",
            "deadline_unit": "days",
        },
    )
    assert bad.status_code == 422
    assert re.search(r'id="step-deadline-error">[^<]*must be a number', bad.text)
    assert 'value="soon"' in bad.text and 'value="Renamed"' in bad.text
    assert (
        ok(org.api.get(org.path(f"/checklists/{template['id']}/steps/{step_id}")))["title"]
        == "Order a desk"
    )
    # Fields: a dropdown without options is refused at the options control.
    refused = web.post(
        url + "/fields", data={"csrf_token": token, "label": "Size", "field_type": "dropdown"}
    )
    assert refused.status_code == 422
    assert re.search(r'id="nf-options-error">[^<]*needs options', refused.text)
    added = web.post(
        url + "/fields",
        data={
            "csrf_token": token,
            "label": "Size",
            "field_type": "dropdown",
            "required": "on",
            "options": "Small\nLarge",
        },
    )
    assert added.status_code == 303
    (field,) = ok(org.api.get(org.path(f"/checklists/{template['id']}/steps/{step_id}")))[
        "captures"
    ]
    assert field["required"] is True and [o["text"] for o in field["options"]] == ["Small", "Large"]
    edited = web.post(
        f"{url}/fields/{field['id']}",
        data={
            "csrf_token": token,
            "label": "Desk size",
            "field_type": "dropdown",
            "options": "Large\nStanding",
        },
    )
    assert edited.status_code == 303
    (after,) = ok(org.api.get(org.path(f"/checklists/{template['id']}/steps/{step_id}")))[
        "captures"
    ]
    # "Large" keeps its id: values already given still point at it.
    large = next(o for o in field["options"] if o["text"] == "Large")["id"]
    assert after["label"] == "Desk size" and after["required"] is False
    assert [(o["id"], o["text"]) for o in after["options"]][0] == (large, "Large")
    table = web.post(
        url + "/fields",
        data={
            "csrf_token": token,
            "label": "Inventory",
            "field_type": "table",
            "columns": "Item\nCount",
        },
    )
    assert table.status_code == 303
    removed = web.post(f"{url}/fields/{field['id']}/remove", data={"csrf_token": token})
    assert removed.status_code == 303
    left = ok(org.api.get(org.path(f"/checklists/{template['id']}/steps/{step_id}")))["captures"]
    assert [(c["label"], [col["label"] for col in c["columns"]]) for c in left] == [
        ("Inventory", ["Item", "Count"])
    ]


def test_kickoff_fields_are_added_edited_and_removed(org: Org) -> None:
    template = checklist(org, steps=0)
    web = admin_web(org)
    base = f"/app/templates/{template['id']}"
    token = csrf_of(web.get(base).text)
    empty = web.post(
        base + "/kickoff", data={"csrf_token": token, "label": "", "field_type": "text"}
    )
    assert empty.status_code == 422 and 'id="ko-label-error"' in empty.text
    assert (
        web.post(
            base + "/kickoff",
            data={"csrf_token": token, "label": "Start date", "field_type": "date"},
        ).status_code
        == 303
    )
    (field,) = outline(org, template["id"])["prerun"]
    page = web.get(f"{base}/kickoff/{field['id']}")
    assert page.status_code == 200 and 'value="Start date"' in page.text
    assert (
        web.post(
            f"{base}/kickoff/{field['id']}",
            data={
                "csrf_token": token,
                "label": "First day",
                "field_type": "date",
                "required": "on",
            },
        ).status_code
        == 303
    )
    (edited,) = outline(org, template["id"])["prerun"]
    assert (edited["id"], edited["label"], edited["required"]) == (field["id"], "First day", True)
    assert (
        web.post(f"{base}/kickoff/{field['id']}/remove", data={"csrf_token": token}).status_code
        == 303
    )
    assert outline(org, template["id"])["prerun"] == []


def test_light_member_reads_but_cannot_edit(org: Org) -> None:
    template = checklist(org, steps=1)
    step_id = outline(org, template["id"])["steps"][0]["id"]
    _, email, _ = member(org, "light")
    web = signed_in(org.server, email)
    base = f"/app/templates/{template['id']}"
    page = web.get(base)
    assert page.status_code == 200 and "Step 1" in page.text
    for control in (
        "Add step",
        "Move down",
        "Remove",
        "Edit title",
        "Launch",
        "Add a kick-off field",
    ):
        assert control not in page.text
    assert "New template" not in web.get("/app/templates").text
    assert web.get(f"{base}/steps/{step_id}").status_code == 403
    token = csrf_of(page.text)
    forged = [
        (base + "/steps", {"title": "Sneaky"}),
        (base, {"title": "Renamed"}),
        (f"{base}/steps/{step_id}/remove", {}),
        ("/app/templates", {"title": "Mine"}),
        (f"{base}/steps/{step_id}", {"title": "Renamed"}),
        (base + "/kickoff", {"label": "X", "field_type": "text"}),
    ]
    for action, data in forged:
        assert web.post(action, data={"csrf_token": token, **data}).status_code == 403, action
    read = outline(org, template["id"])
    assert read["title"] == "Onboarding" and [s["title"] for s in read["steps"]] == ["Step 1"]


def test_other_organizations_ids_are_404_and_forms_need_csrf(org: Org) -> None:
    other = in_thread(org.server.new_org)
    with org.server.client(other.token) as api:
        theirs = ok(
            api.post(
                f"/organizations/{other.org_id}/checklists",
                json={"title": "Secret", "type": "procedure"},
            ),
            201,
        )
        step = ok(
            api.post(
                f"/organizations/{other.org_id}/checklists/{theirs['id']}/steps",
                json={"title": "Hidden"},
            ),
            201,
        )
    web = admin_web(org)
    base = f"/app/templates/{theirs['id']}"
    for path in (base, f"{base}/steps/{step['id']}", f"{base}/kickoff/{'0' * 32}"):
        answer = web.get(path)
        assert answer.status_code == 404 and "Secret" not in answer.text, path
    token = csrf_of(web.get("/app/templates").text)
    assert web.post(base + "/steps", data={"csrf_token": token, "title": "X"}).status_code == 404
    mine = checklist(org, steps=0)
    no_token = web.post(f"/app/templates/{mine['id']}/steps", data={"title": "X"})
    assert no_token.status_code == 403 and "Form refused" in no_token.text
    assert outline(org, mine["id"])["steps"] == []
