"""Serve the product plus the benchmark's baseline route on loopback (bench only):

    .venv/bin/python -m bench.serve --port 8123 [--workers 2]

DATABASE_URL names the database, as for `groupanalyst serve`.
"""

from __future__ import annotations

import argparse

import uvicorn


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    uvicorn.run(
        "bench.baseline:create_bench_app",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
