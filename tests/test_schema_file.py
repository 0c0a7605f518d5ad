"""The committed schema.graphql is the one the code prints."""

from __future__ import annotations

import re
from pathlib import Path

from permissions import rules
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


def test_each_guarded_field_describes_its_rule_in_words_graphiql_shows() -> None:
    """GraphiQL shows descriptions, not directives: the rule's sentence is in both."""
    printed = print_schema()
    rules_used = re.findall(r'@visibleTo\(rule: "([^"]+)"\)', printed)
    assert {rules.CONTACT.sentence, rules.PRIVATE.sentence, rules.ENROLLMENT.sentence} <= set(
        rules_used
    )
    for match in re.finditer(
        r'"""\s*([^"]*?)\s*"""\s*\n\s*\w+[^\n]*@visibleTo\(rule: "([^"]+)"\)', printed, re.S
    ):
        description, sentence = match.groups()
        assert f"Visible to {sentence};" in description
    described = re.findall(r'"""\s*[^"]*?Visible to [^"]*?"""\s*\n\s*\w+[^\n]*@visibleTo', printed)
    assert len(described) == len(rules_used)
