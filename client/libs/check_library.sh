#!/usr/bin/env bash
# Checks a generated math library against the real one: the same SONAME,
# version nodes and exported functions (gen_library.py --check-*).
#   check_library.sh PYTHON GEN_LIBRARY DESCRIPTION REAL_LIBRARY INCLUDE_DIR BUILT_LIBRARY
set -euo pipefail
python=$1 gen=$2 description=$3 real=$4 include=$5 built=$6
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
readelf -W --dyn-syms "$built" > "$tmp/syms"
readelf -d "$built" > "$tmp/dynamic"
"$python" "$gen" "$description" --real-library "$real" --include-dir "$include" \
  --check-readelf "$tmp/syms" --check-soname "$tmp/dynamic"
# The version definitions (names, in order, base included) are the real one's.
versions() { readelf -W -V "$1" | sed -n '/Version definition/,/^$/p' | grep -o 'Name: .*' ; }
if [ "$(versions "$real")" != "$(versions "$built")" ]; then
  echo "version definitions differ:"; versions "$real"; echo "---"; versions "$built"; exit 1
fi
# It needs our libcudart (one session) and finds it beside itself.
readelf -d "$built" | grep -q 'NEEDED.*\[libcudart.so.13\]' || { echo "no DT_NEEDED libcudart.so.13"; exit 1; }
readelf -d "$built" | grep -Eq '(RUNPATH|RPATH).*\[\$ORIGIN\]' || { echo "RPATH is not \$ORIGIN"; exit 1; }
echo "version definitions, DT_NEEDED and RPATH as expected"
