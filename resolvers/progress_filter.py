"""The progress filter input shared by `groupProgress` and `Group.progress`."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.report import ProgressFilter, ProgressStatus
from app.validation import SEARCH_MAX, aware, optional_text
from resolvers.relay import from_global_id

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
        groups = self.group_ids
        courses = self.course_ids
        return ProgressFilter(
            group_ids=None
            if groups is None
            else tuple(sorted({from_global_id(g, "Group", "filter.groupIds") for g in groups})),
            course_ids=None
            if courses is None
            else tuple(sorted({from_global_id(c, "Course", "filter.courseIds") for c in courses})),
            status=self.status,
            activated_after=aware("filter.activatedAfter", self.activated_after),
            activated_before=aware("filter.activatedBefore", self.activated_before),
            completed_after=aware("filter.completedAfter", self.completed_after),
            completed_before=aware("filter.completedBefore", self.completed_before),
            search=optional_text("filter.search", self.search, SEARCH_MAX),
        )


def to_filter(value: ProgressFilterInput | None) -> ProgressFilter:
    return ProgressFilter() if value is None else value.to_filter()
