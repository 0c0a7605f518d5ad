"""Every object id means one set of values, whatever the path: as a normalising client cache
(Apollo, urql's graphcache, Relay) sees the API.

Such a cache stores each object once, under `__typename` + `id`, and merges every response
into it: if one id came back with two different values for a field on two paths, a dashboard
would show one path's value on the other. The README's queries, with their variables (plus
one that reaches the same enrollments by every path at once), run as each demo account, with
`__typename` and `id` added to every selection as those clients do; every response is merged
into one store per viewer, and any field of an id answering two different values fails the
test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    FieldNode,
    GraphQLSchema,
    InlineFragmentNode,
    NameNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    parse,
    print_ast,
    visit,
)
from graphql.type.definition import GraphQLInterfaceType, GraphQLObjectType

from app.db import Database
from app.demo import DemoSummary
from resolvers.schema import schema
from tests.support import Api, token_for
from tests.test_readme_examples import examples

README = Path(__file__).resolve().parent.parent / "README.md"

# The same enrollments by every path: a user's progress, a group's members' progress, the
# group's report rows, the report across groups, and `node`.
EVERY_PATH = """
query EveryPath {
  users(first: 50) { edges { node { id email progress { id percentCompleted expiresAt
    course { id name } student { id email } } } } }
  groups(first: 5) { edges { node { id name
    members(first: 50) { edges { node { id email progress { id percentCompleted
      course { id name } } } } }
    progress(first: 50) { edges { node { id group { id name } student { id email }
      course { id } progress { id percentCompleted completedAt expiresAt } } } }
  } } }
  groupProgress(first: 50) { edges { node { id group { id name } student { id email }
    progress { id percentCompleted course { id name } student { id } } } } }
}
"""


def readme_read_operations() -> list[tuple[str, dict[str, Any]]]:
    """Every query of the README's ```graphql blocks, alone, with the variables it declares
    from the block's variables pane (mutations and subscriptions change or wait: left out)."""
    out = []
    for example in examples(README.read_text()):
        for definition in parse(example.document).definitions:
            if (
                isinstance(definition, OperationDefinitionNode)
                and definition.operation is OperationType.QUERY
            ):
                declared = {v.variable.name.value for v in definition.variable_definitions or ()}
                variables = {k: v for k, v in example.variables.items() if k in declared}
                out.append((print_ast(definition), variables))
    return out


class _AddKeys(Visitor):
    """Adds `__typename`, and `id` where the type has one, to every selection set."""

    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info

    def leave_selection_set(self, node: SelectionSetNode, *_: Any) -> SelectionSetNode:
        parent = get_named_type(self.type_info.get_parent_type())
        names = {s.name.value for s in node.selections if isinstance(s, FieldNode)}
        extra = ["__typename"]
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType) and "id" in parent.fields:
            extra.append("id")
        added = tuple(FieldNode(name=NameNode(value=n)) for n in extra if n not in names)
        return SelectionSetNode(selections=(*node.selections, *added))


def with_keys(query: str, graphql_schema: GraphQLSchema) -> str:
    type_info = TypeInfo(graphql_schema)
    return print_ast(visit(parse(query), TypeInfoVisitor(type_info, _AddKeys(type_info))))


@dataclass
class Store:
    """A normalised cache: values of each (`__typename`, `id`)'s fields, by field and args."""

    objects: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def merge(self, query: str, data: dict[str, Any]) -> None:
        operation = parse(query).definitions[0]
        assert isinstance(operation, OperationDefinitionNode)
        self._value(operation.selection_set, data, "data")

    def _value(self, selections: SelectionSetNode | None, value: Any, path: str) -> Any:
        if isinstance(value, list):
            return [self._value(selections, item, f"{path}[{i}]") for i, item in enumerate(value)]
        if not isinstance(value, dict) or selections is None:
            return value
        fields = {
            cache_key: self._value(node.selection_set, value[key], f"{path}.{key}")
            for key, cache_key, node in _fields(selections, value)
        }
        if value.get("id") is None:
            return fields
        ref = (value["__typename"], value["id"])
        stored = self.objects.setdefault(ref, {})
        for key, new in fields.items():
            stored[key] = _merged(stored.get(key, new), new, f"{ref} field {key!r} at {path}")
        return ref


def _merged(old: Any, new: Any, where: str) -> Any:
    """One stored value from two answers: an object without id (a connection, an edge) merges
    field by field, as its selections may differ; anything else must be equal."""
    if isinstance(old, dict) and isinstance(new, dict):
        both = {key: _merged(old[key], new[key], f"{where}.{key}") for key in old.keys() & new}
        return {**old, **new, **both}
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [
            _merged(a, b, f"{where}[{i}]") for i, (a, b) in enumerate(zip(old, new, strict=True))
        ]
    assert old == new, f"{where}: {old!r} on one path, {new!r} on another"
    return new


def _fields(
    selections: SelectionSetNode, value: dict[str, Any]
) -> list[tuple[str, str, FieldNode]]:
    """The fields answered in `value`: response key, the key a cache stores it under (name
    and arguments), and the field."""
    out: list[tuple[str, str, FieldNode]] = []
    for selection in selections.selections:
        if isinstance(selection, InlineFragmentNode):
            out += _fields(selection.selection_set, value)
        elif isinstance(selection, FieldNode):
            response_key = (selection.alias or selection.name).value
            if response_key in value:
                args = ",".join(print_ast(a) for a in selection.arguments or ())
                out.append((response_key, f"{selection.name.value}({args})", selection))
    return out


def test_the_readme_queries_include_the_report_and_the_dashboard() -> None:
    """So the walk below covers the paths a dashboard takes (members and report rows)."""
    text = "\n".join(query for query, _ in readme_read_operations())
    assert "groupProgress" in text
    assert "members(" in text


@pytest.mark.parametrize("account", ["owner", "analyst", "partner", "student"])
async def test_one_id_one_value_per_field_across_every_path(
    api: Api, db: Database, demo: DemoSummary, account: str
) -> None:
    token = await token_for(db, demo.accounts[account])
    store = Store()
    graphql_schema = schema._schema
    for query, variables in [*readme_read_operations(), (EVERY_PATH, {})]:
        keyed = with_keys(query, graphql_schema)
        body = await api.raw(keyed, variables, token=token)
        # Some README queries are for admins (the audit trail) or name a fixed id: refused,
        # they answer nothing.
        codes = {error["extensions"]["code"] for error in body.get("errors", [])}
        # (The README's dashboard example is over today's cost limit: it answers nothing.)
        allowed = {"FORBIDDEN", "NOT_FOUND"} | (
            {"QUERY_TOO_COMPLEX"} if query != EVERY_PATH else set()
        )
        assert codes <= allowed, body["errors"]
        if body.get("data"):
            store.merge(keyed, body["data"])
    kinds = {typename for typename, _ in store.objects}
    if account in ("owner", "analyst"):
        assert {"Progress", "GroupProgressRow", "User", "Group", "Course"} <= kinds
    else:
        assert "User" in kinds


def test_the_store_notices_one_id_with_two_values() -> None:
    """What the walk catches: the same Progress id answering two groups (as before
    `GroupProgressRow` existed, when `Progress.group` depended on the path)."""
    query = "{ a { id __typename group } b { id __typename group } }"
    data = {
        "a": {"id": "UHJvZ3Jlc3M6MQ==", "__typename": "Progress", "group": "G1"},
        "b": {"id": "UHJvZ3Jlc3M6MQ==", "__typename": "Progress", "group": "G2"},
    }
    with pytest.raises(AssertionError, match="'G1' on one path, 'G2' on another"):
        Store().merge(query, data)
