"""`groupanalyst import users|memberships|assignments FILE.csv`: rows in, each on its own.

Invariants:
- imports act as one admin (`acting_admin`: `--as EMAIL`, by default the site owner): its
  scope decides every row exactly as it decides that admin's mutations, and every audit
  event names it as the actor; anyone else is refused before the file is read;
- rows are read `BATCH_ROWS` at a time; the rows of a batch that the database already
  matches are found in one read (`Kind.settled`) and counted unchanged; every other row is
  applied in a savepoint of its own (`apply_row`): a row that fails (bad cell, duplicate of
  an earlier row, unknown group, seat limit, refused by a rule) leaves nothing behind and is
  reported with its line number and reason, while the other rows go in;
- rows commit in transactions of `BATCH_ROWS` (a process killed mid-import loses at most the
  uncommitted batch, every row whole or absent; importing the file again finishes the job,
  as a second run of any import changes only what differs); a batch PostgreSQL aborts to
  break a deadlock with a concurrent writer is rolled back, forgotten and run again;
- `atomic`: one transaction for the whole file, committed only if no row failed;
  `dry_run`: the same one transaction, always rolled back (no audit event, no mail), so
  what it reports (seats included) is what a real run would do;
- invitation mails leave only after the transaction holding their user committed; one the
  mail server refuses is reported (`unsent`), its user stays (resendInvitation sends it).
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app import import_rows
from app.auth import Viewer
from app.csv_file import Columns, Record, records
from app.db import Database
from app.errors import AppError
from app.identity import email_key
from app.import_apply import (
    Change,
    ImportContext,
    Outcome,
    apply_assignment,
    apply_membership,
    apply_user,
    settled_assignments,
    settled_memberships,
    settled_users,
)
from app.mailer import Mail, deliver
from app.models import Role, User, UserRole, utcnow
from permissions.policy import ADMIN_ROLES, AccessScope, load_scope

BATCH_ROWS = 200
BATCH_ATTEMPTS = 5


@dataclass(frozen=True)
class Kind:
    columns: Columns
    parse: Callable[..., Any]
    apply: Callable[[AsyncSession, AccessScope, Any, ImportContext], Awaitable[Change]]
    # The lines of a batch whose rows the database already matches (nothing to apply).
    settled: Callable[[AsyncSession, list[Any]], Awaitable[set[int]]]


KINDS = {
    "users": Kind(
        import_rows.columns(
            import_rows.FIRST_NAME,
            import_rows.LAST_NAME,
            import_rows.EMAIL,
            optional=(import_rows.COMPANY, import_rows.ROLES),
        ),
        import_rows.user_request,
        apply_user,
        settled_users,
    ),
    "memberships": Kind(
        import_rows.columns(import_rows.EMAIL, import_rows.GROUP),
        import_rows.membership_request,
        apply_membership,
        settled_memberships,
    ),
    "assignments": Kind(
        import_rows.columns(
            import_rows.ANALYST_EMAIL, import_rows.GROUP, optional=(import_rows.EXPIRY,)
        ),
        import_rows.assignment_request,
        apply_assignment,
        settled_assignments,
    ),
}


class NotAnAdmin(ValueError):
    pass


@dataclass
class Summary:
    """What an import did (or, dry, would do): counts, failures by line, changes by line."""

    dry_run: bool = False
    atomic: bool = False
    counts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))
    failures: list[tuple[int, str]] = field(default_factory=list)
    # The changes a dry run would make, by line (a real run only counts them).
    changes: list[tuple[int, str]] = field(default_factory=list)
    mails: list[Mail] = field(default_factory=list)
    # Invitations whose user was created but whose mail the server did not take.
    unsent: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(self.counts.values()) + len(self.failures)

    @property
    def written(self) -> bool:
        return not self.dry_run and not (self.atomic and self.failures)

    def mark(self) -> tuple[dict[Outcome, int], int, int, int]:
        return dict(self.counts), len(self.failures), len(self.changes), len(self.mails)

    def rewind(self, mark: tuple[dict[Outcome, int], int, int, int]) -> None:
        """Forget what was recorded since `mark` (its transaction was rolled back)."""
        self.counts = dict(mark[0])
        del self.failures[mark[1] :], self.changes[mark[2] :], self.mails[mark[3] :]

    def fail(self, line: int, message: str) -> None:
        self.failures.append((line, message))

    def record(self, line: int, change: Change) -> None:
        self.counts[change.outcome] += 1
        if self.dry_run and change.outcome is not Outcome.UNCHANGED:
            verb = "create" if change.outcome is Outcome.CREATED else "update"
            self.changes.append((line, f"would {verb} {change.what}"))
        if change.mail is not None:
            self.mails.append(change.mail)


async def acting_admin(db: Database, email: str | None) -> AccessScope:
    """The scope of the admin an import acts as: `email`'s, or the site owner's."""
    async with db.read() as session:
        if email is None:
            stmt = select(User).join(UserRole, col(UserRole.user_id) == col(User.id))
            stmt = stmt.where(col(UserRole.role) == Role.SITE_OWNER.value)
        else:
            stmt = select(User).where(col(User.email_key) == email_key(email))
        user = (await session.execute(stmt)).scalar_one_or_none()
        if user is None or user.id is None:
            raise NotAnAdmin(
                f"no user with the email {email}" if email else "the site has no owner"
            )
        held = await session.execute(select(UserRole.role).where(col(UserRole.user_id) == user.id))
        roles = frozenset(Role(r) for r in held.scalars())
    if not roles & ADMIN_ROLES or user.deactivated_at is not None:
        raise NotAnAdmin(
            f"{user.email} is not an active site admin or owner; imports act as one (--as)"
        )
    viewer = Viewer(
        id=user.id,
        first_name=user.first_name,
        last_name=user.last_name,
        email=user.email,
        roles=roles,
    )
    return await load_scope(db, viewer, utcnow())


def _requests(
    kind: Kind,
    rows: Iterator[Record],
    scope: AccessScope,
    summary: Summary,
    tick: Callable[[], None],
) -> Iterator[Any]:
    """Each record parsed into its request; a bad or duplicate one is a failure, not yielded."""
    seen: dict[tuple[str, ...], int] = {}
    for record in rows:
        tick()
        if record.problem is not None:
            summary.fail(record.line, f"{record.problem} [BAD_USER_INPUT]")
            continue
        try:
            request = kind.parse(record.line, record.cells, scope.now)
        except AppError as exc:
            summary.fail(record.line, f"{exc.message} [{exc.code}]")
            continue
        first = seen.setdefault(request.key, record.line)
        if first != record.line:
            summary.fail(record.line, f"duplicate of line {first} [BAD_USER_INPUT]")
            continue
        yield request


async def apply_row(
    session: AsyncSession, scope: AccessScope, kind: Kind, request: Any, ctx: ImportContext
) -> Change | str:
    """The row's change, or why it failed; in a savepoint, re-run once after a constraint
    violation from a concurrent writer (as `app.writes.run_write` does for a mutation)."""
    for _attempt in (1, 2):
        try:
            async with session.begin_nested():
                change = await kind.apply(session, scope, request, ctx)
        except AppError as exc:
            return f"{exc.message} [{exc.code}]"
        except IntegrityError:
            continue
        # The rows are written; forget them so memory does not grow with the file.
        session.expunge_all()
        return change
    return "a concurrent change to the same data got there first; import again [CONFLICT]"


class _RollBack(Exception):
    pass


async def _apply_batch(
    session: AsyncSession,
    scope: AccessScope,
    kind: Kind,
    batch: list[Any],
    ctx: ImportContext,
    summary: Summary,
) -> None:
    """Rows the database already matches are counted unchanged (one read for the batch);
    every other row is applied in its own savepoint."""
    settled = await kind.settled(session, batch)
    for request in batch:
        if request.line in settled:
            summary.record(request.line, Change(Outcome.UNCHANGED, ""))
            continue
        outcome = await apply_row(session, scope, kind, request, ctx)
        if isinstance(outcome, str):
            summary.fail(request.line, outcome)
        else:
            summary.record(request.line, outcome)


async def _one_transaction(
    db: Database,
    scope: AccessScope,
    kind: Kind,
    batches: Iterable[list[Any]],
    ctx: ImportContext,
    summary: Summary,
) -> None:
    """Apply `batches` in one transaction, rolled back for a dry run or a failed `--atomic`;
    then send the invitations it committed."""
    try:
        async with db.write() as session:
            for batch in batches:
                await _apply_batch(session, scope, kind, batch, ctx, summary)
            if not summary.written:
                raise _RollBack
    except _RollBack:
        summary.mails.clear()
    for mail in summary.mails:
        if not await deliver(ctx.settings, mail):
            summary.unsent.append(mail.to)
    summary.mails.clear()


def _lost_to_a_concurrent_writer(exc: DBAPIError) -> bool:
    """PostgreSQL chose this transaction as a deadlock's victim (or a serialization failure)."""
    return getattr(exc.orig, "sqlstate", None) in ("40P01", "40001")


async def _batch_retried(
    db: Database,
    scope: AccessScope,
    kind: Kind,
    batch: list[Any],
    ctx: ImportContext,
    summary: Summary,
) -> None:
    """One batch in its own transaction; if PostgreSQL ends it to break a deadlock with a
    concurrent writer (two imports meeting in opposite orders), its rows are forgotten and
    the batch runs again once the other writer had a moment to commit."""
    for attempt in range(1, BATCH_ATTEMPTS + 1):
        mark = summary.mark()
        try:
            await _one_transaction(db, scope, kind, [batch], ctx, summary)
            return
        except DBAPIError as exc:
            if not _lost_to_a_concurrent_writer(exc) or attempt == BATCH_ATTEMPTS:
                raise
            summary.rewind(mark)
            await asyncio.sleep(random.uniform(0.05, 0.5) * attempt)  # noqa: S311


async def run_import(
    db: Database,
    scope: AccessScope,
    kind_name: str,
    raw: BinaryIO,
    ctx: ImportContext,
    summary: Summary,
    tick: Callable[[], None] = lambda: None,
) -> Summary:
    """Import the file `raw` (`csv_file.FileRefused` from the header, before any write)."""
    kind = KINDS[kind_name]
    requests = _requests(kind, records(raw, kind.columns), scope, summary, tick)
    first = next(requests, None)  # reads the header: a refused file fails here
    if first is None:
        return summary
    requests = itertools.chain([first], requests)
    batches = iter(lambda: list(itertools.islice(requests, BATCH_ROWS)), [])
    if summary.dry_run or summary.atomic:
        await _one_transaction(db, scope, kind, batches, ctx, summary)
        return summary
    for batch in batches:
        await _batch_retried(db, scope, kind, batch, ctx, summary)
    return summary
