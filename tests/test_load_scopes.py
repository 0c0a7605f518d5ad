"""The viewers' scopes read together (`permissions.policy.load_scopes`, live subscribers at
each event) are each exactly the scope the world says, and what `load_scope` reads for that
viewer alone: over random worlds (`tests.worlds`), every user of the world as a viewer, the
expected scope is worked out here from the world's description, not from SQL."""

from __future__ import annotations

from datetime import datetime

import pytest

from app.auth import Viewer, viewer_by_id
from app.db import Database
from app.models import Role, utcnow
from permissions import policy
from permissions.policy import AccessScope, load_scope, load_scopes
from tests.worlds import Built, Spec, build, over_worlds

IN_FORCE = {"never", "future"}


def expected(spec: Spec, built: Built, user: int, viewer: Viewer, now: datetime) -> AccessScope:
    """The scope of `user` (an index of the world) from the world's description."""
    roles = spec.roles[user]
    base = AccessScope(viewer_id=viewer.id, roles=viewer.roles, now=now)
    if roles & {Role.SITE_OWNER, Role.SITE_ADMIN}:
        return base
    if Role.GROUP_ANALYST not in roles:
        courses = {built.course_ids[c] for (u, c) in spec.enrollments if u == user}
        return AccessScope(
            viewer_id=viewer.id,
            roles=viewer.roles,
            now=now,
            enrolled_course_ids=frozenset(courses),
        )
    in_force = {pair for pair, kind in spec.assignments.items() if kind in IN_FORCE}
    analysed = {g for (u, g) in in_force if u == user}
    co = {u for (u, g) in in_force if g in analysed}
    members = {u for u in co if any((u, g) in spec.memberships for g in analysed)}
    return AccessScope(
        viewer_id=viewer.id,
        roles=viewer.roles,
        now=now,
        analysed_group_ids=frozenset(built.group_ids[g] for g in analysed),
        co_analyst_ids=frozenset(built.user_ids[u] for u in co),
        co_analyst_member_ids=frozenset(built.user_ids[u] for u in members),
    )


@over_worlds(30)
async def test_scopes_read_together_are_each_viewers_own(
    db: Database, spec: Spec, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two analysts per statement, so a world's analysts span several UNION ALL statements.
    monkeypatch.setattr(policy, "SCOPES_PER_STATEMENT", 2)
    built = await build(db, spec)
    now = utcnow()
    viewers: list[Viewer] = []
    for user_id in built.user_ids:
        viewer = await viewer_by_id(db, user_id)
        assert viewer is not None
        viewers.append(viewer)
    together = await load_scopes(db, [*viewers, *viewers[:2]], now)
    assert sorted(together) == sorted(built.user_ids)
    for user, viewer in enumerate(viewers):
        alone = await load_scope(db, viewer, now)
        assert together[viewer.id] == alone == expected(spec, built, user, viewer, now)
