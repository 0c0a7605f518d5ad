"""The committed schema.graphql is the one the code prints."""

from __future__ import annotations

from pathlib import Path

from resolvers.schema import print_schema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_schema_graphql_is_current() -> None:
    assert SCHEMA_FILE.read_text() == print_schema(), (
        "schema.graphql is stale: run `make schema` and commit it"
    )


def test_protected_fields_document_their_rule() -> None:
    user_type = print_schema().split("type User implements Node {", 1)[1].split("}", 1)[0]
    email_line = next(line for line in user_type.splitlines() if line.strip().startswith("email:"))
    assert "@visibleTo(rule:" in email_line
