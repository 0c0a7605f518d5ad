"""Serve the product plus the benchmark's baseline route on loopback (bench only):

    .venv/bin/python -m bench.serve --port 8123 [--workers 2]

DATABASE_URL names the database, as for `groupanalyst serve`.
"""

from __future__ import annotations

import argparse
import importlib.util
from typing import Any

import uvicorn

APP = "bench.baseline:create_bench_app"
HOST = "127.0.0.1"


def _without_field_permissions() -> None:
    """Make `permissions.fields.visible_field` a plain field before the resolvers import it,
    to measure what the field permissions cost (`bench.compare --after-args ...`). Never
    for a served product: every guarded field then answers whoever asks."""
    import strawberry

    from permissions import fields

    def plain_field(rule: Any, key_of: Any, description: str | None = None, **_: Any) -> Any:
        return strawberry.field(description=fields.rule_description(rule, description))

    fields.visible_field = plain_field


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    # uvicorn's choices; "auto" (the product's) takes uvloop and httptools when installed.
    parser.add_argument("--loop", default="auto", choices=["auto", "asyncio", "uvloop"])
    parser.add_argument("--http", default="auto", choices=["auto", "h11", "httptools"])
    parser.add_argument(
        "--uvicorn-workers",
        action="store_true",
        help="uvicorn's --workers (one shared socket) instead of app.serving",
    )
    parser.add_argument(
        "--no-field-permissions",
        action="store_true",
        help="bench only, 1 worker: guarded fields without their permission (shows everything)",
    )
    args = parser.parse_args()
    if args.no_field_permissions:
        _without_field_permissions()
    options = {"factory": True, "loop": args.loop, "http": args.http}
    # Code from before `app.serving` existed (`bench.compare --before`) serves as it did.
    if args.uvicorn_workers or importlib.util.find_spec("app.serving") is None:
        # uvicorn's own workers (one shared socket), for comparison.
        uvicorn.run(
            APP, host=HOST, port=args.port, workers=args.workers, log_level="warning", **options
        )
        return
    from app.serving import serve  # what `groupanalyst serve` runs

    serve(APP, HOST, args.port, workers=args.workers, log_level="warning", **options)


if __name__ == "__main__":
    main()
