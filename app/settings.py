"""Settings, read once from the environment.

Every setting has a default that serves `make run` on a laptop; production sets
`DATABASE_URL` (PostgreSQL) and `GROUPANALYST_SECRET_KEY` at least.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from app.client_address import Network, parse_networks

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/groupanalyst.db"
# The front end's build output (`make web`), served at `/` by `app.web`.
DEFAULT_WEB_DIST = Path(__file__).resolve().parent.parent / "web" / "dist"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be a whole number, got {raw!r}") from exc


AUDIENCES = ("signed-in", "everyone", "nobody")
SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    scheme = url.split(":", 1)[0]
    if scheme not in SUPPORTED_DRIVERS:
        # Only the scheme is echoed: the rest may hold a password.
        raise SystemExit(
            f"DATABASE_URL must start with sqlite+aiosqlite:/// or postgresql+asyncpg://, "
            f"not {scheme}:"
        )
    return url


def _positive(name: str, default: int) -> int:
    value = _int(name, default)
    if value < 1:
        raise SystemExit(f"{name} must be 1 or more, got {value}")
    return value


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = os.environ.get(name) or default
    if raw not in choices:
        raise SystemExit(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw


def _seconds_list(name: str, default: tuple[float, ...]) -> tuple[float, ...]:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        values = tuple(float(item) for item in raw.split(","))
    except ValueError as exc:
        raise SystemExit(f"{name} must be seconds separated by commas, got {raw!r}") from exc
    if not values or any(v < 0 for v in values):
        raise SystemExit(f"{name} must list at least one delay, none negative, got {raw!r}")
    return values


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


# Webhook retries after a failed attempt: exponential, about a day in all (23.7 hours), each
# delay spread by +-20% jitter so endpoints coming back are not hit by every retry at once.
WEBHOOK_RETRY_SCHEDULE: tuple[float, ...] = (
    5,
    30,
    120,
    600,
    1800,
    3600,
    7200,
    14400,
    28800,
    28800,
)


def _on_unless_off(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in {"0", "false", "no", "off"}


def _list(name: str) -> list[str]:
    raw = os.environ.get(name, "")
    return [item.strip() for item in raw.split(",") if item.strip()]


def _networks(name: str) -> tuple[Network, ...]:
    try:
        return parse_networks(_list(name))
    except ValueError as exc:
        raise SystemExit(f"{name}: {exc}") from exc


def _smtp_url() -> str | None:
    url = os.environ.get("GROUPANALYST_SMTP_URL") or None
    if url is not None and url.split(":", 1)[0] not in ("smtp", "smtps"):
        # Only the scheme is echoed: the rest may hold a password.
        raise SystemExit(
            f"GROUPANALYST_SMTP_URL must start with smtp:// or smtps://, not {url.split(':')[0]}:"
        )
    return url


def _public_url() -> str:
    url = (os.environ.get("GROUPANALYST_PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise SystemExit(f"GROUPANALYST_PUBLIC_URL must start with http:// or https://: {url!r}")
    return url


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8000
    # Lifetime of a token issued by `login`; API tokens carry their own expiry.
    login_token_ttl: timedelta = timedelta(hours=12)
    api_token_max_ttl: timedelta = timedelta(days=365)
    # Lifetime of a personal token asked for without an expiry (API and CLI alike).
    api_token_default_ttl: timedelta = timedelta(days=90)
    cors_origins: list[str] = field(default_factory=list)
    log_level: str = "info"
    # Signs short-lived export links. Unset, it is random per process: never a value
    # printed in the source, which would let anyone forge any viewer's link. A random key
    # breaks links across workers (they fail closed, 401), so production sets one value.
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    export_link_ttl: timedelta = timedelta(minutes=5)
    # Upper bound on the estimated cost of one GraphQL operation.
    max_query_cost: int = 50_000
    # Upper bounds on a GraphQL document's size in tokens and on aliases per operation.
    max_query_tokens: int = 10_000
    max_query_aliases: int = 100
    # Who may introspect the schema, and who gets "Did you mean ...?" hints in errors:
    # "signed-in" (a request with a valid token), "everyone" or "nobody".
    introspection: str = "signed-in"
    suggestions: str = "signed-in"
    # Largest request body read, in bytes (413 PAYLOAD_TOO_LARGE beyond).
    max_body_bytes: int = 1024 * 1024
    # At most this many refused logins per email per window (`app.throttle`).
    login_max_failures: int = 10
    login_failure_window: timedelta = timedelta(minutes=15)
    # Query cost one token (or one anonymous client address) may spend per minute, per worker
    # (`app.cost_budget`); at least `max_query_cost`, so every allowed query can run.
    cost_budget_per_minute: int = 200_000
    # And at most this many refused logins per client address, across emails.
    login_max_failures_per_client: int = 50
    # Proxies whose X-Forwarded-For names the client (addresses or networks).
    trusted_proxies: tuple[Network, ...] = ()
    # The worker (`groupanalyst worker`): how often it looks for work when idle, how often it
    # logs a health line, how long processed outbox entries are kept.
    worker_poll_seconds: float = 1.0
    worker_health_seconds: float = 60.0
    outbox_retention: timedelta = timedelta(days=7)
    # Webhooks: the time one attempt may take, the retry delays, and whether plain http and
    # private, loopback or link-local addresses are allowed (development and tests only).
    webhook_timeout_seconds: float = 10.0
    webhook_retry_schedule: tuple[float, ...] = WEBHOOK_RETRY_SCHEDULE
    webhook_allow_private: bool = False
    # Subscriptions re-check the subscriber's access at every event and at least this often;
    # what they read for an event is read once for all of a process's subscribers (off: each
    # reads its own, as before; only to compare in `bench/events.py`).
    live_recheck_seconds: float = 30.0
    live_batch_reads: bool = True
    # Scheduled reports: attached up to this size, else sent as a signed link valid this long.
    report_attachment_max_bytes: int = 5_000_000
    report_link_ttl: timedelta = timedelta(days=7)
    # Outgoing mail (`app.mailer`): `smtp://[user:password@]host[:port]` (STARTTLS when the
    # server offers it) or `smtps://...` (TLS from the start). None: mails are logged in full.
    smtp_url: str | None = None
    mail_from: str = "Group Analyst <noreply@localhost>"
    # Where people open the API and its pages: links in mails point here.
    public_url: str = "http://127.0.0.1:8000"
    web_dist: Path = DEFAULT_WEB_DIST
    # Queries whose every field the compiler knows are answered by one SQL statement per
    # root field (`compiled`); off, every query runs through the resolvers.
    compiled_reads: bool = True

    @classmethod
    def from_env(cls) -> Settings:
        settings = cls._read_env()
        if settings.cost_budget_per_minute < settings.max_query_cost:
            raise SystemExit(
                f"GROUPANALYST_COST_BUDGET_PER_MINUTE ({settings.cost_budget_per_minute}) must be "
                f"at least GROUPANALYST_MAX_QUERY_COST ({settings.max_query_cost}), or the "
                "costliest allowed query could never run"
            )
        return settings

    @classmethod
    def _read_env(cls) -> Settings:
        return cls(
            database_url=_database_url(),
            host=os.environ.get("GROUPANALYST_HOST") or "127.0.0.1",
            port=_int("GROUPANALYST_PORT", 8000),
            login_token_ttl=timedelta(minutes=_int("GROUPANALYST_LOGIN_TOKEN_TTL_MINUTES", 720)),
            api_token_max_ttl=timedelta(days=_positive("GROUPANALYST_API_TOKEN_MAX_DAYS", 365)),
            api_token_default_ttl=timedelta(
                days=_positive("GROUPANALYST_API_TOKEN_DEFAULT_DAYS", 90)
            ),
            cors_origins=_list("GROUPANALYST_CORS_ORIGINS"),
            log_level=os.environ.get("GROUPANALYST_LOG_LEVEL") or "info",
            secret_key=os.environ.get("GROUPANALYST_SECRET_KEY") or secrets.token_hex(32),
            export_link_ttl=timedelta(seconds=_int("GROUPANALYST_EXPORT_LINK_TTL_SECONDS", 300)),
            max_query_cost=_int("GROUPANALYST_MAX_QUERY_COST", 50_000),
            max_query_tokens=_positive("GROUPANALYST_MAX_QUERY_TOKENS", 10_000),
            max_query_aliases=_int("GROUPANALYST_MAX_QUERY_ALIASES", 100),
            introspection=_choice("GROUPANALYST_INTROSPECTION", "signed-in", AUDIENCES),
            suggestions=_choice("GROUPANALYST_SUGGESTIONS", "signed-in", AUDIENCES),
            max_body_bytes=_positive("GROUPANALYST_MAX_BODY_BYTES", 1024 * 1024),
            login_max_failures=_positive("GROUPANALYST_LOGIN_MAX_FAILURES", 10),
            login_max_failures_per_client=_positive(
                "GROUPANALYST_LOGIN_MAX_FAILURES_PER_CLIENT", 50
            ),
            trusted_proxies=_networks("GROUPANALYST_TRUSTED_PROXIES"),
            login_failure_window=timedelta(
                minutes=_positive("GROUPANALYST_LOGIN_FAILURE_WINDOW_MINUTES", 15)
            ),
            cost_budget_per_minute=_positive("GROUPANALYST_COST_BUDGET_PER_MINUTE", 200_000),
            worker_poll_seconds=_positive("GROUPANALYST_WORKER_POLL_MS", 1000) / 1000,
            worker_health_seconds=_positive("GROUPANALYST_WORKER_HEALTH_SECONDS", 60),
            outbox_retention=timedelta(days=_positive("GROUPANALYST_OUTBOX_RETENTION_DAYS", 7)),
            webhook_timeout_seconds=_positive("GROUPANALYST_WEBHOOK_TIMEOUT_SECONDS", 10),
            webhook_retry_schedule=_seconds_list(
                "GROUPANALYST_WEBHOOK_RETRY_SECONDS", WEBHOOK_RETRY_SCHEDULE
            ),
            webhook_allow_private=_flag("GROUPANALYST_WEBHOOK_ALLOW_PRIVATE"),
            live_recheck_seconds=_positive("GROUPANALYST_LIVE_RECHECK_SECONDS", 30),
            live_batch_reads=not _flag("GROUPANALYST_LIVE_UNBATCHED"),
            report_attachment_max_bytes=_positive(
                "GROUPANALYST_REPORT_ATTACHMENT_MAX_BYTES", 5_000_000
            ),
            report_link_ttl=timedelta(days=_positive("GROUPANALYST_REPORT_LINK_DAYS", 7)),
            smtp_url=_smtp_url(),
            mail_from=os.environ.get("GROUPANALYST_MAIL_FROM") or Settings.mail_from,
            public_url=_public_url(),
            web_dist=Path(os.environ.get("GROUPANALYST_WEB_DIST") or DEFAULT_WEB_DIST),
            compiled_reads=_on_unless_off("GROUPANALYST_COMPILED_READS"),
        )
