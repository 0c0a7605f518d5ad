"""Work after the answer (`app.background`): in order, one at a time, bounded, and a failure
stops nothing after it."""

from __future__ import annotations

import asyncio
import logging

import pytest

from app import background


async def test_jobs_run_in_order_one_at_a_time() -> None:
    done: list[int] = []
    running = 0

    def job(n: int) -> background.Job:
        async def run() -> None:
            nonlocal running
            running += 1
            assert running == 1
            await asyncio.sleep(0.001 * (5 - n))  # the first ones are the slowest
            done.append(n)
            running -= 1

        return run

    for n in range(5):
        assert background.run_later("numbered", job(n))
    assert done == []  # nothing ran before the caller went on
    await background.idle()
    assert done == [0, 1, 2, 3, 4]


async def test_a_failing_job_is_logged_and_the_next_one_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ran: list[str] = []

    async def fails() -> None:
        raise RuntimeError("mail server on fire")

    async def after() -> None:
        ran.append("after")

    background.run_later("fails", fails)
    background.run_later("after", after)
    with caplog.at_level(logging.ERROR, logger="groupanalyst.background"):
        await background.idle()
    assert ran == ["after"]
    assert "background job fails failed" in caplog.text


async def test_past_the_bound_jobs_are_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(background, "MAX_WAITING", 2)
    gate = asyncio.Event()
    ran: list[int] = []

    def job(n: int) -> background.Job:
        async def run() -> None:
            await gate.wait()
            ran.append(n)

        return run

    accepted = [background.run_later("flood", job(n)) for n in range(4)]
    assert accepted == [True, True, False, False]
    gate.set()
    await background.idle()
    assert ran == [0, 1]
    assert background.run_later("flood", job(9))  # room again
    await background.idle()
    assert ran == [0, 1, 9]
