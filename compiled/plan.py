"""An operation as a tree of collected fields, the way graphql-core's executor sees it.

`plan` reads a parsed, validated query with its variables and answers the root fields as
`Field` trees: fragments inlined (a fragment applies when its type condition names the object
type, exactly as the executor decides), `@skip`/`@include` decided, same-key fields merged in
the order of their first appearance, and every argument coerced by graphql-core itself (so a
default or a variable means here what it means to the resolver). It answers None for anything
it does not describe exactly: another operation kind, variables that do not coerce, or a field
on an abstract type, but for `node(id:)`, collected on the object type its id names (the type
the executor resolves it to; whether that object exists is the root's to say). Each field carries
the rules its schema field's permissions guard it by (`field_rules`), read from the schema at
every operation, so `compiled.parts.obj` can refuse a field compiled without them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    get_operation_ast,
)
from graphql.execution.values import (
    VariableValues,
    get_argument_values,
    get_directive_values,
    get_variable_values,
)
from strawberry.permission import PermissionExtension

from app.ids import parse_global_key
from permissions.fields import RulePermission
from permissions.rules import KeyRule


@dataclass(frozen=True)
class Field:
    """One response key of a selection: `name` asked for under `key`, with its coerced
    arguments; `type_name` is the field's named type, `fields` its sub-selection (collected)."""

    key: str
    name: str
    args: Mapping[str, Any]
    type_name: str
    fields: tuple[Field, ...]
    # The read rules the schema's field permissions (`visible_field`) guard this field by.
    rules: tuple[KeyRule, ...] = ()

    def arg(self, name: str) -> Any:
        return self.args.get(name)


class NotCompilable(Exception):
    """The operation has a shape this package does not describe: Strawberry runs it."""


def field_rules(definition: GraphQLField) -> tuple[KeyRule, ...]:
    """The rules of the field's permissions, read from the schema (the source of truth);
    NotCompilable for any other extension or permission class (the compiler would not know
    what it does to the value)."""
    strawberry_field = (definition.extensions or {}).get("strawberry-definition")
    if strawberry_field is None:
        return ()
    if strawberry_field.permission_classes:
        raise NotCompilable("permission classes")
    found: list[KeyRule] = []
    for extension in strawberry_field.extensions:
        if not isinstance(extension, PermissionExtension):
            raise NotCompilable(type(extension).__name__)
        for permission in extension.permissions:
            if not isinstance(permission, RulePermission):
                raise NotCompilable(type(permission).__name__)
            found.append(permission.rule)
    return tuple(found)


class _Collector:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: VariableValues,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def included(self, node: FieldNode | FragmentSpreadNode | InlineFragmentNode) -> bool:
        skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
        if skip is not None and skip.get("if") is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        return not (include is not None and include.get("if") is False)

    def applies(self, condition: str | None, parent: GraphQLObjectType) -> bool:
        if condition is None or condition == parent.name:
            return True
        abstract = self.schema.get_type(condition)
        if abstract is None or isinstance(abstract, GraphQLObjectType):
            return False
        return self.schema.is_sub_type(abstract, parent)  # type: ignore[arg-type]

    def group(
        self,
        selections: SelectionSetNode,
        parent: GraphQLObjectType,
        into: dict[str, list[FieldNode]],
        seen: set[str],
    ) -> dict[str, list[FieldNode]]:
        for node in selections.selections:
            if not self.included(node):  # type: ignore[arg-type]
                continue
            if isinstance(node, FieldNode):
                key = node.alias.value if node.alias else node.name.value
                into.setdefault(key, []).append(node)
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition.name.value if node.type_condition else None
                if self.applies(condition, parent):
                    self.group(node.selection_set, parent, into, seen)
            elif isinstance(node, FragmentSpreadNode) and node.name.value not in seen:
                seen.add(node.name.value)
                fragment = self.fragments[node.name.value]
                if self.applies(fragment.type_condition.name.value, parent):
                    self.group(fragment.selection_set, parent, into, seen)
        return into

    def fields(
        self, selections: list[SelectionSetNode], parent: GraphQLObjectType
    ) -> tuple[Field, ...]:
        grouped: dict[str, list[FieldNode]] = {}
        seen: set[str] = set()
        for selection in selections:
            self.group(selection, parent, grouped, seen)
        return tuple(self.field(key, nodes, parent) for key, nodes in grouped.items())

    def field(self, key: str, nodes: list[FieldNode], parent: GraphQLObjectType) -> Field:
        name = nodes[0].name.value
        if name == "__typename":
            return Field(key, name, {}, "String", ())
        definition = parent.fields.get(name)
        if definition is None:
            raise NotCompilable(name)
        named = get_named_type(definition.type)
        args = get_argument_values(definition, nodes[0], self.variables)
        if name == "node" and parent is self.schema.query_type:
            named = self.node_type(args.get("id"))
        subs = [node.selection_set for node in nodes if node.selection_set is not None]
        children: tuple[Field, ...] = ()
        if subs:
            if not isinstance(named, GraphQLObjectType):
                raise NotCompilable(named.name)
            children = self.fields(subs, named)
        return Field(key, name, args, named.name, children, field_rules(definition))

    def node_type(self, value: Any) -> GraphQLObjectType:
        """The object type `node(id:)` answers for `value`: the type its id names (the
        executor resolves the interface to it). NotCompilable for an id that is not one of
        ours, or names no object type of the schema (the resolver answers those itself)."""
        parsed = parse_global_key(value) if isinstance(value, str) else None
        found = self.schema.get_type(parsed[0]) if parsed is not None else None
        node = self.schema.get_type("Node")
        if (
            not isinstance(found, GraphQLObjectType)
            or not isinstance(node, GraphQLInterfaceType)
            or not self.schema.is_sub_type(node, found)
        ):
            raise NotCompilable("node")
        return found


def operation_of(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operation = get_operation_ast(document, name)
    if operation is None or operation.operation is not OperationType.QUERY:
        return None
    return operation


def plan(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> tuple[Field, ...] | None:
    """The root fields of the query `operation_name`, or None when it is not a query or its
    shape cannot be described (the executor then runs it and reports whatever it reports)."""
    operation = operation_of(document, operation_name)
    query = schema.query_type
    if operation is None or query is None:
        return None
    coerced = get_variable_values(
        schema, operation.variable_definitions or (), dict(variables or {})
    )
    if isinstance(coerced, list):
        return None
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    try:
        return _Collector(schema, fragments, coerced).fields([operation.selection_set], query)
    except (NotCompilable, GraphQLError, KeyError):
        return None
