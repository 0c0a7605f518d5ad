"""A budget of query cost per token per minute: a token bucket, kept in this worker's memory.

Each key (a token's digest, or the client address for anonymous requests) owns a bucket
holding at most `per_minute` points, refilled continuously at `per_minute / 60` points per
second. An operation spends its estimated cost (`resolvers.complexity`) when it runs.

Invariants:
- an operation runs only if its whole cost is in the bucket; a refused one spends nothing
  and is told how many whole seconds until it would fit (`retry_after_seconds`, at least 1);
- the budget is per worker: with N workers a token may spend up to N budgets per minute
  (documented in the README); it restarts full when the worker restarts;
- memory is bounded: at most `max_keys` buckets; the one used longest ago is dropped first
  (a dropped bucket comes back full, which only errs towards letting a client through).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

MAX_KEYS = 10_000


@dataclass(frozen=True)
class Spend:
    allowed: bool
    # Points left in the bucket after this operation (or before it, when refused).
    remaining: int
    retry_after_seconds: int = 0


@dataclass
class _Bucket:
    level: float
    updated: float


class CostBudget:
    def __init__(
        self,
        per_minute: int,
        *,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute < 1:
            raise ValueError("the cost budget per minute must be 1 or more")
        self.per_minute = per_minute
        self.restore_rate = per_minute / 60.0
        self._max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        # Workers are single-threaded event loops, but the ASGI test client and any thread
        # pool could call in from elsewhere: the lock keeps read-modify-write whole.
        self._lock = threading.Lock()

    def _bucket(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(level=float(self.per_minute), updated=now)
            self._buckets[key] = bucket
            while len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            elapsed = max(0.0, now - bucket.updated)
            bucket.level = min(float(self.per_minute), bucket.level + elapsed * self.restore_rate)
            bucket.updated = now
        return bucket

    def spend(self, key: str, cost: int) -> Spend:
        """Take `cost` points from `key`'s bucket if they are all there."""
        with self._lock:
            bucket = self._bucket(key, self.clock())
            if cost <= bucket.level:
                bucket.level -= cost
                return Spend(allowed=True, remaining=math.floor(bucket.level))
            missing = cost - bucket.level
            wait = max(1, math.ceil(missing / self.restore_rate))
            return Spend(
                allowed=False, remaining=math.floor(bucket.level), retry_after_seconds=wait
            )

    def remaining(self, key: str) -> int:
        """Points in `key`'s bucket now (a full bucket for a key never seen)."""
        with self._lock:
            return math.floor(self._bucket(key, self.clock()).level)


@dataclass(frozen=True)
class Account:
    """Whose bucket a request spends from."""

    budget: CostBudget
    key: str

    def spend(self, cost: int) -> Spend:
        return self.budget.spend(self.key, cost)

    def remaining(self) -> int:
        return self.budget.remaining(self.key)


def account_key(token_digest: str | None, client_host: str | None) -> str:
    """A signed-in request spends its token's budget; an anonymous one its address's."""
    if token_digest is not None:
        return f"token:{token_digest}"
    return f"client:{client_host or 'unknown'}"
