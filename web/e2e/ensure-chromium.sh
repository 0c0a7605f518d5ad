#!/usr/bin/env bash
# The browser tests drive Debian's chromium (/usr/bin/chromium) with playwright-core; no test
# tool downloads a browser of its own. Installs the package when it is missing and we are root.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "Chromium is missing: install Debian's 'chromium' package (as root: apt-get install chromium)." >&2
exit 1
