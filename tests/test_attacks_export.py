"""The CSV export and its signed links: hidden ids answer like missing ones, a link carries no
access of its own, and dead tokens or lost roles stop it.

The viewers and their world: `tests.attack_scene`."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from sqlmodel import col, select, update

from app import export_links
from app.db import Database
from app.main import create_app
from app.models import AnalystAssignment, ApiToken, utcnow
from app.security import token_digest
from app.settings import Settings
from tests.attack_scene import (
    Scene,
    csv_export,
    errors_without_locations,
)
from tests.support import Api, World, gid


async def test_export_answers_hidden_and_missing_ids_alike(api: Api, scene: Scene) -> None:
    for viewer in ("analyst", "dual", "expired"):
        for key, hidden, missing in [
            ("groupId", gid("Group", scene.beta.id), gid("Group", 999_999)),
        ]:
            a = await csv_export(api, [(key, hidden)], scene.tokens[viewer])
            b = await csv_export(api, [(key, missing)], scene.tokens[viewer])
            assert (a.status_code, a.json()) == (b.status_code, b.json()), viewer
            assert a.status_code == 404
    everything = await csv_export(api, [], scene.tokens["dual"])
    assert everything.status_code == 200
    assert "uma.hidden" not in everything.text and "Beta" not in everything.text


async def test_a_signed_link_carries_no_access_of_its_own(
    api: Api, db: Database, scene: Scene
) -> None:
    data = await api.data(
        "query($g: [ID!]) { progressExportUrl(groupIds: $g) }",
        {"g": [gid("Group", scene.alpha.id)]},
        scene.tokens["co"],
    )
    link: str = data["progressExportUrl"]
    ok = await api.client.get(link)
    assert ok.status_code == 200 and "sue.one@students.io" in ok.text
    # Tampering with any parameter (the group, the viewer) breaks the signature.
    path, _, query = link.partition("?")
    items = parse_qsl(query)
    for key, value in [("groupId", gid("Group", scene.beta.id)), ("viewer", str(scene.admin.id))]:
        forged = [(k, value if k == key else v) for k, v in items]
        response = await api.client.get(f"{path}?{urlencode(forged)}")
        assert response.status_code == 401, key
    # Once the viewer's assignment ends, the link exports nothing.
    async with db.write() as session:
        await session.execute(
            update(AnalystAssignment)
            .where(col(AnalystAssignment.analyst_id) == scene.co.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    replay = await api.client.get(link)
    assert replay.status_code == 404
    assert "sue.one" not in replay.text


async def test_without_a_configured_key_links_cannot_be_forged(
    db: Database, scene: Scene, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    """A deployment that forgot GROUPANALYST_SECRET_KEY must not sign links with a key
    printed in the source: anyone could forge the owner's link and export every email."""
    monkeypatch.delenv("GROUPANALYST_SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)
    settings = Settings.from_env()
    assert settings.secret_key != "dev-only-change-me"
    public = replace(settings, secret_key="dev-only-change-me")
    admin_token = scene.tokens["admin"]
    assert admin_token is not None
    async with db.read() as session:
        token_id = (
            await session.execute(
                select(ApiToken.id).where(col(ApiToken.token_hash) == token_digest(admin_token))
            )
        ).scalar_one()
    assert token_id is not None
    forged = export_links.signed_path(public, scene.admin.id or 0, token_id, [], utcnow())
    app = create_app(settings, db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get(forged)
        assert response.status_code == 401
        assert "uma.hidden" not in response.text
        # A link the deployment signed itself still works.
        own = export_links.signed_path(settings, scene.admin.id or 0, token_id, [], utcnow())
        assert (await client.get(own)).status_code == 200
    assert Settings().secret_key != Settings().secret_key  # no shared default


async def test_dead_tokens_and_lost_roles_stop_everything(
    api: Api, world: World, scene: Scene
) -> None:
    link = (
        await api.data(
            "query($g: [ID!]) { progressExportUrl(groupIds: $g) }",
            {"g": [gid("Group", scene.alpha.id)]},
            scene.tokens["analyst"],
        )
    )["progressExportUrl"]
    expired_token = await world.token(scene.analyst, ttl=timedelta(seconds=-1))
    created = await api.data(
        'mutation { createApiToken(input: {name: "x"}) { token apiToken { id } } }',
        token=scene.tokens["analyst"],
    )
    revoked_token = created["createApiToken"]["token"]
    await api.data(
        "mutation($id: ID!) { revokeApiToken(input: {id: $id}) { apiToken { id } } }",
        {"id": created["createApiToken"]["apiToken"]["id"]},
        scene.tokens["analyst"],
    )
    for dead in (expired_token, revoked_token, "ga_forged"):
        response = await api.post("{ users { totalCount } }", token=dead)
        assert response.status_code == 401
        assert (await csv_export(api, [], dead)).status_code == 401
    # The analyst loses its role: its signed link (still unexpired) exports nothing.
    await api.data(
        """mutation($id: ID!) { setUserRoles(input: {userId: $id, roles: [STUDENT]}) {
          user { id } } }""",
        {"id": gid("User", scene.analyst.id)},
        scene.tokens["admin"],
    )
    response = await api.client.get(link)
    assert response.status_code == 403
    assert "sue.one" not in response.text


async def test_an_expired_analyst_cannot_export_or_link_its_old_group(
    api: Api, scene: Scene
) -> None:
    query = "query($g: [ID!]) { progressExportUrl(groupIds: $g) }"
    old = await api.raw(query, {"g": [gid("Group", scene.alpha.id)]}, scene.tokens["expired"])
    missing = await api.raw(query, {"g": [gid("Group", 999_999)]}, scene.tokens["expired"])
    assert errors_without_locations(old) == errors_without_locations(missing)
    assert old["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    a = await csv_export(api, [("groupId", gid("Group", scene.alpha.id))], scene.tokens["expired"])
    b = await csv_export(api, [("groupId", gid("Group", 999_999))], scene.tokens["expired"])
    assert (a.status_code, a.json()) == (b.status_code, b.json()) and a.status_code == 404
    everything = await csv_export(api, [], scene.tokens["expired"])
    assert everything.status_code == 200
    assert everything.text.count("\n") == 1  # the header only
