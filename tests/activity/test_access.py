"""Who sees which entries: administrators everything; other members what they did and the
history of the processes and tasks they launched, own or are assigned to. Filtered, not
refused; nothing crosses organizations."""

from __future__ import annotations

from tests.activity.feed import feed
from tests.conftest import Org, new_org
from tests.support.factories import checklist, ok, one_off_task, run


def test_a_standard_member_sees_their_own_processes_and_tasks_only(org: Org) -> None:
    user_id, member = org.member("standard")
    template = checklist(org, steps=1)
    hidden_run = run(org, template["id"])
    assigned_run = run(org, template["id"])
    (task,) = ok(org.api.get(org.path(f"/runs/{assigned_run['id']}/tasks")))
    ok(
        org.api.put(
            org.path(f"/runs/{assigned_run['id']}/tasks/{task['id']}"),
            json={"owners": {"users": [user_id]}},
        )
    )
    owned_run = run(org, template["id"], owner_id=user_id)
    launched = ok(member.post(org.path("/runs"), json={"checklist_id": template["id"]}), 201)
    assigned_task = one_off_task(org, owners={"users": [user_id]})
    one_off_task(org)  # the administrator's own
    own_template = ok(
        member.post(org.path("/checklists"), json={"title": "Mine", "type": "procedure"}), 201
    )

    seen = feed(org, member)
    assert {e["run_id"] for e in seen if e["run_id"]} == {
        assigned_run["id"],
        owned_run["id"],
        launched["id"],
    }
    assert {e["task_id"] for e in seen if e["task_id"] and not e["run_id"]} == {assigned_task["id"]}
    assert {e["checklist_id"] for e in seen if not e["run_id"] and e["checklist_id"]} == {
        own_template["id"]
    }
    assigned_history = feed(org, member, entity_type="run", entity_id=assigned_run["id"])
    assert [(e["verb"], e["actor_id"]) for e in reversed(assigned_history)] == [
        (["created"], [org.admin_id]),
        (["owners-updated"], [org.admin_id]),
    ]
    # A process they have no part in: an empty feed, not a refusal.
    assert feed(org, member, entity_type="run", entity_id=hidden_run["id"]) == []
    assert feed(org, member, entity_type="checklist", entity_id=template["id"]) == []
    everything = feed(org)
    assert len(everything) > len(seen)
    assert hidden_run["id"] in {e["run_id"] for e in everything}


def test_a_light_member_sees_the_tasks_assigned_to_them(org: Org) -> None:
    user_id, light = org.member("light")
    task = one_off_task(org, owners={"users": [user_id]})
    one_off_task(org)
    seen = feed(org, light)
    assert [(e["entity_id"], e["verb"]) for e in seen] == [(task["id"], ["created"])]
    response = light.get(org.path("/activity-feeds"), params={"per_page": 1})
    assert response.json()["meta"]["pagination"]["total"] == 1


def test_nothing_crosses_organizations(org: Org) -> None:
    template = checklist(org, steps=0)
    with new_org(org.server) as other:
        one_off_task(other)
        refused = other.api.get(org.path("/activity-feeds"))
        assert refused.status_code == 403
        assert template["id"] not in refused.text
        theirs = feed(other)
        assert [e["organization_id"] for e in theirs] == [other.id]
        assert feed(other, entity_type="checklist", entity_id=template["id"]) == []
    assert [e["organization_id"] for e in feed(org)] == [org.id]


def test_the_feed_needs_a_token(org: Org) -> None:
    with org.server.client(None) as anonymous:
        assert anonymous.get(org.path("/activity-feeds")).status_code == 401
