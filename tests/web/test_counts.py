"""Counts the pages read in grouped statements: My tasks' four sections (each task in exactly
one, through groups too, archived and other members' tasks left out, `q` narrowing every
count) and the template list's steps per template."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tests.conftest import Org
from tests.support.factories import checklist, ok, one_off_task
from tests.web.conftest import member, set_password, signed_in


def _counts(html: str) -> dict[str, int]:
    found = re.findall(r'section=([a-z-]+)[^>]*>[^<]*<span class="count">(\d+)</span>', html)
    return {key: int(value) for key, value in found}


def _at(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_each_task_counts_in_one_section(org: Org) -> None:
    group = ok(
        org.api.post(org.path("/groups"), json={"name": "Team", "members": [org.admin_id]}), 201
    )
    other_id, _, _ = member(org, "standard")
    one_off_task(org, title="Late a", deadline="2020-01-01T00:00:00Z")
    one_off_task(
        org, title="Late b", deadline=_at(-1), owners={"users": [], "groups": [group["id"]]}
    )
    one_off_task(org, title="Soon a", deadline=_at(5))
    one_off_task(org, title="Later a", deadline="2099-01-01T00:00:00Z")
    one_off_task(org, title="Later b", deadline=_at(72))
    done = one_off_task(org, title="Done a")
    ok(org.api.post(org.path("/completed-tasks"), json={"task_id": done["id"]}))
    gone = one_off_task(org, title="Gone a", deadline="2020-01-01T00:00:00Z")
    ok(org.api.delete(org.path(f"/tasks/{gone['id']}")))
    one_off_task(org, title="Theirs", deadline="2020-01-01T00:00:00Z", owners={"users": [other_id]})
    set_password(org.server, org.admin_email)
    web = signed_in(org.server, org.admin_email)
    assert _counts(web.get("/app/tasks").text) == {
        "overdue": 2,
        "due-soon": 1,
        "upcoming": 2,
        "completed": 1,
    }
    assert _counts(web.get("/app/tasks", params={"q": "later"}).text) == {
        "overdue": 0,
        "due-soon": 0,
        "upcoming": 2,
        "completed": 0,
    }


def test_the_template_list_counts_each_templates_steps(org: Org) -> None:
    checklist(org, steps=0, title="Empty one")
    checklist(org, steps=1, title="Single one")
    checklist(org, steps=3, title="Triple one")
    set_password(org.server, org.admin_email)
    html = signed_in(org.server, org.admin_email).get("/app/templates").text
    found = dict(re.findall(r'>([A-Za-z]+ one)</a>\s*<span class="meta"><span>(\d+ steps?)<', html))
    assert found == {"Empty one": "0 steps", "Single one": "1 step", "Triple one": "3 steps"}
