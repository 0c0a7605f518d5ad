"""The `groupanalyst` command line (also `python -m app`).

Commands: init, demo, serve, worker, migrate, create-token, export (the group progress CSV),
import (users, memberships or assignments from a CSV file), access-report (who can see a
user now, what it sees), backup (a live copy of the SQLite database), export-schema, run-dev
(what `make run` does: check the port, migrate, load the demo into an empty database, print
tokens, serve with a worker beside it).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlmodel import col

from app import access_review, accounts, backup, export, importer, tokens, validation
from app.access_log import uvicorn_log_config
from app.csv_file import FileRefused, count_lines
from app.db import Database, MissingDatabase
from app.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, DemoSpec, load_demo
from app.errors import AppError
from app.import_apply import ImportContext, Outcome
from app.migrate import upgrade
from app.models import DEFAULT_PLANS, Group, User, utcnow
from app.progress_bar import ProgressBar
from app.readiness import not_ready_because
from app.report import ProgressStatus
from app.settings import Settings
from permissions.policy import system_scope


def _settings() -> Settings:
    return Settings.from_env()


def cmd_migrate(_args: argparse.Namespace) -> int:
    upgrade(_settings().database_url)
    print("database is at the latest schema")
    return 0


def _ask_password() -> str | None:
    """The owner's password, typed twice without echo; None if the two differ."""
    first = getpass.getpass("Owner password: ")
    if getpass.getpass("Owner password again: ") != first:
        print("init: the two passwords differ", file=sys.stderr)
        return None
    return first


def cmd_init(args: argparse.Namespace) -> int:
    password = args.owner_password or os.environ.get("GROUPANALYST_OWNER_PASSWORD")
    if not password and sys.stdin.isatty():
        password = _ask_password()
        if password is None:
            return 2
    if not password:
        print(
            "init: give --owner-password, set GROUPANALYST_OWNER_PASSWORD, or run it on a "
            "terminal to be asked",
            file=sys.stderr,
        )
        return 2
    settings = _settings()
    upgrade(settings.database_url)

    async def run() -> None:
        db = Database.from_url(settings.database_url)
        try:
            async with db.write() as session:
                await accounts.create_site(
                    session,
                    site_name=args.site_name,
                    plan=args.plan,
                    owner_email=args.owner_email,
                    owner_first_name=args.owner_first_name,
                    owner_last_name=args.owner_last_name,
                    owner_password=password,
                )
        finally:
            await db.dispose()

    try:
        asyncio.run(run())
    except (accounts.SiteExists, ValueError) as exc:
        print(f"init: {exc}", file=sys.stderr)
        return 1
    except AppError as exc:
        print(f"init: {exc.message}", file=sys.stderr)
        return 2
    print(f"site {args.site_name!r} created on plan {args.plan}; owner {args.owner_email}")
    return 0


def _demo_spec(args: argparse.Namespace) -> DemoSpec:
    return DemoSpec(
        students=args.students,
        groups=args.groups,
        courses=args.courses,
        seed=args.seed,
        max_courses_per_student=min(args.courses_per_student, args.courses),
    )


def cmd_demo(args: argparse.Namespace) -> int:
    settings = _settings()
    upgrade(settings.database_url)

    async def run() -> None:
        db = Database.from_url(settings.database_url)
        try:
            summary = await load_demo(db, _demo_spec(args), show_progress=sys.stderr.isatty())
        finally:
            await db.dispose()
        print(
            f"demo loaded: {summary.users:,} users, {summary.groups:,} groups, "
            f"{summary.courses:,} courses, {summary.enrollments:,} enrollments, "
            f"{summary.report_rows:,} report rows"
        )

    try:
        asyncio.run(run())
    except ValueError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 1
    return 0


async def _create_token(settings: Settings, email: str, name: str, days: int | None) -> str | None:
    db = Database.from_url(settings.database_url)
    try:
        async with db.write() as session:
            user = await accounts.user_by_email(session, email)
            if user is None or user.id is None:
                return None
            issued = await tokens.create(
                session,
                user_id=user.id,
                actor_id=None,
                name=name,
                expires_at=tokens.expiry_in_days(settings, "--days", days, utcnow()),
                name_field="--name",
                via="cli",
            )
            return issued.secret
    finally:
        await db.dispose()


def cmd_create_token(args: argparse.Namespace) -> int:
    settings = _settings()
    try:
        # Checked before the database is opened: a bad flag costs nothing.
        tokens.expiry_in_days(settings, "--days", args.days, utcnow())
        validation.name("--name", args.name, validation.TOKEN_NAME_MAX)
        secret = asyncio.run(_create_token(settings, args.email, args.name, args.days))
    except AppError as exc:
        print(f"create-token: {exc.message}", file=sys.stderr)
        return 2
    if secret is None:
        print(f"create-token: no user with email {args.email}", file=sys.stderr)
        return 1
    print(secret)
    return 0


@contextmanager
def _private_output(path: str) -> Iterator[BinaryIO]:
    """Standard output, or a file only the user running the command may read, appearing whole
    or not at all."""
    if path == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    target = Path(path)
    partial = target.with_name(f".{target.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


async def _export(settings: Settings, args: argparse.Namespace) -> int:
    """Export as an admin (`system_scope`) through the same writer as the HTTP endpoint."""
    db = Database.from_url(settings.database_url)
    try:
        scope = system_scope()
        params = await export.params_by_name(db, args.group or [], args.course or [], args.status)
        run = export.ExportRun()
        bar = None
        if sys.stderr.isatty() and args.out != "-":
            async with db.read() as session:
                total = (
                    await session.execute(export.count_statement(scope, params.progress_filter()))
                ).scalar_one()
            bar = ProgressBar("rows", total)
        try:
            with _private_output(args.out) as out:
                async for chunk in export.csv_chunks(db, scope, params, run):
                    out.write(chunk)
                    if bar is not None:
                        bar.advance(run.rows - bar.done)
        finally:
            if bar is not None:
                bar.close()
            await export.record_export(db, scope, params, run, "cli")
        return run.rows
    finally:
        await db.dispose()


def cmd_export(args: argparse.Namespace) -> int:
    try:
        rows = asyncio.run(_export(_settings(), args))
    except export.UnknownNames as exc:
        print(f"export: {exc}", file=sys.stderr)
        return 1
    where = "standard output" if args.out == "-" else args.out
    print(f"exported {rows:,} rows to {where}", file=sys.stderr)
    return 0


@contextmanager
def _import_source(path: str) -> Iterator[tuple[BinaryIO, ProgressBar | None]]:
    """The file (or stdin for -), and a progress bar when stderr is a terminal."""
    if path == "-":
        yield sys.stdin.buffer, None
        return
    with open(path, "rb") as raw:
        bar = None
        if sys.stderr.isatty():
            bar = ProgressBar("rows", count_lines(raw))
            raw.seek(0)
        try:
            yield raw, bar
        finally:
            if bar is not None:
                bar.close()


async def _import(settings: Settings, args: argparse.Namespace) -> importer.Summary:
    db = Database.from_url(settings.database_url)
    try:
        scope = await importer.acting_admin(db, args.acting_as)
        summary = importer.Summary(dry_run=args.dry_run, atomic=args.atomic)
        ctx = ImportContext(settings=settings, invite=args.invite)
        with _import_source(args.file) as (raw, bar):
            tick = (lambda: bar.advance()) if bar is not None else (lambda: None)
            return await importer.run_import(db, scope, args.kind, raw, ctx, summary, tick)
    finally:
        await db.dispose()


def _import_report(summary: importer.Summary) -> list[str]:
    """The failures, a dry run's changes, then the one-line summary."""
    lines = [f"line {n}: {text}" for n, text in sorted(summary.failures + summary.changes)]
    lines += [
        f"the invitation to {to} was not sent (the mail server failed): send it again with "
        "resendInvitation"
        for to in summary.unsent
    ]
    counts = summary.counts
    made = (
        f"{counts[Outcome.CREATED]:,} created, {counts[Outcome.UPDATED]:,} updated, "
        f"{counts[Outcome.UNCHANGED]:,} unchanged, {len(summary.failures):,} failed"
    )
    if summary.dry_run:
        lines.append(f"dry run, nothing written; it would make: {made}")
    elif not summary.written:
        failed = len(summary.failures)
        lines.append(
            f"--atomic: nothing written, because {failed:,} row{'s' if failed > 1 else ''} "
            f"failed ({made})"
        )
    else:
        lines.append(made)
    return lines


def cmd_import(args: argparse.Namespace) -> int:
    try:
        if args.acting_as is not None:
            args.acting_as = validation.email("--as", args.acting_as)
        summary = asyncio.run(_import(_settings(), args))
    except AppError as exc:
        print(f"import: {exc.message}; nothing was imported", file=sys.stderr)
        return 2
    except (FileRefused, importer.NotAnAdmin, OSError) as exc:
        print(f"import: {exc}; nothing was imported", file=sys.stderr)
        return 2
    print("\n".join(_import_report(summary)))
    return 1 if summary.failures or summary.unsent else 0


def cmd_backup(args: argparse.Namespace) -> int:
    out = Path(args.out)
    progress, done = backup.terminal_progress() if sys.stderr.isatty() else (None, None)
    try:
        size = backup.backup(_settings().database_url, out, progress)
    except (backup.BackupError, sqlite3.Error) as exc:
        print(f"backup: {exc}", file=sys.stderr)
        return 1
    finally:
        if done is not None:
            done()
    print(f"backup: {size:,} bytes written to {out}", file=sys.stderr)
    return 0


async def _access_report(settings: Settings, email: str) -> list[str] | None:
    """The lines of `access-report`, or None for an unknown email."""
    db = Database.from_url(settings.database_url)
    try:
        async with db.read() as session:
            user = await accounts.user_by_email(session, email)
            if user is None or user.id is None:
                return None
            seen_by = await access_review.who_sees(db, user.id)
            sees = await access_review.what_analyst_sees(db, user.id)
            wanted_people = sorted({s.analyst_id for s in seen_by})
            wanted_groups = sorted(
                {s.group_id for s in seen_by} | {g.group_id for g in sees.groups}
            )
            people = {
                u.id: u
                for u in (
                    await session.execute(select(User).where(col(User.id).in_(wanted_people)))
                ).scalars()
            }
            groups = {
                g.id: g.name
                for g in (
                    await session.execute(select(Group).where(col(Group.id).in_(wanted_groups)))
                ).scalars()
            }
    finally:
        await db.dispose()
    lines = [f"{user.first_name} {user.last_name} <{user.email}>"]
    lines.append(f"Seen now through analyst assignments by {len(seen_by)} (analyst, group):")
    for s in seen_by:
        who = people[s.analyst_id]
        until = s.until.isoformat() if s.until else "no end"
        lines.append(
            f"  {who.first_name} {who.last_name} <{who.email}> through {groups[s.group_id]!r} "
            f"since {s.since.isoformat()} until {until}"
        )
    lines.append(
        f"Sees now as a Group Analyst: {sees.student_count} students in {len(sees.groups)} groups"
    )
    lines += [f"  {groups[g.group_id]!r}: {g.student_count} students" for g in sees.groups]
    return lines


def cmd_access_report(args: argparse.Namespace) -> int:
    try:
        email = validation.email("--email", args.email)
    except AppError as exc:
        print(f"access-report: {exc.message}", file=sys.stderr)
        return 2
    lines = asyncio.run(_access_report(_settings(), email))
    if lines is None:
        print(f"access-report: no user with email {args.email}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


def cmd_export_schema(args: argparse.Namespace) -> int:
    from resolvers.schema import print_schema

    text = print_schema()
    if args.out == "-":
        sys.stdout.write(text)
    else:
        Path(args.out).write_text(text)
    return 0


async def _not_ready_because(settings: Settings) -> str | None:
    try:
        db = Database.from_url(settings.database_url)
    except MissingDatabase:
        return "the SQLite database file is missing; restore it or run `groupanalyst migrate`"
    try:
        return await not_ready_because(db)
    finally:
        await db.dispose()


def _port_taken(host: str, port: int) -> str | None:
    """Why `host:port` cannot be listened on, or None. Binds the way uvicorn will
    (SO_REUSEADDR), so a port in TIME_WAIT counts as free as it will be for uvicorn."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"cannot resolve host {host!r}: {exc.strerror}"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def _where(args: argparse.Namespace, settings: Settings) -> tuple[str, int] | None:
    """Host and port to serve on, or None (reason printed) when the port cannot be used."""
    host, port = args.host or settings.host, args.port or settings.port
    reason = _port_taken(host, port)
    if reason is not None:
        print(
            f"groupanalyst {args.command}: cannot listen on {host}:{port} ({reason}). Stop what "
            "uses it, or choose another port with --port or GROUPANALYST_PORT.",
            file=sys.stderr,
        )
        return None
    return host, port


def _serve(settings: Settings, host: str, port: int, workers: int) -> int:
    from app.serving import serve

    serve(
        "app.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
        # Ours replaces uvicorn's access log, which writes whole URLs (signed links' `sig`).
        access_log=False,
        # A WebSocket message is bounded like a request body (uvicorn allows 16 MiB).
        ws_max_size=settings.max_body_bytes,
        log_config=uvicorn_log_config(settings.log_level),
    )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings()
    where = _where(args, settings)
    if where is None:
        return 1
    # A server on a database it cannot use would answer every request with an error.
    reason = asyncio.run(_not_ready_because(settings))
    if reason is not None:
        print(f"serve: not starting: {reason}.", file=sys.stderr)
        return 1
    return _serve(settings, *where, workers=args.workers)


async def _dev_setup(settings: Settings) -> list[tuple[str, str, str]]:
    """Load the demo if the database is empty; return (who, email, token) for the demo."""
    db = Database.from_url(settings.database_url)
    try:
        async with db.read() as session:
            empty = not (await session.execute(select(func.count()).select_from(User))).scalar_one()
        if empty:
            summary = await load_demo(db, DemoSpec(), show_progress=False)
            print(
                f"loaded the demo world: {summary.users} users, {summary.enrollments} enrollments"
            )
        printed = []
        for account in DEMO_ACCOUNTS:
            if account.key == "admin":
                continue
            async with db.write() as session:
                user = await accounts.user_by_email(session, account.email)
                if user is None or user.id is None:
                    continue
                issued = await tokens.create(
                    session,
                    user_id=user.id,
                    actor_id=None,
                    name="make run",
                    expires_at=utcnow() + timedelta(days=7),
                    via="cli",
                )
            printed.append((account.key, account.email, issued.secret))
        return printed
    finally:
        await db.dispose()


def cmd_worker(_args: argparse.Namespace) -> int:
    from app.worker import AnotherWorkerRuns, Worker

    settings = _settings()
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        db = Database.from_url(settings.database_url)
        try:
            await Worker(db, settings).run(stop)
        finally:
            await db.dispose()

    try:
        asyncio.run(run())
    except AnotherWorkerRuns as exc:
        print(f"worker: {exc}", file=sys.stderr)
        return 1
    return 0


@contextmanager
def _worker_beside() -> Iterator[None]:
    """`make run`: a worker process next to the server, stopped (SIGTERM) when serving ends."""
    worker = subprocess.Popen([sys.executable, "-m", "app", "worker"])
    try:
        yield
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()


def cmd_run_dev(args: argparse.Namespace) -> int:
    settings = _settings()
    # Before migrating or minting tokens: a taken port must leave nothing behind.
    where = _where(args, settings)
    if where is None:
        return 1
    host, port = where
    upgrade(settings.database_url)
    printed = asyncio.run(_dev_setup(settings))
    print()
    print(f"Dashboard: http://{host}:{port}/   (run `make web` first if it says it is not built)")
    print(
        f"GraphiQL: http://{host}:{port}/graphql   (demo password for every account below: "
        f"{DEMO_PASSWORD})"
    )
    for who, email, secret in printed:
        print(f'  {who:<8} {email:<22} {{"Authorization": "Bearer {secret}"}}')
    print()
    with _worker_beside():
        return _serve(settings, host, port, workers=1)


class _DefaultsHelp(argparse.HelpFormatter):
    """`--help` shows every option's default (options without one say nothing more)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if (
            action.option_strings
            and not action.required
            and action.default not in (None, False, argparse.SUPPRESS)
            and "%(default)" not in text
        ):
            text += " (default: %(default)s)"
        return text


class _Parser(argparse.ArgumentParser):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _DefaultsHelp)
        super().__init__(**kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="groupanalyst", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_setup_commands(sub)
    _add_server_commands(sub)
    _add_data_commands(sub)
    return parser


def _add_setup_commands(sub: argparse._SubParsersAction[_Parser]) -> None:
    """migrate, init, demo."""
    p = sub.add_parser("migrate", help="apply database migrations")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("init", help="create the site and its owner in an empty database")
    p.add_argument("--site-name", required=True)
    p.add_argument("--plan", required=True, choices=list(DEFAULT_PLANS))
    p.add_argument("--owner-email", required=True)
    p.add_argument("--owner-first-name", required=True)
    p.add_argument("--owner-last-name", required=True)
    p.add_argument(
        "--owner-password",
        help="or GROUPANALYST_OWNER_PASSWORD; neither given, init asks for it on a terminal",
    )
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("demo", help="load a deterministic demo world into an empty database")
    p.add_argument("--students", type=int, default=100, help="how many students")
    p.add_argument("--groups", type=int, default=5, help="how many groups")
    p.add_argument("--courses", type=int, default=4, help="how many courses")
    p.add_argument(
        "--courses-per-student", type=int, default=3, help="at most this many courses per student"
    )
    p.add_argument(
        "--seed", type=int, default=42, help="random seed: the same seed, the same world"
    )
    p.set_defaults(func=cmd_demo)


def _add_server_commands(sub: argparse._SubParsersAction[_Parser]) -> None:
    """serve, run-dev, worker."""
    for name, handler, helptext in (
        ("serve", cmd_serve, "serve the API"),
        ("run-dev", cmd_run_dev, "migrate, load the demo if empty, print tokens, serve"),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--host")
        p.add_argument("--port", type=int)
        p.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
        p.set_defaults(func=handler)

    p = sub.add_parser(
        "worker", help="deliver the outbox: webhooks, live events, expiries (SIGTERM stops it)"
    )
    p.set_defaults(func=cmd_worker)


def _add_data_commands(sub: argparse._SubParsersAction[_Parser]) -> None:
    """create-token, export, export-schema."""
    p = sub.add_parser("create-token", help="print a new API token for a user")
    p.add_argument("--email", required=True)
    p.add_argument("--name", default="cli", help="the token's name, shown in audit events")
    p.add_argument(
        "--days",
        type=int,
        help="lifetime in days, 1 to GROUPANALYST_API_TOKEN_MAX_DAYS (default: "
        "GROUPANALYST_API_TOKEN_DEFAULT_DAYS, as for createApiToken)",
    )
    p.set_defaults(func=cmd_create_token)

    p = sub.add_parser(
        "export",
        help="write the group progress CSV (as an admin; same file as /exports/progress.csv)",
    )
    p.add_argument(
        "--group",
        action="append",
        metavar="NAME",
        help="a group name, any case (repeat; none: all)",
    )
    p.add_argument(
        "--course",
        action="append",
        metavar="NAME",
        help="a course name, any case (repeat; none: all)",
    )
    p.add_argument("--status", choices=[s.value for s in ProgressStatus])
    p.add_argument("--out", required=True, metavar="FILE", help="the CSV file, or - for stdout")
    p.set_defaults(func=cmd_export)

    _add_import_command(sub)

    p = sub.add_parser(
        "backup", help="copy the SQLite database while the server runs (PostgreSQL: pg_dump)"
    )
    p.add_argument("--out", required=True, metavar="FILE", help="the copy (replaced atomically)")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser(
        "access-report",
        help="who can see a user now through analyst assignments, and what it sees (as an admin)",
    )
    p.add_argument("--email", required=True, help="the user's email, any case")
    p.set_defaults(func=cmd_access_report)

    p = sub.add_parser("export-schema", help="print the GraphQL schema (SDL)")
    p.add_argument("--out", default="-", help="the file to write, or - for stdout")
    p.set_defaults(func=cmd_export_schema)


def _add_import_command(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser(
        "import",
        help="create or update users, memberships or analyst assignments from a CSV file "
        "(columns as the export's; see README)",
    )
    p.add_argument("kind", choices=list(importer.KINDS), help="what each row is")
    p.add_argument("file", metavar="FILE.csv", help="UTF-8 CSV with a header line, or - for stdin")
    p.add_argument(
        "--as",
        dest="acting_as",
        metavar="EMAIL",
        help="the admin the changes are made (and audited) as (default: the site owner)",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="check every row and report what would change"
    )
    p.add_argument(
        "--atomic", action="store_true", help="all or nothing: write only if no row fails"
    )
    p.add_argument(
        "--invite",
        action="store_true",
        help="users: mail each new user a link to choose its password (without it, new users "
        "have no password until invited or reset)",
    )
    p.set_defaults(func=cmd_import)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except OperationalError as exc:
        # Typically a database never migrated, or one that cannot be reached.
        print(
            f"groupanalyst {args.command}: the database refused: {exc.orig}. Check DATABASE_URL "
            "and run `groupanalyst migrate`.",
            file=sys.stderr,
        )
    except OSError as exc:
        print(f"groupanalyst {args.command}: {exc}", file=sys.stderr)
    return 1
