"""Every string and date-time argument passes `app.validation` before anything runs.

Before execution, one pass over the operation (and its fragments, each once) finds every
argument value, written in the document or sent as a variable (a variable's declared
default included), descending into input objects and lists, and checks:
- each `String`/`ID` value with `validation.string_argument` (no NUL, no lone surrogate, at
  most the field's length bound);
- each `DateTime` value with `validation.date_time` (a time zone, within the bounded range).

Invariant: a hostile value in any argument of any field (a search, a login email or
password, a name, a token name, the audit filter, a cursor, a date) is refused as one
BAD_USER_INPUT naming the field as the API does elsewhere (`email` in a mutation's `input`,
`filter.activatedAfter`, `search`, `after`), and no resolver runs: none of them can reach
SQL or a date conversion and fail there.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    ExecutionResult,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    StringValueNode,
    TypeInfo,
    TypeInfoVisitor,
    ValueNode,
    VariableNode,
    Visitor,
    get_operation_ast,
    visit,
)
from strawberry.extensions import SchemaExtension

from app import validation
from app.errors import AppError

STRING_SCALARS = frozenset({"String", "ID"})


def _inside(field: str, key: str) -> str:
    """The name of an input object's field in errors: `filter.since`, but `expiresAt` for a
    mutation's `input` (the API's convention)."""
    return key if field == "input" else f"{field}.{key}"


class _Checker:
    def __init__(
        self,
        schema: GraphQLSchema,
        variables: Mapping[str, Any],
        defaults: Mapping[str, ValueNode],
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.defaults = defaults

    def node(self, field: str, value: ValueNode, type_: GraphQLInputType) -> None:
        """A value written in the document (or a variable standing for one)."""
        named = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        if isinstance(value, VariableNode):
            name = value.name.value
            if name in self.variables:
                self.raw(field, self.variables[name], named)
            elif name in self.defaults:
                self.node(field, self.defaults[name], named)
        elif isinstance(value, ListValueNode) and isinstance(named, GraphQLList):
            for element in value.values:
                self.node(field, element, named.of_type)
        elif isinstance(value, ObjectValueNode) and isinstance(named, GraphQLInputObjectType):
            for pair in value.fields:
                inner = named.fields.get(pair.name.value)
                if inner is not None:
                    self.node(_inside(field, pair.name.value), pair.value, inner.type)
        elif isinstance(value, StringValueNode) and isinstance(named, GraphQLScalarType):
            self.scalar(field, value.value, named)

    def raw(self, field: str, value: Any, type_: GraphQLInputType) -> None:
        """A value sent as (part of) a variable, as decoded from JSON."""
        named = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        if isinstance(named, GraphQLList):
            for item in value if isinstance(value, list) else [value]:
                self.raw(field, item, named.of_type)
        elif isinstance(named, GraphQLInputObjectType) and isinstance(value, dict):
            for key, item in value.items():
                inner = named.fields.get(key)
                if inner is not None:
                    self.raw(_inside(field, key), item, inner.type)
        elif isinstance(named, GraphQLScalarType) and isinstance(value, str):
            self.scalar(field, value, named)

    def scalar(self, field: str, value: str, scalar: GraphQLScalarType) -> None:
        if scalar.name == "DateTime":
            validation.valid_unicode(field, value)
            try:
                parsed = scalar.parse_value(value)
            except Exception:
                return
            validation.date_time(field, parsed)
        elif scalar.name in STRING_SCALARS:
            validation.string_argument(field, value)


def check_arguments(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any],
) -> None:
    """BAD_USER_INPUT (an `AppError`) for the first argument value `app.validation` refuses."""
    defaults = {
        d.variable.name.value: d.default_value
        for d in operation.variable_definitions or ()
        if d.default_value is not None
    }
    checker = _Checker(schema, variables, defaults)
    type_info = TypeInfo(schema)

    class _Arguments(Visitor):
        def enter_argument(self, node: ArgumentNode, *_args: Any) -> None:
            argument = type_info.get_argument()
            if argument is not None:
                checker.node(node.name.value, node.value, argument.type)

    visit(document, TypeInfoVisitor(type_info, _Arguments()))


class InputGuard(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        if document is not None and not ctx.result:
            operation = get_operation_ast(document, ctx.operation_name)
            if operation is not None:
                try:
                    check_arguments(ctx.schema._schema, document, operation, ctx.variables or {})
                except AppError as error:
                    ctx.result = ExecutionResult(data=None, errors=[error])
        yield
