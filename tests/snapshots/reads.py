"""Every read of the scenario's world, one function per resource (the name of its snapshot)."""

from __future__ import annotations

from collections.abc import Callable

from tests.snapshots.scenario import UNKNOWN, World

TASK_INCLUDES = (
    "form_fields",
    "run",
    "step",
    "tags",
    "folders",
    "threads",
    "comments",
    "issues",
    "threads_count",
)
RUN_INCLUDES = (
    "checklist",
    "tasks",
    "next_task",
    "form_fields",
    "assets",
    "tags",
    "folders",
    "threads",
    "tasks.threads",
    "tasks.form_fields",
)
CHECKLIST_INCLUDES = ("steps", "tags", "folder")
MEMBER_INCLUDES = (
    "groups",
    "stats",
    "organizations",
    "preferences",
    "assets",
    "member_watchers",
    "guest_watchers",
    "auth_methods",
    "country",
)


def organization(w: World) -> None:
    w.read("organization", "get", w.path(""))
    w.read("organization", "me", "/me")
    w.read("organization", "org_me", w.path("/me"))
    w.read("organization", "me_organizations", "/me/organizations")


def member(w: World) -> None:
    standard = w.made["standard_id"]
    w.read("member", "list", w.path("/users"))
    w.read(
        "member", "list_all_includes", w.path("/users"), params={"with": ",".join(MEMBER_INCLUDES)}
    )
    w.read("member", "users_list", w.path("/users-list"))
    w.read("member", "get", w.path(f"/users/{standard}"))
    for name in MEMBER_INCLUDES:
        w.read("member", f"get_with_{name}", w.path(f"/users/{standard}"), params={"with": name})


def guest(w: World) -> None:
    email = w.made["guest"]["email"]
    w.read("guest", "list", w.path("/guests"))
    w.read("guest", "list_with_stats", w.path("/guests"), params={"with": "stats"})
    w.read("guest", "guests_list", w.path("/guests-list"))
    w.read("guest", "get", w.path(f"/guests/{email}"))
    w.read("guest", "get_with_stats", w.path(f"/guests/{email}"), params={"with": "stats"})


def group(w: World) -> None:
    group_id = w.made["group_id"]
    w.read("group", "list", w.path("/groups"))
    w.read("group", "get", w.path(f"/groups/{group_id}"))
    for name in ("users", "assets", "users,assets"):
        w.read("group", f"get_with_{name}", w.path(f"/groups/{group_id}"), params={"with": name})


def tag(w: World) -> None:
    w.read("tag", "list", w.path("/tags"))
    w.read("tag", "list_with_statistics", w.path("/tags"), params={"with": "statistics"})
    w.read("tag", "get", w.path(f"/tags/{w.made['tag_id']}"))
    w.read(
        "tag",
        "get_with_statistics",
        w.path(f"/tags/{w.made['tag_id']}"),
        params={"with": "statistics"},
    )


def folder(w: World) -> None:
    w.read("folder", "list", w.path("/folders"))
    w.read("folder", "list_run_folders", w.path("/folders"), params={"folder_type": "run"})
    w.read("folder", "list_with_children", w.path("/folders"), params={"with": "children"})
    w.read("folder", "get", w.path(f"/folders/{w.made['folder_id']}"))
    w.read(
        "folder",
        "get_with_children",
        w.path(f"/folders/{w.made['folder_id']}"),
        params={"with": "children"},
    )


def checklist(w: World) -> None:
    one = w.path(f"/checklists/{w.made['template_id']}")
    w.read("checklist", "list", w.path("/checklists"))
    w.read(
        "checklist",
        "list_all_includes",
        w.path("/checklists"),
        params={"with": ",".join(CHECKLIST_INCLUDES)},
    )
    w.read("checklist", "get", one)
    for name in CHECKLIST_INCLUDES:
        w.read("checklist", f"get_with_{name}", one, params={"with": name})
    w.read("checklist", "form_fields", one + "/form-fields")


def step(w: World) -> None:
    base = f"/checklists/{w.made['template_id']}/steps"
    w.read("step", "list", w.path(base))
    w.read("step", "get", w.path(f"{base}/{w.made['steps'][0]}"))
    w.read("step", "get_second", w.path(f"{base}/{w.made['steps'][1]}"))


def capture(w: World) -> None:
    base = f"/checklists/{w.made['template_id']}/steps/{w.made['steps'][0]}/captures"
    for i, capture_id in enumerate(w.made["captures"]):
        w.read("capture", f"get_{i + 1}", w.path(f"{base}/{capture_id}"))


def run(w: World) -> None:
    one = w.path(f"/runs/{w.made['run_id']}")
    w.read("run", "list", w.path("/runs"))
    w.read("run", "list_all_includes", w.path("/runs"), params={"with": ",".join(RUN_INCLUDES)})
    w.read("run", "get", one)
    for name in RUN_INCLUDES:
        w.read("run", f"get_with_{name}", one, params={"with": name})
    w.read("run", "form_fields", one + "/form-fields")


def task(w: World) -> None:
    run_id, (first, second) = w.made["run_id"], w.made["tasks"]
    lists = {
        "run_tasks": f"/runs/{run_id}/tasks",
        "org_tasks": "/tasks",
        "me_tasks": "/me/tasks",
        "member_tasks": f"/users/{w.made['standard_id']}/tasks",
    }
    for label, suffix in lists.items():
        # The default order (newest first) ties between the tasks of one launch and falls back
        # to their random ids; deadlines differ.
        sort = {} if label == "run_tasks" else {"sort": "deadline"}
        w.read("task", label, w.path(suffix), params=sort)
        w.read(
            "task",
            f"{label}_all_includes",
            w.path(suffix),
            params={"with": ",".join(TASK_INCLUDES), **sort},
        )
    sam = w.made["standard"]
    w.read(
        "task", "me_tasks_of_a_member", w.path("/me/tasks"), client=sam, params={"sort": "deadline"}
    )
    w.read("task", "get_process_task", w.path(f"/tasks/{second}"))
    w.read("task", "get_run_task", w.path(f"/runs/{run_id}/tasks/{first}"))
    w.read("task", "get_one_off", w.path(f"/tasks/{w.made['one_off']}"))
    for name in TASK_INCLUDES:
        w.read("task", f"get_with_{name}", w.path(f"/tasks/{second}"), params={"with": name})
        w.read(
            "task",
            f"get_one_off_with_{name}",
            w.path(f"/tasks/{w.made['one_off']}"),
            params={"with": name},
        )
    w.read("task", "guest_tasks", w.path(f"/guests/{w.made['guest_code']}/tasks"))


def asset(w: World) -> None:
    w.read("asset", "metadata", w.path(f"/assets/{w.made['asset']}"))


def comment(w: World) -> None:
    """Threads are read through their task and run includes; the writes answer them too."""
    second = w.made["tasks"][1]
    w.read("comment", "task_threads", w.path(f"/tasks/{second}"), params={"with": "threads"})
    w.read(
        "comment",
        "run_threads",
        w.path(f"/runs/{w.made['run_id']}"),
        params={"with": "threads,tasks.threads"},
    )


def issue(w: World) -> None:
    second = w.made["tasks"][1]
    w.read("issue", "task_issues", w.path(f"/tasks/{second}"), params={"with": "issues"})


def activity(w: World) -> None:
    w.read("activity", "feed", w.path("/activity-feeds"), params={"per_page": 100})
    w.read(
        "activity",
        "feed_of_run",
        w.path("/activity-feeds"),
        params={"entity_type": "run", "entity_id": w.made["run_id"]},
    )


def watcher(w: World) -> None:
    w.read("watcher", "list", w.path("/watchers"), params={"notification": "webhook"})


def search(w: World) -> None:
    for on, text in (("blueprint", "onboarding"), ("process", "onboarding"), ("task", "customer")):
        w.read("search", f"on_{on}", w.path("/search"), params={"search": text, "on": on})
    w.read("search", "everything", w.path("/search"), params={"search": "customer"})


def deadline(w: World) -> None:
    run_id, second = w.made["run_id"], w.made["tasks"][1]
    w.read("deadline", "automatic", w.path(f"/runs/{run_id}/tasks/{second}/automatic-deadline"))


def pagination(w: World) -> None:
    for label, suffix in (
        ("runs", "/runs"),
        ("tasks", "/tasks"),
        ("checklists", "/checklists"),
        ("members", "/users"),
        ("tags", "/tags"),
    ):
        sort = {"sort": "deadline"} if label == "tasks" else {}
        w.read(
            "pagination",
            f"{label}_page_2",
            w.path(suffix),
            params={"per_page": 1, "page": 2, **sort},
        )


def errors(w: World) -> None:
    light = w.made["light"]
    w.read("errors", "404_run", w.path(f"/runs/{UNKNOWN}"))
    w.read("errors", "404_task", w.path(f"/tasks/{UNKNOWN}"))
    w.read("errors", "404_checklist", w.path(f"/checklists/{UNKNOWN}"))
    w.read("errors", "404_org", f"/organizations/{UNKNOWN}")
    w.read("errors", "422_launch", w.path("/runs"), method="POST", json={})
    w.read("errors", "422_tag", w.path("/tags"), method="POST", json={"title": ""})
    w.read(
        "errors",
        "422_task_deadline",
        w.path(f"/tasks/{w.made['one_off']}"),
        method="PUT",
        json={"deadline": "not a date"},
    )
    # Not an error: a page size that is not a number falls back to the default.
    w.read("errors", "200_per_page_not_a_number", w.path("/tags"), params={"per_page": "many"})
    with w.server.client(None) as anonymous:
        w.read("errors", "401_no_token", w.path("/runs"), client=anonymous)
    with w.server.client("ckr_not-a-token") as forged:
        w.read("errors", "401_bad_token", w.path("/runs"), client=forged)
    w.read(
        "errors",
        "403_light_creates_template",
        w.path("/checklists"),
        client=light,
        method="POST",
        json={"title": "Nope", "type": "procedure"},
    )
    w.read(
        "errors",
        "403_light_invites",
        w.path("/users/invite"),
        client=light,
        method="POST",
        json={"email": "nobody@example.com", "first_name": "No", "last_name": "Body"},
    )


def custom_field(w: World) -> None:
    run_id, (first, _) = w.made["run_id"], w.made["tasks"]
    key = w.made["custom_field_key"]
    w.read("custom_field", "list_keys", w.path("/custom-field-keys"))
    w.read("custom_field", "get_key", w.path(f"/custom-field-keys/{key}"))
    w.read("custom_field", "run_values", w.path(f"/runs/{run_id}/custom-fields"))
    w.read("custom_field", "task_values", w.path(f"/runs/{run_id}/tasks/{first}/custom-fields"))
    w.read(
        "custom_field",
        "422_required",
        w.path(f"/runs/{run_id}/custom-fields"),
        method="PUT",
        json={"custom_fields": {}},
    )


def launch(w: World) -> None:
    """Last: it makes what it reads (one task per assignee in a shell run), so the reads
    before it see the organization as the scenario built it."""
    first = w.write(
        "POST",
        "/tasks",
        201,
        pin=("launch", "separate_task_for_each_assignee"),
        json={
            "title": "Sign the handbook",
            "task_type": "task",
            "owners": {"users": [w.made["standard_id"]], "guests": ["gus.guest@example.com"]},
            "deadline": "2026-12-12T12:00:00Z",
            "separate_task_for_each_assignee": True,
        },
    )
    w.read("launch", "shell_run", w.path(f"/runs/{first['run_id']}"))
    w.read("launch", "shell_run_tasks", w.path(f"/runs/{first['run_id']}/tasks"))


READS: dict[str, Callable[[World], None]] = {
    f.__name__: f
    for f in (
        organization,
        member,
        guest,
        group,
        tag,
        folder,
        checklist,
        step,
        capture,
        run,
        task,
        asset,
        comment,
        issue,
        activity,
        watcher,
        search,
        deadline,
        pagination,
        errors,
        custom_field,
        launch,
    )
}
