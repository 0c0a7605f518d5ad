"""Work done after the answer has gone out, one job at a time per event loop.

For requests whose answer must not depend on what the work finds (a password reset request
answers the same whether or not the email has an account, so how long the lookup and the
writes take must not show either).

Invariants:
- `run_later` returns at once; the job runs in a task of the caller's event loop, after the
  jobs submitted before it on that loop (one at a time, so per-account counting in the jobs
  sees the previous job's writes);
- at most `MAX_WAITING` jobs wait per loop; past that a job is dropped and logged, so a flood
  of requests cannot pile up unbounded work (the caller's answer is the same either way);
- a job that fails is logged and never stops the jobs after it.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable

log = logging.getLogger("groupanalyst.background")

MAX_WAITING = 256

Job = Callable[[], Awaitable[None]]


class _Lane:
    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.waiting = 0
        # The event loop keeps only weak references to tasks.
        self.tasks: set[asyncio.Task[None]] = set()


_lanes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Lane] = weakref.WeakKeyDictionary()


def _lane() -> _Lane:
    loop = asyncio.get_running_loop()
    lane = _lanes.get(loop)
    if lane is None:
        lane = _lanes[loop] = _Lane()
    return lane


async def _run(lane: _Lane, name: str, job: Job) -> None:
    try:
        async with lane.lock:
            await job()
    except Exception:
        log.exception("background job %s failed", name)
    finally:
        lane.waiting -= 1


def run_later(name: str, job: Job) -> bool:
    """Queue `job`; False when too many jobs wait already (it is dropped and logged)."""
    lane = _lane()
    if lane.waiting >= MAX_WAITING:
        log.warning("background job %s dropped: %d jobs are waiting", name, lane.waiting)
        return False
    lane.waiting += 1
    task = asyncio.get_running_loop().create_task(_run(lane, name, job))
    lane.tasks.add(task)
    task.add_done_callback(lane.tasks.discard)
    return True


async def idle() -> None:
    """Wait until this loop's queued jobs are done (for tests and a graceful stop)."""
    lane = _lane()
    while lane.tasks:
        await asyncio.gather(*list(lane.tasks))
