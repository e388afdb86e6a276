"""Template-level threads: comments, issues and their resolution on `/checklists/{id}`, with
the task and process threads' rules (author or admin edits, workflow labels), kept apart from
every process's threads, and another organization's template answering 404."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from checkrun.kit.events import Event
from tests.comments.test_routes import NOT_FOUND, refused
from tests.conftest import LiveServer, Org, new_org
from tests.support.factories import checklist, ok, run


def template_path(org: Org) -> str:
    return org.path(f"/checklists/{checklist(org, steps=1)['id']}")


def threads(org: Org, path: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ok(org.api.get(path + "/threads"))
    return found


def test_comment_edit_and_delete_on_a_template(org: Org, emitted: list[Event]) -> None:
    path = template_path(org)
    made = ok(org.api.post(path + "/comment", json={"content": "Step 1 is unclear"}), 201)
    assert (made["label"], made["state"], made["task_id"], made["run_id"]) == (
        "comment",
        "hide-for-guests",
        None,
        None,
    )
    assert [t["id"] for t in threads(org, path)] == [made["id"]]
    edited = ok(org.api.put(f"{path}/comment/{made['id']}", json={"content": "Fixed wording"}))
    assert edited["content"] == "Fixed wording"

    _, standard = org.member("standard")
    theirs = standard.put(f"{path}/comment/{made['id']}", json={"content": "Mine now"})
    refused(theirs, 403)
    assert standard.delete(f"{path}/comment/{made['id']}").status_code == 403
    assert org.api.delete(f"{path}/comment/{made['id']}").status_code == 204
    assert threads(org, path) == []
    verbs = [
        e.verb for e in emitted if e.type == "Comment" and e.checklist_id == path.rsplit("/", 1)[1]
    ]
    assert verbs == ["commented", "updated", "comment-deleted"]


def test_template_threads_stay_apart_from_process_threads(org: Org) -> None:
    template = checklist(org, steps=1)
    path = org.path(f"/checklists/{template['id']}")
    launched = run(org, template["id"])
    on_run = ok(
        org.api.post(org.path(f"/runs/{launched['id']}/comment"), json={"content": "Run"}), 201
    )
    on_template = ok(org.api.post(path + "/comment", json={"content": "Template"}), 201)
    assert [t["id"] for t in threads(org, path)] == [on_template["id"]]
    run_threads = ok(org.api.get(org.path(f"/runs/{launched['id']}"), params={"with": "threads"}))
    assert [t["id"] for t in run_threads["threads"]["data"]] == [on_run["id"]]
    # Neither thread can be edited through the other's path.
    other = org.api.put(f"{path}/comment/{on_run['id']}", json={"content": "x"})
    assert refused(other, 404) == NOT_FOUND
    crossed = org.api.put(
        org.path(f"/runs/{launched['id']}/comment/{on_template['id']}"), json={"content": "x"}
    )
    refused(crossed, 404)


def test_issue_on_a_template_and_its_resolution(org: Org) -> None:
    path = template_path(org)
    issue = ok(org.api.post(path + "/problem", json={"content": "Outdated policy"}), 201)
    assert issue["label"] == "problem"
    resolved = ok(
        org.api.post(path + "/resolved-threads", json={"thread_id": issue["id"], "content": "Done"})
    )
    assert (resolved["label"], resolved["resolve_id"]) == ("resolve", issue["id"])
    again = org.api.post(path + "/resolved-threads", json={"thread_id": issue["id"]})
    assert "already resolved" in refused(again, 422)["message"]
    found = {t["id"]: t for t in threads(org, path)}
    assert found[issue["id"]]["resolve_id"] == resolved["id"]
    assert refused(org.api.post(path + "/resolved-threads", json={}), 422)
    labelled = ok(org.api.post(path + "/comment", json={"content": "x", "label": "problem"}), 201)
    assert labelled["label"] == "problem"


def test_concurrent_resolutions_resolve_once(org: Org) -> None:
    path = template_path(org)
    issue = ok(org.api.post(path + "/problem", json={"content": "Race"}), 201)
    body = {"thread_id": issue["id"], "content": "Mine"}
    with ThreadPoolExecutor(4) as pool:
        answers = list(
            pool.map(lambda _: org.api.post(path + "/resolved-threads", json=body), range(4))
        )
    assert sorted(a.status_code for a in answers) == [200, 422, 422, 422]
    assert [t["label"] for t in threads(org, path)].count("resolve") == 1


def test_another_orgs_or_an_archived_template_is_not_found(org: Org, server: LiveServer) -> None:
    path = template_path(org)
    ok(org.api.post(path + "/comment", json={"content": "Ours"}), 201)
    with new_org(server) as other:
        theirs = path.replace(org.id, other.id)
        refused(other.api.post(theirs + "/comment", json={"content": "x"}), 404)
        refused(other.api.get(theirs + "/threads"), 404)
        refused(other.api.post(theirs + "/problem", json={"content": "x"}), 404)
    assert org.api.delete(path).status_code == 200
    refused(org.api.post(path + "/comment", json={"content": "x"}), 404)
    ok(org.api.put(path + "/restore"))
    assert [t["content"] for t in threads(org, path)] == ["Ours"]
