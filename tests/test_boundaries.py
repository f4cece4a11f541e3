"""House rules that keep the packages apart: generation and storage never reach into the service
or a platform SDK, and no ML framework is imported at module level outside generator/."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FORBIDDEN = {"generator": ("bot", "tweepy", "instagrapi"), "feedback": ("bot", "tweepy", "instagrapi")}
HEAVY = ("tensorflow", "keras", "torch", "transformers")


def _imports(tree: ast.AST, *, top_level_only: bool):
    nodes = tree.body if top_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def _py_files(package: str):
    return sorted((REPO / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_import_service_or_platform_sdks(package):
    offenders = []
    for path in _py_files(package):
        for lineno, name in _imports(ast.parse(path.read_text()), top_level_only=False):
            if name.split(".")[0] in FORBIDDEN[package]:
                offenders.append(f"{path.relative_to(REPO)}:{lineno} imports {name}")
    assert not offenders, offenders


@pytest.mark.parametrize("package", ["bot", "feedback"])
def test_no_ml_framework_at_module_level(package):
    offenders = []
    for path in _py_files(package):
        for lineno, name in _imports(ast.parse(path.read_text()), top_level_only=True):
            if name.split(".")[0] in HEAVY:
                offenders.append(f"{path.relative_to(REPO)}:{lineno} imports {name}")
    assert not offenders, offenders


def test_the_walker_finds_a_forbidden_import():
    tree = ast.parse("def f():\n    from bot.app import build_app\n")
    assert [name for _, name in _imports(tree, top_level_only=False)] == ["bot.app"]
