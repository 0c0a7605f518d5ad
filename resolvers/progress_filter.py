"""The progress filter input shared by `groupProgress` and `Group.progress`."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.report import ProgressFilter, ProgressStatus

strawberry.enum(ProgressStatus, description="Where a student stands in a course.")


@strawberry.input(name="ProgressFilter", description="Every given condition must hold.")
class ProgressFilterInput:
    group_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only rows reported under these groups."
    )
    course_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only these courses."
    )
    status: ProgressStatus | None = None
    activated_after: datetime | None = strawberry.field(
        default=None, description="Enrolled at or after this moment."
    )
    activated_before: datetime | None = strawberry.field(
        default=None, description="Enrolled before this moment."
    )
    completed_after: datetime | None = strawberry.field(
        default=None, description="Completed at or after this moment."
    )
    completed_before: datetime | None = strawberry.field(
        default=None, description="Completed before this moment."
    )
    search: str | None = strawberry.field(
        default=None,
        description="Part of the student's first name, last name or (where visible) email.",
    )

    def to_filter(self) -> ProgressFilter:
        """A hashable `ProgressFilter` (loaders batch by it); BAD_USER_INPUT on bad ids."""
        return ProgressFilter.checked(
            group_ids=self.group_ids,
            course_ids=self.course_ids,
            status=self.status,
            activated_after=self.activated_after,
            activated_before=self.activated_before,
            completed_after=self.completed_after,
            completed_before=self.completed_before,
            search=self.search,
        )


def to_filter(value: ProgressFilterInput | None) -> ProgressFilter:
    return ProgressFilter() if value is None else value.to_filter()
