"""Refuse operations too costly to run: `QUERY_TOO_COMPLEX`, before any resolver runs.

Four bounds, each checked before execution:
- size: the parser stops after `Settings.max_query_tokens` tokens (a parse error rewritten to
  QUERY_TOO_COMPLEX), so no document is larger than that to validate or estimate;
- aliases: at most `Settings.max_query_aliases` aliased fields in the operation, counting a
  fragment's aliases once per place it is spread; introspection fields included;
- introspection: at most `MAX_INTROSPECTION_ROOTS` `__schema`/`__type` fields per operation;
- cost and depth: every field selected costs the number of times it may run, i.e. the
  product of the page sizes (`first`: a variable left out takes its declared default, as in
  execution; no `first`: 25) of the connections enclosing it; plain lists count as one (they
  are bounded by the data: a user's courses, a group's analysts). Introspection fields and
  `__typename` count like any other field. Depth is the number of nested field levels
  (introspection subtrees excluded: their shape is fixed by the schema, and GraphiQL's
  `ofType` chain is deep).

Invariants:
- the estimate takes time linear in the document: each fragment's cost, depth and aliases
  are computed once and reused at every spread (`_Walker.steps` counts the selections visited,
  which tests bound), so nested spreads cannot make the estimator itself the attack;
- an operation above a bound, or calling `login` more than once (`ONCE_PER_OPERATION`), gets
  one error with `extensions.code = "QUERY_TOO_COMPLEX"`, a message saying what to change,
  and no data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
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
    get_operation_ast,
    value_from_ast_untyped,
)
from strawberry.extensions import SchemaExtension

from app.errors import AppError, ErrorCode
from app.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

MAX_DEPTH = 15
# GraphiQL asks for `__schema` once; a few more serve hand-written `__type` lookups.
MAX_INTROSPECTION_ROOTS = 3
# Root introspection fields and the types they answer (not fields of the Query type).
INTROSPECTION_ROOTS = {"__schema": "__Schema", "__type": "__Type"}


# `login` runs a deliberately slow password hash and mints a token: once per operation, or
# aliases would turn one request into thousands of hashes (and password guesses).
ONCE_PER_OPERATION = frozenset({"login"})


@dataclass(frozen=True)
class Limits:
    max_cost: int
    max_aliases: int


@dataclass
class Estimate:
    """Of one selection set at multiplier 1 (a fragment's is reused at every spread)."""

    cost: int = 0
    depth: int = 0
    aliases: int = 0
    introspection: int = 0
    # Calls of each `ONCE_PER_OPERATION` field at this level (aliases, fragments).
    calls: Counter[str] = field(default_factory=Counter)

    @property
    def repeats(self) -> int:
        return max(self.calls.values(), default=0)

    def add(self, other: Estimate, times: int = 1, levels: int = 0) -> None:
        self.cost += other.cost * times
        self.depth = max(self.depth, other.depth + levels)
        self.aliases += other.aliases
        self.introspection += other.introspection


def _page(node: FieldNode, variables: Mapping[str, Any]) -> int:
    for argument in node.arguments or ():
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
        self.memo: dict[str, Estimate] = {}
        self.in_progress: set[str] = set()
        # Selections visited: linear in the document whatever its fragments do.
        self.steps = 0

    def selection_set(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None
    ) -> Estimate:
        found = Estimate()
        for selection in selection_set.selections:
            self.steps += 1
            if isinstance(selection, FieldNode):
                self._field(selection, parent, found)
            elif isinstance(selection, InlineFragmentNode):
                on = selection.type_condition
                owner = self.schema.type_map.get(on.name.value) if on else parent
                inner = self.selection_set(selection.selection_set, owner)
                found.add(inner)
                found.calls.update(inner.calls)
            elif isinstance(selection, FragmentSpreadNode):
                inner = self.fragment(selection.name.value)
                found.add(inner)
                found.calls.update(inner.calls)
        return found

    def fragment(self, name: str) -> Estimate:
        """Computed once per fragment; a cycle (refused by validation anyway) counts nothing."""
        if name in self.memo:
            return self.memo[name]
        fragment = self.fragments.get(name)
        if fragment is None or name in self.in_progress:
            return Estimate()
        self.in_progress.add(name)
        owner = self.schema.type_map.get(fragment.type_condition.name.value)
        self.memo[name] = self.selection_set(fragment.selection_set, owner)
        self.in_progress.discard(name)
        return self.memo[name]

    def _field(self, node: FieldNode, parent: GraphQLNamedType | None, found: Estimate) -> None:
        name = node.name.value
        found.cost += 1
        found.depth = max(found.depth, 1)
        found.aliases += node.alias is not None
        found.introspection += name in INTROSPECTION_ROOTS
        if name in ONCE_PER_OPERATION:
            found.calls[name] += 1
        if node.selection_set is None:
            return
        child: GraphQLNamedType | None = None
        times = 1
        if isinstance(parent, GraphQLObjectType) and name in parent.fields:
            definition = parent.fields[name]
            child = get_named_type(definition.type)
            if "first" in definition.args:
                times = _page(node, self.variables)
        elif name in INTROSPECTION_ROOTS:
            child = self.schema.type_map.get(INTROSPECTION_ROOTS[name])
        inner = self.selection_set(node.selection_set, child)
        levels = 0 if name.startswith("__") or (parent and parent.name.startswith("__")) else 1
        found.add(inner, times, levels)


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
) -> tuple[Estimate, int]:
    """The operation's estimate and the number of steps the estimator took."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return Estimate(), 0
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    roots = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }
    walker = _Walker(schema, fragments, _with_defaults(operation, variables or {}))
    found = walker.selection_set(operation.selection_set, roots[operation.operation])
    return found, walker.steps


def _refusal(message: str) -> AppError:
    return AppError(ErrorCode.QUERY_TOO_COMPLEX, message)


def too_complex(found: Estimate, limits: Limits) -> AppError | None:
    if found.repeats > 1:
        return _refusal("Call `login` once per request; send one request per sign-in.")
    if found.introspection > MAX_INTROSPECTION_ROOTS:
        return _refusal(
            f"This query asks for `__schema`/`__type` {found.introspection} times; at most "
            f"{MAX_INTROSPECTION_ROOTS} are allowed per request."
        )
    if found.aliases > limits.max_aliases:
        return _refusal(
            f"This query uses {found.aliases} aliases (counting each fragment once per spread); "
            f"at most {limits.max_aliases} are allowed. Split it into several queries."
        )
    if found.depth > MAX_DEPTH:
        return _refusal(
            f"This query nests {found.depth} levels of fields; at most {MAX_DEPTH} are allowed. "
            "Split it into several queries (use `node(id:)` to continue from an object)."
        )
    if found.cost > limits.max_cost:
        return _refusal(
            f"This query could resolve about {found.cost} fields (each field counts once per "
            f"item of the pages enclosing it); the limit is {limits.max_cost}. Ask for fewer "
            "fields or smaller `first` values, or split it into several queries."
        )
    return None


# graphql-core's parse error when `max_tokens` is reached.
TOKEN_LIMIT_MESSAGE = "Document contains more than"  # noqa: S105


class QueryCostLimiter(SchemaExtension):
    """Caps the document's size while parsing, estimates the operation before execution and
    refuses it if too costly."""

    def on_operation(self) -> Iterator[None]:
        settings = self.execution_context.context.settings
        self.execution_context.parse_options["max_tokens"] = settings.max_query_tokens
        yield

    def on_parse(self) -> Iterator[None]:
        yield
        ctx = self.execution_context
        limit = ctx.context.settings.max_query_tokens
        for error in ctx.pre_execution_errors or ():
            if TOKEN_LIMIT_MESSAGE in error.message:
                error.message = (
                    f"This document has more than {limit} tokens (names, punctuation, values); "
                    "send a smaller query."
                )
                error.extensions = {"code": ErrorCode.QUERY_TOO_COMPLEX.value}

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        if document is not None and not ctx.result:
            found, _ = estimate(ctx.schema._schema, document, ctx.operation_name, ctx.variables)
            settings = ctx.context.settings
            limits = Limits(settings.max_query_cost, settings.max_query_aliases)
            error = too_complex(found, limits)
            if error is not None:
                ctx.result = ExecutionResult(data=None, errors=[error])
        yield
