"""The layers import in one direction only (docs/ARCHITECTURE.md, "Layers").

Read from the source with `ast`, every import counted (deferred ones inside functions too;
only `if TYPE_CHECKING:` blocks, which never run, are left out):
- no import cycle among the modules of `app/`, `permissions/` and `loaders/`; so the `app`
  modules `permissions` builds on (models, db, auth...) never reach back into `permissions`,
  while `app`'s services (report, listing, the write services) build on `permissions`;
- `permissions/` and `loaders/` never import `resolvers/`, and `permissions/` never imports
  `loaders/`;
- in `app/`, only the entry points (the Starlette app, the CLI) import `resolvers/`, and no
  module imports `loaders/`;
- `resolvers/` import from `loaders/` only the `loaders` package itself (the `Loaders`
  container): orders, searches and page keys live in `app/`, where both layers use them;
- `compiled/` (the compiled read path) sits between `loaders/` and `resolvers/`: it builds on
  `app/`, `permissions/` and the loaders' statement builders, never on `resolvers/`, and
  nothing below `resolvers/` imports it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("app", "permissions", "loaders", "compiled", "resolvers")
ENTRY_POINTS = {"app.main", "app.cli", "app.asgi", "app.__main__"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[str]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (name for child in node.orelse for name in _imports(child))
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            # `from app import audit` imports the module app.audit.
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        yield from _imports(node)


def import_graph() -> dict[str, set[str]]:
    modules = {
        _module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")
    }
    return {
        name: {m for m in _imports(ast.parse(path.read_text())) if m in modules}
        for name, path in modules.items()
    }


def _package(module: str) -> str:
    return module.split(".")[0]


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of `graph` (as a path that returns to its start), or None."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        for imported in sorted(graph.get(module, ())):
            cycle = visit(imported, [*path, module])
            if cycle:
                return cycle
        done.add(module)
        return None

    for module in sorted(graph):
        cycle = visit(module, [])
        if cycle:
            return cycle
    return None


def test_no_import_cycle_below_resolvers() -> None:
    graph = import_graph()
    lower = {
        m: {i for i in imported if _package(i) != "resolvers"}
        for m, imported in graph.items()
        if _package(m) in ("app", "permissions", "loaders", "compiled")
    }
    assert find_cycle(lower) is None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"app.a": {"permissions.b"}, "permissions.b": {"app.a"}}) == [
        "app.a",
        "permissions.b",
        "app.a",
    ]
    assert find_cycle({"app.a": {"permissions.b"}, "permissions.b": set()}) is None


def test_imports_go_down_the_layers_only() -> None:
    wrong = []
    for module, imported in import_graph().items():
        for target in imported:
            layer, to = _package(module), _package(target)
            if (
                (layer in ("permissions", "loaders", "compiled") and to == "resolvers")
                or (layer in ("app", "permissions", "loaders") and to == "compiled")
                or (layer == "permissions" and to == "loaders")
                or (layer == "app" and to == "loaders")
                or (layer == "app" and to == "resolvers" and module not in ENTRY_POINTS)
                or (layer == "resolvers" and to == "loaders" and target != "loaders")
            ):
                wrong.append(f"{module} imports {target}")
    assert wrong == []


def test_the_graph_sees_deferred_and_package_imports() -> None:
    graph = import_graph()
    assert "resolvers.schema" in graph["app.cli"]  # imported inside a function
    assert "app.audit" in graph["app.user_admin"]  # `from app import audit`
    assert "loaders" in graph["resolvers.context"]
