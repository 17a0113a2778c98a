"""The package's layout, as the design fixes it: one module per concern, no import cycles, the
trainer apart from the app, short typed functions, and a test module for every module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from digitpad import REPO_DIR

PACKAGE = REPO_DIR / "digitpad"
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")
TRAINER = {"train", "finetune", "report", "augment", "model", "outliers"}
APP = {"app", "handlers", "sessions", "guard", "predictor", "predict", "collect"}
MAX_LINES = 60


def tree(module: str) -> ast.Module:
    return ast.parse((PACKAGE / f"{module}.py").read_text())


def imports(module: str) -> set[str]:
    """The digitpad modules ``module`` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(tree(module)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("digitpad"):
            if node.module == "digitpad":
                found |= {alias.name for alias in node.names if alias.name in MODULES}
            else:
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("digitpad.")}
    return found - {module}


def test_no_module_imports_in_a_cycle():
    graph = {module: imports(module) for module in MODULES}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(
            n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph[start]
        )

    cycles = [module for module in MODULES if reaches(module, module, {module})]
    assert cycles == []


@pytest.mark.parametrize("module", sorted(TRAINER))
def test_the_trainer_does_not_borrow_the_app_s_modules(module):
    assert not imports(module) & APP


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


def test_every_module_has_its_test_module():
    tests = {p.stem.removeprefix("test_") for p in (REPO_DIR / "tests").glob("test_*.py")}
    assert sorted(set(MODULES) - tests) == []


def test_tests_import_without_editing_sys_path():
    edits = [
        p.name
        for p in (REPO_DIR / "tests").glob("*.py")
        if p.name != Path(__file__).name and "sys.path." in p.read_text()
    ]
    assert edits == []
