"""A burst of writes against a live server: `createGroup` in a loop, names in order.

A write counts as acknowledged only when the server answered 200 with no error; the caller
can wait until a number of writes were acknowledged, and stop the loop.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import httpx

CREATE_GROUP = "mutation ($n: String!) { createGroup(input: {name: $n}) { group { id } } }"


def burst_name(n: int, prefix: str = "Burst") -> str:
    return f"{prefix} {n:05d}"


@dataclass
class Burst:
    client: httpx.AsyncClient
    token: str
    prefix: str = "Burst"
    acked: list[str] = field(default_factory=list)
    attempted: int = 0
    _grew: asyncio.Condition = field(default_factory=asyncio.Condition)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        """Write until `stop()` or until the server stops answering."""
        while not self._stop.is_set():
            name = burst_name(self.attempted, self.prefix)
            self.attempted += 1
            try:
                response = await self.client.post(
                    "/graphql",
                    json={"query": CREATE_GROUP, "variables": {"n": name}},
                    headers={"Authorization": f"Bearer {self.token}"},
                )
            except httpx.TransportError:
                break  # the server is gone: this write is not acknowledged
            if response.status_code == 200 and "errors" not in response.json():
                self.acked.append(name)
                async with self._grew:
                    self._grew.notify_all()
        async with self._grew:
            self._stop.set()
            self._grew.notify_all()

    async def until(self, count: int) -> None:
        """Wait until `count` writes were acknowledged (or the burst ended)."""
        async with self._grew:
            await self._grew.wait_for(lambda: len(self.acked) >= count or self._stop.is_set())
        assert len(self.acked) >= count, "the burst ended before enough writes were acknowledged"

    def stop(self) -> None:
        self._stop.set()

    def attempted_names(self) -> set[str]:
        return {burst_name(n, self.prefix) for n in range(self.attempted)}
