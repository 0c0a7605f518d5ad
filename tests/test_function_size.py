"""No function over 60 lines in the application's code (app/, resolvers/, loaders/,
permissions/, compiled/): a longer one is split into named steps. Counted with `ast` from the `def`
line to the function's last line, docstring included, decorators not."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("app", "resolvers", "loaders", "permissions", "compiled")
MAX_LINES = 60


def long_functions(source: str, limit: int = MAX_LINES) -> list[tuple[str, int]]:
    """(name, line count) of every function or method of `source` longer than `limit`."""
    return [
        (node.name, (node.end_lineno or node.lineno) - node.lineno + 1)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (node.end_lineno or node.lineno) - node.lineno + 1 > limit
    ]


def test_no_function_over_60_lines() -> None:
    found = [
        f"{path.relative_to(ROOT)}: {name} has {lines} lines"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for name, lines in long_functions(path.read_text())
    ]
    assert found == []


def test_the_counter_sees_methods_and_async_functions() -> None:
    body = "".join("        x = 1\n" for _ in range(60))
    source = f"class A:\n    async def long(self):\n{body}\n\ndef short():\n    return 1\n"
    assert long_functions(source) == [("long", 61)]
    assert long_functions(source, limit=61) == []
