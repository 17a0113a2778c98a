"""The package's layout, as the design fixes it: three rooms (a reading core, ``training/`` and
``app/``) whose imports point one way, no import cycles, short typed functions, and a test module
for every module, in the tests' matching room."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from digitpad import REPO_DIR

PACKAGE = REPO_DIR / "digitpad"
WINGS = ("training", "app")
MAX_LINES = 60


def dotted(path: Path) -> str:
    """digitpad/app/page.py -> "app.page"; digitpad/reading.py -> "reading"."""
    return ".".join(path.relative_to(PACKAGE).with_suffix("").parts)


MODULES = sorted(dotted(p) for p in PACKAGE.rglob("*.py") if p.stem != "__init__")


def room(module: str) -> str:
    """ "training", "app", or "core"."""
    first = module.split(".")[0]
    return first if first in WINGS else "core"


def tree(module: str) -> ast.Module:
    return ast.parse((PACKAGE / (module.replace(".", "/") + ".py")).read_text())


def imports(module: str) -> set[str]:
    """The digitpad modules (and wing packages) ``module`` imports, at the top or inside a
    function, as dotted names under digitpad."""
    found = set()
    for node in ast.walk(tree(module)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("digitpad"):
            base = node.module.removeprefix("digitpad").lstrip(".")
            for alias in node.names:
                name = f"{base}.{alias.name}" if base else alias.name
                found.add(name if name in MODULES or name in WINGS else base or alias.name)
        elif isinstance(node, ast.Import):
            found |= {
                a.name.removeprefix("digitpad.")
                for a in node.names
                if a.name.startswith("digitpad.")
            }
    return {name for name in found if name in MODULES or name in WINGS} - {module}


def test_the_rooms_are_found():
    rooms = {room(module) for module in MODULES}
    assert rooms == {"core", "training", "app"}
    assert "reading" in MODULES and "training.train" in MODULES and "app.page" in MODULES


def test_no_module_imports_in_a_cycle():
    graph = {module: imports(module) & set(MODULES) for module in MODULES}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(
            n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph[start]
        )

    cycles = [module for module in MODULES if reaches(module, module, {module})]
    assert cycles == []


@pytest.mark.parametrize("module", MODULES)
def test_imports_point_from_the_wings_to_the_core_only(module):
    """The core imports neither wing; a wing imports the core and itself, never the other."""
    allowed = {"core"} if room(module) == "core" else {"core", room(module)}
    foreign = sorted(name for name in imports(module) if room(name) not in allowed)
    assert foreign == []


def test_the_layout_rule_catches_a_core_module_importing_a_wing(tmp_path, monkeypatch):
    """The rule above can fail: a core module that imports the app is caught."""
    source = "from digitpad.app import page\nfrom digitpad.training.train import train\n"
    monkeypatch.setitem(globals(), "tree", lambda module: ast.parse(source))
    assert {room(name) for name in imports("reading")} == {"app", "training"}


def functions(module: str):
    for node in ast.walk(tree(module)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


@pytest.mark.parametrize("module", MODULES)
def test_functions_fit_on_a_screen(module):
    long = [
        f"{f.name} ({f.end_lineno - f.lineno + 1} lines)"
        for f in functions(module)
        if f.end_lineno - f.lineno + 1 > MAX_LINES
    ]
    assert long == []


@pytest.mark.parametrize("module", MODULES)
def test_public_functions_are_typed(module):
    untyped = []
    for node in tree(module).body:
        defs = (
            [node]
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            else (
                [n for n in node.body if isinstance(n, ast.FunctionDef)]
                if isinstance(node, ast.ClassDef)
                else []
            )
        )
        for f in defs:
            if f.name.startswith("_") and f.name != "__init__":
                continue
            arguments = [a for a in f.args.args + f.args.kwonlyargs if a.arg not in ("self", "cls")]
            if f.returns is None or any(a.annotation is None for a in arguments):
                untyped.append(f.name)
    assert untyped == []


def test_every_module_has_its_test_module_in_the_matching_room():
    """digitpad/reading.py -> tests/test_reading.py; digitpad/app/page.py ->
    tests/app/test_page.py; digitpad/training/train.py -> tests/training/test_train.py."""
    missing = []
    for module in MODULES:
        *folders, name = module.split(".")
        if not (REPO_DIR / "tests" / Path(*folders) / f"test_{name}.py").is_file():
            missing.append(module)
    assert missing == []


def test_tests_import_without_editing_sys_path():
    edits = [
        p.name
        for p in (REPO_DIR / "tests").rglob("*.py")
        if p.name != Path(__file__).name and "sys.path." in p.read_text()
    ]
    assert edits == []
