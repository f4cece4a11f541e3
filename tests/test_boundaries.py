"""House rules that keep the packages apart: generation and storage never reach into the service
or a platform SDK, and no ML framework is imported at module level outside generator/."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FORBIDDEN = {"generator": ("bot", "tweepy", "instagrapi"), "feedback": ("bot", "tweepy", "instagrapi")}
HEAVY = ("tensorflow", "keras", "torch", "transformers")


def _imports(tree: ast.Module, *, top_level_only: bool):
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


# Rooms of bot/, lowest floor first (DESIGN.md "Layers of bot/"): an import may point into its own
# room or down, never up or sideways; a name from a higher room only under TYPE_CHECKING. Lazy
# (function-local) imports count. The CLI sits above the daemon and the web admin (it starts them);
# bot/__main__.py (`python -m bot`) above the CLI.
BOT_FLOORS = {"errors": 0, "config": 1, "publishers": 2, "core": 3, "service": 4, "app": 5,
              "runtime": 6, "web": 6, "cli": 7, "__main__": 8}

# Upward imports that exist today. This list may only shrink (the next step of the floors issue
# removes them); an entry that no longer occurs fails the test too, so it stays honest.
# (importing file, imported module)
UPWARD_ALLOWED: set[tuple[str, str]] = set()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_imports(tree: ast.AST, package: str):
    """(line, module) of every import that runs (top-level or inside a function), skipping the
    bodies of `if TYPE_CHECKING:`. `from bot.x import y` names module bot.x.y when y is one."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                is_module = (REPO / full.replace(".", "/")).with_suffix(".py").is_file() or (
                    REPO / full.replace(".", "/") / "__init__.py").is_file()
                yield node.lineno, full if is_module else base
        stack.extend(ast.iter_child_nodes(node))


def _room(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "bot" and len(parts) > 1 else None


def _bot_layer_imports():
    """(file, line, imported module, is it upward) for every runtime import between rooms of bot/."""
    for path in _py_files("bot"):
        rel = path.relative_to(REPO)
        module = ".".join(rel.with_suffix("").parts)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        module = module.removesuffix(".__init__")
        here = _room(module)
        for lineno, name in _runtime_imports(ast.parse(path.read_text()), package):
            there = _room(name)
            if here is None or there is None or there == here:
                continue
            yield str(rel), lineno, name, BOT_FLOORS[there] >= BOT_FLOORS[here]


def test_every_module_of_bot_is_in_a_room():
    rooms = {_room(".".join(p.relative_to(REPO).with_suffix("").parts)) for p in _py_files("bot")}
    named = {r for r in rooms if r is not None} - {"__init__"}
    assert named <= set(BOT_FLOORS), sorted(named - set(BOT_FLOORS))


def test_imports_inside_bot_point_down():
    seen, offenders = set(), []
    for rel, lineno, name, upward in _bot_layer_imports():
        if not upward:
            continue
        seen.add((rel, name))
        if (rel, name) not in UPWARD_ALLOWED:
            offenders.append(f"{rel}:{lineno} imports {name} from a higher or sideways room")
    assert not offenders, offenders
    assert not UPWARD_ALLOWED - seen, f"no longer upward, drop from UPWARD_ALLOWED: {sorted(UPWARD_ALLOWED - seen)}"


def test_the_layer_walker_counts_lazy_imports_and_skips_type_checking():
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.app import App\n"
                     "def f():\n    from bot.service import review\n    import bot.cli\n")
    assert sorted(name for _, name in _runtime_imports(tree, "bot.core")) == [
        "bot.cli", "bot.service.review", "typing"]
