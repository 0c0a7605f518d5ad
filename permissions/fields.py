"""Strawberry fields guarded by a read rule (`permissions.rules`).

Invariants:
- a guarded field asks only its rule's `allows` against the request's `AccessScope`; nothing
  here queries the database, and `has_permission` is synchronous and O(1) because it runs
  once per row;
- a refused field answers `null` (or `[]` for a list: fail silently), never an error that
  would reveal the row's existence or the field's value;
- the rule's sentence is both the field's `@visibleTo(rule: …)` directive and the end of its
  description (GraphiQL shows descriptions, not directives), so the documentation is the rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

import strawberry
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.schema_directive import Location

from permissions.policy import AccessScope
from permissions.rules import KeyRule, SiteRule

Row = TypeVar("Row")


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    description="Who may read this field; everyone else reads null.",
)
class VisibleTo:
    rule: str


class ScopedContext(Protocol):
    """What a guarded field needs of the request context (`resolvers.context.Context`)."""

    scope: AccessScope


ScopedInfo = strawberry.Info[ScopedContext, None]


class RulePermission(BasePermission, Generic[Row]):
    """Lets the field through when `rule` allows the key `key_of` reads from its row."""

    def __init__(self, rule: KeyRule, key_of: Callable[[Row], int]) -> None:
        super().__init__()
        self.rule = rule
        self.key_of = key_of
        self.directive = VisibleTo(rule=rule.sentence)

    @property
    def schema_directive(self) -> object:
        return self.directive

    def has_permission(self, source: Row, info: ScopedInfo, **kwargs: object) -> bool:
        return self.rule.allows(info.context.scope, self.key_of(source))


def rule_description(
    rule: KeyRule | SiteRule, description: str | None = None, refused: str = "null"
) -> str:
    """The field's description followed by who may read it (`refused`: what others read)."""
    who = f"Visible to {rule.sentence}; {refused} for anyone else."
    return f"{description} {who}" if description else who


def visible_field(
    rule: KeyRule,
    key_of: Callable[[Row], int],
    description: str | None = None,
    *,
    refused: str = "null",
) -> Any:
    """A field readable only where `rule` allows the key `key_of(row)`: use it like
    `@strawberry.field`; `refused` says what others read ("an empty list" for a list).
    (Returns what `strawberry.field` returns, typed as loosely as it is.)"""
    return strawberry.field(
        description=rule_description(rule, description, refused),
        extensions=[
            PermissionExtension(permissions=[RulePermission(rule, key_of)], fail_silently=True)
        ],
    )
