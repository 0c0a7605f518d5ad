"""The built front end (`Settings.web_dist`, by default `web/dist` from `make web`): the
dashboard at `/` and GraphiQL.

Invariants:
- files under `/assets/` carry a content hash in their names (Vite), so they are cached for a
  year as immutable; the HTML pages (`index.html`, `graphiql.html`) are `no-cache`, so a new
  build is picked up on the next load;
- only the dashboard's own routes (`SPA_PATHS`) answer with `index.html`; every other unknown
  path keeps the API's JSON 404;
- without a build the API works as before, and `/` (and GraphiQL) answer 503 with a plain
  message naming the command that builds it;
- the HTML pages carry a Content-Security-Policy allowing scripts from this origin only.
"""

from __future__ import annotations

from pathlib import Path

import anyio
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

IMMUTABLE = "public, max-age=31536000, immutable"
# Monaco (GraphiQL's editor) sets inline styles; scripts and workers come from us only.
CSP = (
    "default-src 'self'; script-src 'self'; worker-src 'self' blob:; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
NOT_BUILT = (
    "The dashboard is not built. Run `make web` (or `make run`, which builds it), then reload.\n"
    "The API works without it: POST /graphql.\n"
)

# The dashboard's client-side routes (web/src/routes.ts); `{rest:path}` covers ids.
SPA_PATHS = ("/", "/signin", "/groups/{rest:path}", "/admin", "/admin/{rest:path}")


class ImmutableFiles(StaticFiles):
    """Hashed build output: cached for a year; a miss stays a plain 404."""

    async def check_config(self) -> None:
        # No build yet: every asset is a plain 404 instead of a server error.
        if self.directory is not None and await anyio.Path(self.directory).is_dir():
            await super().check_config()

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = IMMUTABLE
        return response


def html_page(dist: Path, name: str) -> Response:
    """A built HTML page, never cached; 503 with how to build it when it is missing."""
    page = dist / name
    if not page.is_file():
        return PlainTextResponse(NOT_BUILT, status_code=503, headers={"Cache-Control": "no-store"})
    return FileResponse(
        page,
        media_type="text/html; charset=utf-8",
        headers={
            "Cache-Control": "no-cache",
            "Content-Security-Policy": CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


def routes(dist: Path) -> list[BaseRoute]:
    """`/assets/...` and the dashboard's routes; added after the API's routes."""

    async def index(_request: Request) -> Response:
        return html_page(dist, "index.html")

    return [
        Mount("/assets", app=ImmutableFiles(directory=dist / "assets", check_dir=False)),
        *(Route(path, index, methods=["GET", "HEAD"]) for path in SPA_PATHS),
    ]
