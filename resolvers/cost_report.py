"""What an operation costs, told to the client, and the per-minute budget it spends.

Every GraphQL response carries, in the style of Shopify's and Thinkific's APIs:

    "extensions": {"cost": {
        "requestedQueryCost": 12,         # this operation's estimate (resolvers.complexity)
        "maximumQueryCost": 50000,        # Settings.max_query_cost
        "throttleStatus": {
            "maximumAvailable": 200000,   # Settings.cost_budget_per_minute
            "currentlyAvailable": 199988, # left in this token's bucket after this operation
            "restoreRate": 3333.3         # points per second flowing back
        }}}

Invariants:
- an operation spends its requested cost only when it is about to execute; one refused before
  that (invalid, too complex, or over budget) spends nothing and reports requestedQueryCost 0
  when it could not be parsed or validated;
- over budget: no resolver runs, HTTP 429 with `Retry-After` (whole seconds) and one error
  with code RATE_LIMITED and `extensions.retryAfterSeconds`;
- the estimate and the operation's name are handed to the access log (`app.access_log`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import ExecutionResult, get_operation_ast
from strawberry.extensions import SchemaExtension

from app import access_log
from app.cost_budget import Spend
from app.errors import AppError, ErrorCode
from resolvers.complexity import estimate
from resolvers.context import Context


def rate_limited(spend: Spend) -> AppError:
    return AppError(
        ErrorCode.RATE_LIMITED,
        f"This token has spent its query cost budget for now; retry in "
        f"{spend.retry_after_seconds} s, or ask for fewer fields or smaller pages "
        "(see extensions.cost in every response).",
        retryAfterSeconds=spend.retry_after_seconds,
    )


class CostReport(SchemaExtension):
    """Runs after `QueryCostLimiter`, so a query too complex to run never spends budget."""

    requested = 0
    # What this operation left in the bucket, when it spent.
    remaining: int | None = None

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        context: Context = ctx.context
        document = ctx.graphql_document
        if document is not None:
            found, _ = estimate(ctx.schema._schema, document, ctx.operation_name, ctx.variables)
            self.requested = found.cost
            record = access_log.current()
            if record is not None:
                record.cost = found.cost
            account = context.cost_account
            if account is not None and not ctx.result:
                spend = account.spend(found.cost)
                self.remaining = spend.remaining
                if not spend.allowed:
                    self._refuse(context, spend)
        yield

    def _refuse(self, context: Context, spend: Spend) -> None:
        self.execution_context.result = ExecutionResult(data=None, errors=[rate_limited(spend)])
        if context.response is not None:
            context.response.status_code = 429
            context.response.headers["Retry-After"] = str(spend.retry_after_seconds)

    def get_results(self) -> dict[str, Any]:
        ctx = self.execution_context
        context: Context = ctx.context
        record = access_log.current()
        document = ctx.graphql_document
        if record is not None and document is not None:
            operation = get_operation_ast(document, ctx.operation_name)
            record.name_operation(operation.name.value if operation and operation.name else None)
        settings = context.settings
        account = context.cost_account
        per_minute = account.budget.per_minute if account else settings.cost_budget_per_minute
        remaining = self.remaining
        if remaining is None:
            remaining = account.remaining() if account else per_minute
        return {
            "cost": {
                "requestedQueryCost": self.requested,
                "maximumQueryCost": settings.max_query_cost,
                "throttleStatus": {
                    "maximumAvailable": per_minute,
                    "currentlyAvailable": remaining,
                    "restoreRate": round(per_minute / 60, 1),
                },
            }
        }
