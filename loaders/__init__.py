"""All of a request's DataLoaders, in one typed container created fresh per request."""

from __future__ import annotations

from dataclasses import dataclass

from app.db import Database
from loaders.assignments import AssignmentByIdLoader, AssignmentsByAnalystIdLoader
from loaders.audit import AuditEventByIdLoader
from loaders.courses import CourseByIdLoader, LessonByIdLoader, LessonsByCourseIdLoader
from loaders.groups import GroupByIdLoader, GroupsByMemberIdLoader
from loaders.progress import (
    ProgressByIdLoader,
    ProgressByUserIdLoader,
    ProgressSummaryByGroupIdLoader,
    ReportRowByKeyLoader,
    ReportRowCountByGroupIdLoader,
    ReportRowsByGroupIdLoader,
)
from loaders.tokens import ApiTokenByIdLoader
from loaders.users import (
    AnalystsByGroupIdLoader,
    MemberCountByGroupIdLoader,
    MembersByGroupIdLoader,
    RolesByUserIdLoader,
    UserByIdLoader,
)
from permissions.policy import AccessScope


@dataclass(frozen=True)
class Loaders:
    user_by_id: UserByIdLoader
    roles_by_user_id: RolesByUserIdLoader
    group_by_id: GroupByIdLoader
    course_by_id: CourseByIdLoader
    lessons_by_course_id: LessonsByCourseIdLoader
    lesson_by_id: LessonByIdLoader
    groups_by_member_id: GroupsByMemberIdLoader
    members_by_group_id: MembersByGroupIdLoader
    member_count_by_group_id: MemberCountByGroupIdLoader
    analysts_by_group_id: AnalystsByGroupIdLoader
    assignment_by_id: AssignmentByIdLoader
    assignments_by_analyst_id: AssignmentsByAnalystIdLoader
    progress_by_id: ProgressByIdLoader
    progress_by_user_id: ProgressByUserIdLoader
    report_rows_by_group_id: ReportRowsByGroupIdLoader
    report_row_count_by_group_id: ReportRowCountByGroupIdLoader
    report_row_by_key: ReportRowByKeyLoader
    progress_summary_by_group_id: ProgressSummaryByGroupIdLoader
    api_token_by_id: ApiTokenByIdLoader
    audit_event_by_id: AuditEventByIdLoader

    @classmethod
    def create(cls, db: Database, scope: AccessScope) -> Loaders:
        return cls(
            user_by_id=UserByIdLoader(db, scope),
            roles_by_user_id=RolesByUserIdLoader(db, scope),
            group_by_id=GroupByIdLoader(db, scope),
            course_by_id=CourseByIdLoader(db, scope),
            lessons_by_course_id=LessonsByCourseIdLoader(db, scope),
            lesson_by_id=LessonByIdLoader(db, scope),
            groups_by_member_id=GroupsByMemberIdLoader(db, scope),
            members_by_group_id=MembersByGroupIdLoader(db, scope),
            member_count_by_group_id=MemberCountByGroupIdLoader(db, scope),
            analysts_by_group_id=AnalystsByGroupIdLoader(db, scope),
            assignment_by_id=AssignmentByIdLoader(db, scope),
            assignments_by_analyst_id=AssignmentsByAnalystIdLoader(db, scope),
            progress_by_id=ProgressByIdLoader(db, scope),
            progress_by_user_id=ProgressByUserIdLoader(db, scope),
            report_rows_by_group_id=ReportRowsByGroupIdLoader(db, scope),
            report_row_count_by_group_id=ReportRowCountByGroupIdLoader(db, scope),
            report_row_by_key=ReportRowByKeyLoader(db, scope),
            progress_summary_by_group_id=ProgressSummaryByGroupIdLoader(db, scope),
            api_token_by_id=ApiTokenByIdLoader(db, scope),
            audit_event_by_id=AuditEventByIdLoader(db, scope),
        )
