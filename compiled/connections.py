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

    def cursors(self, page: list[Any]) -> list[str]:
        """Each row's cursor, sealed only where the answer shows it (sealing is the costliest
        step per row): every row's for `edges { cursor }`, else the first and last rows'
        for `pageInfo`; the others are never shown."""
        shown = {(sub.name, inner.name) for sub in self.field.fields for inner in sub.fields}
        if ("edges", "cursor") in shown:
            return [encode_cursor(row[: self.arity]) for row in page]
        cursors = [""] * len(page)
        if page and shown & {("pageInfo", "startCursor"), ("pageInfo", "endCursor")}:
            cursors[0] = encode_cursor(page[0][: self.arity])
            cursors[-1] = encode_cursor(page[-1][: self.arity])
        return cursors

    def row_nodes(self, row: Sequence[Any]) -> dict[int, Any]:
        cells = iter(row[self.arity :])
        return {id(sub): part.shape(cells) for sub, part in self.nodes}

    def shape(self, rows: list[Any] | None, count: int | None) -> dict[str, Any]:
        rows = rows or []
        page = rows[: self.size]
        cursors = self.cursors(page)
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
    for the page when edges or pageInfo are asked for, one for the count when it is.

    On PostgreSQL, a first page asked with its count carries both in one cell, `[rows, count]`:
    the count is `COUNT(*) OVER ()` on the page's own statement, which a window counts before
    the `LIMIT` (and, without a cursor, before any other condition), so it is
    `count_statement(rows)` without reading the rows a second time. After a cursor the page's
    rows are fewer: the count is then its own subquery."""
    first, after = field.arg("first"), field.arg("after")
    size = check_page(first, after, order)
    names = {sub.name for sub in field.fields}
    paged, counted = bool(names & {"edges", "pageInfo"}), "totalCount" in names
    if not paged:
        empty = _Shaper(field, size, after, 0, [])
        exprs = [count_statement(rows).scalar_subquery()] if counted else []
        return Part(exprs, lambda it: empty.shape(None, int(next(it)) if counted else None))
    # PostgreSQL only: SQLite's parser refuses the deeper nesting of the largest shapes.
    together = b.json.postgres and counted and after is None
    stmt = page_statement(rows, order, size, after)
    if together:
        stmt = stmt.add_columns(sa.func.count().over().label("_total"))
    page = stmt.subquery()
    arity = len(order.columns)
    nodes = _edges(b, field, node, page.c)
    keys = [page.c[f"_k{i}"] for i in range(arity)]
    cells = [*keys, *(expr for _, part in nodes for expr in part.exprs)]
    by = order.by_keys(page.c) if b.json.postgres else []
    agg = b.json.agg(b.json.array(cells), by)
    if together:
        agg = b.json.array([agg, sa.func.coalesce(sa.func.max(page.c._total), 0)])
    cell = b.json.nested(sa.select(agg).select_from(page).scalar_subquery())
    exprs = [cell] if together or not counted else [cell, count_statement(rows).scalar_subquery()]
    shaper = _Shaper(field, size, after, arity, nodes)
    return Part(exprs, lambda it: _shape(it, shaper, counted, together))


def _shape(it: Iterator[Any], shaper: _Shaper, counted: bool, together: bool) -> dict[str, Any]:
    if together:
        rows, count = next(it)
    else:
        rows = next(it)
        count = int(next(it)) if counted else None
    return shaper.shape(rows, count)
