"""One mutation, one write transaction, safe under concurrent writers.

Invariants:
- a mutation's changes and its audit event commit together or not at all (`Database.write`);
- a unique or foreign-key violation (two requests creating the same email or group name,
  repeating the same assignment, adding the same member, racing a delete) re-runs the work
  once in a fresh transaction: the work's own checks then see the other writer's committed
  row and answer CONFLICT, NOT_FOUND or the idempotent result. A second violation answers
  CONFLICT. On SQLite `BEGIN IMMEDIATE` serialises writers, so only PostgreSQL ever re-runs;
- rows a mutation reads to decide (the site for seats, a user for its roles, an enrollment
  for its counters) are read with `locked(...)`: `SELECT ... FOR UPDATE` on PostgreSQL, a
  no-op on SQLite where the whole transaction already holds the write lock. Locks are taken
  in one order, site → user → enrollment, so two mutations never wait on each other in a cycle.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from app.db import Database
from app.errors import AppError, ErrorCode

T = TypeVar("T")
log = logging.getLogger("groupanalyst.writes")


async def run_write(db: Database, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one write transaction; re-run it once after a constraint violation."""
    for attempt in (1, 2):
        try:
            async with db.write() as session:
                return await work(session)
        except IntegrityError:
            log.info("constraint violation from a concurrent write (attempt %d)", attempt)
    raise AppError(
        ErrorCode.CONFLICT, "A concurrent change to the same data got there first; try again."
    )


def locked(stmt: SelectOfScalar[T], *, shared: bool = False) -> SelectOfScalar[T]:
    """`FOR UPDATE` (or `FOR SHARE`) on PostgreSQL; SQLite ignores it (writers are serialised)."""
    return stmt.with_for_update(read=shared)
