#!/usr/bin/env bash
# Install the test OpenID Provider's packages outside the work tree (npm ci from the lock file)
# and print the folder to run server.mjs from. Reuses an earlier install of the same lock file.
# OIDC_PROVIDER_HOME chooses where (default: the user's cache folder).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
command -v node >/dev/null || { echo "node is not installed" >&2; exit 3; }
command -v npm >/dev/null || { echo "npm is not installed" >&2; exit 3; }
digest=$(cat "$here/package.json" "$here/package-lock.json" "$here/server.mjs" | sha256sum | cut -c1-16)
base="${OIDC_PROVIDER_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/linktracker-test-oidc}"
target="$base/$digest"
# Two test runs at once (CI runs the SQLite and PostgreSQL suites side by side) install once.
mkdir -p "$base"
exec 9>"$base/.lock"
command -v flock >/dev/null && flock 9
if [ ! -f "$target/.installed" ]; then
  mkdir -p "$target"
  cp "$here/package.json" "$here/package-lock.json" "$here/server.mjs" "$target/"
  (cd "$target" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
  touch "$target/.installed"
fi
echo "$target"
