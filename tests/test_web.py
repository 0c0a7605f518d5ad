"""The dashboard and GraphiQL pages served from the front-end build (`app.web`), and gzip."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import Settings
from tests.support import Api, World

INDEX = "<!doctype html><title>Group Analyst Dashboard</title>" + "<!-- padding -->" * 60
GRAPHIQL = "<!doctype html><title>Group Analyst API - GraphiQL</title>"
ASSET = "index-3f2a9c1b.js"


@pytest.fixture
def built(settings: Settings) -> Path:
    """A front-end build as `make web` lays it out."""
    dist = settings.web_dist
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    (dist / "graphiql.html").write_text(GRAPHIQL)
    (dist / "assets" / ASSET).write_text("console.log('dashboard');" * 40)
    return dist


@pytest.mark.parametrize(
    "path", ["/", "/signin", "/groups/R3JvdXA6MQ==", "/admin/users", "/admin/users/VXNlcjoy"]
)
async def test_dashboard_routes_answer_index_html_never_cached(
    api: Api, built: Path, path: str
) -> None:
    response = await api.client.get(path)
    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["cache-control"] == "no-cache"
    assert "script-src 'self'" in response.headers["content-security-policy"]


async def test_hashed_assets_are_cached_for_a_year(api: Api, built: Path) -> None:
    response = await api.client.get(f"/assets/{ASSET}")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize(
    "path", ["/assets/nope.js", "/assets/../index.html", "/nope", "/graphql/x", "/exports/x.csv"]
)
async def test_unknown_paths_keep_the_api_json_404(api: Api, built: Path, path: str) -> None:
    response = await api.client.get(path)
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_graphiql_is_our_own_page(api: Api, built: Path) -> None:
    response = await api.client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.text == GRAPHIQL
    assert response.headers["cache-control"] == "no-cache"


async def test_without_a_build_the_api_works_and_the_page_says_how_to_build(
    api: Api, world: World
) -> None:
    for path, headers in (("/", {}), ("/graphql", {"Accept": "text/html"})):
        page = await api.client.get(path, headers=headers)
        assert page.status_code == 503
        assert "make web" in page.text
    token = await world.token(world.owner)
    assert (await api.data("{ viewer { firstName } }", token=token)) == {
        "viewer": {"firstName": "Olivia"}
    }


async def test_responses_are_gzipped_when_accepted(api: Api, built: Path, world: World) -> None:
    token = await world.token(world.owner)
    api_json = await api.client.post(
        "/graphql",
        json={"query": "{ __schema { types { name description } } }"},
        headers={"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"},
    )
    assert api_json.headers["content-encoding"] == "gzip"
    assert api_json.json()["data"]["__schema"]["types"]
    for path in ("/", f"/assets/{ASSET}"):
        response = await api.client.get(path, headers={"Accept-Encoding": "gzip"})
        assert response.headers["content-encoding"] == "gzip"
        assert response.headers["vary"] == "Accept-Encoding"
    plain = await api.client.get("/", headers={"Accept-Encoding": "identity"})
    assert plain.headers.get("content-encoding") is None
    assert plain.text == INDEX
