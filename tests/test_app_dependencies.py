"""Dependencies point one way: accounts <- teams <- projects <- runs <- artifacts <- sweeps <-
alerts <- reports <- home <- api. An app's code (its tests aside) never imports an app that
depends on it."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ORDER = [
    "accounts",
    "teams",
    "projects",
    "runs",
    "artifacts",
    "sweeps",
    "alerts",
    "reports",
    "home",
    "api",
]


def imported_apps(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return {name.split(".")[0] for name in names}


@pytest.mark.parametrize("app", ORDER)
def test_an_app_imports_no_app_above_it(app):
    above = set(ORDER[ORDER.index(app) + 1 :])
    found = {
        str(path.relative_to(ROOT)): sorted(imported_apps(path) & above)
        for path in (ROOT / app).rglob("*.py")
        if "tests" not in path.relative_to(ROOT).parts
    }
    assert {path: apps for path, apps in found.items() if apps} == {}
