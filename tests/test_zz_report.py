from tests.test_statements import *  # noqa
from tests.test_statements import World
from tests.snapshots.reads import RUN_INCLUDES, TASK_INCLUDES


def test_table(world: World) -> None:
    base = world.statements(f"/runs/{world.big}")
    print(
        "\nrun base",
        base,
        {i: world.statements(f"/runs/{world.big}", **{"with": i}) - base for i in RUN_INCLUDES},
    )
    base = world.statements("/tasks", per_page=20)
    print(
        "tasks base",
        base,
        {i: world.statements("/tasks", per_page=20, **{"with": i}) - base for i in TASK_INCLUDES},
    )
    print("run with=tasks", world.statements(f"/runs/{world.big}", **{"with": "tasks"}))
    print("runs with=tasks", world.statements("/runs", **{"with": "tasks"}))
    print("me/tasks", world.statements("/me/tasks"))
    print("org tasks", world.statements("/tasks"))
