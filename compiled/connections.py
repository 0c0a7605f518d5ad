"""Relay connections compiled: a page (keyset, `app.pagination`), its cursors and its count.

The page is `page_statement` over the list's own statement (the one the resolver or loader
pages), so the rows, their order, `first + 1` and the cursor's strict "after" are the same
code on both paths; `totalCount` is `count_statement` over that statement, selected only when
asked for. Cursors are sealed in Python (`encode_cursor`, random nonces) from the sort key the
row carries, so they decode to the positions Strawberry's would; an edge's cursor and
`startCursor`/`endCursor` are the same string, as in `build_connection`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from app.pagination import Order, check_page, count_statement, encode_cursor, page_statement
from compiled.parts import Build, Part, Source
from compiled.plan import Field, NotCompilable

NodeBuilder = Callable[[Field, Source], Part]


def _edges(b: Build, field: Field, node: NodeBuilder, src: Source) -> list[tuple[Field, Part]]:
    """The node parts of every `edges` selection, in selection order."""
    parts: list[tuple[Field, Part]] = []
    for edges in field.fields:
        if edges.name != "edges":
            continue
        for sub in edges.fields:
            if sub.name == "node":
                parts.append((sub, node(sub, src)))
            elif sub.name not in ("cursor", "__typename"):
                raise NotCompilable(f"edge.{sub.name}")
    return parts


def _page_info(field: Field, more: bool, after: str | None, cursors: list[str]) -> Any:
    values = {
        "hasNextPage": more,
        "hasPreviousPage": after is not None,
        "startCursor": cursors[0] if cursors else None,
        "endCursor": cursors[-1] if cursors else None,
        "__typename": field.type_name,
    }
    for sub in field.fields:
        if sub.name not in values:
            raise NotCompilable(f"PageInfo.{sub.name}")
    return {sub.key: values[sub.name] for sub in field.fields}


def _edge(edges: Field, cursor: str, nodes: dict[int, Any]) -> dict[str, Any]:
    edge: dict[str, Any] = {}
    for sub in edges.fields:
        if sub.name == "cursor":
            edge[sub.key] = cursor
        elif sub.name == "node":
            edge[sub.key] = nodes[id(sub)]
        else:
            edge[sub.key] = edges.type_name
    return edge


class _Shaper:
    """Shapes one connection from its page rows (key cells, then every node's cells in
    `_edges` order) and its count."""

    def __init__(
        self,
        field: Field,
        size: int,
        after: str | None,
        arity: int,
        nodes: list[tuple[Field, Part]],
    ) -> None:
        self.field, self.size, self.after, self.arity = field, size, after, arity
        self.nodes = nodes

    def row_nodes(self, row: Sequence[Any]) -> dict[int, Any]:
        cells = iter(row[self.arity :])
        return {id(sub): part.shape(cells) for sub, part in self.nodes}

    def shape(self, rows: list[Any] | None, count: int | None) -> dict[str, Any]:
        rows = rows or []
        page = rows[: self.size]
        cursors = [encode_cursor(row[: self.arity]) for row in page]
        nodes = [self.row_nodes(row) for row in page]
        out: dict[str, Any] = {}
        for sub in self.field.fields:
            if sub.name == "totalCount":
                out[sub.key] = count
            elif sub.name == "edges":
                out[sub.key] = [_edge(sub, c, n) for c, n in zip(cursors, nodes, strict=True)]
            elif sub.name == "pageInfo":
                out[sub.key] = _page_info(sub, len(rows) > self.size, self.after, cursors)
            elif sub.name == "__typename":
                out[sub.key] = self.field.type_name
            else:
                raise NotCompilable(f"{self.field.type_name}.{sub.name}")
        return out


def connection(
    b: Build, field: Field, rows: sa.Select[Any], order: Order, node: NodeBuilder
) -> Part:
    """`field` (a connection with `first`/`after`) over the scoped statement `rows`: one cell
    for the page when edges or pageInfo are asked for, one for the count when it is."""
    first, after = field.arg("first"), field.arg("after")
    size = check_page(first, after, order)
    names = {sub.name for sub in field.fields}
    exprs: list[Any] = []
    shaper: _Shaper | None = None
    if names & {"edges", "pageInfo"}:
        sub = page_statement(rows, order, size, after)
        if b.json.postgres:
            sub = sub.add_columns(sa.func.row_number().over(order_by=order.by()).label("_rn"))
        page = sub.subquery()
        arity = len(order.columns)
        nodes = _edges(b, field, node, page.c)
        keys = [page.c[f"_k{i}"] for i in range(arity)]
        cells = [*keys, *(expr for _, part in nodes for expr in part.exprs)]
        by = [page.c._rn] if b.json.postgres else []
        cell = sa.select(b.json.agg(b.json.array(cells), by)).select_from(page)
        exprs.append(b.json.nested(cell.scalar_subquery()))
        shaper = _Shaper(field, size, after, arity, nodes)
    if "totalCount" in names:
        exprs.append(count_statement(rows).scalar_subquery())
    empty = _Shaper(field, size, after, 0, [])
    return Part(exprs, lambda it: _shape(it, shaper or empty, names))


def _shape(it: Iterator[Any], shaper: _Shaper, names: set[str]) -> dict[str, Any]:
    rows = next(it) if names & {"edges", "pageInfo"} else None
    count = int(next(it)) if "totalCount" in names else None
    return shaper.shape(rows, count)
