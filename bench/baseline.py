"""The benchmark's baseline: the analyst dashboard answered by ONE SQL statement.

Bench code only, never served by the product. `bench.baseline:app` is the product's own
Starlette app with one extra route, `POST /bench/dashboard`: behind the same token check
(the product's authentication middleware), it runs one statement that builds the whole JSON
answer of `tests.test_read_batching.DASHBOARD` for the signed-in analyst
(`json_object`/`json_group_array` on SQLite, `json_build_object`/`json_agg` on PostgreSQL)
and sends it as it comes out of the database. That is the floor a GraphQL server could reach
for this query: the benchmark compares the product with it in the same run, after checking
that both answers parse equal.

It knows one viewer kind (a group analyst: groups with an unexpired assignment; their
members' emails and expiry dates are visible to it), which is all the dashboard needs. On
SQLite, global ids and cursors (base64) use a Python function registered on the baseline's
own engine (`b64`); PostgreSQL has `encode(..., 'base64')`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.auth import Viewer
from app.db import Database
from app.main import create_app
from app.models import utcnow
from app.settings import Settings

PAGE = 25  # `groups` without `first`
MEMBERS = 100  # `members(first: 100)`


@dataclass(frozen=True)
class Dialect:
    """The few spellings that differ between SQLite and PostgreSQL."""

    name: str

    @property
    def pg(self) -> bool:
        return self.name == "postgresql"

    def obj(self, *pairs: tuple[str, str]) -> str:
        fn = "json_build_object" if self.pg else "json_object"
        items = ", ".join(f"'{k}', {v}" for k, v in pairs)
        return f"{fn}({items})"

    def array(self, expr: str, source: str, order: str) -> str:
        """SELECT of a JSON array of `expr` over `source` (FROM ... WHERE ...) in `order`;
        [] when there are no rows. SQLite 3.40 has no ORDER BY inside an aggregate: the rows
        are ordered in a subquery, whose JSON values `json()` marks as JSON again."""
        if self.pg:
            return f"SELECT COALESCE(json_agg({expr} ORDER BY {order}), '[]'::json) {source}"
        return (
            f"SELECT json_group_array(json(x)) FROM (SELECT {expr} AS x {source} ORDER BY {order})"
        )

    def grouped(self, key: str, expr: str, source: str, order: str) -> str:
        """SELECT of (k, j): per `key`, the JSON array of `expr` over `source` in `order`."""
        if self.pg:
            return (
                f"SELECT {key} AS k, json_agg({expr} ORDER BY {order}) AS j {source} GROUP BY {key}"
            )
        return (
            f"SELECT k, json_group_array(json(x)) AS j FROM "
            f"(SELECT {key} AS k, {expr} AS x {source} ORDER BY {key}, {order}) GROUP BY k"
        )

    def json_or_empty(self, column: str) -> str:
        """A JSON array column of a CTE (NULL after an outer join means no rows)."""
        return f"COALESCE({column}, '[]'::json)" if self.pg else f"json(COALESCE({column}, '[]'))"

    def least(self, a: str, b: str) -> str:
        return f"LEAST({a}, {b})" if self.pg else f"min({a}, {b})"

    def boolean(self, condition: str) -> str:
        if self.pg:
            return f"to_json({condition})"
        return f"CASE WHEN {condition} THEN json('true') ELSE json('false') END"

    def ts(self, column: str) -> str:
        """`datetime.isoformat()` of an aware UTC value (no fraction when it is zero)."""
        if self.pg:
            raw = f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""
        else:
            raw = f"replace({column}, ' ', 'T') || '+00:00'"
        return f"replace({raw}, '.000000+', '+')"

    def b64(self, expr: str) -> str:
        """URL-safe base64 with padding, as `base64.urlsafe_b64encode`."""
        if self.pg:
            return f"translate(encode(convert_to({expr}, 'UTF8'), 'base64'), E'+/\\n', '-_')"
        return f"b64({expr})"

    def json_text(self, expr: str) -> str:
        """A string as JSON text (for cursors, which are JSON lists before base64)."""
        return f"to_json({expr}::text)::text" if self.pg else f"json_quote({expr})"

    def cursor(self, *parts: str, last: str) -> str:
        """`encode_cursor([part..., last])`: compact JSON of strings then an integer id."""
        items = " || ',' || ".join(self.json_text(p) for p in parts)
        return self.b64(f"'[' || {items} || ',' || {last} || ']'")

    def percent(self, done: str, total: str) -> str:
        """`app.report.percent`: floor(1000 * done / total) / 10, capped at 100, 0 if no total."""
        return (
            f"CASE WHEN {total} <= 0 THEN 0.0 WHEN {done} >= {total} THEN 100.0 "
            f"ELSE ({done} * 1000 / {total}) / 10.0 END"
        )


def dashboard_sql(d: Dialect) -> str:
    """The whole `{"data": ...}` answer of the dashboard for viewer :viewer at :now.

    One statement; its parts are CTEs (SQLite's parser refuses deeply nested expressions):
    vg visible groups, gp their first page, mp members with their rank, mc member counts,
    pj each paged member's progress, mj each group's member edges, sj each group's summary.
    """
    ctes = {
        "vg": "SELECT g.id, g.name, g.name_key FROM student_group g WHERE g.id IN ("
        "SELECT a.group_id FROM analyst_assignment a WHERE a.analyst_id = :viewer "
        "AND (a.expires_at IS NULL OR a.expires_at > :now))",
        "gp": f"SELECT * FROM vg ORDER BY name_key, id LIMIT {PAGE}",
        "mp": "SELECT gm.group_id, u.id, u.first_name, u.last_name, u.email, u.email_key, "
        "row_number() OVER (PARTITION BY gm.group_id "
        "ORDER BY u.last_name, u.first_name, u.email_key, u.id) AS rn "
        "FROM group_membership gm JOIN user_account u ON u.id = gm.user_id "
        "WHERE gm.group_id IN (SELECT id FROM gp)",
        "mc": "SELECT group_id AS k, count(*) AS n FROM mp GROUP BY group_id",
        "pj": d.grouped(
            "e.user_id",
            d.obj(
                ("course", d.obj(("name", "c.name"))),
                ("percentViewed", d.percent("e.lessons_viewed", "c.lesson_count")),
                ("percentCompleted", d.percent("e.lessons_completed", "c.lesson_count")),
                ("completedAt", d.ts("e.completed_at")),
                ("expiresAt", d.ts("e.expires_at")),
            ),
            "FROM enrollment e JOIN course c ON c.id = e.course_id "
            f"WHERE e.user_id IN (SELECT id FROM mp WHERE rn <= {MEMBERS})",
            "c.name, c.id",
        ),
        "mj": d.grouped(
            "m.group_id",
            d.obj(
                (
                    "node",
                    d.obj(
                        ("firstName", "m.first_name"),
                        ("lastName", "m.last_name"),
                        ("email", "m.email"),
                        ("progress", d.json_or_empty("pj.j")),
                    ),
                )
            ),
            f"FROM mp m LEFT JOIN pj ON pj.k = m.id WHERE m.rn <= {MEMBERS}",
            "m.rn",
        ),
        "sf": _summary_figures(),
        "sj": d.grouped(
            "s.group_id",
            d.obj(
                ("course", d.obj(("name", "s.name"))),
                ("enrolled", "s.n"),
                ("notStarted", "s.ns"),
                ("inProgress", "s.ip"),
                ("completed", "s.cp"),
                ("averagePercentCompleted", "(s.ps / s.n) / 10.0"),
                ("completionRate", d.percent("s.cp", "s.n")),
            ),
            "FROM sf s",
            "s.name, s.id",
        ),
    }
    end_cursor = (
        f"(SELECT {d.cursor('m.last_name', 'm.first_name', 'm.email_key', last='m.id')} "
        f"FROM mp m WHERE m.group_id = g.id AND m.rn = {d.least('mc.n', str(MEMBERS))})"
    )
    members = d.obj(
        ("totalCount", "COALESCE(mc.n, 0)"),
        (
            "pageInfo",
            d.obj(
                ("hasNextPage", d.boolean(f"COALESCE(mc.n, 0) > {MEMBERS}")),
                ("endCursor", end_cursor),
            ),
        ),
        ("edges", d.json_or_empty("mj.j")),
    )
    node = d.obj(
        ("id", d.b64("'Group:' || g.id")),
        ("name", "g.name"),
        ("members", members),
        ("progressSummary", d.json_or_empty("sj.j")),
    )
    edges = d.grouped(
        "1",
        d.obj(("node", node)),
        "FROM gp g LEFT JOIN mc ON mc.k = g.id LEFT JOIN mj ON mj.k = g.id "
        "LEFT JOIN sj ON sj.k = g.id",
        "g.name_key, g.id",
    )
    ctes["ge"] = edges
    groups = d.obj(
        ("totalCount", "(SELECT count(*) FROM vg)"),
        ("edges", d.json_or_empty("(SELECT j FROM ge)")),
    )
    with_clause = ", ".join(f"{name} AS ({sql})" for name, sql in ctes.items())
    answer = d.obj(("data", d.obj(("groups", groups))))
    # As text: the driver would otherwise parse PostgreSQL's json into Python objects.
    return f"WITH {with_clause} SELECT {answer}{'::text' if d.pg else ''}"


def _summary_figures() -> str:
    """Per group of the page and course: the report rows' counts (`app.report.summary_rows`)."""
    not_started = "e.completed_at IS NULL AND e.lessons_viewed = 0 AND e.lessons_completed = 0"
    permille = (
        "CASE WHEN c.lesson_count <= 0 THEN 0 WHEN e.lessons_completed >= c.lesson_count "
        "THEN 1000 ELSE e.lessons_completed * 1000 / c.lesson_count END"
    )
    return (
        "SELECT gm.group_id, c.id, c.name, count(*) AS n, "
        f"sum(CASE WHEN {not_started} THEN 1 ELSE 0 END) AS ns, "
        f"sum(CASE WHEN e.completed_at IS NULL AND NOT ({not_started}) THEN 1 ELSE 0 END) AS ip, "
        "sum(CASE WHEN e.completed_at IS NOT NULL THEN 1 ELSE 0 END) AS cp, "
        f"sum({permille}) AS ps "
        "FROM group_membership gm JOIN enrollment e ON e.user_id = gm.user_id "
        "JOIN course c ON c.id = e.course_id WHERE gm.group_id IN (SELECT id FROM gp) "
        "GROUP BY gm.group_id, c.id, c.name"
    )


def _b64(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


def _now_param(db: Database) -> Any:
    now = utcnow()
    if db.dialect == "sqlite":
        # Stored as naive UTC text (`app.models.UTCDateTime`): compare as that text.
        return now.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return now


def baseline_endpoint(db: Database) -> Any:
    if db.dialect == "sqlite":

        @event.listens_for(db.engine.sync_engine, "connect")
        def _register(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.create_function("b64", 1, _b64, deterministic=True)

    statement = text(dashboard_sql(Dialect(db.dialect)))

    async def dashboard(request: Request) -> Response:
        viewer = request.scope.get("user")
        if not isinstance(viewer, Viewer):
            return JSONResponse({"errors": [{"message": "sign in"}]}, status_code=401)
        async with db.read() as session:
            answer = (
                await session.execute(statement, {"viewer": viewer.id, "now": _now_param(db)})
            ).scalar_one()
        return Response(answer, media_type="application/json")

    return dashboard


def create_bench_app(settings: Settings | None = None) -> Starlette:
    """The product app plus `POST /bench/dashboard` (the baseline, on its own engine)."""
    settings = settings or Settings.from_env()
    app = create_app(settings)
    db = Database.from_url(settings.database_url)
    app.router.routes.append(Route("/bench/dashboard", baseline_endpoint(db), methods=["POST"]))
    return app
