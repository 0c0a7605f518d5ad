#!/usr/bin/env bash
# Run a command with a throw-away PostgreSQL cluster on a unix socket, then stop it.
#   tests/with_postgres.sh <command...>
# Exports GROUPANALYST_TEST_POSTGRES_URL (an admin URL; the tests create their own databases).
# Installs PostgreSQL from Debian's packages when it is missing and we are root (as in CI);
# otherwise exits 77 (no code of pytest's, which uses 0-5) so the caller can say the
# PostgreSQL run was skipped. Otherwise the exit code is the command's.
set -euo pipefail

find_bindir() {
  local d
  # The newest installed major version (Debian keeps each under /usr/lib/postgresql/<major>).
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

bindir=$(find_bindir || true)
if [ -z "$bindir" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "PostgreSQL not found: installing it from Debian's packages..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    bindir=$(find_bindir) || { echo "PostgreSQL installed, but no initdb found." >&2; exit 1; }
  else
    echo "PostgreSQL is not installed (and we are not root to install it)." >&2
    exit 77
  fi
fi

work=$(mktemp -d /tmp/groupanalyst-pg.XXXXXX)
run_as=()
if [ "$(id -u)" = 0 ]; then
  # initdb refuses to run as root; the Debian package creates the 'postgres' user.
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$work"
  run_as=(runuser -u postgres --)
fi
port=55432
cleanup() {
  "${run_as[@]}" "$bindir/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

"${run_as[@]}" "$bindir/initdb" -D "$work/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
"${run_as[@]}" "$bindir/pg_ctl" -D "$work/data" -w -l "$work/log" \
  -o "-k $work -p $port -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null

export GROUPANALYST_TEST_POSTGRES_URL="postgresql+asyncpg://postgres@/postgres?host=$work&port=$port"
echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') running on $work (port $port)" >&2
"$@"
