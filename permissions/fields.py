"""Strawberry permission classes for protected fields.

Invariants:
- each class only asks `permissions.policy.AccessScope`; none queries the database, and
  `has_permission` is synchronous and O(1) because it runs once per row;
- a refused field answers `null` (fail silently), never an error that would reveal the row's
  existence or the field's value; `schema.graphql` shows each rule as `@visibleTo(rule: …)`.
"""

from __future__ import annotations

from typing import Any, Protocol

import strawberry
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.schema_directive import Location


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    description="Who may read this field; everyone else reads null.",
)
class VisibleTo:
    rule: str


class OwnedRow(Protocol):
    """A row that belongs to one user (a User is its own owner; a Progress, its student's)."""

    @property
    def owner_id(self) -> int: ...


def _scope(info: Any) -> Any:
    return info.context.scope


class EmailVisible(BasePermission):
    _schema_directive = VisibleTo(
        rule="site admins, the user itself, analysts of a group the user is a member of"
    )

    def has_permission(self, source: OwnedRow, info: Any, **kwargs: Any) -> bool:
        return bool(_scope(info).can_see_email(source.owner_id))


class ExpiryVisible(BasePermission):
    _schema_directive = VisibleTo(
        rule="site admins, the student itself, analysts of a group the student is a member of"
    )

    def has_permission(self, source: OwnedRow, info: Any, **kwargs: Any) -> bool:
        return bool(_scope(info).can_see_expiry(source.owner_id))


class PrivateToUser(BasePermission):
    _schema_directive = VisibleTo(rule="site admins and the user itself")

    def has_permission(self, source: OwnedRow, info: Any, **kwargs: Any) -> bool:
        return bool(_scope(info).can_see_private(source.owner_id))


def visible_to(permission: BasePermission) -> PermissionExtension:
    return PermissionExtension(permissions=[permission], fail_silently=True)
