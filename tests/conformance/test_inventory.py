"""The inventory: every public method of every SDK manager is driven by a conformance test, or is
listed here as sending no request. A new SDK release with a new method fails this test until
someone writes its conformance test."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from tallyfy import TallyfySDK

MANAGERS = (
    "users",
    "tasks",
    "templates",
    "form_fields",
    "organizations",
    "threads",
    "groups",
    "tags",
    "folders",
    "searches",
    "files",
)

# Methods that never touch the network: nothing for a server to conform to. They are still
# called in the tests (test_members_sdk.py), but the inventory does not require it.
LOCAL_ONLY = {
    ("users", "get_invitation_template_message"),
    ("users", "validate_invitation_data"),
}

HERE = Path(__file__).parent


def public_methods() -> set[tuple[str, str]]:
    """(manager, method) for every public bound method, found by introspection."""
    sdk = TallyfySDK(api_key="inventory")
    try:
        found = set()
        for name in MANAGERS:
            manager = getattr(sdk, name)
            for attr in dir(manager):
                if not attr.startswith("_") and inspect.ismethod(getattr(manager, attr)):
                    found.add((name, attr))
        return found
    finally:
        sdk.close()


def exercised() -> set[tuple[str, str]]:
    """(manager, method) for every `<anything>.<manager>.<method>(...)` call in a test file."""
    calls = set()
    for path in HERE.glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            owner = node.func.value
            if isinstance(owner, ast.Attribute) and owner.attr in MANAGERS:
                calls.add((owner.attr, node.func.attr))
    return calls


def test_the_sdk_is_the_version_these_tests_were_written_for() -> None:
    import tallyfy

    assert tallyfy.__version__ == "3.1.0"
    assert len(public_methods()) == 129


def test_every_public_method_is_exercised_or_listed_as_local() -> None:
    missing = sorted(public_methods() - exercised() - LOCAL_ONLY)
    assert missing == [], f"SDK methods no conformance test calls: {missing}"


def test_the_inventory_names_only_real_methods() -> None:
    methods = public_methods()
    assert LOCAL_ONLY <= methods
    strays = sorted(exercised() - methods)
    assert strays == [], f"tests call methods the SDK does not have: {strays}"
