"""`GET /exports/progress.csv?groupId=…&courseId=…&status=…&format=…&bom=…&tz=…`: the
progress export over HTTP, as CSV (default) or XLSX (`format=xlsx`, `app.export_xlsx`).

Invariants:
- the caller is the bearer token's viewer, or the viewer of a valid signed link
  (`app.export_links`); with neither: 401. Refusals happen before any byte of CSV:
  401 (no viewer), 403 (no report access), 400 (malformed parameter), 404 (a group or
  course that does not exist or is out of scope: the two are indistinguishable), each with
  the JSON error body of `app.responses.error_response` (as GraphQL errors);
- the response streams (`app.export.csv_chunks`, `app.export_xlsx.xlsx_chunks`) and is never
  cached; the audit event is written when the stream ends, however it ends (finished,
  failed, or the client left);
- the file name is in `Content-Disposition`, which a browser app on another allowed origin
  may read (`Access-Control-Expose-Headers`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable

import anyio
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from app import access_log, export, export_links, export_xlsx
from app.auth import Viewer, viewer_by_id, viewer_for_token_id
from app.db import Database
from app.errors import AppError, bad_input, unauthenticated
from app.models import utcnow
from app.responses import app_error_response
from app.settings import Settings
from permissions.policy import AccessScope, load_scope

log = logging.getLogger("groupanalyst.export")

FILTER_PARAMS = frozenset({"groupId", "courseId", "status"})
OPTION_PARAMS = frozenset({"format", "bom", "tz"})
SINGLE_PARAMS = ("status", "format", "bom", "tz")
MEDIA_TYPES = {
    export.ExportFormat.CSV: "text/csv; charset=utf-8",
    export.ExportFormat.XLSX: export_xlsx.MEDIA_TYPE,
}
CHUNKS = {
    export.ExportFormat.CSV: export.csv_chunks,
    export.ExportFormat.XLSX: export_xlsx.xlsx_chunks,
}


async def _viewer(db: Database, settings: Settings, request: Request) -> Viewer:
    items = request.query_params.multi_items()
    if export_links.is_signed(items):
        viewer_id, token_id = export_links.verify(settings, items, utcnow())
        if token_id == export_links.SERVER_MADE:
            viewer = await viewer_by_id(db, viewer_id)
        else:
            viewer = await viewer_for_token_id(db, token_id)
        if viewer is None or viewer.id != viewer_id:
            raise unauthenticated(
                "The token this export link was made with has been revoked or has expired; "
                "sign in and ask for a new link (progressExportUrl)."
            )
        record = access_log.current()
        if record is not None:
            record.viewer_id = viewer.id
        return viewer
    user = request.scope.get("user")
    if not isinstance(user, Viewer):
        raise unauthenticated(
            "Sign in first: send 'Authorization: Bearer <token>', or use a signed link "
            "from progressExportUrl."
        )
    return user


def _params(request: Request) -> export.ExportParams:
    query = request.query_params
    for key in query:
        if key not in FILTER_PARAMS | OPTION_PARAMS | export_links.LINK_PARAMS:
            raise bad_input(
                key,
                f"Unknown parameter '{key}': use groupId, courseId, status, format, bom and tz.",
            )
    for key in SINGLE_PARAMS:
        if len(query.getlist(key)) > 1:
            raise bad_input(key, f"Give '{key}' at most once.")
    params = export.parse_params(
        query.getlist("groupId"), query.getlist("courseId"), query.get("status")
    )
    options = export.parse_options(query.get("format"), query.get("bom"), query.get("tz"))
    return dataclasses.replace(params, options=options)


async def audited_body(
    db: Database, scope: AccessScope, params: export.ExportParams, via: str
) -> AsyncGenerator[bytes]:
    """The file's chunks, then (however the stream ends) the audit event."""
    run = export.ExportRun()
    body = CHUNKS[params.options.format](db, scope, params, run)
    try:
        async with contextlib.aclosing(body) as chunks:
            async for chunk in chunks:
                yield chunk
    finally:
        if not run.complete:
            log.warning(
                "progress export for viewer %s stopped after %d rows", scope.viewer_id, run.rows
            )
        # Shielded: a client that leaves mid-download cancels the stream, not its audit.
        with anyio.CancelScope(shield=True):
            await export.record_export(db, scope, params, run, via)


def progress_csv_endpoint(
    db: Database, settings: Settings
) -> Callable[[Request], Awaitable[Response]]:
    async def progress_csv(request: Request) -> Response:
        signed = export_links.is_signed(request.query_params.multi_items())
        try:
            viewer = await _viewer(db, settings, request)
            scope = await load_scope(db, viewer)
            # Before the parameters, so a student learns nothing from them.
            export.require_export_access(scope)
            params = _params(request)
            await export.check_access(db, scope, params)
        except AppError as exc:
            response = app_error_response(exc)
            response.headers["Cache-Control"] = "no-store"
            return response
        return StreamingResponse(
            audited_body(db, scope, params, "signed-link" if signed else "http"),
            media_type=MEDIA_TYPES[params.options.format],
            headers={
                "Content-Disposition": f'attachment; filename="{params.filename(utcnow())}"',
                "Access-Control-Expose-Headers": "Content-Disposition",
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    return progress_csv
