"""All of a request's DataLoaders, in one typed container created fresh per request."""

from __future__ import annotations

from dataclasses import dataclass

from app.db import Database
from loaders.courses import CourseByIdLoader, LessonsByCourseIdLoader
from loaders.groups import GroupByIdLoader
from loaders.users import RolesByUserIdLoader, UserByIdLoader
from permissions.policy import Scope


@dataclass(frozen=True)
class Loaders:
    user_by_id: UserByIdLoader
    roles_by_user_id: RolesByUserIdLoader
    group_by_id: GroupByIdLoader
    course_by_id: CourseByIdLoader
    lessons_by_course_id: LessonsByCourseIdLoader

    @classmethod
    def create(cls, db: Database, scope: Scope) -> Loaders:
        return cls(
            user_by_id=UserByIdLoader(db, scope),
            roles_by_user_id=RolesByUserIdLoader(db, scope),
            group_by_id=GroupByIdLoader(db, scope),
            course_by_id=CourseByIdLoader(db, scope),
            lessons_by_course_id=LessonsByCourseIdLoader(db, scope),
        )
