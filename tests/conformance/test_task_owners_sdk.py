"""Task lists show assigned members as objects, a single read as ids (reference §3.2): the
SDK's typed models parse both (TaskOwners keeps what it is given)."""

from __future__ import annotations

from tallyfy import TallyfySDK
from tallyfy.models import Task, TasksList

from tests.conftest import Org
from tests.support.factories import checklist, run


def test_lists_show_member_objects_and_a_single_read_ids(sdk: TallyfySDK, org: Org) -> None:
    member_id, _ = org.member("standard")
    launched = run(org, checklist(org, steps=1)["id"])
    listed = sdk.tasks.get_tasks_for_process(org.id, process_id=launched["id"])
    assert isinstance(listed, TasksList) and len(listed.data) == 1
    (task,) = listed.data
    assert isinstance(task, Task) and task.owners is not None
    assert task.owners.users == [
        {"id": org.admin_id, "full_name": "Admin User", "profile_pic": None}
    ]
    org.api.put(
        org.path(f"/runs/{launched['id']}/tasks/{task.id}"),
        json={"owners": {"users": [member_id, org.admin_id]}},
    )
    single = sdk.tasks.get_task(org.id, launched["id"], task.id)
    assert single.owners is not None and single.owners.users == [member_id, org.admin_id]
    mine = sdk.tasks.get_my_tasks(org.id)
    assert [u["id"] for u in mine.data[0].owners.users] == [member_id, org.admin_id]
    names = {u["full_name"] for u in mine.data[0].owners.users}
    assert names == {"Admin User", "Standard Member"}
