"""`progressExportUrl`: a signed download link for the group progress CSV.

For dashboards that cannot set an `Authorization` header on a download link. The link is
checked like the export itself (same parameters, same access rules, `app.export`), bound to
the viewer and short-lived (`app.export_links`); the download re-checks access.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated

import strawberry

from app import export, export_links
from app.errors import unauthenticated
from app.export import ExportFormat
from app.models import utcnow
from app.report import ProgressStatus
from resolvers.context import Info

strawberry.enum(
    ExportFormat,
    name="ExportFormat",
    description="The export's file type: CSV (UTF-8) or XLSX (Excel, typed cells).",
)


@strawberry.type
class Query:
    @strawberry.field(
        description=(
            "A signed link (path and query, relative to this API's origin) that downloads the "
            "group progress report (CSV or XLSX) without an Authorization header. It exports "
            "as you, with the same groups, courses and status (none given: all you may see), "
            "and expires after a few minutes. Site admins and group analysts only."
        )
    )
    async def progress_export_url(
        self,
        info: Info,
        group_ids: list[strawberry.ID] | None = None,
        course_ids: list[strawberry.ID] | None = None,
        status: ProgressStatus | None = None,
        format: ExportFormat = ExportFormat.CSV,
        time_zone: Annotated[
            str | None,
            strawberry.argument(
                description="IANA zone (e.g. Europe/Paris) for the file's dates; default UTC."
            ),
        ] = None,
        bom: Annotated[
            bool,
            strawberry.argument(
                description="CSV only: start with a UTF-8 byte-order mark for Excel."
            ),
        ] = False,
    ) -> str:
        ctx = info.context
        viewer = ctx.get_viewer()
        export.require_export_access(ctx.scope)
        params = export.parse_params(
            group_ids or [],
            course_ids or [],
            status.value if status else None,
            group_field="groupIds",
            course_field="courseIds",
        )
        options = export.parse_options(
            format.value, "1" if bom else None, time_zone, tz_field="timeZone"
        )
        params = dataclasses.replace(params, options=options)
        await export.check_access(
            ctx.db, ctx.scope, params, group_field="groupIds", course_field="courseIds"
        )
        if viewer.token_id is None:
            raise unauthenticated(
                "Export links are made for a request signed in with a token; send one."
            )
        return export_links.signed_path(
            ctx.settings, viewer.id, viewer.token_id, params.query_items(), utcnow()
        )
