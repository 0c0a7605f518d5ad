"""The compiled read path's hook: a query whose every field is compilable (`compiled`) is
answered by one SQL statement per root field instead of the resolvers.

It runs as the last extension of `on_execute`, after the document was parsed (and cached),
validated with the viewer's visibility, refused or not by the cost limit and charged to the
token's budget (`resolvers.complexity`, `resolvers.cost_report`): those behave the same on both
paths, and so do the access log and the response's `extensions.cost`.

Invariants:
- only a query is compiled, only when `Settings.compiled_reads` (GROUPANALYST_COMPILED_READS,
  on by default) and nothing before it set a result (a refusal);
- anything the compiler does not describe exactly (a field outside the set, an argument the
  resolver would refuse, a database error) leaves the operation to Strawberry, which answers
  as it always has, errors included: the compiled path never answers an error itself;
- a built query is kept for the next request of the same operation and viewer scope
  (`compiled.statements`, the app's `Context.statements`), and run at each request's `now`;
- `tests/test_compiled_reads.py` checks over random worlds, viewers and operations, on both
  databases, that both paths answer the same JSON (cursors compared decrypted).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from graphql import ExecutionResult
from strawberry.extensions import SchemaExtension

from app.errors import AppError
from compiled import run
from compiled.plan import NotCompilable, plan
from compiled.statements import StatementCache, cache_key
from resolvers.context import Context

log = logging.getLogger(__name__)


def new_statement_cache() -> StatementCache:
    """The app's kept queries (`Context.statements`), one per app and so per worker."""
    return StatementCache()


def compiled_query(context: Context, execution: Any) -> run.Query | None:
    """The operation's compiled query (kept, or built now), or None when it has none."""
    cache = context.statements
    key = None
    if cache is not None and execution.query is not None:
        key = cache_key(
            context.db.engine.dialect.name,
            context.scope,
            execution.query,
            execution.operation_name,
            execution.variables,
        )
        kept = cache.get(key) if key is not None else None
        if kept is not None:
            return kept
    fields = plan(
        execution.schema._schema,
        execution.graphql_document,
        execution.operation_name,
        execution.variables,
    )
    if fields is None:
        return None
    query = run.compile_query(context.db, context.scope, fields)
    if cache is not None and key is not None:
        cache.put(key, query)
    return query


async def compiled_data(context: Context, execution: Any) -> dict[str, Any] | None:
    """The operation's `data` from the compiled path, or None to let Strawberry run it."""
    try:
        query = compiled_query(context, execution)
        if query is None:
            return None
        return await run.execute(context.db, context.scope, query)
    except (NotCompilable, AppError):
        return None
    except Exception:
        log.exception("compiled read failed; answering through the resolvers")
        return None


class CompiledReads(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        if (
            isinstance(context, Context)
            and context.settings.compiled_reads
            and execution.graphql_document is not None
            and not execution.result
        ):
            data = await compiled_data(context, execution)
            if data is not None:
                execution.result = ExecutionResult(data=data)
        yield
