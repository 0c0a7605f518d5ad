"""One event, many subscribers in one server process: each still receives exactly what its own
access allows at delivery time, while their tokens and scopes are read once per event for all
of them (`app.live_access`), not once per subscriber."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from app.models import Role
from app.settings import Settings
from tests.cast import Cast, call
from tests.support import Api, gid
from tests.test_lesson_events import COMPLETE
from tests.test_live import (
    PROGRESS,
    closed_with,
    live_server,
    next_message,
    open_ws,
    subscribe,
    world_with_group,
)
from tests.test_read_batching import count_statements


async def _analysts(cast: Cast, n: int, group: Any) -> list[str]:
    tokens = []
    for i in range(n):
        analyst = await cast.world.user(f"An{i}", "Analyst", Role.GROUP_ANALYST)
        await cast.world.assign(analyst, group)
        tokens.append(await cast.world.token(analyst))
    return tokens


async def test_many_subscribers_are_checked_in_one_read_per_event(
    api: Api, cast: Cast, settings: Settings
) -> None:
    group, _, lessons = await world_with_group(cast)
    tokens = await _analysts(cast, 5, group)
    for batch, expected in ((True, 1), (False, 5)):
        live_settings = dataclasses.replace(
            settings, live_recheck_seconds=30, live_batch_reads=batch
        )
        async with live_server(cast.world.db, live_settings) as port:
            sockets = [await open_ws(port, token) for token in tokens]
            for ws in sockets:
                await subscribe(ws, PROGRESS, {"g": [gid("Group", group.id)]})
            await asyncio.sleep(0.5)  # every subscription is listening
            with count_statements(cast.world.db) as statements:
                lesson = lessons[0] if batch else lessons[1]
                await call(api, COMPLETE, {"lesson": lesson}, cast.token("student"), None)
                messages = [await next_message(ws) for ws in sockets]
            for ws in sockets:
                await ws.close()
        assert [m["type"] for m in messages] == ["next"] * 5
        # Statements reading tokens with their users (`app.auth.viewers_for_tokens`).
        reads = [s for s in statements if "api_token.token_hash IN" in s]
        # The mutation's own sign-in reads one token; the subscribers' checks the rest.
        assert len(reads) == 1 + expected, (batch, reads)


async def test_each_subscriber_gets_the_rows_of_its_own_groups_and_loses_access_alone(
    api: Api, cast: Cast, settings: Settings
) -> None:
    """Sam is in two groups, each with its own analyst; the admin watches every group."""
    first, _, lessons = await world_with_group(cast)
    second = await cast.world.group("Second", members=(cast.student,))
    (other,) = await _analysts(cast, 1, second)
    revoked = await cast.world.token(cast.analyst)
    live_settings = dataclasses.replace(settings, live_recheck_seconds=30)
    async with live_server(cast.world.db, live_settings) as port:
        watchers = {
            "analyst": (await open_ws(port, cast.token("analyst")), [gid("Group", first.id)]),
            "other": (await open_ws(port, other), None),
            "admin": (await open_ws(port, cast.token("admin")), None),
            "revoked": (await open_ws(port, revoked), [gid("Group", first.id)]),
        }
        for ws, groups in watchers.values():
            await subscribe(ws, PROGRESS, {"g": groups})
        await asyncio.sleep(0.5)
        # The analyst's second token (another tab) logs out; its first one keeps working.
        await call(api, "mutation { logout { apiToken { id } } }", {}, revoked, None)
        await call(api, COMPLETE, {"lesson": lessons[0]}, cast.token("student"), None)
        got = {}
        for name in ("analyst", "other"):
            message = await next_message(watchers[name][0])
            got[name] = message["payload"]["data"]["progressChanged"]["group"]["name"]
        admin = [await next_message(watchers["admin"][0]) for _ in range(2)]
        got["admin"] = sorted(
            m["payload"]["data"]["progressChanged"]["group"]["name"] for m in admin
        )
        code, reason = await closed_with(watchers["revoked"][0])
        for ws, _ in watchers.values():
            await ws.close()
    assert got == {"analyst": "Cohort", "other": "Second", "admin": ["Cohort", "Second"]}
    assert code == 4403 and reason.startswith("Token revoked or expired")
