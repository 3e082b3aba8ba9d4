#!/usr/bin/env bash
# Installs s3rver (TEST EQUIPMENT: a small S3 server for Node, MIT) for the
# faas tests, exactly as pinned by package-lock.json (npm ci), into
#   ${RCUDA_S3RVER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rcuda/s3rver}
# Idempotent: when the installed copy was made from this lockfile it does
# nothing (no network). Without node/npm or the npm registry it says so and
# exits 0: the build goes on, and the tests that need s3rver fail naming this
# script.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${RCUDA_S3RVER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rcuda/s3rver}
want=$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)
if [ -f "$dir/.lock-sha256" ] && [ "$(cat "$dir/.lock-sha256")" = "$want" ] &&
   [ -f "$dir/node_modules/s3rver/bin/s3rver.js" ]; then
  echo "s3rver: installed in $dir"
  exit 0
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "s3rver: node and npm are needed to install s3rver for the faas tests; not installed" >&2
  exit 0
fi
start=$(date +%s)
mkdir -p "$(dirname "$dir")"
tmp=$(mktemp -d "$dir.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp "$here/package.json" "$here/package-lock.json" "$tmp/"
if ! (cd "$tmp" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null); then
  echo "s3rver: npm ci failed (no registry?); the faas tests that need s3rver will fail" >&2
  exit 0
fi
echo "$want" > "$tmp/.lock-sha256"
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
echo "s3rver: installed in $dir ($(($(date +%s) - start)) s)"
