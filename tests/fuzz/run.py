"""Fuzz a live server's GraphQL API with Schemathesis, as the owner and anonymously.

    python -m tests.live_server python -m tests.fuzz.run {url}

(`make fuzz` does this: `tests.live_server` starts the server on a fresh database, passes the
owner's token in GROUPANALYST_FUZZ_OWNER_TOKEN and checks the database's integrity when the
server has stopped.) Each run is bounded by `--max-examples` per operation and
`FUZZ_MAX_SECONDS`; the check is `tests.fuzz.hooks.no_internal_error`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "15"))
MAX_SECONDS = int(os.environ.get("FUZZ_MAX_SECONDS", "35"))
SEED = os.environ.get("FUZZ_SEED", "20261129")
# The owner's run leaves out what would end its own session halfway: logging out, revoking
# its token (or all of a user's tokens). The anonymous run still sends them.
OWNER_EXCLUDED = ("Mutation.logout", "Mutation.revokeApiToken", "Mutation.revokeUserTokens")


def _st() -> str:
    found = shutil.which("st", path=os.path.dirname(sys.executable))
    if found is None:
        raise SystemExit("schemathesis is not installed in this environment (make install)")
    return found


def _run(url: str, who: str, extra: list[str], report_dir: str) -> int:
    command = [
        _st(), "run", url,
        "--checks", "no_internal_error",
        "--max-examples", str(MAX_EXAMPLES),
        "--max-time", str(MAX_SECONDS),
        "--seed", SEED,
        "--workers", "1",
        "--generation-database", "none",
        "--no-color",
        "--report", "ndjson",
        "--report-dir", report_dir,
        *extra,
    ]  # fmt: skip
    # The hooks module is imported by name: the repository must be on the path.
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks", "PYTHONPATH": root}
    print(f"== fuzzing as {who}", flush=True)
    # Run in the report folder: Schemathesis keeps a cache in its working directory.
    return subprocess.call(command, env=env, cwd=report_dir)  # noqa: S603  (fixed arguments)


def main(argv: list[str]) -> int:
    (url,) = argv
    token = os.environ["GROUPANALYST_FUZZ_OWNER_TOKEN"]
    owner = ["-H", f"Authorization: Bearer {token}"]
    for name in OWNER_EXCLUDED:
        owner += ["--exclude-name", name]
    with tempfile.TemporaryDirectory(prefix="groupanalyst-fuzz-") as reports:
        codes = [_run(url, "the owner", owner, reports), _run(url, "anonymous", [], reports)]
    return max(codes)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
