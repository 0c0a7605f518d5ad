"""The committed schema.graphql is the one the code prints."""

from __future__ import annotations

from pathlib import Path

from permissions import rules
from permissions.fields import VisibleTo
from resolvers.schema import print_schema, schema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_schema_graphql_is_current() -> None:
    assert SCHEMA_FILE.read_text() == print_schema(), (
        "schema.graphql is stale: run `make schema` and commit it"
    )


def test_protected_fields_document_their_rule() -> None:
    user_type = print_schema().split("type User implements Node {", 1)[1].split("}", 1)[0]
    email_line = next(line for line in user_type.splitlines() if line.strip().startswith("email:"))
    assert "@visibleTo(rule:" in email_line


def test_each_guarded_field_describes_its_rule_in_words_graphiql_shows() -> None:
    """GraphiQL shows descriptions, not directives: the rule's sentence is in both."""
    guarded: dict[str, str] = {}
    for type_name, graphql_type in schema._schema.type_map.items():
        for field_name, field in getattr(graphql_type, "fields", {}).items():
            definition = (field.extensions or {}).get("strawberry-definition")
            for directive in getattr(definition, "directives", ()):
                if isinstance(directive, VisibleTo):
                    assert f"Visible to {directive.rule};" in (field.description or "")
                    guarded[f"{type_name}.{field_name}"] = directive.rule
    assert guarded["User.email"] == rules.CONTACT.sentence
    assert guarded["User.roles"] == rules.PRIVATE.sentence
    assert guarded["User.apiTokens"] == rules.TOKEN.sentence
    assert guarded["Progress.expiresAt"] == rules.ENROLLMENT.sentence
