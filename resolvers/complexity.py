"""Refuse operations too costly to run: `QUERY_TOO_COMPLEX`, before any resolver runs.

The estimate: every field selected costs the number of times it may run, i.e. the product
of the page sizes (`first`: a variable left out takes its declared default, as in execution;
no `first`: 25) of the connections enclosing it; plain lists
count as one (they are bounded by the data: a user's courses, a group's analysts). Depth is
the number of nested field levels. Introspection fields (`__schema`, `__type`) are free, so
GraphiQL keeps working.

Invariant: an operation above `Settings.max_query_cost` or `MAX_DEPTH`, or calling `login` more
than once (`ONCE_PER_OPERATION`), gets one error with
`extensions.code = "QUERY_TOO_COMPLEX"`, a message saying what to change, and no data.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    value_from_ast_untyped,
)
from strawberry.extensions import SchemaExtension

from app.errors import AppError, ErrorCode
from app.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

MAX_DEPTH = 15


# `login` runs a deliberately slow password hash and mints a token: once per operation, or
# aliases would turn one request into thousands of hashes (and password guesses).
ONCE_PER_OPERATION = frozenset({"login"})


@dataclass(frozen=True)
class Estimate:
    cost: int
    depth: int
    # The most times one `ONCE_PER_OPERATION` mutation is called (aliases, fragments).
    repeats: int = 0


def _page(field: FieldNode, variables: Mapping[str, Any]) -> int:
    for argument in field.arguments or ():
        if argument.name.value != "first":
            continue
        value: Any = None
        if isinstance(argument.value, IntValueNode):
            value = int(argument.value.value)
        elif isinstance(argument.value, VariableNode):
            value = variables.get(argument.value.name.value)
        if isinstance(value, int) and not isinstance(value, bool):
            return max(1, min(value, MAX_PAGE_SIZE))
        return DEFAULT_PAGE_SIZE
    return DEFAULT_PAGE_SIZE


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def _type(self, name: str) -> GraphQLNamedType | None:
        return self.schema.type_map.get(name)

    def walk(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType | None,
        multiplier: int,
        depth: int,
        seen: frozenset[str] = frozenset(),
    ) -> Estimate:
        cost, deepest = 0, depth
        for part in self._parts(selection_set, parent, seen):
            node, owner, spread_seen = part
            if node.name.value.startswith("__"):
                continue
            cost += multiplier
            deepest = max(deepest, depth + 1)
            if node.selection_set is None:
                continue
            child: GraphQLNamedType | None = None
            times = 1
            if isinstance(owner, GraphQLObjectType) and node.name.value in owner.fields:
                definition = owner.fields[node.name.value]
                child = get_named_type(definition.type)
                if "first" in definition.args:
                    times = _page(node, self.variables)
            inner = self.walk(node.selection_set, child, multiplier * times, depth + 1, spread_seen)
            cost += inner.cost
            deepest = max(deepest, inner.depth)
        return Estimate(cost, deepest)

    def _parts(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None, seen: frozenset[str]
    ) -> Iterator[tuple[FieldNode, GraphQLNamedType | None, frozenset[str]]]:
        """The fields of a selection set, fragments flattened (each fragment once per path)."""
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield selection, parent, seen
            elif isinstance(selection, InlineFragmentNode):
                on = selection.type_condition
                owner = self._type(on.name.value) if on else parent
                yield from self._parts(selection.selection_set, owner, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue
                owner = self._type(fragment.type_condition.name.value)
                yield from self._parts(fragment.selection_set, owner, seen | {name})


def _with_defaults(
    operation: OperationDefinitionNode, variables: Mapping[str, Any]
) -> Mapping[str, Any]:
    """The variables as execution sees them: a variable left out takes its declared default
    (`query($n: Int = 100)`), so the estimate cannot be told a smaller page than will run."""
    values = dict(variables)
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name not in values and definition.default_value is not None:
            values[name] = value_from_ast_untyped(definition.default_value)
    return values


def estimate(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> Estimate:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    chosen = [
        op
        for op in operations
        if operation_name is None or (op.name is not None and op.name.value == operation_name)
    ]
    if not chosen:
        return Estimate(0, 0)
    operation = chosen[0]
    roots = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }
    walker = _Walker(schema, fragments, _with_defaults(operation, variables or {}))
    root = roots[operation.operation]
    found = walker.walk(operation.selection_set, root, 1, 0)
    calls = [
        node.name.value
        for node, _, _ in walker._parts(operation.selection_set, root, frozenset())
        if node.name.value in ONCE_PER_OPERATION
    ]
    repeats = max((calls.count(name) for name in set(calls)), default=0)
    return Estimate(found.cost, found.depth, repeats)


def too_complex(found: Estimate, max_cost: int) -> AppError | None:
    if found.repeats > 1:
        return AppError(
            ErrorCode.QUERY_TOO_COMPLEX,
            "Call `login` once per request; send one request per sign-in.",
        )
    if found.depth > MAX_DEPTH:
        return AppError(
            ErrorCode.QUERY_TOO_COMPLEX,
            f"This query nests {found.depth} levels of fields; at most {MAX_DEPTH} are allowed. "
            "Split it into several queries (use `node(id:)` to continue from an object).",
        )
    if found.cost > max_cost:
        return AppError(
            ErrorCode.QUERY_TOO_COMPLEX,
            f"This query could resolve about {found.cost} fields (each field counts once per "
            f"item of the pages enclosing it); the limit is {max_cost}. Ask for fewer fields "
            "or smaller `first` values, or split it into several queries.",
        )
    return None


class QueryCostLimiter(SchemaExtension):
    """Estimates the operation before execution and refuses it if too costly."""

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        if document is not None and not ctx.result:
            found = estimate(ctx.schema._schema, document, ctx.operation_name, ctx.variables)
            error = too_complex(found, ctx.context.settings.max_query_cost)
            if error is not None:
                ctx.result = ExecutionResult(data=None, errors=[error])
        yield
