"""The schema: every domain module's Query and Mutation, merged.

To add a domain, give its module a `Query` and/or `Mutation` class and list it below.
`schema.graphql` is printed from this object (`groupanalyst export-schema`) and a test
fails when the committed file differs.
"""

from __future__ import annotations

import strawberry
from strawberry.tools import merge_types

from resolvers import (
    account_links,
    account_status,
    assignment_admin,
    audit,
    auth,
    course_admin,
    courses,
    export,
    group_admin,
    groups,
    lesson_events,
    live,
    node,
    progress,
    report_schedules,
    site,
    user_admin,
    users,
    webhooks,
)
from resolvers.compiled_reads import CompiledReads
from resolvers.complexity import QueryCostLimiter
from resolvers.cost_report import CostReport
from resolvers.document_cache import DocumentParserCache
from resolvers.errors import ClientSafeErrors
from resolvers.input_guard import InputGuard
from resolvers.visibility import HintAwareExecutionContext, SchemaVisibility

Query = merge_types(
    "Query",
    (
        users.Query,
        node.Query,
        site.Query,
        groups.Query,
        courses.Query,
        progress.Query,
        export.Query,
        audit.Query,
        webhooks.Query,
        report_schedules.Query,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        auth.Mutation,
        user_admin.Mutation,
        account_status.Mutation,
        account_links.Mutation,
        assignment_admin.Mutation,
        group_admin.Mutation,
        course_admin.Mutation,
        lesson_events.Mutation,
        webhooks.Mutation,
        report_schedules.Mutation,
    ),
)

schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    subscription=live.Subscription,
    extensions=[
        ClientSafeErrors,
        QueryCostLimiter,
        InputGuard,
        SchemaVisibility,
        DocumentParserCache,
        CostReport,
        # Last: it answers only what every check before it let through.
        CompiledReads,
    ],
    execution_context_class=HintAwareExecutionContext,
)


def print_schema() -> str:
    return schema.as_str() + "\n"
