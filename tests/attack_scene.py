"""The world the attack tests (`tests/test_attacks_*.py`) play in, and their shared helpers.

Each attack test plays a client trying to learn something it may not see: an email, a
membership, an assignment, whether an id exists. The viewers: an analyst of Alpha, its
co-analyst, an analyst whose assignment expired, the analyst of Beta, a student, anonymous,
and a user who is both an analyst (of Alpha) and a student (in Beta).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from app.models import Course, Group, Role, User, utcnow
from app.pagination import encode_cursor
from tests.support import Api, World


@dataclass
class Scene:
    admin: User
    analyst: User  # analyses Alpha
    co: User  # analyses Alpha too; not a member of any group
    expired: User  # its assignment to Alpha has expired
    other: User  # analyses Beta only
    dual: User  # analyses Alpha and is a student in Beta
    s1: User  # in Alpha
    s3: User  # in Beta only
    alpha: Group
    beta: Group
    course: Course
    zen: Course  # only s3 is enrolled
    tokens: dict[str, str | None]


async def build_scene(world: World) -> Scene:
    """The world every attack test plays in (see `Scene`)."""
    now = utcnow()
    admin = await world.user("Adam", "Admin", Role.SITE_ADMIN)
    analyst = await world.user("Ana", "Analyst", Role.GROUP_ANALYST)
    co = await world.user("Cody", "Coanalyst", Role.GROUP_ANALYST, email="cody.secret@partner.io")
    expired = await world.user("Eve", "Expired", Role.GROUP_ANALYST)
    other = await world.user("Otto", "Other", Role.GROUP_ANALYST)
    dual = await world.user("Dana", "Dual", Role.GROUP_ANALYST, Role.STUDENT)
    s1 = await world.user("Sue", "One", email="sue.one@students.io")
    s3 = await world.user("Uma", "Three", email="uma.hidden@students.io", company="Initech")
    alpha = await world.group("Alpha", members=(s1,))
    beta = await world.group("Beta", members=(s3, dual))
    await world.assign(analyst, alpha)
    await world.assign(co, alpha, expires_at=now + timedelta(days=365))
    await world.assign(expired, alpha, expires_at=now - timedelta(minutes=1))
    await world.assign(other, beta)
    await world.assign(dual, alpha)
    course = await world.course("Python", 4)
    zen = await world.course("Zen", 2)
    for student in (s1, s3, dual):
        await world.enroll(student, course, viewed=2, completed=1)
    await world.enroll(s3, zen, viewed=1, expires_at=now + timedelta(days=30))
    tokens: dict[str, str | None] = {"anonymous": None}
    for name, user in [
        ("admin", admin),
        ("analyst", analyst),
        ("co", co),
        ("expired", expired),
        ("other", other),
        ("dual", dual),
        ("s1", s1),
        ("s3", s3),
    ]:
        tokens[name] = await world.token(user)
    return Scene(admin, analyst, co, expired, other, dual, s1, s3, alpha, beta, course, zen, tokens)


def cursor(*values: Any) -> str:
    """A cursor holding `values`, sealed with the server's key (as only an insider could):
    the checks behind the encryption must hold on their own."""
    return encode_cursor(values)


def decoded(value: str) -> str:
    """What anyone holding a cursor can read of it."""
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode(errors="replace")


def errors_without_locations(body: dict[str, Any]) -> dict[str, Any]:
    """The body with error locations (which differ between two query texts) left out."""
    out = dict(body)
    if "errors" in out:
        out["errors"] = [{k: v for k, v in e.items() if k != "locations"} for e in out["errors"]]
    return out


async def csv_export(api: Api, params: list[tuple[str, str]], token: str | None) -> httpx.Response:
    """`GET /exports/progress.csv` with `params`, as the holder of `token`."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await api.client.get(f"/exports/progress.csv?{urlencode(params)}", headers=headers)


USERS = """query($after: String, $filter: UserFilter) {
  users(first: 100, after: $after, filter: $filter) {
    totalCount edges { cursor node { id lastName email } }
  }
}"""

NODE = "query($id: ID!) { node(id: $id) { id __typename } }"

COMPLETE = """mutation($l: ID!, $u: ID) { completeLesson(input: {lessonId: $l, userId: $u}) {
  changed } }"""
