"""A plain `pip install .` must be able to run the server: every third-party module the code
imports comes from a distribution that checkrun requires without an extra (the test extra
installs more, so the suite alone would not notice a missing one)."""

from __future__ import annotations

import ast
import sys
from importlib.metadata import packages_distributions, requires
from pathlib import Path

from packaging.requirements import Requirement

SRC = Path(__file__).resolve().parents[1] / "src" / "checkrun"
# Installed with a required distribution rather than named in pyproject.toml.
INDIRECT = {
    "starlette": "fastapi",
    "anyio": "starlette",
    "botocore": "boto3",
    "python_multipart": "python-multipart",
    "multipart": "python-multipart",
}


def _imported_top_level_modules() -> set[str]:
    names: set[str] = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n != "checkrun" and n not in sys.stdlib_module_names}


def _required_without_extras() -> set[str]:
    required = set()
    for line in requires("checkrun") or []:
        req = Requirement(line)
        if req.marker is None or "extra" not in str(req.marker):
            required.add(req.name.lower().replace("_", "-"))
    return required


def test_every_imported_package_is_a_runtime_dependency() -> None:
    providers = packages_distributions()
    required = _required_without_extras()
    missing = []
    for module in sorted(_imported_top_level_modules()):
        dists = {d.lower().replace("_", "-") for d in providers.get(module, [module])}
        if not dists & required and module not in INDIRECT:
            missing.append(f"{module} (from {', '.join(sorted(dists))})")
    assert missing == []
